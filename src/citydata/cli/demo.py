"""`citydata demo`: the whole platform on a simulated city — simulate it if absent, run day 1 then day 2 with
run-day's stages, and show the Delta tables, a few lines of the city portrait and where every output is."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from citydata.cli.run_day import (
    console_for,
    describe_plan,
    print_outputs,
    quiet_logging,
    run_day_with_progress,
)

if TYPE_CHECKING:
    import subprocess

    from rich.console import Console

    from citydata.config import Paths

PERSONS, SEED, DAYS, PERIOD_DAYS = 2000, 1, 2, 30


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo", help="the whole platform on a simulated city: simulate it, run day 1 and day 2 end to end",
        description="Generates a simulated city under <home>/data/simulated (unless the same one is there), then "
                    "runs `citydata run-day` on each day — ingest, silver, dbt build and docs, gate, release, "
                    "export, portal — and prints every stage, the Delta tables, the city portrait and where outputs "
                    "are.")
    parser.add_argument("--home", type=Path, default=None,
                        help="platform home (data under it); default: $CITYDATA_HOME or the current folder")
    parser.add_argument("--persons", type=int, default=PERSONS, help=f"residents of the city (default {PERSONS})")
    parser.add_argument("--seed", type=int, default=SEED, help=f"the city's seed (default {SEED})")
    parser.add_argument("--days", type=int, default=DAYS, help=f"days to run, from day 1 (default {DAYS})")
    parser.add_argument("--period-days", type=int, default=PERIOD_DAYS,
                        help=f"days between deliveries (default {PERIOD_DAYS}: births, deaths, moves happen)")
    parser.add_argument("--airflow", action="store_true",
                        help="run each day as the Airflow DAG run_day (`airflow dags test`, AIRFLOW_HOME from the "
                             "environment or <home>/.airflow) instead of in this process")
    parser.add_argument("-v", "--verbose", action="store_true", help="show the platform's INFO logs")
    parser.set_defaults(handler=run)


def simulated_days(paths: Paths, days: int, persons: int, seed: int, period_days: int) -> list[Path]:
    """The day folders `data/simulated/day-NNN` of the wanted city, simulated unless the same city is there."""
    from citydata.sources.simulate import simulate

    out = paths.home / "data" / "simulated"
    folders = [out / f"day-{day:03d}" for day in range(1, days + 1)]

    def same_city(folder: Path) -> bool:
        manifest = folder / "manifest.json"
        if not manifest.is_file():
            return False
        found = json.loads(manifest.read_text(encoding="utf-8"))
        return (found.get("persons"), found.get("seed"), found.get("period_days")) == (persons, seed, period_days)

    if not all(same_city(folder) for folder in folders):
        simulate(out, range(1, days + 1), persons=persons, seed=seed, period_days=period_days)
    return folders


def print_tables(console: Console, lakehouse: Any) -> None:
    """Every Delta table: version and rows (from the Delta log: no scan)."""
    from rich.table import Table

    table = Table(title=f"Delta tables under {lakehouse.root}")
    for column in ("table", "version", "rows"):
        table.add_column(column, justify="left" if column == "table" else "right")
    for layer, name in sorted(lakehouse.tables()):
        table.add_row(f"{layer}.{name}", str(lakehouse.version(layer, name)), f"{lakehouse.count(layer, name):,}")
    console.print(table)


PORTRAIT_COLUMNS = (  # column, header, format: the indicators a dashboard shows first
    ("district_code", "code", "{}"),
    ("district_name", "district", "{}"),
    ("residents", "residents", "{:,}"),
    ("active_entities_per_10k_residents", "entities/10k", "{}"),
    ("tax_yuan_per_resident", "tax ¥/res.", "{:,}"),
    ("insured_per_100_working_age", "insured/100", "{}"),
    ("active_entities_with_penalty_pct", "% penalised", "{}"),
    ("black_listed_entities", "black-listed", "{:,}"),
    ("pois_per_km2", "POIs/km²", "{}"),
)


def print_city_portrait(console: Console, lakehouse: Any) -> None:
    """The city portrait after the last day: gold.city_portrait_district, a few indicators per district
    (definitions and units: dbt_project/models/marts/portrait/_portrait.yml)."""
    from rich.table import Table

    if not lakehouse.exists("gold", "city_portrait_district"):
        console.print("[yellow]gold.city_portrait_district does not exist: the gold stage did not run[/yellow]")
        return
    rows = lakehouse.read("gold", "city_portrait_district").orderBy("district_code").collect()
    as_of = rows[0]["as_of_date"] if rows else "-"
    table = Table(title=f"示范市 city portrait at {as_of} (gold.city_portrait_district)")
    for column, header, _ in PORTRAIT_COLUMNS:
        table.add_column(header, justify="left" if column in ("district_code", "district_name") else "right")
    for row in rows:
        table.add_row(*("-" if row[column] is None else shape.format(row[column])
                        for column, _, shape in PORTRAIT_COLUMNS))
    console.print(table)


def run(args: argparse.Namespace) -> int:
    from citydata.config import Paths

    quiet_logging(args.verbose)
    console = console_for()
    paths = Paths.from_env(args.home)
    started = time.monotonic()
    console.print(f"[bold]citydata demo[/bold]: a simulated city of {args.persons:,} residents (seed {args.seed}), "
                  f"days 1..{args.days}, in [cyan]{paths.home}[/cyan]")
    with console.status("simulating the city (skipped when it is there) …"):
        folders = simulated_days(paths, args.days, args.persons, args.seed, args.period_days)
    console.print(f"[green]✓[/green] simulated city: {folders[0].parent} ({time.monotonic() - started:.0f} s)")
    if args.airflow:
        return _run_in_airflow(console, paths, folders, started)
    return _run_in_process(console, paths, folders, started)


def _run_in_process(console: Console, paths: Paths, folders: list[Path], started: float) -> int:
    from citydata.lakehouse import Lakehouse, get_spark
    from citydata.orchestration import plan_day
    from citydata.release.gate import GateFailed

    spark = get_spark(app_name="citydata-demo")
    result = None
    for folder in folders:
        plan = plan_day(folder, paths=paths)
        console.rule(f"run-day {describe_plan(plan)}")
        try:
            result = run_day_with_progress(console, spark, paths, plan)
        except GateFailed as error:
            console.print(f"[red]{error}[/red]", highlight=False)
            return 1
    lakehouse = Lakehouse(spark, paths.lakehouse)
    console.rule("what the platform holds now")
    print_tables(console, lakehouse)
    print_city_portrait(console, lakehouse)
    if result is not None:
        print_outputs(console, paths, result)
    console.print(f"demo done in {time.monotonic() - started:.0f} s (set-up and both days). Query every table: "
                  "`citydata sql` or Lakehouse(spark, root).register_views() (views like gold_population_by_district)")
    return 0


def _failed_tasks(env: dict[str, str], done: subprocess.CompletedProcess[str]) -> set[str]:
    """The tasks of a failed `airflow dags test run_day` that did not succeed (empty when the run succeeded)."""
    from citydata import airflow_local
    from citydata.dag_factory import RUN_DAY_DAG_ID

    output = done.stdout + done.stderr
    if done.returncode == 0 and "state=failed" not in output:
        return set()
    run_id = airflow_local.finished_run_id(output, RUN_DAY_DAG_ID)
    if run_id is None:
        return {"(the run did not finish)"}
    return {task for task, state in airflow_local.task_states(env, RUN_DAY_DAG_ID, run_id).items()
            if state != "success"}


def _print_alerts(console: Console, paths: Paths, run_id: str | None) -> None:
    from citydata.cli.alerts import alert_line
    from citydata.orchestration import alerts

    for alert in alerts.read_alerts(alerts.alerts_file(paths.home)):
        if alert.get("run_id") == run_id:
            console.print(f"    {alert_line(alert)}", markup=False, highlight=False)


def _run_in_airflow(console: Console, paths: Paths, folders: list[Path], started: float) -> int:
    import os

    from citydata import airflow_local
    from citydata.dag_factory import RUN_DAY_DAG_ID
    from citydata.portal.build import site_dir
    from citydata.release.manifest import current_release

    airflow_home = Path(os.environ["AIRFLOW_HOME"]) if os.environ.get("AIRFLOW_HOME") else None
    env = airflow_local.airflow_env(paths.home, airflow_home)
    for folder in folders:
        day_started = time.monotonic()
        with console.status(f"airflow dags test {RUN_DAY_DAG_ID} ({folder.name}; AIRFLOW_HOME {env['AIRFLOW_HOME']})"):
            done = airflow_local.dags_test(env, RUN_DAY_DAG_ID, {"day_folder": str(folder)})
        failed = _failed_tasks(env, done)
        if failed == {"check_deliveries"}:  # the day went through; its refused or rejected deliveries alerted
            console.print(f"[yellow]![/yellow] airflow dags test {RUN_DAY_DAG_ID} {folder.name}: every stage "
                          f"succeeded, check_deliveries failed ({time.monotonic() - day_started:.0f} s); alerts:")
            _print_alerts(console, paths, airflow_local.finished_run_id(done.stdout + done.stderr, RUN_DAY_DAG_ID))
            continue
        if failed:
            console.print(f"[red]the {RUN_DAY_DAG_ID} run of {folder.name} failed[/red]; last lines of its log:")
            console.print("\n".join((done.stdout + done.stderr).splitlines()[-40:]), markup=False, highlight=False)
            return 1
        console.print(f"[green]✓[/green] airflow dags test {RUN_DAY_DAG_ID} {folder.name}: every task succeeded "
                      f"({time.monotonic() - day_started:.0f} s)")
    release = current_release(paths.releases)
    if release is None:
        console.print("[red]the runs succeeded but wrote no release manifest[/red]")
        return 1
    console.print(f"  release manifest  [cyan]{release.path}[/cyan] (release {release.number})", highlight=False)
    console.print(f"  open-data export  [cyan]{paths.exports / f'release-{release.number:04d}'}[/cyan]",
                  highlight=False)
    console.print(f"  portal            [cyan]{site_dir(paths)}/index.html[/cyan] (serve it: make portal)",
                  highlight=False)
    console.print(f"demo done in {time.monotonic() - started:.0f} s")
    return 0

