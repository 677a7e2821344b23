"""Every delivery of the simulated city has the columns its source contract (schemas/*.yml) declares."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import openpyxl
import pytest

from citydata.catalog.contracts import load_contracts
from citydata.standards.encoding import decode_bytes

CONTRACTS = load_contracts()
SKIP = {"statistics_indicators"}  # merged two-row header: the contract flattens it (group/sub-column)


def _delivered_columns(day: Path, fmt: str, rel: str) -> tuple[str, ...]:
    path = day / "delivery" / rel
    if fmt == "csv":
        text, _ = decode_bytes(path.read_bytes()).value
        return tuple(next(csv.reader(io.StringIO(text))))
    if fmt == "xlsx":
        return tuple(next(openpyxl.load_workbook(path, read_only=True).active.iter_rows(values_only=True)))
    if fmt == "json_api":
        meta = json.loads((path / "api.json").read_text(encoding="utf-8"))
        record = json.loads((path / meta["pages"][0]).read_text(encoding="utf-8"))["records"][0]
        return tuple(record)
    if fmt == "geojson":
        feature = json.loads(path.read_text(encoding="utf-8"))["features"][0]
        return (*feature["properties"], "geometry")
    raise AssertionError(f"no reader for {fmt}")


@pytest.mark.parametrize("name", sorted(n for n in CONTRACTS if n not in SKIP))
def test_delivery_matches_its_contract(city: Path, name: str) -> None:
    contract = CONTRACTS[name]
    rel = getattr(contract.delivery, "path", None) or "police/household_register.csv"
    # day 1's marriages are UTF-16 and its deaths truncated, on purpose; geography comes on day 1 only
    day = city / ("day-002" if name in ("marriages", "deaths") else "day-001")
    columns = _delivered_columns(day, contract.delivery.format, rel)
    if contract.delivery.format in ("json_api", "geojson"):
        assert set(columns) == set(contract.columns), name
    else:
        assert columns == contract.columns, name
