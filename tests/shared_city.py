"""The test session's simulated city, built once and checked by several test modules.

Building a city costs minutes (every day pays ingest of 17 sources, a dbt build of ~400 nodes, the gate,
the release and the export), so the marts acceptance (seed 7), the run-day assertions and the Airflow day
share one: 500 residents, seed 7, 30-day periods (births, deaths, moves, ID corrections, deregistrations and
penalties leaving publicity happen between deliveries), days 1, 2 and 3. Days 1 and 2 run through `run_day`
on the session's SparkSession, the way `citydata run-day` runs them; day 3 runs through Airflow on the same
home, as the scheduler would run it (subprocesses, project-local AIRFLOW_HOME on SQLite): the ingest task of
`run_day`, then the asset-scheduled `gold_marts` and `release` DAGs (`airflow dags test`). After each day
every mart is compared with its truth file. Then day 3 runs again with no new data, through the whole
`run_day` DAG and through the CLI: neither may write anything.
"""

from __future__ import annotations

import contextlib
import io
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from truth import mart_differences

from citydata.airflow_local import airflow, airflow_env, dags_test, migrate_once
from citydata.config import Paths
from citydata.lakehouse import Lakehouse
from citydata.orchestration import plan_day, run_day
from citydata.orchestration.stages import DayResult, table_versions
from citydata.sources.simulate import simulate

PERSONS, SEED, PERIOD_DAYS, DAYS = 500, 7, 30, (1, 2, 3)

# mart -> its truth file (truth/<name>.csv). A truth file a day does not write (statistics come on the
# bureau's own calendar) is not compared that day.
MART_TRUTH = {
    "population_by_district": "population_by_district",
    "population_by_street_age_gender": "population_by_street_age_gender",
    "households_by_street": "households_by_street",
    "vital_events_by_street": "vital_events_by_street",
    "legal_entities_active": "legal_entities_active",
    "registrations_by_month": "registrations_by_month",
    "credit_status": "credit_status",
    "tax_by_section_district_month": "tax_by_section_district_month",
    "employment_by_section_district": "employment_by_section_district",
    "economic_indicators": "statistics_indicators",
    "poi_by_district": "poi_by_district",
}


def truth_differences(lakehouse: Lakehouse, day_folder: Path) -> dict[str, list[str]]:
    """mart -> the lines where it differs from the day's truth file (empty when equal), for every truth file
    the day wrote."""
    return {mart: mart_differences(lakehouse, mart, day_folder / "truth" / f"{truth}.csv")
            for mart, truth in MART_TRUTH.items() if (day_folder / "truth" / f"{truth}.csv").exists()}


@dataclass
class SharedCity:
    home: Path
    paths: Paths
    lakehouse: Lakehouse
    days: list[Path]  # day folders, day 1 first
    results: dict[str, DayResult] = field(default_factory=dict)  # day folder name -> run_day's result (days 1, 2)
    differences: dict[int, dict[str, list[str]]] = field(default_factory=dict)  # day -> truth_differences
    versions: dict[int, dict[str, int]] = field(default_factory=dict)  # day -> table_versions after it (days 1, 2)
    airflow: dict[str, Any] = field(default_factory=dict)  # the last day through Airflow: runs and versions
    rerun: dict[str, Any] = field(default_factory=dict)  # the last day again through the CLI


def build_shared_city(spark: Any, root: Path) -> SharedCity:
    home = root / "home"
    simulated = simulate(home / "data" / "simulated", list(DAYS), persons=PERSONS, seed=SEED,
                         period_days=PERIOD_DAYS)
    paths = Paths.from_env(home)
    city = SharedCity(home, paths, Lakehouse(spark, paths.lakehouse), [d.folder for d in simulated])
    *in_process, last = simulated
    for simulated_day in in_process:
        folder = simulated_day.folder
        city.results[folder.name] = run_day(spark, city.lakehouse, plan_day(folder, paths=paths), paths=paths)
        city.differences[simulated_day.day] = truth_differences(city.lakehouse, folder)
        city.versions[simulated_day.day] = table_versions(city.lakehouse)  # the cluster test reads day 1's back
    env = _airflow_env(city)
    city.airflow = _last_day_through_airflow(city, env, last.folder)
    city.differences[last.day] = truth_differences(city.lakehouse, last.folder)
    city.airflow.update(_last_day_again_through_airflow(city, env))
    city.rerun = _rerun_last_day_through_the_cli(city)
    return city


def _timed(label: str, run: Any) -> tuple[int, str]:
    started = time.monotonic()
    done = run()
    print(f"{label}: {time.monotonic() - started:.1f} s, exit {done.returncode}")
    return done.returncode, done.stdout + done.stderr


def _airflow_env(city: SharedCity) -> dict[str, str]:
    env = airflow_env(city.home, city.home / ".airflow")
    env.update({"AIRFLOW__CORE__UNIT_TEST_MODE": "False", "CITYDATA_AIRFLOW_RETRIES": "1",
                "CITYDATA_AIRFLOW_RETRY_DELAY": "1"})
    migrate_once(env)
    return env


def _last_day_through_airflow(city: SharedCity, env: dict[str, str], day: Path) -> dict[str, Any]:
    """The ingest task of `run_day` (`airflow tasks test`), then the two asset-scheduled DAGs as the scheduler
    would run them after silver changed (`dags test` runs one DAG: asset-triggered follow-ups are checked by
    test_dag_integrity's wiring and test_airflow_standalone's scheduler)."""
    conf = {"day_folder": str(day)}
    runs: dict[str, Any] = {"day": day, "conf": conf, "before": table_versions(city.lakehouse)}
    runs["ingest"] = _timed("tasks test run_day ingest (last day)", lambda: airflow(
        ["tasks", "test", "run_day", "ingest", "-t", json.dumps(conf)], env))
    runs["gold"] = _timed("dags test gold_marts (last day)", lambda: dags_test(env, "gold_marts", conf))
    runs["release"] = _timed("dags test release (last day)", lambda: dags_test(env, "release", conf))
    runs["after_day"] = table_versions(city.lakehouse)
    return runs


def _last_day_again_through_airflow(city: SharedCity, env: dict[str, str]) -> dict[str, Any]:
    """The whole `run_day` DAG on the last day again: every stage runs and finds nothing new."""
    conf = city.airflow["conf"]
    again = _timed("dags test run_day (last day again)", lambda: dags_test(env, "run_day", conf))
    return {"run_day_again": again, "after_again": table_versions(city.lakehouse)}


def _rerun_last_day_through_the_cli(city: SharedCity) -> dict[str, Any]:
    """The last day again, through `citydata run-day` (in this process: the same SparkSession)."""
    from citydata.cli.main import main

    before = table_versions(city.lakehouse)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["run-day", "--day-folder", str(city.days[-1]), "--home", str(city.home)])
    print(out.getvalue())
    return {"code": code, "before": before, "after": table_versions(city.lakehouse), "out": out.getvalue()}
