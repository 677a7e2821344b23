"""Issue 5's acceptance: a simulated city's day 1 and day 2 ingested end to end by `ingest_day` (the same
land + silver functions the Airflow tasks call), checked against the city's truth.

- silver person, legal-entity and open-POI counts equal the truth's, on both days;
- every injected defect is in the rejects with its expected reason code, and nothing else is (a file
  refused whole is reported with the truth's reason and lands nothing);
- day 2's moves, deaths and deregistrations appear as history rows;
- rerunning day 2 leaves every table at its version (so its content unchanged).

The city (1,000 persons, seed 7, 30-day periods, raised defect rates and a 30-day ID correction window)
is chosen so that day 2 holds moves (5), a death, a birth, ID corrections and a deregistration.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from citydata.catalog.contracts import SourceContract, load_contracts
from citydata.ingest.runner import DayIngestResult, ingest_day
from citydata.lakehouse import Lakehouse
from citydata.sources.simulate import DefectRates, simulate

CONTRACTS = load_contracts()
DEFECTS = DefectRates(id_checksum=0.03, id_birthdate=0.02, duplicate_row=0.02, uscc_checksum=0.05,
                      outside_city=0.1, date_format=0.3, id_correction_days=30)


def _truth(day_folder: Path, name: str) -> list[dict[str, str]]:
    with (day_folder / "truth" / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _total(rows: list[dict[str, str]], column: str) -> int:
    return sum(int(r[column]) for r in rows)


def _in_delivery(contract: SourceContract, rel: str) -> bool:
    where = contract.delivery.path.rstrip("/")
    return rel.startswith(f"{where}/pages/") if contract.delivery.format == "json_api" else rel == where


def _versions(lakehouse: Lakehouse) -> dict[tuple[str, str], int]:
    return {(layer, table): lakehouse.version(layer, table) for layer, table in lakehouse.tables()}


@pytest.fixture(scope="module")
def city(spark, tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("two-days")
    day1, day2 = simulate(root / "sim", [1, 2], persons=1000, seed=7, period_days=30, defects=DEFECTS)
    lakehouse = Lakehouse(spark, root / "lakehouse")
    out: dict = {"lakehouse": lakehouse, "days": {}}
    for day in (day1, day2):
        result = ingest_day(spark, lakehouse, day.folder / "delivery")
        out["days"][day.day] = {"folder": day.folder, "result": result, "period": day_period(day.folder),
                                "persons": _people(lakehouse), "entities": _entities(lakehouse),
                                "pois": _open_pois(lakehouse)}
    out["versions_after_day2"] = _versions(lakehouse)
    out["rerun"] = ingest_day(spark, lakehouse, day2.folder / "delivery")
    out["versions_after_rerun"] = _versions(lakehouse)
    return out


def day_period(day_folder: Path) -> tuple[date, date]:
    """First and last date of the events a day delivers (its manifest's `period`)."""
    manifest = json.loads((day_folder / "manifest.json").read_text(encoding="utf-8"))
    first, last = manifest["period"]
    return date.fromisoformat(first), date.fromisoformat(last)


def _people(lakehouse: Lakehouse) -> Counter:
    rows = lakehouse.read("silver", "person").groupBy("status", "district_code").count().collect()
    return Counter({(r["status"], r["district_code"]): r["count"] for r in rows})


def _open_pois(lakehouse: Lakehouse) -> Counter:
    rows = lakehouse.read("silver", "poi").where("is_open").groupBy("district_code", "category").count().collect()
    return Counter({(r["district_code"], r["category"]): r["count"] for r in rows})


def _entities(lakehouse: Lakehouse) -> Counter:
    rows = lakehouse.read("silver", "legal_entity").groupBy("status").count().collect()
    return Counter({r["status"]: r["count"] for r in rows})


@pytest.mark.parametrize("day", [1, 2])
def test_silver_persons_and_entities_equal_the_truth(city, day: int) -> None:
    seen = city["days"][day]
    residents = _truth(seen["folder"], "population_by_district.csv")
    registered = {d: n for (status, d), n in seen["persons"].items() if status == "registered"}
    assert registered == {r["district_code"]: int(r["residents"]) for r in residents if int(r["residents"])}
    assert sum(registered.values()) == _total(residents, "residents")
    months = _truth(seen["folder"], "registrations_by_month.csv")
    active = _total(_truth(seen["folder"], "legal_entities_active.csv"), "active")
    assert sum(seen["entities"].values()) == _total(months, "registrations")
    assert seen["entities"]["active"] == active
    assert seen["entities"]["deregistered"] == _total(months, "registrations") - active
    # POIs open in the day's crawl (day 2's crawl drops one: it must close, the others stay open)
    pois = _truth(seen["folder"], "poi_by_district.csv")
    assert seen["pois"] == Counter({(r["district_code"], r["category"]): int(r["pois"]) for r in pois})


@pytest.mark.parametrize("day", [1, 2])
def test_rejects_are_exactly_the_injected_defects(city, day: int) -> None:
    seen = city["days"][day]
    result: DayIngestResult = seen["result"]
    lakehouse: Lakehouse = city["lakehouse"]
    truth = [(r["file"].removeprefix("delivery/"), int(r["row"]), r["reason_code"])
             for r in _truth(seen["folder"], "rejects.csv")]
    assert truth, "the city injects no defect: the test would prove nothing"
    for source, contract in CONTRACTS.items():
        expected = {(Path(f).name, row, reason) for f, row, reason in truth if _in_delivery(contract, f)}
        whole = {(f, reason) for f, row, reason in expected if row == 0}
        if whole:
            assert source in result.refused, f"{source}: landed although the truth refuses it whole"
            [(name, reason)] = whole
            assert f"({reason})" in result.refused[source] and name in result.refused[source]
            continue
        if source in result.missing:
            assert not expected, f"{source}: not delivered, yet the truth expects rejects"
            continue
        landed = result.landed[source]
        if not lakehouse.exists("bronze", contract.tables.rejects):  # only an empty delivery leaves none
            assert (landed.delivered, expected) == (0, set()), source
            continue
        rejects = (lakehouse.read("bronze", contract.tables.rejects)
                   .where(F.col("_batch_id") == landed.batch_id).collect())
        got = [(r["_file"], r["_row_number"], r["reason_code"]) for r in rejects]
        assert sorted(got) == sorted(expected), source
        assert landed.rejected == len(expected) and landed.landed + landed.rejected == landed.delivered
    assert Counter(reason for *_, reason in truth if reason != "FILE_ENCODING")  # row-level defects exist


def test_day2_moves_deaths_and_deregistrations_are_history_rows(city) -> None:
    lakehouse: Lakehouse = city["lakehouse"]
    seen = city["days"][2]
    first, last = seen["period"]
    events = _truth(seen["folder"], "vital_events_by_street.csv")
    moves, deaths = _total(events, "moves_in"), _total(events, "deaths")
    assert (moves, deaths) == (5, 1)  # what seed 7 puts on day 2 (guard)
    history = lakehouse.read("silver", "person_history").where(F.col("valid_from").between(first, last)).collect()
    moved = [r for r in history if "迁移" in (r["change_reason"] or "")]
    died = [r for r in history if r["status"] == "deceased"]
    assert (len(moved), len(died)) == (moves, deaths)
    # each move and death closed the person's previous period the day the new one began
    closed = {(r["id_number"], r["valid_to"])
              for r in lakehouse.read("silver", "person_history").where(F.col("valid_to").isNotNull()).collect()}
    assert all((r["id_number"], r["valid_from"]) in closed for r in moved + died)
    assert all(r["is_current"] for r in died)

    day1_months = _truth(city["days"][1]["folder"], "registrations_by_month.csv")
    deregistered = _total(_truth(seen["folder"], "registrations_by_month.csv"), "deregistrations") - _total(
        day1_months, "deregistrations")
    assert deregistered >= 1  # guard
    entity_history = lakehouse.read("silver", "legal_entity_status_history")
    opened = entity_history.where((F.col("status") == "deregistered") & F.col("valid_from").between(first, last))
    assert opened.count() == deregistered
    closed_active = entity_history.where((F.col("status") == "active") & F.col("valid_to").between(first, last))
    assert closed_active.count() == deregistered


def test_rerunning_day2_changes_no_table(city) -> None:
    assert city["versions_after_rerun"] == city["versions_after_day2"]
    rerun: DayIngestResult = city["rerun"]
    assert all(r.already_landed or not r.delivered for r in rerun.landed.values())
    assert len(city["versions_after_day2"]) > 30  # bronze, rejects, silver of every source and the masters
