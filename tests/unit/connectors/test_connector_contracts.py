"""Every source the simulated city delivers has a contract, and its columns are the delivered ones."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from citydata.catalog.contracts import Classification, load_contracts
from citydata.sources.connectors import CONNECTORS
from citydata.sources.connectors.xlsx_file import join_header
from citydata.standards.encoding import decode_bytes

from connector_helpers import manifest

CONTRACTS = load_contracts()


def _delivered_units(day: Path) -> set[str]:
    """Delivered files, with an API's pages counted once as its folder."""
    return {p.split("/")[0] if p.endswith(".json") else p for p in manifest(day)}


def test_every_contract_loads_with_a_connector_owner_and_classified_fields() -> None:
    assert len(CONTRACTS) >= 17  # every simulated source (see the next test) plus any real one
    for contract in CONTRACTS.values():
        assert contract.delivery.format in CONNECTORS
        assert contract.department and contract.update_cycle and contract.key
        assert all(isinstance(f.classification, Classification) and f.standard for f in contract.fields)
        assert all(f.mask for f in contract.fields if f.classification is Classification.SENSITIVE)


def test_every_delivered_file_of_the_simulated_city_has_exactly_one_contract(city: Path) -> None:
    paths = [c.delivery.path for c in CONTRACTS.values() if c.delivery.path]
    assert len(paths) == len(set(paths))
    # household_register.yml (not owned here) has no delivery.path yet: its file is the register CSV
    covered = set(paths) | {"police/household_register.csv"}
    assert covered == _delivered_units(city / "day-001")


def test_contract_columns_are_the_delivered_header_in_order(city: Path) -> None:
    delivery = city / "day-001" / "delivery"
    for contract in CONTRACTS.values():
        path = delivery / (contract.delivery.path or "police/household_register.csv")
        fmt = contract.delivery.format
        if fmt == "csv":
            decoded = decode_bytes(path.read_bytes())
            if not decoded.ok:  # marriages is UTF-16 on day 1: look at day 2's
                decoded = decode_bytes((city / "day-002" / "delivery" / contract.delivery.path).read_bytes())
            header = next(csv.reader(io.StringIO(decoded.value[0])))
        elif fmt == "xlsx":
            from openpyxl import load_workbook

            sheet = load_workbook(path, read_only=True)[contract.delivery.sheet]
            rows = list(sheet.iter_rows(values_only=True, max_row=contract.delivery.skip_rows
                                        + contract.delivery.header_rows))[contract.delivery.skip_rows:]
            header = join_header(rows, contract.delivery.header_join)
            header += [contract.delivery.title_column] if contract.delivery.title_column else []
        elif fmt == "json_api":
            first = json.loads((path / "pages" / "page-00001.json").read_text(encoding="utf-8"))["records"][0]
            header = list(first)
        else:
            feature = json.loads(path.read_text(encoding="utf-8"))["features"][0]
            header = list(feature["properties"]) + ["geometry"]
        if fmt in ("json_api", "geojson"):  # JSON members have no order: compare as sets
            assert set(header) == set(contract.columns), contract.source
        elif contract.delivery.title_column:
            assert sorted(header) == sorted(contract.columns), contract.source
        else:
            assert header == list(contract.columns), contract.source
