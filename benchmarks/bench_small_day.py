"""Benchmark: a small day end to end as an operator runs it — `citydata run-day` in its own process, timed from the
command's start to its exit — on a simulated city of 2,000 residents (issue 13: "under 60 s of wall time").

Simulates days 1 and 2 (seed 1, a daily period by default), then runs `python -m citydata.cli run-day` for day 1,
day 2 and, with --rerun, day 2 again, each a fresh process on the same home, and prints where each day's wall time
went: the interpreter's start and imports, the Spark session's start, every stage with its parts (each source's
landing, each silver step, dbt's parse, models, tests and docs), and the process's exit. Figures come from the
command's own `--timings` file and the wall clock around the process. Usage:
    python benchmarks/bench_small_day.py [--persons N] [--seed S] [--period-days P] [--rerun] [--out DIR] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from citydata.orchestration import STAGES

from bench_common import city_arguments, start_city

TARGET_SECONDS = 60.0  # issue 13: a 2,000-resident day, every source through release, from the command's start


def run_day_process(day: Path, home: Path, timings: Path) -> tuple[float, int, str, float]:
    """`citydata run-day` on `day` in a new process; returns its wall seconds (start to exit), exit code, output
    and when it started (epoch seconds)."""
    env = {**os.environ, "CITYDATA_HOME": str(home), "PYSPARK_PYTHON": os.environ.get("PYSPARK_PYTHON", sys.executable)}
    command = [sys.executable, "-m", "citydata.cli", "run-day", "--day-folder", str(day), "--home", str(home),
               "--timings", str(timings)]
    started = time.time()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    return time.time() - started, done.returncode, done.stdout + done.stderr, started


def _top(seconds: dict[str, Any], count: int = 4) -> str:
    """The `count` largest entries of name -> seconds, as `name 1.2`."""
    ranked = sorted(((v, k) for k, v in seconds.items() if v), reverse=True)[:count]
    return ", ".join(f"{name} {value:.1f}" for value, name in ranked)


def stage_parts(name: str, details: dict[str, Any]) -> str:
    """What a stage's seconds were spent on, from its details."""
    if name == "ingest":
        seconds = details.get("seconds", {})
        return (f"land {seconds.get('land', 0):.1f} s ({len(details.get('source_seconds', {}))} sources; slowest: "
                f"{_top(details.get('source_seconds', {}))}), silver {seconds.get('silver', 0):.1f} s "
                f"({len(details.get('silver_seconds', {}))} steps: {_top(details.get('silver_seconds', {}))})")
    if name == "gold":
        if details.get("skipped"):
            return "dbt not run (nothing it builds from changed)"
        nodes = details.get("node_seconds", {})
        phases = ", ".join(f"{part} {seconds:.1f}" for part, seconds in details.get("dbt_phases", {}).items())
        return (f"dbt {details.get('dbt_seconds', 0):.1f} s ({phases}; parse {details.get('dbt_parse', '?')}; "
                f"{details.get('models', 0)} models Σ{nodes.get('model', 0):.0f} s, slowest: "
                f"{_top(details.get('model_seconds', {}))}; "
                f"{details.get('tests', 0)} tests Σ{nodes.get('test', 0):.0f} s; Σ: summed over threads), "
                f"docs {details.get('docs_seconds', 0):.1f} s")
    if name == "gate" and details.get("dataset_seconds"):
        evaluated = sum(d.get("evaluated_expectations") or 0 for d in details.get("datasets", {}).values())
        return (f"{len(details['dataset_seconds'])} datasets validated ({evaluated} expectations) in "
                f"{details.get('validate_seconds', 0):.1f} s (slowest: {_top(details['dataset_seconds'])}), "
                f"Data Docs {details.get('data_docs_seconds', 0):.1f} s")
    return ""


def report(label: str, wall: float, started: float, timings: dict[str, Any], loads: tuple[float, float]) -> None:
    """Print one day: wall time against the target, then every part from the command's start to its exit."""
    verdict = "met" if wall < TARGET_SECONDS else "MISSED"
    print(f"\n  {label}: {wall:.1f} s wall, start to exit (target < {TARGET_SECONDS:.0f} s: {verdict}); "
          f"load average {loads[0]:.1f} before, {loads[1]:.1f} after")
    stages = timings["stages"]
    before = timings["session_started_at"] - started
    after = started + wall - timings["finished_at"]
    rows = [("start, imports, plan", before, "the interpreter and citydata's imports, the day's dates"),
            ("Spark session", timings["session_seconds"], "JVM start and the session's settings")]
    rows += [(name, stages[name]["seconds"], stage_parts(name, stages[name]["details"]) or stages[name]["summary"])
             for name in STAGES if name in stages]
    accounted = before + timings["session_seconds"] + sum(stages[n]["seconds"] for n in stages) + after
    rows += [("printing, exit", after, "outputs printed, Spark stopped, the process ends"),
             ("(not in a stage)", wall - accounted, "between the stages: views, version reads")]
    for name, seconds, what in rows:
        print(f"    {name:<22}{seconds:>7.1f} s  {what}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    city_arguments(parser, keep_help="keep the simulated days, lakehouse and releases")
    parser.set_defaults(persons=2_000)
    parser.add_argument("--rerun", action="store_true", help="also rerun day 2 (nothing new: writes nothing)")
    args = parser.parse_args(argv)
    out, days = start_city(args, "small-day benchmark (citydata run-day, a process per day)", "bench-small-day")

    runs = [("day 1", days[0].folder), ("day 2", days[1].folder)]
    if args.rerun:
        runs.append(("day 2 rerun", days[1].folder))
    walls: dict[str, float] = {}
    failed = 0
    for label, folder in runs:
        timings_file = out / f"timings-{label.replace(' ', '-')}.json"
        load_before = os.getloadavg()[0]
        wall, code, output, started_at = run_day_process(folder, out, timings_file)
        loads = (load_before, os.getloadavg()[0])
        if code != 0 or not timings_file.is_file():
            print(f"\n  {label}: citydata run-day exited {code} after {wall:.1f} s:\n{output}")
            failed += 1
            break
        walls[label] = wall
        report(label, wall, started_at, json.loads(timings_file.read_text(encoding="utf-8")), loads)
    if walls:
        print("\n  " + ", ".join(f"{label} {wall:.1f} s" for label, wall in walls.items())
              + f" (wall, start to exit; target < {TARGET_SECONDS:.0f} s a day)")
    if not args.keep and args.out is None:
        shutil.rmtree(out)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
