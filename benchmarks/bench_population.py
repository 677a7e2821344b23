"""Benchmark: the population silver step alone, on a lakehouse you keep, to compare two commits on one city.

Each subcommand runs in its own process, so the step of an older commit can be timed on a copy of the same
lakehouse by putting that commit's `src` first on PYTHONPATH (no figure is asserted; ratios measured one after
the other on one machine are what mean something):

    python benchmarks/bench_population.py simulate OUT --persons 200000      # days 1 and 2 under OUT/simulated
    python benchmarks/bench_population.py land OUT/lakehouse OUT/simulated/day-001   # the step's six sources
    python benchmarks/bench_population.py step OUT/lakehouse                 # build_population, timed
    python benchmarks/bench_population.py compare LAKEHOUSE_A LAKEHOUSE_B     # the step's tables, row for row

`step` prints the seconds, the Spark jobs it started, the driver's and the JVM's peak RSS and each table's
counts; with the logging of citydata.ingest.population on (`--phases`), the seconds of each phase.
"""

from __future__ import annotations

import argparse
import logging
import os
import resource
import sys
import time
from pathlib import Path

os.environ.setdefault("CITYDATA_SPARK_DRIVER_MEMORY", "8g")

from citydata.catalog.contracts import load_contract  # noqa: E402
from citydata.ingest.bronze import DeliveryRejectedError  # noqa: E402
from citydata.ingest.population import POPULATION_SOURCES, build_population  # noqa: E402
from citydata.ingest.runner import DeliveryMissingError, day_key_of, land_source  # noqa: E402
from citydata.lakehouse import Lakehouse, get_spark  # noqa: E402
from citydata.sources.simulate import simulate  # noqa: E402

TABLES = ("person", "person_history", "household_registration", "person_change", "marriage_registration",
          "birth", "death", "insured_employment")


def _jvm_peak_mb(spark) -> float:  # noqa: ANN001 - a SparkSession
    """The driver JVM's peak resident memory (VmHWM), local mode: the executors live in it too."""
    pid = spark._jvm.java.lang.ProcessHandle.current().pid()  # noqa: SLF001 - no public accessor
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cmd_simulate(args: argparse.Namespace) -> None:
    started = time.perf_counter()
    simulate(args.out / "simulated", [1, 2], persons=args.persons, seed=args.seed, period_days=1)
    print(f"simulated {args.persons:,} residents, days 1 and 2, in {time.perf_counter() - started:.1f} s")


def cmd_land(args: argparse.Namespace) -> None:
    spark = get_spark(app_name="bench-population")
    lakehouse = Lakehouse(spark, args.lakehouse)
    folder = args.day / "delivery"
    started = time.perf_counter()
    for source in POPULATION_SOURCES:
        try:
            landed = land_source(spark, lakehouse, load_contract(source), delivery_folder=folder,
                                 run_key=day_key_of(folder))
            print(f"  {source}: {landed.delivered:,} delivered, {landed.landed:,} landed")
        except DeliveryMissingError:
            print(f"  {source}: not delivered")
        except DeliveryRejectedError:  # reported, as ingest_day does (the simulator's broken files)
            print(f"  {source}: refused whole")
    print(f"landed {folder} in {time.perf_counter() - started:.1f} s")
    spark.stop()


def cmd_step(args: argparse.Namespace) -> None:
    if args.phases:
        logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s")
        logging.getLogger("citydata.ingest.population").setLevel(logging.INFO)
    spark = get_spark(app_name="bench-population")
    lakehouse = Lakehouse(spark, args.lakehouse)
    spark.sparkContext.setJobGroup("population", "the population step")
    print(f"load average {os.getloadavg()[0]:.1f}", flush=True)
    started = time.perf_counter()
    result = build_population(spark, lakehouse)
    seconds = time.perf_counter() - started
    jobs = len(spark.sparkContext.statusTracker().getJobIdsForGroup("population"))
    print(f"population step: {seconds:.1f} s, {jobs} Spark jobs, {result.touched:,} persons touched "
          f"(load average {os.getloadavg()[0]:.1f})")
    for name, table in [("person", result.person), ("history", result.history),
                        *[(s, r) for s, r in result.sources.items()]]:
        if table is not None:
            print(f"  {name:<28} rows {table.rows:>10,}  inserted {table.inserted:>9,}  updated {table.updated:>8,}"
                  f"  version {table.version}")
    print(f"driver peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB, "
          f"JVM peak RSS {_jvm_peak_mb(spark):,.0f} MB")
    spark.stop()


def cmd_compare(args: argparse.Namespace) -> None:
    spark = get_spark(app_name="bench-population")
    first, second = Lakehouse(spark, args.a), Lakehouse(spark, args.b)
    differ = 0
    for table in TABLES:
        if not first.exists("silver", table):
            continue
        a, b = first.read("silver", table), second.read("silver", table)
        left, right = a.exceptAll(b).count(), b.exceptAll(a).count()
        differ += left + right
        print(f"  silver.{table}: {a.count():,} rows; only in A {left}, only in B {right}")
    print("equal" if not differ else f"{differ} rows differ")
    spark.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("simulate")
    p.add_argument("out", type=Path)
    p.add_argument("--persons", type=int, default=200_000)
    p.add_argument("--seed", type=int, default=1)
    p = sub.add_parser("land")
    p.add_argument("lakehouse", type=Path)
    p.add_argument("day", type=Path)
    p = sub.add_parser("step")
    p.add_argument("lakehouse", type=Path)
    p.add_argument("--phases", action="store_true", help="log each phase's seconds (this commit's step)")
    p = sub.add_parser("compare")
    p.add_argument("a", type=Path)
    p.add_argument("b", type=Path)
    args = parser.parse_args(argv)
    {"simulate": cmd_simulate, "land": cmd_land, "step": cmd_step, "compare": cmd_compare}[args.command](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
