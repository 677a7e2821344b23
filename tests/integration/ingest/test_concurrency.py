"""Two ingests at once on one lakehouse (issue 15) — a `citydata ingest` process and, beside it, a run in the
test's own process (its Spark session already up) — of the same new day, and of two different days. Each batch
lands once, the silver steps that lose a commit race run again, both runs end well, and bronze and silver hold
what a sequential run of the same days holds.

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

from citydata.ingest.runner import ingest_day
from citydata.lakehouse import Lakehouse
from citydata.lakehouse.doctor import find_duplicated_batches
from citydata.sources.simulate import simulate

SOURCES = ("police/household_register.csv", "police/household_register_changes.csv", "social_insurance/employment.csv",
           "civil_affairs/social_organizations.csv")
# Landing and silver times differ from run to run; every other column must be equal.
RUN_TIMES = {"_ingested_at", "_updated_at", "applied_at"}


def _delivery(day_folder: Path, out: Path) -> Path:
    """The five sources' files of a simulated day, in a delivery folder of their own."""
    for relative in SOURCES:
        (out / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(day_folder / "delivery" / relative, out / relative)
    return out


def _contents(lakehouse: Lakehouse, silver_lineage: bool = True) -> dict[str, Counter]:
    """Every bronze and silver table as a multiset of rows, run times left out (and silver's `_batch_id` unless
    `silver_lineage`)."""
    out = {}
    for layer, table in lakehouse.tables(["bronze", "silver"]):
        df = lakehouse.read(layer, table)
        left_out = RUN_TIMES | (set() if silver_lineage or layer != "silver" else {"_batch_id"})
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
        yield {"root": root, "days": days, "sequential": _contents(sequential),
               "sequential_values": _contents(sequential, silver_lineage=False)}


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
    assert _differences(city["sequential"], _contents(lakehouse)) == {}


def test_two_ingests_of_different_days_at_once_equal_a_sequential_run(spark, city: dict) -> None:
    """Day 1 by `citydata ingest` in a process of its own; day 2 by this process once day 1 has landed social
    insurance, so each source's batches land in day order (which list is the latest follows landing order:
    docs/silver.md) while landing the rest, the silver steps and the empty tables of both runs overlap. Civil
    affairs' file is the same batch on both days."""
    home = city["root"] / "two-days"
    started = time.monotonic()
    other = _start_ingest(home, city["days"][0])
    landed_first = home / "lakehouse" / "bronze" / "social_insurance_employment" / "_delta_log"
    while not landed_first.exists() and other.poll() is None:
        time.sleep(0.2)
    lakehouse = Lakehouse(spark, home / "lakehouse")
    ingest_day(spark, lakehouse, city["days"][1])
    cli = _finish(other)
    print(f"ingests of day 1 and day 2 at once: {time.monotonic() - started:.0f} s")
    assert cli.returncode == 0, cli.stderr[-3000:]
    assert find_duplicated_batches(str(home / "lakehouse")) == []
    # Silver's values are the sequential run's; its lineage may differ: day 1's silver step can find both days'
    # social-insurance lists pending and apply them in one step, and a row both lists hold unchanged (or one the
    # second list dropped) is then attributed to the second list, not the first, as after any run that landed
    # two days before silver ran (docs/run-day.md, "Concurrent runs").
    assert _differences(city["sequential_values"], _contents(lakehouse, silver_lineage=False)) == {}
