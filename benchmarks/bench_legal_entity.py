"""Benchmark: the legal-entity sources land and reach silver, day 1 (full), day 2 (increment) and a rerun.

Prints the registry workbook read by the XLSX connector through calamine and through openpyxl (same records?),
then each landing and each phase of the silver step `build_legal_entities` (per-source silver tables, the
master, the tax payments, every MERGE) with its seconds and the Spark jobs it ran, and day 2's silver time as
a ratio of day 1's — all measured in this one run. Usage:
    python benchmarks/bench_legal_entity.py [--persons N] [--seed S] [--period-days P] [--out DIR] [--keep]
"""

from __future__ import annotations

import argparse
import functools
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

# Local mode: the driver's JVM is the executor too (as bench_ingest).
os.environ.setdefault("CITYDATA_SPARK_DRIVER_MEMORY", "8g")

from pyspark import SparkContext  # noqa: E402

from citydata.catalog.contracts import load_contract  # noqa: E402
from citydata.ingest import legal_entity  # noqa: E402
from citydata.ingest.bronze import land_delivery  # noqa: E402
from citydata.lakehouse import Lakehouse, get_spark  # noqa: E402
from citydata.sources.connectors import delivery_path, read_all, xlsx_file  # noqa: E402

from bench_common import city_arguments, finish, rate, start_city  # noqa: E402


class Phases:
    """Seconds and Spark jobs of named calls, nested as they run (job ids are sequential: the last id
    before and after a call gives the jobs it ran)."""

    def __init__(self, sc: SparkContext) -> None:
        self.sc = sc
        self.lines: list[tuple[int, str, float, int]] = []
        self.depth = 0

    def last_job(self) -> int:
        return max(self.sc.statusTracker().getJobIdsForGroup(), default=-1)

    def run(self, label: str, call: Callable[[], Any]) -> Any:
        at = len(self.lines)
        self.lines.append((self.depth, label, 0.0, 0))
        self.depth += 1
        first, started = self.last_job(), time.perf_counter()
        try:
            return call()
        finally:
            self.depth -= 1
            self.lines[at] = (self.depth, label, time.perf_counter() - started, self.last_job() - first)

    def wrap(self, owner: Any, name: str, label: Callable[..., str]) -> Any:
        """Patch `owner.name` (while the returned patcher is active) to be timed under `label(*args)`."""
        original = getattr(owner, name)

        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            return self.run(label(*args, **kwargs), lambda: original(*args, **kwargs))

        return mock.patch.object(owner, name, timed)

    def report(self, title: str) -> None:
        print(f"\n  {title}")
        print(f"    {'phase':<58} {'seconds':>8} {'jobs':>5}")
        for depth, label, seconds, jobs in self.lines:
            print(f"    {'  ' * depth + label:<58} {seconds:>8.1f} {jobs:>5}")
        self.lines.clear()


def xlsx_readers(workbook: Path) -> None:
    """The registry workbook through the connector with calamine, then with openpyxl (as before calamine)."""
    contract = load_contract("legal_entities")

    def timed(force_openpyxl: bool) -> tuple[float, Any]:
        with mock.patch.object(xlsx_file, "error_cells", lambda _path: force_openpyxl):
            started = time.perf_counter()
            delivered = read_all(contract, workbook)
            return time.perf_counter() - started, delivered

    fast, by_calamine = timed(False)
    slow, by_openpyxl = timed(True)
    rows = len(by_calamine.records) + len(by_calamine.rejections)
    same = ([(r.values, r.lineage) for r in by_calamine.records] == [(r.values, r.lineage) for r in by_openpyxl.records]
            and by_calamine.rejections == by_openpyxl.rejections)
    started = time.perf_counter()
    xlsx_file.error_cells(workbook)
    scan = time.perf_counter() - started
    print(f"\nregistry workbook, {rows:,} rows, {workbook.stat().st_size / 2**20:.1f} MB:")
    print(f"  connector, calamine: {fast:6.1f} s {rate(rows, fast)} rows/s (of which the error-cell scan {scan:.2f} s)")
    print(f"  connector, openpyxl: {slow:6.1f} s {rate(rows, slow)} rows/s")
    print(f"  openpyxl / calamine: {slow / fast:.1f}x; the same records and rejections: {same}")


def one_day(spark: Any, lakehouse: Lakehouse, phases: Phases, delivery: Path, label: str) -> float:
    """Land the legal-entity sources of a day, then build silver; returns the silver step's seconds."""
    for source in legal_entity.LEGAL_ENTITY_SOURCES:
        contract = load_contract(source)
        path = delivery_path(contract, delivery)
        if not path.exists():
            continue
        landed = phases.run(f"land {source}", lambda c=contract, p=path: land_delivery(spark, lakehouse, c, p))
        phases.lines[-1] = (*phases.lines[-1][:1], f"land {source} ({landed.delivered:,} rows)",
                            *phases.lines[-1][2:])
    started = time.perf_counter()
    result = phases.run("silver legal_entity (build_legal_entities)",
                        lambda: legal_entity.build_legal_entities(spark, lakehouse))
    seconds = time.perf_counter() - started
    phases.report(f"{label}: silver {seconds:.1f} s; touched {result.touched:,}, "
                  f"master {result.master.rows if result.master else 0:,} rows, "
                  f"history {result.history.rows if result.history else 0:,}, "
                  f"tax {result.tax.rows if result.tax else 0:,} ({result.tax_unlinked:,} unlinked)")
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    city_arguments(parser, keep_help="keep the simulated days and the lakehouse")
    parser.set_defaults(persons=200_000)
    parser.add_argument("--xlsx-only", action="store_true", help="only compare the XLSX readers")
    args = parser.parse_args(argv)
    out, days = start_city(args, "legal entity benchmark", "bench-legal-entity", simulated="simulated")
    xlsx_readers(delivery_path(load_contract("legal_entities"), days[0].folder / "delivery"))
    if args.xlsx_only:
        return 0

    spark = get_spark(app_name="bench-legal-entity")
    lakehouse = Lakehouse(spark, out / "lakehouse")
    phases = Phases(spark.sparkContext)
    table = {"build_silver": lambda _s, _l, contract, **_: f"build_silver -> silver.{contract.tables.silver}"}
    patches = [phases.wrap(legal_entity, "build_silver", table["build_silver"]),
               phases.wrap(Lakehouse, "merge", lambda _self, _df, layer, name, **_: f"merge {layer}.{name}")]
    for name in ("_build_master", "_build_tax_payments"):
        if hasattr(legal_entity, name):
            patches.append(phases.wrap(legal_entity, name, lambda *_a, _n=name, **_k: _n))
    for patch in patches:
        patch.start()
    try:
        seconds = [one_day(spark, lakehouse, phases, day.folder / "delivery", label)
                   for label, day in (("day 1 (full)", days[0]), ("day 2 (increment)", days[1]),
                                      ("day 2 rerun", days[1]))]
    finally:
        for patch in patches:
            patch.stop()
    print(f"\nsilver legal_entity, day 2 / day 1: {seconds[1]:.1f} s / {seconds[0]:.1f} s = "
          f"{seconds[1] / seconds[0]:.2f}x; rerun {seconds[2]:.1f} s")
    return finish(spark, out, args)


if __name__ == "__main__":
    raise SystemExit(main())
