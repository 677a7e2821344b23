"""`citydata simulate`: generate the simulated city's deliveries and truth (optionally serve its APIs)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path


def parse_days(text: str) -> list[int]:
    """'3' -> [3]; '1-3' -> [1, 2, 3]; '1,4' -> [1, 4]."""
    out: set[int] = set()
    for part in text.split(","):
        if "-" in part:
            lo, hi = part.split("-", 1)
            out.update(range(int(lo), int(hi) + 1))
        else:
            out.add(int(part))
    if not out or min(out) < 1:
        raise argparse.ArgumentTypeError(f"days are 1 or more: {text!r}")
    return sorted(out)


def register(subparsers: argparse._SubParsersAction) -> None:  # noqa: SLF001 - argparse's own type
    parser = subparsers.add_parser(
        "simulate", help="generate the simulated city 示范市: deliveries with known defects + the truth",
        description="Write day D's deliveries (each department's format and encoding, with labelled defects) and "
                    "the truth the marts must reproduce. Same seed, same bytes. Day 1 is a full delivery, later "
                    "days are increments.")
    parser.add_argument("--persons", type=int, default=2000, help="residents on day 1 (default 2000; 1000000 works)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--day", type=parse_days, default=[1], help="day(s) to write: 3, 1-3 or 1,4 (default 1)")
    parser.add_argument("--out", type=Path, default=None,
                        help="output folder (default: $CITYDATA_HOME/data/simulated); days go to day-NNN/")
    parser.add_argument("--period-days", type=int, default=1,
                        help="calendar days between two deliveries (default 1: a daily feed)")
    parser.add_argument("--page-size", type=int, default=500, help="records per page of the JSON APIs (default 500)")
    parser.add_argument("--serve", action="store_true",
                        help="afterwards serve the last day's tax and POI APIs on 127.0.0.1 until Ctrl-C")
    parser.add_argument("--port", type=int, default=8765, help="port for --serve (default 8765; 0 = any free port)")
    parser.add_argument("--fail", action="append", default=[], metavar="SOURCE:PAGE[:TIMES[:STATUS]]",
                        help="with --serve: make a page fail (e.g. tax:3 always 500, tax:3:2 twice then serve)")
    parser.add_argument("-v", "--verbose", action="store_true", help="show the simulator's INFO logs")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from citydata.config import Paths
    from citydata.sources.simulate import ApiServer, Fault, simulate

    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    console = Console()
    out = args.out or Paths.from_env().home / "data" / "simulated"
    faults = [Fault.parse(text) for text in args.fail]
    console.print(f"[bold]citydata simulate[/bold]: {args.persons:,} residents, seed {args.seed}, "
                  f"day(s) {', '.join(map(str, args.day))} -> [cyan]{out}[/cyan]")
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console) as progress:
        task = progress.add_task("starting", total=None)
        results = simulate(out, args.day, persons=args.persons, seed=args.seed, period_days=args.period_days,
                           page_size=args.page_size, progress=lambda step: progress.update(task, description=step))
        progress.update(task, description="done")

    for result in results:
        table = Table(title=f"day {result.day}: {result.folder}", show_lines=False)
        for column, justify in (("file", "left"), ("format", "left"), ("encoding", "left"), ("rows", "right"),
                                ("bytes", "right")):
            table.add_column(column, justify=justify)
        grouped: dict[str, list[int]] = {}
        for info in result.files:
            key = info.path.split("/pages/")[0] + "/pages/*.json" if "/pages/" in info.path else info.path
            acc = grouped.setdefault(key, [0, 0])
            acc[0] += info.rows
            acc[1] += info.bytes
            grouped.setdefault(f"{key}\0fmt", [0, 0])
        for info in result.files:
            key = info.path.split("/pages/")[0] + "/pages/*.json" if "/pages/" in info.path else info.path
            if key in grouped:
                rows, size = grouped.pop(key)
                grouped.pop(f"{key}\0fmt", None)
                table.add_row(key, info.format, info.encoding, f"{rows:,}", f"{size:,}")
        console.print(table)
        rejects = Table(title=f"day {result.day}: expected rejects (truth/rejects_summary.csv)")
        for column, justify in (("file", "left"), ("reason code", "left"), ("rows", "right")):
            rejects.add_column(column, justify=justify)
        lines = (result.folder / "truth" / "rejects_summary.csv").read_text(encoding="utf-8").splitlines()[1:]
        for line in lines:
            file, reason, rows = line.rsplit(",", 2)
            rejects.add_row(file.removeprefix("delivery/"), reason, rows)
        console.print(rejects)
        console.print(f"truth: {len(result.truth)} files in {result.folder / 'truth'}")
    if args.serve:
        last = results[-1].folder
        with ApiServer(last, port=args.port, faults=faults) as server:
            console.print(f"serving [cyan]{server.url}/api/tax[/cyan] and [cyan]{server.url}/api/internet_poi[/cyan] "
                          f"from {last} (faults: {', '.join(args.fail) or 'none'}); Ctrl-C to stop")
            try:
                server._thread.join()  # noqa: SLF001 - block until interrupted
            except KeyboardInterrupt:
                console.print("stopped")
    return 0
