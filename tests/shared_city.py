"""The test session's simulated city, built once with `run_day` and checked by several test modules.

Building a city costs minutes (every day pays ingest of 17 sources, a dbt build of ~400 nodes, the gate,
the release and the export), so the marts acceptance (seed 7), the run-day assertions and the Airflow day
share one: 500 residents, seed 7, 30-day periods (births, deaths, moves, ID corrections, deregistrations and
penalties leaving publicity happen between deliveries), days 1, 2 and 3, each through `run_day` on the
session's SparkSession, the way `citydata run-day` runs them. After each day every mart is compared with its
truth file; after day 2 the whole home is copied (the Airflow test runs day 3 from that copy through the
DAGs and must reach the same result); after day 3, day 3 runs again through the CLI with no new data.
"""

from __future__ import annotations

import contextlib
import io
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from truth import mart_differences

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
    results: dict[str, DayResult] = field(default_factory=dict)  # day folder name -> run_day's result
    differences: dict[int, dict[str, list[str]]] = field(default_factory=dict)  # day -> truth_differences
    home_after_day_2: Path | None = None
    rerun: dict[str, Any] = field(default_factory=dict)  # the last day again through the CLI


def build_shared_city(spark: Any, root: Path) -> SharedCity:
    home = root / "home"
    simulated = simulate(home / "data" / "simulated", list(DAYS), persons=PERSONS, seed=SEED,
                         period_days=PERIOD_DAYS)
    paths = Paths.from_env(home)
    city = SharedCity(home, paths, Lakehouse(spark, paths.lakehouse), [d.folder for d in simulated])
    for simulated_day in simulated:
        folder = simulated_day.folder
        city.results[folder.name] = run_day(spark, city.lakehouse, plan_day(folder, paths=paths), paths=paths)
        city.differences[simulated_day.day] = truth_differences(city.lakehouse, folder)
        if simulated_day.day == 2:
            city.home_after_day_2 = root / "home-after-day-2"
            shutil.copytree(home, city.home_after_day_2, ignore=shutil.ignore_patterns("simulated"))
    city.rerun = _rerun_last_day_through_the_cli(city)
    return city


def _rerun_last_day_through_the_cli(city: SharedCity) -> dict[str, Any]:
    """The last day again, through `citydata run-day` (in this process: the same SparkSession)."""
    from citydata.cli.main import main

    before = table_versions(city.lakehouse)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["run-day", "--day-folder", str(city.days[-1]), "--home", str(city.home)])
    print(out.getvalue())
    return {"code": code, "before": before, "after": table_versions(city.lakehouse), "out": out.getvalue()}
