"""Benchmark: generate a 1,000,000-resident simulated city (day 1 full + day 2 increment).

Prints the generation time per step, rows per source and bytes on disk. Usage:
    python benchmarks/bench_simulate.py [--persons N] [--seed S] [--days 1-2] [--out DIR] [--keep]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path

from citydata.cli.simulate import parse_days
from citydata.sources.simulate import simulate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--days", type=parse_days, default=[1, 2])
    parser.add_argument("--out", type=Path, default=None, help="default: a temporary folder, removed afterwards")
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    args = parser.parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="bench-simulate-"))
    print(f"simulated city: {args.persons:,} residents, seed {args.seed}, days {args.days} -> {out}")
    machine = platform.processor() or platform.machine()
    print(f"machine: {machine}, {os.cpu_count()} cores, Python {platform.python_version()}")
    started = time.perf_counter()
    results = simulate(out, args.days, persons=args.persons, seed=args.seed)
    total = time.perf_counter() - started
    print(f"\ngeneration time: {total:.1f} s in all (cumulative per step, all days):")
    for step, seconds in sorted(results[-1].seconds.items(), key=lambda kv: -kv[1]):
        print(f"  {step:<58} {seconds:8.1f} s")
    for result in results:
        grouped: dict[str, list] = {}
        for info in result.files:
            key = info.path.split("/pages/")[0] + "/pages/*.json" if "/pages/" in info.path else info.path
            acc = grouped.setdefault(key, [0, 0, info.format, info.encoding])
            acc[0] += info.rows
            acc[1] += info.bytes
        on_disk = sum(p.stat().st_size for p in result.folder.rglob("*") if p.is_file())
        print(f"\nday {result.day}: {on_disk / 1e6:,.1f} MB on disk (deliveries + truth)")
        print(f"  {'source file':<46} {'format':<8} {'encoding':<10} {'rows':>11} {'MB':>9}")
        for key, (rows, size, fmt, enc) in sorted(grouped.items()):
            if key.endswith("api.json"):
                continue
            print(f"  {key:<46} {fmt:<8} {enc:<10} {rows:>11,} {size / 1e6:>9.1f}")
        truth = sum((result.folder / t).stat().st_size for t in result.truth)
        label = f"truth/*.csv ({len(result.truth)} files)"
        print(f"  {label:<46} {'csv':<8} {'utf-8':<10} {'':>11} {truth / 1e6:>9.1f}")
    if not args.keep and args.out is None:
        shutil.rmtree(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
