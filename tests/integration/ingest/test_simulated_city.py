"""The household register of the simulated city (citydata simulate) through bronze and silver: the rejects
are exactly the defects the simulator injected (truth/rejects.csv) and silver holds the truth's residents."""

from __future__ import annotations

import csv
from pathlib import Path

from citydata.catalog.contracts import load_contract
from citydata.ingest.bronze import land_delivery
from citydata.ingest.silver import build_silver
from citydata.lakehouse import Lakehouse
from citydata.sources.connectors import delivery_path
from citydata.sources.simulate import simulate


def _truth(folder: Path, name: str) -> list[dict[str, str]]:
    with (folder / "truth" / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_rejects_and_residents_match_the_simulators_truth(spark, tmp_path: Path) -> None:
    day = simulate(tmp_path / "sim", [1], persons=300, seed=1)[0]
    contract = load_contract("household_register")
    lakehouse = Lakehouse(spark, tmp_path / "lakehouse")
    landed = land_delivery(spark, lakehouse, contract, delivery_path(contract, day.folder / "delivery"))
    silver = build_silver(spark, lakehouse, contract)

    expected = sorted((int(r["row"]), r["reason_code"]) for r in _truth(day.folder, "rejects.csv")
                      if r["file"].endswith(contract.delivery.path))
    got = sorted((r["_row_number"], r["reason_code"])
                 for r in lakehouse.read("bronze", "household_register_rejects").collect())
    assert got == expected and len(got) > 0
    assert landed.delivered == landed.landed + landed.rejected
    residents = sum(int(r["residents"]) for r in _truth(day.folder, "population_by_district.csv"))
    assert silver.rows == residents
