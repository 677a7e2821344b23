"""Benchmark: ingest a simulated city (default 1,000,000 residents) day 1 (full) and day 2 (increment).

Prints rows/s per stage — bronze landing per source, each silver step — for day 1, day 2 and a rerun of
day 2, and day 2's time as a ratio of day 1's, all measured in this one run. Usage:
    python benchmarks/bench_ingest.py [--persons N] [--seed S] [--period-days P] [--out DIR] [--keep]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

# Local mode: the driver's JVM is the executor too; silver's joins at 1M residents want the room.
os.environ.setdefault("CITYDATA_SPARK_DRIVER_MEMORY", "8g")

from collections.abc import Callable  # noqa: E402

from pyspark.sql import SparkSession  # noqa: E402
from pyspark.sql import functions as F  # noqa: E402

from citydata.catalog.contracts import load_contract  # noqa: E402
from citydata.ingest.bronze import land_delivery  # noqa: E402
from citydata.ingest.population import lookup_person  # noqa: E402
from citydata.ingest.runner import DayIngestResult, ingest_day, silver_steps  # noqa: E402
from citydata.lakehouse import Lakehouse, get_spark  # noqa: E402
from citydata.sources.connectors import delivery_path  # noqa: E402
from citydata.standards.pseudonym import id_number_hash, platform_key  # noqa: E402

from bench_common import city_arguments, finish, rate, start_city  # noqa: E402


class StageClock:
    """Progress callback of ingest_day that times every stage (land per source, silver per step)."""

    def __init__(self) -> None:
        self.started: dict[tuple[str, str], float] = {}
        self.seconds: dict[tuple[str, str], float] = {}

    def __call__(self, stage: str, name: str, outcome: Any) -> None:
        key = (stage, name)
        if outcome is None:
            self.started[key] = time.perf_counter()
            print(f"    {stage} {name} ...", end="", flush=True)
        else:
            self.seconds[key] = time.perf_counter() - self.started[key]
            print(f" {self.seconds[key]:.1f} s", flush=True)


def report(label: str, result: DayIngestResult, clock: StageClock, total: float) -> None:
    """Print one run's stages: rows, seconds, rows/s."""
    steps = silver_steps()
    print(f"\n  {label}: {total:.1f} s in all (land {result.seconds.get('land', 0):.1f} s, "
          f"silver {result.seconds.get('silver', 0):.1f} s)")
    print(f"    {'stage':<8} {'source / step':<32} {'rows':>11} {'seconds':>9} {'rows/s':>12}  note")
    for (stage, name), seconds in clock.seconds.items():
        if stage == "land":
            landed = result.landed.get(name)
            rows = landed.delivered if landed else 0
            note = ("already landed" if landed and landed.already_landed else
                    "refused whole" if name in result.refused else "not delivered" if name in result.missing
                    else f"{landed.rejected:,} rejected" if landed else "")
        else:
            # a silver step's input: the bronze rows this run landed for its sources
            rows = sum(landed.landed for source, landed in result.landed.items()
                       if not landed.already_landed and source in steps[name].sources)
            note = ", ".join(f"{t} {v:,}" for t, v in result.silver[name]["tables"].items() if v is not None)
        print(f"    {stage:<8} {name:<32} {rows:>11,} {seconds:>9.1f} {rate(rows, seconds)}  {note}")
    if result.skipped_steps:
        print(f"    silver steps skipped (no input changed): {', '.join(result.skipped_steps)}")


def register_against_spark(spark: SparkSession, delivery: Path, out: Path) -> None:
    """Landing the household register (every check of its contract, bronze + rejects, warm) against Spark's
    own CSV reader reading the same GBK file and writing it as plain Parquet, measured one after the other."""
    contract = load_contract("household_register")
    path = delivery_path(contract, delivery)
    spark.conf.set("spark.sql.legacy.javaCharsets", "true")  # Spark 4 refuses GBK without it

    def spark_reader(target: Path) -> float:
        started = time.perf_counter()
        (spark.read.option("header", True).option("encoding", "GBK").csv(str(path))
         .write.mode("overwrite").parquet(str(target)))
        return time.perf_counter() - started

    def platform_landing(root: Path) -> tuple[float, int]:
        started = time.perf_counter()
        landed = land_delivery(spark, Lakehouse(spark, root), contract, path)
        return time.perf_counter() - started, landed.delivered

    spark_reader(out / "reference-warmup")
    reference = spark_reader(out / "reference")
    platform_landing(out / "landing-warmup")
    landing, rows = platform_landing(out / "landing")
    size = path.stat().st_size / 2**20
    print(f"\nhousehold register, {rows:,} rows, {size:,.0f} MB GBK (warm, one after the other):")
    print(f"  Spark's CSV reader -> plain Parquet: {reference:6.1f} s {rate(rows, reference)} rows/s")
    print(f"  platform landing (every check):      {landing:6.1f} s {rate(rows, landing)} rows/s")
    print(f"  landing / Spark's reader: {landing / reference:.2f}x")


def lookup_against_scan(lakehouse: Lakehouse, delivery: Path) -> None:
    """One resident read by ID from silver.person: through its keyed hash (files pruned by the Delta log's
    statistics) against a scan of every file filtered by the ID number (best of three each)."""
    contract = load_contract("household_register")
    with delivery_path(contract, delivery).open(encoding="gbk") as register:
        register.readline()
        id_number = register.readline().split(contract.delivery.delimiter)[0]

    def best(read: Callable[[], list]) -> tuple[float, int]:
        times, rows = [], 0
        for _ in range(3):
            started = time.perf_counter()
            rows = len(read())
            times.append(time.perf_counter() - started)
        return min(times), rows

    lookup, found = best(lambda: lookup_person(lakehouse, id_number).collect())
    scan, scanned = best(lambda: lakehouse.read("silver", "person").where(F.col("id_number") == id_number).collect())
    wanted = id_number_hash(id_number, platform_key(lakehouse.root))
    files = len(lakehouse.files("silver", "person", where=f"id_hash = '{wanted}'"))
    every = len(lakehouse.files("silver", "person"))
    print(f"\nsilver.person, one resident by ID: keyed-hash lookup {lookup:.2f} s ({files} of {every} files, "
          f"{found} row), full scan {scan:.2f} s ({scanned} row): scan / lookup {scan / lookup:.1f}x")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    city_arguments(parser, keep_help="keep the simulated days and the lakehouse")
    args = parser.parse_args(argv)
    out, days = start_city(args, "ingest benchmark", "bench-ingest", simulated="simulated")

    spark = get_spark(app_name="bench-ingest")
    lakehouse = Lakehouse(spark, out / "lakehouse")
    totals: dict[str, float] = {}
    runs = [("day 1 (full)", days[0]), ("day 2 (increment)", days[1]), ("day 2 rerun", days[1])]
    for label, day in runs:
        clock = StageClock()
        print(f"\n{label}: {day.folder / 'delivery'}", flush=True)
        started = time.perf_counter()
        result = ingest_day(spark, lakehouse, day.folder / "delivery", progress=clock)
        totals[label] = time.perf_counter() - started
        report(label, result, clock, totals[label])

    register_against_spark(spark, days[0].folder / "delivery", out)
    lookup_against_scan(lakehouse, days[0].folder / "delivery")
    full, increment, rerun = (totals[label] for label, _ in runs)
    print(f"\nday 2 incremental / day 1 full: {increment:.1f} s / {full:.1f} s = {increment / full:.2f}x")
    print(f"day 2 rerun (nothing new) / day 1 full: {rerun:.1f} s / {full:.1f} s = {rerun / full:.2f}x")
    return finish(spark, out, args)


if __name__ == "__main__":
    raise SystemExit(main())
