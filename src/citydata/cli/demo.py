"""`citydata demo`: run the skeleton chain in this process on the embedded sample and show what it made."""

from __future__ import annotations

import argparse
import logging
import os
import time
from datetime import date
from pathlib import Path
from typing import Any

STEP_TITLES = {
    "land_bronze": "land the delivery in bronze (+ rejects)",
    "build_silver": "conform silver/person",
    "build_gold": "dbt build gold",
    "gate": "Great Expectations release gate",
    "release": "write the release manifest",
    "export": "export open data",
}


def register(subparsers: argparse._SubParsersAction) -> None:  # noqa: SLF001 - argparse's own type
    parser = subparsers.add_parser(
        "demo", help="run the skeleton chain (household register end to end) and show the results",
        description="Land the embedded household-register delivery, build silver and gold, gate, release "
                    "and export, all in this process; then list every Delta table, the manifest and the exports.")
    parser.add_argument("--home", type=Path, default=None,
                        help="platform home (data under it); default: $CITYDATA_HOME or the current folder")
    parser.add_argument("--delivery", type=Path, default=None, help="a delivery file instead of the sample")
    parser.add_argument("--as-of", type=date.fromisoformat, default=None,
                        help="date gold is computed at (YYYY-MM-DD); default: today (UTC)")
    parser.add_argument("--airflow", action="store_true",
                        help="run the chain as the Airflow DAG (`airflow dags test skeleton_chain`, AIRFLOW_HOME "
                             "from the environment or <home>/.airflow) instead of in this process")
    parser.add_argument("-v", "--verbose", action="store_true", help="show the platform's INFO logs")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from citydata.config import Paths

    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("py4j", "great_expectations"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # Spark's own WARN lines ("Using an existing Spark session", once per dbt model) drown the progress.
    os.environ.setdefault("CITYDATA_SPARK_LOG_LEVEL", "ERROR")
    console = Console()
    if not console.is_terminal and console.width < 120:
        console = Console(width=120)  # piped (make, CI): keep paths readable
    paths = Paths.from_env(args.home)
    console.print(f"[bold]citydata demo[/bold]: skeleton chain in [cyan]{paths.home}[/cyan]")

    started = time.monotonic()
    if args.airflow:
        outcome = _run_in_airflow(console, paths, args)
        if outcome is None:
            return 1
    else:
        outcome = _run_in_process(console, paths, args)
    release, data_docs, export_dir, files = outcome

    console.print(f"Delta tables under [cyan]{paths.lakehouse}[/cyan]")
    console.print(_tables(paths))
    console.print(f"release manifest: [cyan]{release['manifest']}[/cyan] (release {release['release']}"
                  f"{'' if release.get('new', True) else ', unchanged: nothing new to publish'})")
    console.print(f"Data Docs:        [cyan]{data_docs}[/cyan]")
    console.print(f"open-data export: [cyan]{export_dir}[/cyan]")
    exports = Table()
    for column in ("file", "rows", "bytes", "suppressed cells", "metadata"):
        exports.add_column(column, justify="left" if column in ("file", "metadata") else "right")
    for info in files:
        exports.add_row(Path(info["csv"]).name, str(info["rows"]), str(info["bytes"]), str(info["suppressed_cells"]),
                        Path(info["metadata"]).name)
    console.print(exports)
    console.print(f"done in {time.monotonic() - started:.0f}s. Query: every table is a temp view "
                  "(e.g. silver_person) after Lakehouse(spark, root).register_views().")
    return 0


def _run_in_process(console: Any, paths: Any, args: argparse.Namespace) -> tuple:
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from citydata.pipeline import run_skeleton_chain

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console,
                  transient=False) as progress:
        tasks = {name: progress.add_task(f"[dim]{title}", total=1, start=False)
                 for name, title in STEP_TITLES.items()}

        def on_step(step: str, state: str, result: dict[str, Any] | None) -> None:
            task = tasks[step]
            if state == "start":
                progress.start_task(task)
                progress.update(task, description=STEP_TITLES[step])
            else:
                progress.update(task, completed=1,
                                description=f"[green]✓[/green] {STEP_TITLES[step]}: {_summary(step, result or {})}")

        result = run_skeleton_chain(paths, delivery=args.delivery, as_of=args.as_of, on_step=on_step)
    return (result.steps["release"], result.steps["gate"]["data_docs"], result.steps["export"]["dir"],
            list(result.steps["export"]["files"].values()))


def _run_in_airflow(console: Any, paths: Any, args: argparse.Namespace) -> tuple | None:
    import json

    from citydata.pipeline import DAG_ID, airflow_env, run_dag_test
    from citydata.release.manifest import latest_release

    airflow_home = Path(os.environ["AIRFLOW_HOME"]) if os.environ.get("AIRFLOW_HOME") else None
    env = airflow_env(paths.home, airflow_home)
    conf = {"delivery": str(args.delivery or ""), "as_of": args.as_of.isoformat() if args.as_of else ""}
    with console.status(f"airflow dags test {DAG_ID} (AIRFLOW_HOME {env['AIRFLOW_HOME']}) ..."):
        completed = run_dag_test(env, {k: v for k, v in conf.items() if v})
    if completed.returncode != 0:
        console.print(f"[red]the DAG run failed[/red] (exit {completed.returncode}); last lines of its log:")
        console.print("\n".join(completed.stderr.splitlines()[-40:]), markup=False, highlight=False)
        return None
    console.print(f"[green]✓[/green] airflow dags test {DAG_ID}: every task succeeded")
    release = latest_release(paths.releases)
    if release is None:
        console.print("[red]the DAG succeeded but wrote no release manifest[/red]")
        return None
    export_dir = paths.exports / f"release-{release.number:04d}"
    files = []
    for meta_path in sorted(export_dir.glob("*.metadata.json")):
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        dist = meta["distribution"]
        files.append({"csv": str(export_dir / dist["file"]), "metadata": str(meta_path), "rows": dist["rows"],
                      "bytes": dist["byte_size"], "suppressed_cells": meta.get("suppressed_cells", 0)})
    return ({"manifest": str(release.path), "release": release.number}, paths.releases / "data-docs" / "index.html",
            str(export_dir), files)


def _summary(step: str, result: dict[str, Any]) -> str:
    if step == "land_bronze":
        note = " (already landed)" if result.get("already_landed") else ""
        return f"{result['delivered']} lines -> {result['landed']} bronze, {result['rejected']} rejects{note}"
    if step == "build_silver":
        return (f"{result['rows']} persons ({result['inserted']} new, {result['updated']} updated, "
                f"{result['unchanged']} unchanged)")
    if step == "build_gold":
        return f"{result['nodes']} dbt nodes as of {result['as_of']}"
    if step == "gate":
        return "passed" if result.get("success") else "FAILED"
    if step == "release":
        return f"release {result['release']}" + ("" if result["new"] else " (unchanged)")
    if step == "export":
        return f"{len(result['files'])} files"
    return ""


def _tables(paths: Any) -> Any:
    from rich.table import Table

    from citydata.lakehouse import Lakehouse, get_spark

    lakehouse = Lakehouse(get_spark(app_name="citydata-chain"), paths.lakehouse)
    table = Table()
    for column in ("table", "version", "rows", "path"):
        table.add_column(column, justify="right" if column in ("version", "rows") else "left",
                         overflow="fold")
    for layer, name in lakehouse.tables():
        rows = lakehouse.count(layer, name)
        table.add_row(f"{layer}.{name}", str(lakehouse.version(layer, name)), str(rows), f"{layer}/{name}")
    return table
