"""Two ingests at once on one lakehouse (issue 15) — a `citydata ingest` process and, beside it, a run in the
test's own process (its Spark session already up) — of the same new day, and of two different days. Each batch
lands once, the silver steps that lose a commit race run again, both runs end well, and bronze and silver hold
what a sequential run of the same days holds, lineage included; gold, built by `dbt run` at day 2's dates on each
lakehouse after its runs, equals the sequential run's gold, every mart (those of POIs and tax, which this city does
not deliver, built on the empty tables `ensure_silver_tables` creates).

A city of 150 residents (seed 15, 30-day periods), and four of its sources: the household register, its change
log and social insurance (the issue's example: a new list each day, which landed twice) feed the population
master; civil affairs' organizations (the same bytes on both days: one batch that both runs of different days
land) feed the legal-entity master. Every other contract's silver table is created empty by both runs at once
(a table-creation race)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from citydata.ingest.delivery_day import DELIVERY_DAY
from citydata.ingest.runner import ensure_silver_tables, ingest_day
from citydata.lakehouse import Lakehouse
from citydata.lakehouse.doctor import find_duplicated_batches
from citydata.orchestration.plan import resolve_day
from citydata.sources.simulate import simulate
from citydata.transform import run_dbt

SOURCES = ("police/household_register.csv", "police/household_register_changes.csv", "social_insurance/employment.csv",
           "civil_affairs/social_organizations.csv")
# Landing and silver times differ from run to run; every other column must be equal.
RUN_TIMES = {"_ingested_at", "_updated_at", "applied_at"}
# Civil affairs delivers the same bytes on both days: one batch, dated by the run that landed it first.
SAME_BYTES = "bronze.social_organizations"


def _delivery(day_folder: Path, out: Path) -> Path:
    """The five sources' files of a simulated day, in a delivery folder of their own."""
    for relative in SOURCES:
        (out / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(day_folder / "delivery" / relative, out / relative)
    return out


def _build_gold(spark, lakehouse: Lakehouse, dbt_vars: dict[str, str]) -> None:
    """Every dbt model over the lakehouse (models only: the data tests check, they write nothing), after creating
    the silver tables of sources these runs do not deliver, as run-day's gold stage does (silver.poi and
    silver.tax_payment included, empty: this city delivers no crawl and no tax page)."""
    ensure_silver_tables(spark, lakehouse)
    run_dbt(spark, lakehouse.root, "run", vars=dbt_vars, target_dir=Path(lakehouse.root).parent / "dbt-target")


def _contents(lakehouse: Lakehouse) -> dict[str, Counter]:
    """Every bronze, silver and gold table as a multiset of rows, run times left out (and the delivery day of the
    batch both days deliver)."""
    out = {}
    for layer, table in lakehouse.tables(["bronze", "silver", "gold"]):
        df = lakehouse.read(layer, table)
        left_out = RUN_TIMES | ({DELIVERY_DAY} if f"{layer}.{table}" == SAME_BYTES else set())
        columns = sorted(c for c in df.columns if c not in left_out)
        out[f"{layer}.{table}"] = Counter(tuple(row) for row in df.select(*columns).collect())
    return out


def _differences(expected: dict[str, Counter], got: dict[str, Counter]) -> dict[str, str]:
    diff = {}
    for table in sorted(set(expected) | set(got)):
        if table not in got or table not in expected:
            diff[table] = "missing" if table not in got else "unexpected"
        elif expected[table] != got[table]:
            diff[table] = (f"{sum(expected[table].values())} rows expected, {sum(got[table].values())} found; "
                           f"only expected: {list((expected[table] - got[table]).elements())[:3]}; "
                           f"only found: {list((got[table] - expected[table]).elements())[:3]}")
    return diff


def _start_ingest(home: Path, folder: Path) -> subprocess.Popen:
    """`python -m citydata.cli ingest` of a day folder on the lakehouse under `home`, in its own process; returns
    once its SparkContext is up (its block manager folder exists), so the caller's run starts beside it."""
    env = {k: v for k, v in os.environ.items() if k != "CITYDATA_LAKEHOUSE"}
    home.mkdir(parents=True, exist_ok=True)
    local = Path(tempfile.mkdtemp(prefix="spark-local-", dir=home))
    env.update(CITYDATA_HOME=str(home), CITYDATA_SPARK_WAREHOUSE=str(local / "warehouse"), SPARK_LOCAL_DIRS=str(local))
    process = subprocess.Popen([sys.executable, "-m", "citydata.cli", "ingest", "--day-folder", str(folder)],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    while not any(local.glob("blockmgr-*")) and process.poll() is None:
        time.sleep(0.2)
    return process


def _finish(process: subprocess.Popen) -> subprocess.CompletedProcess:
    out, err = process.communicate(timeout=600)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


@pytest.fixture(scope="module")
def city(spark, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """The two days' deliveries and the contents of a sequential run of day 1 then day 2."""
    root = tmp_path_factory.mktemp("concurrent-runs")
    day1, day2 = simulate(root / "sim", [1, 2], persons=150, seed=15, period_days=30)
    days = [_delivery(day.folder, root / day.folder.name / "delivery") for day in (day1, day2)]
    with pytest.MonkeyPatch.context() as env:
        # one pseudonym key for every lakehouse of the module (and the processes, which inherit it), so keyed
        # hashes compare equal across lakehouses
        env.setenv("CITYDATA_PSEUDONYM_KEY", "c0ffee" * 10 + "c0de")
        sequential = Lakehouse(spark, root / "sequential" / "lakehouse")
        ingest_day(spark, sequential, days[0])
        # the same-day test starts from this lakehouse after day 1 (a copy: Delta logs hold relative paths)
        shutil.copytree(root / "sequential" / "lakehouse", root / "same-day" / "lakehouse")
        ingest_day(spark, sequential, days[1])
        dbt_vars = resolve_day(day2.folder).dbt_vars()
        _build_gold(spark, sequential, dbt_vars)
        expected = _contents(sequential)
        assert sum(1 for table in expected if table.startswith("gold.")) >= 20  # every mart
        assert sum(expected["gold.dim_resident"].values()) > 100
        yield {"root": root, "days": days, "dbt_vars": dbt_vars, "sequential": expected}


def test_two_ingests_of_the_same_new_day_land_each_batch_once_and_equal_a_sequential_run(spark, city: dict) -> None:
    """Day 2 by `citydata ingest` in a process of its own and, beside it, by this process."""
    home = city["root"] / "same-day"  # day 1 landed (the sequential run's lakehouse after day 1)
    lakehouse = Lakehouse(spark, home / "lakehouse")
    started = time.monotonic()
    other = _start_ingest(home, city["days"][1])
    here = ingest_day(spark, lakehouse, city["days"][1])
    cli = _finish(other)
    print(f"two ingests of day 2 at once: {time.monotonic() - started:.0f} s")
    assert cli.returncode == 0, cli.stderr[-3000:]
    assert "Traceback" not in cli.stderr
    # social insurance's day-2 list is a new batch: exactly one of the two runs landed it
    cli_new = "new batch" in next(line for line in cli.stdout.splitlines() if "social_insurance_employment" in line)
    assert sorted([cli_new, not here.landed["social_insurance_employment"].already_landed]) == [False, True]
    assert find_duplicated_batches(str(home / "lakehouse")) == []
    _build_gold(spark, lakehouse, city["dbt_vars"])
    assert _differences(city["sequential"], _contents(lakehouse)) == {}


def test_two_ingests_of_different_days_at_once_equal_a_sequential_run(spark, city: dict) -> None:
    """Day 2 by `citydata ingest` in a process of its own, launched first; day 1 by this process as soon as day 2
    has landed social insurance's list, while day 2 goes on landing and running silver steps: every source's
    day-1 batch lands after its day-2 batch (before `_delivery_day`, silver took the day-1 list as the latest and
    credited unchanged rows to whichever list landed later). Civil affairs' file is the same batch on both days."""
    home = city["root"] / "two-days"
    started = time.monotonic()
    other = _start_ingest(home, city["days"][1])
    landed_first = home / "lakehouse" / "bronze" / "social_insurance_employment" / "_delta_log"
    while not landed_first.exists() and other.poll() is None:
        time.sleep(0.2)
    lakehouse = Lakehouse(spark, home / "lakehouse")
    here = ingest_day(spark, lakehouse, city["days"][0])
    day2_running = other.poll() is None
    cli = _finish(other)
    print(f"ingests of day 2 then day 1 at once: {time.monotonic() - started:.0f} s (day 2 still running when "
          f"day 1 ended: {day2_running})")
    assert cli.returncode == 0, cli.stderr[-3000:]
    assert not here.landed["social_insurance_employment"].already_landed  # day 1's list: landed by this run
    assert find_duplicated_batches(str(home / "lakehouse")) == []
    _build_gold(spark, lakehouse, city["dbt_vars"])
    assert _differences(city["sequential"], _contents(lakehouse)) == {}
    days = {r[DELIVERY_DAY] for r in lakehouse.read("bronze", SAME_BYTES.split(".")[1]).collect()}
    assert len(days) == 1 and days <= {"day-001", "day-002"}, days
