"""What the city benchmarks share: their command line, the machine line, rows/s and the closing lines."""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import resource
import shutil
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from pyspark.sql import SparkSession


def city_arguments(parser: argparse.ArgumentParser, keep_help: str) -> None:
    """--persons, --seed, --period-days (the simulated city), --out and --keep."""
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--period-days", type=int, default=1, help="days between deliveries (1: a daily feed)")
    parser.add_argument("--out", type=Path, default=None, help="default: a temporary folder, removed afterwards")
    parser.add_argument("--keep", action="store_true", help=keep_help)


def start_city(args: argparse.Namespace, title: str, prefix: str, *, days: tuple[int, ...] = (1, 2),
               simulated: str = "data/simulated") -> tuple[Path, list[Any]]:
    """The run's folder (--out, else a new temporary one), the title and machine lines, and the simulated days
    under `simulated` in it (timed, not part of any figure). The simulator runs in a child process: its own
    peak (~1.9 GB at 1,000,000 residents) would otherwise be the driver peak `finish` prints."""
    out = (args.out or Path(tempfile.mkdtemp(prefix=f"{prefix}-"))).resolve()
    print(f"{title}: {args.persons:,} residents, seed {args.seed}, period {args.period_days} day(s) -> {out}")
    print_machine()
    started = time.perf_counter()
    simulated_days = simulate_in_child(out / simulated, days, persons=args.persons, seed=args.seed,
                                       period_days=args.period_days)
    print(f"simulated day(s) {', '.join(map(str, days))} in {time.perf_counter() - started:.1f} s "
          f"(not part of the figures below)")
    return out, simulated_days


def simulate_in_child(out: Path, days: tuple[int, ...] | list[int], **city: Any) -> list[Any]:
    """`citydata.sources.simulate.simulate(out, days, **city)` in a child process, forked before the caller starts
    Spark: the simulator's own peak (~1.9 GB at 1,000,000 residents) stays out of the driver's peak RSS."""
    from citydata.sources.simulate import simulate

    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork")) as child:
        return child.submit(simulate, out, list(days), **city).result()


def print_machine() -> None:
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.1f}")


def rate(rows: int, seconds: float) -> str:
    """rows/s, right-aligned in 12 characters; '-' when there is nothing to divide."""
    return f"{rows / seconds:>12,.0f}" if seconds > 0 and rows else f"{'-':>12}"


def finish(spark: SparkSession, out: Path, args: argparse.Namespace) -> int:
    """Print the driver's peak memory, stop Spark and remove the run's temporary folder (unless kept)."""
    print(f"driver peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB "
          f"(Spark's JVM and Python workers not included; the simulator ran in its own process)")
    spark.stop()
    if not args.keep and args.out is None:
        shutil.rmtree(out)
    return 0
