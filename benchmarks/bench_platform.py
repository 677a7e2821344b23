"""Benchmark: the whole platform (run-day) on a simulated city, default 1,000,000 residents: day 1 (full) and
day 2 (increment), optionally a rerun of day 2.

Every stage of `citydata.orchestration.run_day` is timed — ingest (landing + silver), gold (dbt build + dbt
docs), gate, release, export, portal — with the rows it handled and rows/s, and day 2's time as a ratio of day 1's,
per stage and in all, measured in this one run. Usage:
    python benchmarks/bench_platform.py [--persons N] [--seed S] [--period-days P] [--rerun] [--out DIR] [--keep]
"""

from __future__ import annotations

import argparse
import os
import time

# The bronze landing hands a delivery's rows to Spark from the driver: give a 1M-row register room.
os.environ.setdefault("CITYDATA_SPARK_DRIVER_MEMORY", "8g")
os.environ.setdefault("CITYDATA_SPARK_LOG_LEVEL", "ERROR")

from citydata.config import Paths  # noqa: E402
from citydata.lakehouse import Lakehouse, get_spark  # noqa: E402
from citydata.orchestration import STAGES, DayResult, StageResult, plan_day, run_day  # noqa: E402

from bench_common import city_arguments, finish, rate, start_city  # noqa: E402


def stage_rows(stage: StageResult) -> int:
    """The rows a stage handled: delivered rows (ingest), rows of the gold tables it wrote (gold), rows of the
    validated datasets (gate), of the pinned datasets (release), of the exported datasets (export); the portal
    is counted in pages (its summary), not rows."""
    details = stage.details
    if stage.stage == "ingest":
        return sum(landed["delivered"] for landed in details["landed"].values() if landed["new"])
    if stage.stage == "gold":
        return sum(details["rows"][name] for name in details["new_versions"])
    if stage.stage == "gate":
        return sum(details["rows"].values())
    if stage.stage == "release":
        return sum(details["rows"].values())
    if stage.stage == "export":
        return sum(d["rows"] for d in details["datasets"].values())
    return 0


def report(label: str, result: DayResult) -> dict[str, float]:
    """Print one day's stages: seconds, rows, rows/s and the summary; returns seconds by stage."""
    print(f"\n  {label}: {result.seconds:.1f} s in all (as of {result.plan.as_of}, period from "
          f"{result.plan.period_start})")
    print(f"    {'stage':<8} {'seconds':>9} {'rows':>12} {'rows/s':>12}  what")
    seconds = {}
    for name in STAGES:
        stage = result.stages[name]
        rows = stage_rows(stage)
        seconds[name] = stage.seconds
        print(f"    {name:<8} {stage.seconds:>9.1f} {rows:>12,} {rate(rows, stage.seconds)}  {stage.summary}")
    gold = result.stages["gold"].details
    print(f"    (gold: dbt build {gold['dbt_seconds']:.1f} s, dbt docs {gold.get('docs_seconds', 0):.1f} s; "
          f"ingest: land {result.stages['ingest'].details['seconds'].get('land', 0):.1f} s, "
          f"silver {result.stages['ingest'].details['seconds'].get('silver', 0):.1f} s)")
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    city_arguments(parser, keep_help="keep the simulated days, lakehouse and releases")
    parser.add_argument("--rerun", action="store_true", help="also rerun day 2 (nothing new: writes nothing)")
    args = parser.parse_args(argv)
    out, days = start_city(args, "platform benchmark (run-day)", "bench-platform")

    paths = Paths.from_env(out)
    spark = get_spark(app_name="bench-platform")
    lakehouse = Lakehouse(spark, paths.lakehouse)
    runs = [("day 1 (full)", days[0]), ("day 2 (increment)", days[1])]
    if args.rerun:
        runs.append(("day 2 rerun", days[1]))
    seconds: dict[str, dict[str, float]] = {}
    totals: dict[str, float] = {}
    for label, day in runs:
        print(f"\n{label}: {day.folder}", flush=True)
        started = time.perf_counter()
        result = run_day(spark, lakehouse, plan_day(day.folder, paths=paths), paths=paths,
                         on_stage=lambda stage, done: print(f"    {stage} ..." if done is None
                                                            else f"    {stage} {done.seconds:.1f} s", flush=True))
        totals[label] = time.perf_counter() - started
        seconds[label] = report(label, result)

    full, increment = (totals[label] for label, _ in runs[:2])
    print("\n  day 2 / day 1 per stage: " + ", ".join(
        f"{name} {seconds[runs[1][0]][name] / seconds[runs[0][0]][name]:.2f}x" if seconds[runs[0][0]][name] else
        f"{name} -" for name in STAGES))
    print(f"  day 2 incremental / day 1 full: {increment:.1f} s / {full:.1f} s = {increment / full:.2f}x")
    if args.rerun:
        rerun = totals["day 2 rerun"]
        print(f"  day 2 rerun (nothing new) / day 1 full: {rerun:.1f} s / {full:.1f} s = {rerun / full:.2f}x")
    return finish(spark, out, args)


if __name__ == "__main__":
    raise SystemExit(main())
