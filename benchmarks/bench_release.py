"""Benchmark: the release side of a day on a simulated city, default 1,000,000 residents — the gate over every
dataset of the catalog, the release manifest, the open-data export (CSV, JSON, Parquet, DCAT, CKAN API) and the
portal build — each timed with the rows it handled.

Day 1 is ingested and built first (ingest + dbt build: printed, not part of the figures; with `--out` on a home
where that day is already built, both find nothing new and take seconds). Then gate -> release -> export ->
portal on day 1, then the same four again with nothing changed (the gate sees the versions the current release
validated; the export finds the release exported). `--day2` also builds day 2 and times its release side: the
gate then checks drift against release 1. Usage:
    python benchmarks/bench_release.py [--persons N] [--seed S] [--period-days P] [--day2] [--out DIR] [--keep]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("CITYDATA_SPARK_DRIVER_MEMORY", "8g")
os.environ.setdefault("CITYDATA_SPARK_LOG_LEVEL", "ERROR")

from citydata.config import Paths  # noqa: E402
from citydata.lakehouse import Lakehouse, get_spark  # noqa: E402
from citydata.orchestration import (  # noqa: E402
    StageResult,
    export_stage,
    gate_stage,
    gold_stage,
    ingest_stage,
    plan_day,
    portal_stage,
    release_stage,
)

from bench_common import city_arguments, finish, rate, start_city  # noqa: E402

RELEASE_STAGES = ("gate", "release", "export", "portal")


def stage_rows(stage: StageResult) -> int:
    """Rows of the validated datasets (gate), of the pinned datasets (release), of the exported datasets (export);
    the portal is counted in pages (its summary), not rows."""
    details = stage.details
    if stage.stage in ("gate", "release"):
        return sum(details["rows"].values())
    if stage.stage == "export":
        return sum(d["rows"] for d in details["datasets"].values())
    return 0


def release_side(spark, lakehouse: Lakehouse, paths: Paths, plan, label: str) -> dict[str, float]:
    """gate -> release -> export -> portal as run_day runs them; prints a line per stage; seconds by stage."""
    results: dict[str, StageResult] = {}
    done, gate = gate_stage(spark, lakehouse, paths=paths, plan=plan)
    results["gate"] = done
    gate.raise_for_failure()
    results["release"] = release_stage(lakehouse, plan, done.details, paths=paths)  # as run_day does
    results["export"] = export_stage(lakehouse, paths=paths)
    results["portal"] = portal_stage(paths)
    print(f"\n  {label}: {sum(r.seconds for r in results.values()):.1f} s")
    print(f"    {'stage':<8} {'seconds':>9} {'rows':>12} {'rows/s':>12}  what")
    for name in RELEASE_STAGES:
        stage = results[name]
        rows = stage_rows(stage)
        print(f"    {name:<8} {stage.seconds:>9.1f} {rows:>12,} {rate(rows, stage.seconds)}  {stage.summary}",
              flush=True)
    return {name: results[name].seconds for name in RELEASE_STAGES}


def build_day(spark, lakehouse: Lakehouse, paths: Paths, folder: Path):
    """Ingest and dbt build of a day (not part of the figures); its plan."""
    plan = plan_day(folder, paths=paths)
    started = time.perf_counter()
    ingest = ingest_stage(spark, lakehouse, plan)
    gold = gold_stage(spark, lakehouse, plan, paths=paths)
    print(f"  {plan.day}: ingest {ingest.seconds:.1f} s, gold {gold.seconds:.1f} s "
          f"({time.perf_counter() - started:.1f} s, not part of the figures)", flush=True)
    return plan


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    city_arguments(parser, keep_help="keep the simulated days, lakehouse, releases, exports and portal")
    parser.add_argument("--day2", action="store_true", help="also build day 2 and time its release side (drift)")
    args = parser.parse_args(argv)
    out, days = start_city(args, "release benchmark (gate, release, export, portal)", "bench-release",
                           days=(1, 2) if args.day2 else (1,))
    paths = Paths.from_env(out)
    spark = get_spark(app_name="bench-release")
    lakehouse = Lakehouse(spark, paths.lakehouse)

    plan = build_day(spark, lakehouse, paths, days[0].folder)
    first = release_side(spark, lakehouse, paths, plan, "day 1: gate, release, export, portal")
    again = release_side(spark, lakehouse, paths, plan, "day 1 again, nothing changed")
    print("\n  nothing changed / day 1 per stage: " + ", ".join(
        f"{name} {again[name] / first[name]:.2f}x" if first[name] else f"{name} -" for name in RELEASE_STAGES))
    if args.day2:
        plan2 = build_day(spark, lakehouse, paths, days[1].folder)
        second = release_side(spark, lakehouse, paths, plan2, "day 2 (drift checked against release 1)")
        print("\n  day 2 / day 1 per stage: " + ", ".join(
            f"{name} {second[name] / first[name]:.2f}x" if first[name] else f"{name} -" for name in RELEASE_STAGES))
    return finish(spark, out, args)


if __name__ == "__main__":
    raise SystemExit(main())
