"""Day 3 of the session's shared city through Airflow (subprocesses, project-local AIRFLOW_HOME, SQLite), from
a copy of the city's home taken after day 2 (tests/shared_city.py: 500 residents, seed 7, 30-day periods),
so it must reach what `run_day` reached in-process on day 3:

- the ingest task (`airflow tasks test run_day ingest`), then the two asset-scheduled DAGs as the scheduler
  would run them after silver changed: `airflow dags test gold_marts`, then `airflow dags test release`
  (`dags test` runs one DAG: asset-triggered follow-ups are checked by test_dag_integrity's wiring and
  test_airflow_standalone's scheduler);
- then the whole `run_day` DAG for the same day (`airflow dags test run_day`): every stage runs and finds
  nothing new — no new Delta version, no new release.
Asserted on values: every mart equals day 3's truth, release 3 pins the versions it must (read with delta-rs)
and the same rows as the in-process release 3, with the day's dates, its exported files and its dbt docs.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from deltalake import DeltaTable
from shared_city import SharedCity, truth_differences

from citydata.airflow_local import airflow, airflow_env, dags_test, migrate_once
from citydata.catalog.items import load_items
from citydata.lakehouse import Lakehouse
from citydata.release.gate import suite_datasets

pytestmark = pytest.mark.slow


def _timed(label: str, run: Callable[[], Any]) -> tuple[int, str]:
    started = time.monotonic()
    done = run()
    print(f"{label}: {time.monotonic() - started:.1f} s, exit {done.returncode}")
    return done.returncode, done.stdout + done.stderr


def _versions(home: Path) -> dict[str, int]:
    """The Delta version of every table under the lakehouse (delta-rs)."""
    return {f"{log.parent.parent.name}/{log.parent.name}": DeltaTable(str(log.parent)).version()
            for log in sorted((home / "lakehouse").glob("*/*/_delta_log"))}


def _release(home: Path, number: int) -> dict:
    return json.loads((home / "data" / "releases" / f"release-{number:04d}.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def day3(shared_city: SharedCity) -> dict:
    home = shared_city.home_after_day_2
    day = shared_city.days[2]
    env = airflow_env(home, home / ".airflow")
    env.update({"AIRFLOW__CORE__UNIT_TEST_MODE": "False", "CITYDATA_AIRFLOW_RETRIES": "1",
                "CITYDATA_AIRFLOW_RETRY_DELAY": "1"})
    conf = {"day_folder": str(day)}
    migrate_once(env)
    runs = {"before": _versions(home)}
    runs["ingest"] = _timed("tasks test run_day ingest (day 3)", lambda: airflow(
        ["tasks", "test", "run_day", "ingest", "-t", json.dumps(conf)], env))
    runs["gold"] = _timed("dags test gold_marts (day 3)", lambda: dags_test(env, "gold_marts", conf))
    runs["release"] = _timed("dags test release (day 3)", lambda: dags_test(env, "release", conf))
    runs["after_day"] = _versions(home)
    runs["run_day_again"] = _timed("dags test run_day (day 3 again)", lambda: dags_test(env, "run_day", conf))
    runs["after_again"] = _versions(home)
    return {"home": home, "day": day, "runs": runs}


def _succeeded(run: tuple[int, str], dag_id: str) -> None:
    code, output = run
    assert code == 0 and f"DagRun Finished: dag_id={dag_id}" in output and "state=success" in output, output[-6000:]


def test_day_three_flows_from_silver_to_a_release_through_the_scheduled_dags(day3: dict, spark,
                                                                            shared_city: SharedCity) -> None:
    code, output = day3["runs"]["ingest"]
    assert code == 0, output[-6000:]
    _succeeded(day3["runs"]["gold"], "gold_marts")
    _succeeded(day3["runs"]["release"], "release")
    home, runs = day3["home"], day3["runs"]
    assert runs["after_day"]["silver/person"] > runs["before"]["silver/person"]  # day 3's changes
    assert runs["after_day"]["gold/dim_resident"] == runs["before"]["gold/dim_resident"] + 1
    differences = truth_differences(Lakehouse(spark, home / "lakehouse"), day3["day"])
    assert not [line for lines in differences.values() for line in lines], differences
    release = _release(home, 3)
    manifest = json.loads((day3["day"] / "manifest.json").read_text(encoding="utf-8"))
    assert (release["as_of"], release["period_start"]) == (manifest["as_of"], manifest["period"][0])
    assert sorted(release["datasets"]) == [f"gold/{d}" for d in suite_datasets()]
    for name, pin in release["datasets"].items():
        assert pin["delta_version"] == runs["after_day"][name], name
    in_process = _release(shared_city.home, 3)  # the same day through run_day in the test process
    assert {n: p["rows"] for n, p in release["datasets"].items()} == {
        n: p["rows"] for n, p in in_process["datasets"].items()}
    assert {n: (p["delta_version"], p["rows"]) for n, p in release["inputs"].items()} == {
        n: (p["delta_version"], p["rows"]) for n, p in in_process["inputs"].items()}  # the same silver
    assert (home / "data" / "releases" / "release-0003" / "dbt-docs" / "catalog.json").is_file()


def test_the_release_exported_its_catalog_items(day3: dict) -> None:
    released = {f"gold/{d}" for d in suite_datasets()}
    items = [item.name for item in load_items() if item.source_table in released]
    folder = day3["home"] / "exports" / "release-0003"
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        f"{name}{suffix}" for name in items for suffix in (".csv", ".metadata.json"))
    meta = json.loads((folder / "population_by_district.metadata.json").read_text(encoding="utf-8"))
    assert meta["provenance"]["release"] == 3
    assert meta["provenance"]["delta_version"] == _release(day3["home"], 3)["datasets"][
        "gold/population_by_district"]["delta_version"]


def test_the_run_day_dag_on_the_same_day_again_changes_nothing(day3: dict) -> None:
    _succeeded(day3["runs"]["run_day_again"], "run_day")
    assert day3["runs"]["after_again"] == day3["runs"]["after_day"]
    assert not (day3["home"] / "data" / "releases" / "release-0004.json").exists()
