"""`citydata doctor`: find (and with --repair, repair) duplicated batches and orphan files in the lakehouse."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "doctor", help="find duplicated batches and orphan files in the lakehouse (dry run); --repair fixes them",
        description="Checks every Delta table of the lakehouse: a batch whose rows a bronze (or rejects) table holds "
                    "more than once, and data files no Delta version references (older than --min-age-hours). "
                    "A dry run by default: prints what it found and exits 1 if anything needs repair. With --repair, "
                    "each table with a duplicated batch gets ONE commit rewriting the files that hold it with one copy "
                    "of each row (the first landed), and orphan files are deleted.")
    parser.add_argument("--home", type=Path, default=None,
                        help="platform home (lakehouse under it); default: $CITYDATA_HOME or the current folder")
    parser.add_argument("--repair", action="store_true", help="repair what was found (default: only report)")
    parser.add_argument("--min-age-hours", type=int, default=None,
                        help="only files older than this are orphans (a running write's files are not committed "
                             "yet); default 24, at least 1")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("-v", "--verbose", action="store_true", help="show the platform's INFO logs")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.markup import escape

    from citydata.cli.run_day import quiet_logging
    from citydata.config import Paths
    from citydata.lakehouse.doctor import DEFAULT_ORPHAN_AGE_HOURS, examine, repair

    quiet_logging(args.verbose)
    paths = Paths.from_env(args.home)
    age = DEFAULT_ORPHAN_AGE_HOURS if args.min_age_hours is None else args.min_age_hours
    if age < 1:
        print("citydata doctor: --min-age-hours must be at least 1: a younger file may belong to a write that has "
              "not committed yet", file=sys.stderr)
        return 2
    report = examine(str(paths.lakehouse), age)
    found_problems = not report.healthy
    if args.repair and found_problems:
        spark = None
        if report.duplicated:
            from citydata.lakehouse import get_spark

            spark = get_spark(app_name="citydata-doctor")
        repair(spark, report)
    if args.json:
        print(report.to_json())
        return 1 if found_problems and not args.repair else 0

    console = Console(highlight=False)
    console.print(f"[bold]citydata doctor[/bold]: {escape(report.root)} ({report.tables} tables)")
    console.print(f"duplicated batches: {len(report.duplicated)}")
    for d in report.duplicated:
        console.print(f"  {d.layer}.{d.table}  {escape(d.batch_id)}  {d.rows:,} rows for {d.distinct_rows:,} "
                      f"delivered: {d.extra_rows:,} extra")
    console.print(f"orphan files (older than {age:g} h): {len(report.orphans)}")
    for o in report.orphans:
        console.print(f"  {o.layer}.{o.table}  {escape(o.path)}  {o.bytes:,} bytes, {o.age_hours:g} h old")
    if report.personal_statistics:  # reported, not repaired: purging a table's history is an operator's call
        console.print(f"[yellow]Delta log files with statistics of personal columns[/yellow] (an older lakehouse; "
                      f"docs/security.md): {len(report.personal_statistics)}")
        for p in report.personal_statistics:
            console.print(f"  {p.layer}.{p.table}  {escape(p.log_file)}  {', '.join(p.columns)}")
    for r in report.repairs:
        if r.action == "deduplicated":
            console.print(f"[green]repaired[/green] {r.layer}.{r.table}: {r.rows_removed:,} extra rows removed "
                          f"({r.files_removed} file(s) rewritten as {r.files_added}), version {r.version}")
        else:
            console.print(f"[green]repaired[/green] {r.layer}.{r.table}: {r.files_removed} orphan file(s) deleted")
    if not found_problems:
        console.print("[green]healthy[/green]: nothing to repair")
        return 0
    if not args.repair:
        console.print("dry run: nothing changed. Repair with: citydata doctor --repair")
        return 1
    return 0
