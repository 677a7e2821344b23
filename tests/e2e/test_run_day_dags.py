"""A simulated city's days through Airflow (subprocesses, project-local AIRFLOW_HOME, SQLite, data in tmp):
300 residents, seed 1, 30-day periods.

- day 1: `airflow dags test run_day` — ingest -> gold -> gate -> release -> export in one DAG run;
- day 2: the ingest task (`airflow tasks test run_day ingest`), then the two asset-scheduled DAGs as the
  scheduler would run them after silver changed: `airflow dags test gold_marts`, then `airflow dags test
  release` (`dags test` runs one DAG: asset-triggered follow-ups are checked by test_dag_integrity's wiring
  and test_airflow_standalone's scheduler).
Asserted on values: release numbers, the versions they pin (read with delta-rs), the dates, the exported
files and the dbt docs beside each release.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from deltalake import DeltaTable

from citydata.airflow_local import airflow, airflow_env, dags_test
from citydata.catalog.items import load_items
from citydata.release.gate import suite_datasets
from citydata.sources.simulate import simulate

pytestmark = pytest.mark.slow
PERSONS, SEED, PERIOD = 300, 1, 30


def _timed(label: str, run: Callable[[], Any]) -> tuple[int, str]:
    started = time.monotonic()
    done = run()
    print(f"{label}: {time.monotonic() - started:.1f} s, exit {done.returncode}")
    return done.returncode, done.stdout + done.stderr


def _version(home: Path, layer: str, table: str) -> int:
    return DeltaTable(str(home / "lakehouse" / layer / table)).version()


def _release(home: Path, number: int) -> dict:
    return json.loads((home / "data" / "releases" / f"release-{number:04d}.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def days(tmp_path_factory: pytest.TempPathFactory) -> dict:
    home = tmp_path_factory.mktemp("run-day-dags")
    folders = [d.folder for d in simulate(home / "data" / "simulated", [1, 2], persons=PERSONS, seed=SEED,
                                          period_days=PERIOD)]
    env = airflow_env(home, home / ".airflow")
    env.update({"AIRFLOW__CORE__UNIT_TEST_MODE": "False", "CITYDATA_AIRFLOW_RETRIES": "1",
                "CITYDATA_AIRFLOW_RETRY_DELAY": "1"})
    runs = {"day1": _timed("dags test run_day (day 1)",
                           lambda: dags_test(env, "run_day", {"day_folder": str(folders[0])}))}
    runs["day1_versions"] = {"dim_resident": _version(home, "gold", "dim_resident"),
                             "person": _version(home, "silver", "person")}
    conf = {"day_folder": str(folders[1])}
    runs["ingest2"] = _timed("tasks test run_day ingest (day 2)", lambda: airflow(
        ["tasks", "test", "run_day", "ingest", "-t", json.dumps(conf)], env))
    runs["gold2"] = _timed("dags test gold_marts (day 2)", lambda: dags_test(env, "gold_marts", conf))
    runs["release2"] = _timed("dags test release (day 2)", lambda: dags_test(env, "release", conf))
    return {"home": home, "days": folders, "runs": runs}


def _succeeded(run: tuple[int, str], dag_id: str) -> None:
    code, output = run
    assert code == 0 and f"DagRun Finished: dag_id={dag_id}" in output and "state=success" in output, output[-6000:]


def test_day_one_runs_end_to_end_in_one_dag_run(days: dict) -> None:
    _succeeded(days["runs"]["day1"], "run_day")
    home = days["home"]
    release = _release(home, 1)
    manifest = json.loads((days["days"][0] / "manifest.json").read_text(encoding="utf-8"))
    assert (release["as_of"], release["period_start"]) == (manifest["as_of"], manifest["period"][0])
    assert sorted(release["datasets"]) == [f"gold/{d}" for d in suite_datasets()]
    assert release["datasets"]["gold/dim_resident"]["delta_version"] == days["runs"]["day1_versions"]["dim_resident"]
    assert release["inputs"]["silver/person"]["delta_version"] == days["runs"]["day1_versions"]["person"]
    assert (home / "data" / "releases" / "release-0001" / "dbt-docs" / "static_index.html").is_file()


def test_day_two_flows_from_silver_to_a_new_release_through_the_scheduled_dags(days: dict) -> None:
    code, output = days["runs"]["ingest2"]
    assert code == 0, output[-6000:]
    _succeeded(days["runs"]["gold2"], "gold_marts")
    _succeeded(days["runs"]["release2"], "release")
    home = days["home"]
    assert _version(home, "silver", "person") > days["runs"]["day1_versions"]["person"]  # day 2's changes
    assert _version(home, "gold", "dim_resident") == days["runs"]["day1_versions"]["dim_resident"] + 1
    release = _release(home, 2)
    manifest = json.loads((days["days"][1] / "manifest.json").read_text(encoding="utf-8"))
    assert (release["as_of"], release["period_start"]) == (manifest["as_of"], manifest["period"][0])
    for name, pin in release["datasets"].items():
        assert pin["delta_version"] == _version(home, "gold", pin["table"]), name
    assert release["datasets"]["gold/dim_resident"]["rows"] == DeltaTable(
        str(home / "lakehouse" / "gold" / "dim_resident")).to_pyarrow_table().num_rows
    assert (home / "data" / "releases" / "release-0002" / "dbt-docs" / "catalog.json").is_file()


def test_each_release_exported_its_catalog_items(days: dict) -> None:
    released = {f"gold/{d}" for d in suite_datasets()}
    items = [item.name for item in load_items() if item.source_table in released]
    for number in (1, 2):
        folder = days["home"] / "exports" / f"release-{number:04d}"
        assert sorted(p.name for p in folder.iterdir()) == sorted(
            f"{name}{suffix}" for name in items for suffix in (".csv", ".metadata.json"))
        meta = json.loads((folder / "population_by_district.metadata.json").read_text(encoding="utf-8"))
        assert meta["provenance"]["release"] == number
        assert meta["provenance"]["delta_version"] == _release(days["home"], number)["datasets"][
            "gold/population_by_district"]["delta_version"]
