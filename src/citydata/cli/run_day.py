"""`citydata run-day`: one day of the platform — ingest, gold, gate, release, export — with a line per stage.

The display helpers here (`console_for`, `run_day_with_progress`, `print_outputs`) are shared with
`citydata demo`, which runs days the same way.
"""

from __future__ import annotations

import argparse
import logging
import os
import time
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    from citydata.config import Paths
    from citydata.orchestration import DayPlan, DayResult

TITLES = {
    "ingest": "ingest: land every source in bronze, build silver",
    "gold": "gold: dbt build (models + tests) and dbt docs",
    "gate": "gate: Great Expectations suites of every dataset of the catalog",
    "release": "release: manifest pinning the gated versions, catalog items and validation",
    "export": "export: open data of the current release (CSV, JSON, Parquet, DCAT, CKAN API)",
    "portal": "portal: the static open-data site of the current release",
}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "run-day", help="run one day end to end: ingest -> silver -> dbt build -> gate -> release -> export",
        description="Lands every source of the day folder into bronze, builds silver, runs `dbt build` and "
                    "`dbt docs generate` over the whole dbt project at the day's date, gates every released "
                    "dataset, publishes a release manifest when the gate passed and something changed, and "
                    "exports its open-data files. Rerunning a day with no new data writes nothing new.")
    parser.add_argument("--day-folder", type=Path, required=True,
                        help="a day folder (e.g. data/simulated/day-002, holding delivery/ and manifest.json) or "
                             "its delivery folder")
    parser.add_argument("--as-of", type=date.fromisoformat, default=None,
                        help="YYYY-MM-DD gold is computed at when the day has no manifest.json; default: today (UTC)")
    parser.add_argument("--api-url", default=None,
                        help="fetch the JSON API sources from this base URL instead of the pages in the day folder")
    parser.add_argument("--home", type=Path, default=None,
                        help="platform home (data under it); default: $CITYDATA_HOME or the current folder")
    parser.add_argument("-v", "--verbose", action="store_true", help="show the platform's INFO logs")
    parser.add_argument("--timings", type=Path, default=None,
                        help="also write where the time went (JSON: Spark session start, each stage with its "
                             "details) to this file; what `make bench-small-day` reads")
    parser.set_defaults(handler=run)


def quiet_logging(verbose: bool) -> None:
    """The platform's INFO logs with -v; otherwise warnings only, and none of Spark's own WARN lines."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("py4j", "great_expectations"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if not verbose:  # refused deliveries are warnings; the ingest line shows them already
        logging.getLogger("citydata.ingest.runner").setLevel(logging.ERROR)
    # Spark's WARN lines ("Using an existing Spark session", once per dbt model) drown the progress.
    os.environ.setdefault("CITYDATA_SPARK_LOG_LEVEL", "ERROR")


def console_for() -> Console:
    from rich.console import Console

    console = Console()
    if not console.is_terminal and console.width < 120:
        console = Console(width=120)  # piped (make, CI): keep paths readable
    return console


def describe_plan(plan: DayPlan) -> str:
    return (f"{plan.day}: as of {plan.as_of}, period {plan.period_start} .. {plan.as_of} "
            f"(dates from {plan.dates_from})")


def stage_line(stage: str, result: Any) -> str:
    """`✓ gold     41.2 s  7 models, ...`: one printed line per finished stage."""
    return f"[green]✓[/green] {stage:<8}{result.seconds:>7.1f} s  {result.summary}"


def run_day_with_progress(console: Console, spark: Any, paths: Paths, plan: DayPlan,
                          api_url: str | None = None) -> DayResult:
    """`run_day` with a spinner on the running stage and a line per finished stage (its time and summary).
    Raises what `run_day` raises (GateFailed: nothing released)."""
    from citydata.lakehouse import Lakehouse
    from citydata.orchestration import run_day

    with console.status("starting") as status:
        def on_stage(stage: str, result: Any) -> None:
            if result is None:
                status.update(TITLES[stage])
            else:
                console.print(stage_line(stage, result), highlight=False)

        def progress(kind: str, name: str, outcome: Any) -> None:
            if outcome is None:
                status.update(f"{TITLES['ingest']}: {kind} {name}")

        return run_day(spark, Lakehouse(spark, paths.lakehouse), plan, paths=paths, api_url=api_url,
                       on_stage=on_stage, progress=progress)


def print_outputs(console: Console, paths: Paths, result: DayResult) -> None:
    """Where the day's outputs are: lakehouse, release manifest, Data Docs, dbt docs, exports, portal."""
    release = result.stages["release"].details
    export = result.stages["export"].details
    docs = release.get("dbt_docs") or result.stages["gold"].details.get("docs")
    rows = [
        ("lakehouse", f"{paths.lakehouse}/<layer>/<table>"),
        ("release manifest", f"{release['manifest']} (release {release['release']}"
                             + ("" if release["new"] else ", unchanged") + ")"),
        ("Data Docs (gate)", release.get("data_docs") or result.stages["gate"].details["data_docs"]),
        ("dbt docs", f"{docs}/static_index.html (or serve the folder: index.html)" if docs else "not generated"),
        ("open-data export", f"{export['dir']} ({len(export['datasets'])} open datasets, catalog.jsonld, "
                             "api/3/action/)"),
        ("portal", f"{result.stages['portal'].details['site']}/index.html (serve it: make portal)"),
    ]
    width = max(len(label) for label, _ in rows)
    for label, where in rows:
        console.print(f"  {label:<{width}}  [cyan]{where}[/cyan]", highlight=False)


def run(args: argparse.Namespace) -> int:
    from citydata.config import Paths
    from citydata.orchestration import DayFolderError, plan_day
    from citydata.release.gate import GateFailed

    quiet_logging(args.verbose)
    console = console_for()
    paths = Paths.from_env(args.home)
    try:
        plan = plan_day(args.day_folder, paths=paths, as_of=args.as_of)
    except DayFolderError as error:
        console.print(f"[red]{error}[/red]")
        return 2
    console.print(f"[bold]citydata run-day[/bold] {describe_plan(plan)} -> [cyan]{paths.home}[/cyan]")

    from citydata.lakehouse import get_spark

    session_started_at = time.time()  # wall clock: a bench timing this process compares it with its own start
    spark = get_spark(app_name="citydata-run-day")
    session_seconds = round(time.time() - session_started_at, 1)
    try:
        result = run_day_with_progress(console, spark, paths, plan, api_url=args.api_url)
    except GateFailed as error:
        console.print(f"[red]{error}[/red]", highlight=False)
        return 1
    print_outputs(console, paths, result)
    console.print(f"done in {result.seconds:.0f} s (and {session_seconds:.0f} s starting Spark)")
    if args.timings:
        write_timings(args.timings, session_started_at, session_seconds, result)
    return 0


def write_timings(path: Path, session_started_at: float, session_seconds: float, result: DayResult) -> None:
    """Where a day's time went, as JSON: when the Spark session started (epoch seconds) and how long that took,
    every stage's seconds, summary and details (per-source landing, silver steps, dbt parse and nodes, ...), and
    when the stages were done (epoch seconds; what follows is the process's exit)."""
    import json

    timings = {"day": result.plan.day, "session_started_at": session_started_at, "session_seconds": session_seconds,
               "stages": {name: stage.as_dict() for name, stage in result.stages.items()},
               "finished_at": time.time()}
    path.write_text(json.dumps(timings, indent=1, default=str), encoding="utf-8")
