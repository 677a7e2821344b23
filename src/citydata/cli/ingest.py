"""`citydata ingest`: land every source of a day's delivery folder into bronze, then build silver."""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path
from typing import Any


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "ingest", help="land a day's deliveries (every source) into bronze and build the silver steps they feed",
        description="Lands every source whose delivery lies in the day folder (per its contract's delivery.path) "
                    "into bronze + rejects, then runs every silver step whose inputs changed. A delivery refused "
                    "whole (e.g. FILE_ENCODING) is reported and the others go on. Prints per source delivered / "
                    "landed / rejected and per silver step its tables' rows.")
    parser.add_argument("--day-folder", type=Path, required=True,
                        help="a day's delivery folder (e.g. data/simulated/day-001/delivery)")
    parser.add_argument("--api-url", default=None,
                        help="fetch the JSON API sources from this base URL (e.g. http://127.0.0.1:8765) instead of "
                             "the pages in the day folder")
    parser.add_argument("--home", type=Path, default=None,
                        help="platform home (lakehouse under it); default: $CITYDATA_HOME or the current folder")
    parser.add_argument("--all-steps", action="store_true",
                        help="run every silver step, not only those whose inputs changed")
    parser.add_argument("-v", "--verbose", action="store_true", help="show the platform's INFO logs")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from citydata.config import Paths

    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("py4j").setLevel(logging.WARNING)
    if not args.verbose:  # refused deliveries are logged as warnings; the table below shows them already
        logging.getLogger("citydata.ingest.runner").setLevel(logging.ERROR)
    os.environ.setdefault("CITYDATA_SPARK_LOG_LEVEL", "ERROR")
    console = Console()
    if not console.is_terminal and console.width < 120:
        console = Console(width=120)
    folder = args.day_folder.resolve()
    if not folder.is_dir():
        console.print(f"[red]{folder}: no such folder[/red]. Fix: pass a day's delivery folder, e.g. "
                      f"data/simulated/day-001/delivery (citydata simulate writes one)")
        return 2
    paths = Paths.from_env(args.home)
    console.print(f"[bold]citydata ingest[/bold]: {folder} -> [cyan]{paths.lakehouse}[/cyan]")

    from citydata.ingest.runner import ingest_day
    from citydata.lakehouse import Lakehouse, get_spark

    spark = get_spark(app_name="citydata-ingest")
    with console.status("starting") as status:
        def progress(stage: str, name: str, outcome: Any) -> None:
            if outcome is None:
                status.update(f"{'landing' if stage == 'land' else 'silver step'} {name} …")

        result = ingest_day(spark, Lakehouse(spark, paths.lakehouse), folder, api_url=args.api_url,
                            progress=progress, all_steps=args.all_steps)

    sources = Table(title=f"bronze ({result.seconds.get('land', 0):.1f} s)")
    for column, justify in (("source", "left"), ("delivered", "right"), ("landed", "right"),
                            ("rejected", "right"), ("outcome", "left")):
        sources.add_column(column, justify=justify)
    for source in sorted({*result.landed, *result.refused, *result.missing}):
        if source in result.landed:
            r = result.landed[source]
            reasons = ", ".join(f"{k} {v}" for k, v in r.rejects_by_reason.items())
            outcome = ("no rows" if not r.delivered else "landed before" if r.already_landed else "new batch") + (
                f" — {reasons}" if reasons else "")
            sources.add_row(source, f"{r.delivered:,}", f"{r.landed:,}", f"{r.rejected:,}", outcome)
        elif source in result.refused:
            sources.add_row(source, "", "", "", f"[red]refused whole[/red]: {result.refused[source]}")
        else:
            sources.add_row(source, "", "", "", "[dim]nothing delivered[/dim]")
    console.print(sources)

    steps = Table(title=f"silver ({result.seconds.get('silver', 0):.1f} s)")
    for column, justify in (("step", "left"), ("table", "left"), ("rows", "right"), ("seconds", "right")):
        steps.add_column(column, justify=justify)
    for name, outcome in result.silver.items():
        for i, (table, rows) in enumerate(outcome["tables"].items()):
            steps.add_row(name if i == 0 else "", table, "—" if rows is None else f"{rows:,}",
                          f"{outcome['seconds']:.1f}" if i == 0 else "")
    console.print(steps)
    if result.skipped_steps:
        console.print(f"[dim]silver steps with no changed input: {', '.join(result.skipped_steps)}[/dim]")
    if result.created_empty:
        console.print(f"[dim]silver tables created empty (nothing landed for them yet): "
                      f"{', '.join(result.created_empty)}[/dim]")
    if result.refused:
        console.print(f"[yellow]{len(result.refused)} delivery(ies) refused whole: "
                      f"{', '.join(sorted(result.refused))}[/yellow] (see the outcome column for the fix; "
                      f"recorded in bronze.refused_files)")
    for source, note in sorted(result.encoding_notes.items()):
        console.print(f"[yellow]encoding other than declared[/yellow]: {source}: {note} (read anyway; tell the "
                      f"department or fix the contract's delivery.encoding)")
    if result.unknown_files:
        console.print(f"[yellow]{len(result.unknown_files)} file(s) no contract reads (UNKNOWN_FILE, left in "
                      f"the folder)[/yellow]: {', '.join(result.unknown_files)}")
    return 0
