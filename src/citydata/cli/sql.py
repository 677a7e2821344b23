"""`citydata sql`: one analyst query on the lakehouse views, or `citydata sql serve`: the JDBC endpoint."""

from __future__ import annotations

import argparse
import csv
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from citydata.catalog.access import Audience

SERVE = "serve"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "sql", help="run one Spark SQL query on the lakehouse views, or `sql serve`: the JDBC endpoint",
        description="`citydata sql \"select …\"` runs one query on a local session where every lakehouse table "
                    "is a view named <layer>_<table> (e.g. gold_population_by_district) and prints the rows. "
                    "`citydata sql serve` starts Spark's Thrift JDBC server on those views (beeline, DBeaver, "
                    "Superset) and re-registers a view when its table gets a newer Delta version. Both are "
                    "read-only: statements that would change a table or a lakehouse view are refused "
                    "(docs/sql.md). Personal values are masked and core fields left out unless --privileged "
                    "(docs/security.md).")
    parser.add_argument("statement", help=f"the SQL statement, or `{SERVE}` to start the JDBC endpoint")
    parser.add_argument("--home", type=Path, default=None,
                        help="platform home (lakehouse under it); default: $CITYDATA_HOME or the current folder")
    parser.add_argument("--lakehouse", default=None,
                        help="lakehouse root (folder or URI); default: the home's (or $CITYDATA_LAKEHOUSE)")
    parser.add_argument("--format", choices=("table", "csv"), default="table",
                        help="query output: a table (default) or CSV on stdout")
    parser.add_argument("--limit", type=int, default=100,
                        help="print at most this many rows, with a note when there are more (default 100)")
    parser.add_argument("--host", default="127.0.0.1", help="serve: address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=10000, help="serve: JDBC port (default 10000)")
    parser.add_argument("--poll", type=float, default=5.0,
                        help="serve: seconds between checks for new Delta versions (default 5)")
    parser.add_argument("--privileged", action="store_true",
                        help="show every column as stored, raw personal values included (for engineers who "
                             "must see them; logged as a PRIVILEGED session: docs/security.md)")
    parser.add_argument("-v", "--verbose", action="store_true", help="show the platform's INFO logs")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from citydata.config import Paths

    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    os.environ.setdefault("CITYDATA_SPARK_LOG_LEVEL", "ERROR")
    from citydata.catalog.access import Audience

    root = args.lakehouse or Paths.from_env(args.home).lakehouse
    audience = Audience.PRIVILEGED if args.privileged else Audience.ANALYST
    if args.statement.strip().lower() == SERVE:
        return serve(root, args.host, args.port, args.poll, audience)
    return query(root, args.statement, args.format, args.limit, audience)


def _console() -> Any:
    from rich.console import Console

    console = Console(stderr=True)
    return console if console.is_terminal or console.width >= 120 else Console(stderr=True, width=120)


def query(root: str, statement: str, output: str, limit: int, audience: Audience) -> int:
    from pyspark.errors import PySparkException
    from rich.console import Console
    from rich.table import Table

    from citydata.catalog.access import Audience
    from citydata.lakehouse import Lakehouse
    from citydata.sql import LakehouseViews, log_privileged, run_query, sql_session
    from citydata.transform.runner import register_reference_views

    err = _console()
    spark = sql_session("citydata-sql-query")
    try:
        if audience is Audience.PRIVILEGED:
            log_privileged("citydata sql query", root)
        LakehouseViews(Lakehouse(spark, root), audience=audience).refresh()
        register_reference_views(spark)
        try:
            result = run_query(spark, statement, limit=limit)
        except PySparkException as error:
            err.print(str(error).strip(), style="red", markup=False, highlight=False)
            return 1
    finally:
        spark.stop()
    if output == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(result.columns)
        writer.writerows(["" if v is None else v for v in row] for row in result.rows)
    else:
        table = Table(show_lines=False)
        for column in result.columns:
            table.add_column(column)
        for row in result.rows:
            table.add_row(*("NULL" if v is None else str(v) for v in row))
        out = Console()
        out.print(table)
    if result.truncated:
        err.print(f"(first {result.limit} rows shown; the query returned more: --limit N shows more)")
    return 0


def serve(root: str, host: str, port: int, poll: float, audience: Audience) -> int:
    from citydata.catalog.access import Audience
    from citydata.sql import SqlEndpoint, SqlEndpointError, beeline_path

    console = _console()
    endpoint = SqlEndpoint(root, host=host, port=port, audience=audience)
    stop = threading.Event()
    try:
        with console.status(f"starting the SQL endpoint on {root} …"):
            names = endpoint.start()
    except SqlEndpointError as error:
        console.print(f"[red]{error}[/red]")
        endpoint.stop()
        return 1
    except KeyboardInterrupt:
        endpoint.stop()
        return 130
    # After start: PySpark's SparkContext installs its own SIGINT handler (KeyboardInterrupt anywhere).
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    out = _stdout()
    out.print(f"[bold green]SQL endpoint is up[/bold green]: [cyan]{endpoint.jdbc_url}[/cyan]")
    out.print(f"  lakehouse: {root}  ({len(names)} views, read-only; new Delta versions re-registered every "
              f"{poll:g} s)")
    shown = ", ".join(names[:8]) + (" …" if len(names) > 8 else "")
    out.print(f"  views:     {shown or '(none yet: the lakehouse is empty)'}")
    if audience is Audience.PRIVILEGED:
        out.print("  [bold red]PRIVILEGED[/bold red]: every column as stored, raw personal values included")
    else:
        out.print("  access:    analysts (personal values masked, core fields left out: docs/security.md)")
    for view, columns in sorted(endpoint.views.unclassified.items() if endpoint.views else ()):
        out.print(f"  [yellow]not classified, left out[/yellow]: {view}.{', '.join(columns)}")
    out.print(f"  beeline:   {beeline_path()} -u {endpoint.jdbc_url} -e \"show views\"", soft_wrap=True)
    out.print("  Ctrl-C stops it.")
    try:
        endpoint.poll(stop, poll, on_change=lambda change: out.print(f"  {change}"))
    finally:
        out.print("stopping the SQL endpoint …")
        endpoint.stop()
    return 0


def _stdout() -> Any:
    from rich.console import Console

    # rich flushes after each print: a test or a supervisor reading the pipe sees the URL at once.
    return Console(width=max(Console().width, 120))
