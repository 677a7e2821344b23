"""Every source of a simulated day 1 landed into bronze on real Spark + Delta: the rejects are exactly the
defects the simulator injected (truth/rejects.csv, per file, row and reason code), and bronze + rejects
hold every delivered row. A file the truth rejects whole (row 0) is refused by land_delivery with that
reason, and nothing of it is written.

The city is small (300 persons) with defect rates raised so that every row-level defect the simulator
knows occurs; seed 4 also exercises the three mismatches fixed with this test: the registry's first row
writes its 成立日期 as text (the workbook's date cells were once read back as serial numbers), the deaths
file is cut inside its header line (FILE_TRUNCATED, not HEADER_MISMATCH), and POIs lie outside the
city (GEO_OUTSIDE_CITY). The credit licences are cut mid-row too (FILE_TRUNCATED after valid rows).
API sources are landed from their page files on disk.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from citydata.catalog.contracts import SourceContract, load_contracts
from citydata.ingest.bronze import BRONZE, DeliveryRejectedError, land_delivery
from citydata.lakehouse import Lakehouse
from citydata.sources.connectors import delivery_path
from citydata.sources.simulate import DefectRates, simulate

CONTRACTS = load_contracts()
DEFECTS = DefectRates(id_checksum=0.03, id_birthdate=0.02, duplicate_row=0.02, uscc_checksum=0.05,
                      outside_city=0.1, date_format=0.3,
                      truncated=("health/deaths.csv", "credit/licences.csv"))
AT = datetime(2025, 1, 2, tzinfo=UTC)


def _in_delivery(contract: SourceContract, rel: str) -> bool:
    """Whether a path relative to the delivery folder is (one of the pages of) the contract's delivery."""
    where = contract.delivery.path.rstrip("/")
    if contract.delivery.format == "json_api":
        return rel.startswith(f"{where}/pages/")
    return rel == where


@pytest.fixture(scope="module")
def landed(spark, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Simulate day 1 and land every source once: per source, the result or the refusal, and the truth."""
    root = tmp_path_factory.mktemp("every-source")
    [day] = simulate(root / "sim", [1], persons=300, seed=4, period_days=30, defects=DEFECTS)
    files = json.loads((day.folder / "manifest.json").read_text(encoding="utf-8"))["files"]
    with (day.folder / "truth" / "rejects.csv").open(encoding="utf-8", newline="") as handle:
        truth = [(r["file"].removeprefix("delivery/"), int(r["row"]), r["reason_code"]) for r in csv.DictReader(handle)]
    lakehouse = Lakehouse(spark, root / "lakehouse")
    out = {}
    for source, contract in CONTRACTS.items():
        expected = {(Path(f).name, row, reason) for f, row, reason in truth if _in_delivery(contract, f)}
        delivered = sum(f["rows"] for f in files if _in_delivery(contract, f["path"]))
        try:
            outcome = land_delivery(spark, lakehouse, contract, delivery_path(contract, day.folder / "delivery"),
                                    ingested_at=AT)
        except DeliveryRejectedError as error:
            outcome = error
        out[source] = (contract, outcome, expected, delivered)
    return {"lakehouse": lakehouse, "sources": out}


def _rows(lakehouse: Lakehouse, table: str) -> list:
    return lakehouse.read(BRONZE, table).collect() if lakehouse.exists(BRONZE, table) else []


def test_the_city_breaks_what_the_test_is_about(landed) -> None:
    """Guard: the seed and rates still produce the defects this file is meant to check."""
    reasons = Counter(reason for *_, expected, _ in landed["sources"].values() for _, _, reason in expected)
    assert {"FILE_ENCODING", "FILE_TRUNCATED", "ID_CHECKSUM", "ID_BIRTHDATE", "DUPLICATE_ROW", "USCC_CHECKSUM",
            "GEO_OUTSIDE_CITY"} <= set(reasons)
    assert set(landed["sources"]) == set(CONTRACTS) and len(CONTRACTS) == 17


@pytest.mark.parametrize("source", sorted(CONTRACTS))
def test_rejects_are_the_truths_and_every_delivered_row_lands_once(landed, source: str) -> None:
    lakehouse: Lakehouse = landed["lakehouse"]
    contract, outcome, expected, delivered = landed["sources"][source]
    bronze = _rows(lakehouse, contract.tables.bronze)
    rejects = _rows(lakehouse, contract.tables.rejects)
    whole = {(f, reason) for f, row, reason in expected if row == 0}
    if whole:
        # refused as a whole: the truth's reason, the file named, nothing written
        assert isinstance(outcome, DeliveryRejectedError), f"{source}: landed although the truth refuses it whole"
        assert {(Path(str(outcome.file)).name, outcome.reason)} == whole
        assert contract.delivery.path.split("/")[-1] in str(outcome)
        assert (bronze, rejects) == ([], [])
        return
    assert not isinstance(outcome, Exception), f"{source}: refused: {outcome}"
    got = {(r["_file"], r["_row_number"], r["reason_code"]) for r in rejects}
    assert got == expected
    assert len(rejects) == len(expected)  # one reason per rejected row
    assert (outcome.delivered, len(bronze) + len(rejects)) == (delivered, delivered)
    assert (outcome.landed, outcome.rejected) == (len(bronze), len(rejects))
    assert len({(r["_file"], r["_row_number"]) for r in bronze + rejects}) == delivered  # each row once
