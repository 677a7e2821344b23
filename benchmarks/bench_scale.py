"""Benchmark: run-day (days 1 and 2) at 100,000, 500,000 and 1,000,000 residents, then fit each stage's time and
the peak memory as fixed + per-row and write the table and plot of docs/scale.md (between its markers).

Each size runs in a process of its own (`--one-size`), so its peak memory is its own: the parent samples the
resident memory of that process and all its descendants (the driver's Python, Spark's JVM, the Python workers)
every half second. The measured figures go to benchmarks/scale_measurements.json; `--render-only` redraws the
doc from that file. The fit and the rendering are citydata.capacity's. Usage:
    python benchmarks/bench_scale.py [--sizes 100000,500000,1000000] [--target 20000000] [--seed S]
    python benchmarks/bench_scale.py --render-only
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# The bronze landing hands a delivery's rows to Spark from the driver: give a 1M-row register room.
os.environ.setdefault("CITYDATA_SPARK_DRIVER_MEMORY", "8g")
os.environ.setdefault("CITYDATA_SPARK_LOG_LEVEL", "ERROR")

from citydata.capacity import (  # noqa: E402
    LinearFit,
    Row,
    Series,
    fit_linear,
    render_svg,
    render_table,
    replace_between_markers,
    sum_fits,
)

HERE = Path(__file__).resolve().parent
MEASUREMENTS = HERE / "scale_measurements.json"
DOC = HERE.parent / "docs" / "scale.md"
PLOTS = {"time": HERE.parent / "docs" / "img" / "scale-time.svg",
         "memory": HERE.parent / "docs" / "img" / "scale-memory.svg"}
DAYS = ("day 1", "day 2")
COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd")


def measure_one_size(persons: int, seed: int, out: Path) -> dict[str, Any]:
    """Simulate days 1 and 2 and run run_day on both (as bench_platform does); seconds per stage per day."""
    import resource

    from bench_platform import report

    from citydata.config import Paths
    from citydata.lakehouse import Lakehouse, get_spark
    from citydata.orchestration import plan_day, run_day

    from bench_common import simulate_in_child

    days = simulate_in_child(out / "data" / "simulated", [1, 2], persons=persons, seed=seed, period_days=1)
    paths = Paths.from_env(out)
    spark = get_spark(app_name="bench-scale")
    lakehouse = Lakehouse(spark, paths.lakehouse)
    seconds: dict[str, dict[str, float]] = {}
    for label, day in zip(DAYS, days, strict=True):
        result = run_day(spark, lakehouse, plan_day(day.folder, paths=paths), paths=paths)
        seconds[label] = report(f"{label} at {persons:,} residents", result)
    spark.stop()
    return {"residents": persons, "seconds": seconds,
            "peak_mb": {"driver": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}


def run_size(persons: int, seed: int) -> dict[str, Any]:
    """One size in a child process; adds the peak memory of its whole process tree, sampled every 0.5 s."""
    import psutil

    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        result_file = Path(tmp) / "result.json"
        child = subprocess.Popen([sys.executable, __file__, "--one-size", str(persons), "--seed", str(seed),
                                  "--json", str(result_file), "--out", str(Path(tmp) / "city")])
        peak = 0.0
        process = psutil.Process(child.pid)
        while child.poll() is None:
            try:
                tree = [process, *process.children(recursive=True)]
                peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()) / 2**20)
            except psutil.Error:
                pass  # a process of the tree ended between listing and reading it: the next sample has the rest
            time.sleep(0.5)
        if child.returncode != 0:
            raise SystemExit(f"bench-scale: the run at {persons:,} residents failed (exit {child.returncode})")
        result = json.loads(result_file.read_text())
    result["peak_mb"]["tree"] = peak
    return result


def _commit() -> str:
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE, capture_output=True, text=True)
    return done.stdout.strip() or "unknown commit"


def _stage_names(runs: list[dict[str, Any]]) -> list[str]:
    names: list[str] = []
    for run in runs:
        for day in DAYS:
            names += [s for s in run.get("seconds", {}).get(day, {}) if s not in names]
    return names


def render(measurements: dict[str, Any], planned: list[int]) -> str:
    """The generated part of docs/scale.md (and the plots, written beside it); a planned size without a
    measurement gets its column of '—'."""
    runs, target = measurements["runs"], int(measurements["target"])
    sizes = sorted({int(r["residents"]) for r in runs} | set(planned))
    rows: list[Row] = []
    day_fits: dict[str, LinearFit] = {}
    day_points: dict[str, list[tuple[int, float]]] = {}
    for day in DAYS:
        stage_fits = []
        for stage in _stage_names(runs):
            measured = {int(r["residents"]): float(r["seconds"][day][stage]) for r in runs
                        if stage in r.get("seconds", {}).get(day, {})}
            if not measured:
                continue
            fit = fit_linear(sorted(measured.items()))
            stage_fits.append((stage, fit))
            rows.append(Row(f"{day}: {stage}", measured, fit, "s"))
        complete = {int(r["residents"]): sum(r["seconds"][day].values()) for r in runs
                    if set(r.get("seconds", {}).get(day, {})) >= {s for s, _ in stage_fits}}
        day_points[day] = sorted(complete.items())
        # every stage measured at the same sizes: the fit of the totals (the same line, and its residual);
        # else the sum of the stages' fits
        same_sizes = len(complete) >= 2 and all(fit.points == len(complete) for _, fit in stage_fits)
        day_fits[day] = fit_linear(day_points[day]) if same_sizes else sum_fits(fit for _, fit in stage_fits)
        rows.append(Row(f"**{day}: all**", dict(day_points[day]), day_fits[day], "s"))
    memory: dict[str, LinearFit] = {}
    memory_points: dict[str, list[tuple[int, float]]] = {}
    for what, label in (("tree", "peak memory, whole process tree"), ("driver", "peak memory, driver (Python)")):
        measured = {int(r["residents"]): float(r["peak_mb"][what]) for r in runs
                    if r.get("peak_mb", {}).get(what) is not None}
        if measured:
            memory[what] = fit_linear(sorted(measured.items()))
            memory_points[what] = sorted(measured.items())
            rows.append(Row(label, measured, memory[what], "MB"))

    PLOTS["time"].parent.mkdir(parents=True, exist_ok=True)
    PLOTS["time"].write_text(render_svg(
        [Series(f"{day} ({kind})", day_points[day], day_fits[day], color)
         for day, kind, color in zip(DAYS, ("full deliveries", "daily increment"), COLORS, strict=False)],
        target, "A day's time on this 2-core machine, by residents", "hours", y_scale=3600))
    if memory:
        PLOTS["memory"].write_text(render_svg(
            [Series({"tree": "driver, JVM and Python workers", "driver": "driver's Python"}[what],
                    memory_points[what], fit, color) for (what, fit), color in
             zip(memory.items(), COLORS[2:], strict=False)],
            target, "Peak resident memory of a day", "GB", y_scale=1024))
    sources = "\n".join(f"- {r['residents']:,} residents: {r['source']}" for r in runs)
    images = "\n\n".join(f"![{kind}](img/{path.name})" for kind, path in PLOTS.items()
                         if kind == "time" or memory)
    return (f"Figures used (benchmarks/scale_measurements.json):\n\n{sources}\n\n"
            f"{render_table(rows, sizes, target)}\n\n{images}\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,500000,1000000", help="residents, comma-separated")
    parser.add_argument("--target", type=int, default=20_000_000, help="residents to extrapolate to")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--render-only", action="store_true", help="redraw docs/scale.md from the measurements")
    parser.add_argument("--one-size", type=int, help=argparse.SUPPRESS)  # the child's part
    parser.add_argument("--json", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.one_size:
        args.json.write_text(json.dumps(measure_one_size(args.one_size, args.seed, args.out)))
        return 0
    if not args.render_only:
        runs = []
        for persons in (int(size) for size in args.sizes.split(",")):
            print(f"bench-scale: {persons:,} residents (load average {os.getloadavg()[0]:.1f})", flush=True)
            run = run_size(persons, args.seed)
            run["source"] = (f"`make bench-scale` at {_commit()}, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, "
                             f"seed {args.seed}, load average {os.getloadavg()[0]:.1f} at the end")
            runs.append(run)
        MEASUREMENTS.write_text(json.dumps({"target": args.target, "runs": runs}, indent=1) + "\n")
    measurements = json.loads(MEASUREMENTS.read_text())
    measurements["target"] = args.target
    planned = [int(size) for size in args.sizes.split(",")]
    DOC.write_text(replace_between_markers(DOC.read_text(), render(measurements, planned)))
    print(f"bench-scale: wrote the table into {DOC} and the plots {', '.join(str(p) for p in PLOTS.values())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
