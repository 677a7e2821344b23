"""Day 3 of the session's shared city went through Airflow (tests/shared_city.py: 500 residents, seed 7, 30-day
periods; days 1 and 2 through `run_day` in-process), on the same home, as the scheduler would run it:

- the ingest task (`airflow tasks test run_day ingest`), then the two asset-scheduled DAGs as the scheduler
  would run them after silver changed: `airflow dags test gold_marts`, then `airflow dags test release`
  (`dags test` runs one DAG: asset-triggered follow-ups are checked by test_dag_integrity's wiring and
  test_airflow_standalone's scheduler);
- then the whole `run_day` DAG for the same day (`airflow dags test run_day`): every stage runs and finds
  nothing new — no new Delta version, no new release.
Asserted on values: every mart equals day 3's truth, release 3 pins the versions the DAGs wrote (read from the
Delta logs) with the day's dates, its exported files and its dbt docs.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from shared_city import SharedCity

from citydata.catalog.items import open_items
from citydata.release.gate import suite_datasets

pytestmark = pytest.mark.slow


def _release(home: Path, number: int) -> dict:
    return json.loads((home / "data" / "releases" / f"release-{number:04d}.json").read_text(encoding="utf-8"))


def _succeeded(run: tuple[int, str], dag_id: str) -> None:
    code, output = run
    assert code == 0 and f"DagRun Finished: dag_id={dag_id}" in output and "state=success" in output, output[-6000:]


@pytest.fixture(scope="module")
def day3(shared_city: SharedCity) -> dict:
    return {"home": shared_city.home, "day": shared_city.days[2], "runs": shared_city.airflow,
            "differences": shared_city.differences[3]}


def test_day_three_flows_from_silver_to_a_release_through_the_scheduled_dags(day3: dict) -> None:
    code, output = day3["runs"]["ingest"]
    assert code == 0, output[-6000:]
    _succeeded(day3["runs"]["gold"], "gold_marts")
    _succeeded(day3["runs"]["release"], "release")
    home, runs = day3["home"], day3["runs"]
    assert runs["after_day"]["silver/person"] > runs["before"]["silver/person"]  # day 3's changes
    assert runs["after_day"]["gold/dim_resident"] == runs["before"]["gold/dim_resident"] + 1
    assert not [line for lines in day3["differences"].values() for line in lines], day3["differences"]
    release = _release(home, 3)
    manifest = json.loads((day3["day"] / "manifest.json").read_text(encoding="utf-8"))
    assert (release["as_of"], release["period_start"]) == (manifest["as_of"], manifest["period"][0])
    assert sorted(release["datasets"]) == [f"gold/{d}" for d in suite_datasets()]
    for name, pin in release["datasets"].items():
        assert pin["delta_version"] == runs["after_day"][name], name
    for name, pin in release["inputs"].items():  # the silver the DAGs built from
        assert pin["delta_version"] == runs["after_day"][name], name
    assert "silver/person" in release["inputs"]
    assert (home / "data" / "releases" / "release-0003" / "dbt-docs" / "catalog.json").is_file()


def test_the_release_exported_its_open_catalog_items_and_built_the_portal(day3: dict) -> None:
    folder = day3["home"] / "exports" / "release-0003"
    for item in open_items():
        assert all((folder / f"{item.name}{suffix}").is_file() for suffix in (".csv", ".json", ".parquet")), item
    meta = json.loads((folder / "population_by_district.metadata.json").read_text(encoding="utf-8"))
    assert meta["provenance"]["release"] == 3
    assert meta["provenance"]["delta_version"] == _release(day3["home"], 3)["datasets"][
        "gold/population_by_district"]["delta_version"]
    assert (day3["home"] / "data" / "portal" / "site" / "download" / "release-0003").is_dir()


def test_the_run_day_dag_on_the_same_day_again_changes_nothing(day3: dict) -> None:
    _succeeded(day3["runs"]["run_day_again"], "run_day")
    assert day3["runs"]["after_again"] == day3["runs"]["after_day"]
    assert not (day3["home"] / "data" / "releases" / "release-0004.json").exists()
