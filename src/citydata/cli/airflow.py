"""`citydata airflow`: start Airflow 3 (standalone) with the project's DAGs; print URL and login. SQLite by
default; CITYDATA_AIRFLOW_DB=postgresql://… or `local` (the project's own PostgreSQL, started here and stopped at
the end when it was not running before) runs it on PostgreSQL with LocalExecutor.

A port it would bind (the API's, Airflow's log servers' 8793 and 8794) that is busy or taken twice is refused
before anything starts, with the port and the fix."""

from __future__ import annotations

import argparse
import signal
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported when the command runs: `--port` answers in a moment
    from rich.console import Console

    from citydata.airflow_postgres import LocalPostgres
    from citydata.config import Paths


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "airflow", help="start Airflow 3 (standalone) with the project's DAGs and print the URL and login",
        description="Runs `airflow standalone` (SQLite metadata database; PostgreSQL with LocalExecutor when "
                    "CITYDATA_AIRFLOW_DB=postgresql://… or local) with AIRFLOW_HOME "
                    "inside the platform home and the project's dags/ folder, until Ctrl-C. Refuses at once a "
                    "port that is in use or that Airflow binds itself (log servers 8793, 8794). Creates the "
                    "Spark pool the generated tasks run in (docs/airflow.md).")
    parser.add_argument("--home", type=Path, default=None,
                        help="platform home (data and .airflow/ under it); "
                             "default: $CITYDATA_HOME or the current folder")
    parser.add_argument("--port", type=int, default=8080,
                        help="port of the Airflow UI and API (default 8080; not 8793/8794, Airflow's log servers)")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for Airflow to be healthy")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from citydata.config import Paths

    console = Console()
    paths = Paths.from_env(args.home)
    # SIGTERM (a service manager, `kill`) stops Airflow and the project's PostgreSQL as Ctrl-C does, instead of
    # leaving standalone (its own session) and the server running without their parent
    signal.signal(signal.SIGTERM, _interrupt)
    local_postgres = _start_local_postgres(paths.home, console)
    try:
        return _run_standalone(args, paths, console)
    finally:
        if local_postgres is not None:
            local_postgres.stop()
            console.print(f"stopped PostgreSQL in {local_postgres.root}")


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def _start_local_postgres(home: Path, console: Console) -> LocalPostgres | None:
    """With CITYDATA_AIRFLOW_DB=local, the project's PostgreSQL: started here (returned, to be stopped at the end)
    unless it already runs (None: whoever started it stops it)."""
    import os

    if os.environ.get("CITYDATA_AIRFLOW_DB", "").strip() != "local":
        return None
    from citydata.airflow_postgres import LocalPostgres, default_root

    server = LocalPostgres(default_root(home))
    if server.running():
        return None
    with console.status(f"starting PostgreSQL in {server.root} …"):
        port = server.start()
    console.print(f"PostgreSQL for Airflow's metadata: 127.0.0.1:{port} (data and log in {server.root})")
    return server


def _run_standalone(args: argparse.Namespace, paths: Paths, console: Console) -> int:
    from rich.markup import escape

    from citydata import airflow_local
    from citydata.airflow_postgres import mask_url

    env = airflow_local.standalone_env(airflow_local.airflow_env(paths.home), args.port)
    airflow_home = Path(env["AIRFLOW_HOME"])
    log_file = airflow_home / "standalone.log"
    try:
        airflow_local.check_ports(env)
    except airflow_local.PortUnavailableError as error:
        console.print(f"[red]citydata airflow: {escape(str(error))}[/red]", highlight=False)
        return 2
    with console.status(f"starting airflow standalone (log: {log_file}) …"):
        try:
            process = airflow_local.start_standalone(env, log_file)
        except airflow_local.AirflowStartError as error:  # ports taken meanwhile, or the database migration
            console.print(f"[red]{escape(str(error))}[/red]", highlight=False)
            return 1
        try:
            airflow_local.wait_until_healthy(process, args.port, log_file, args.timeout)
        except airflow_local.AirflowStartError as error:
            airflow_local.stop(process)
            console.print(f"[red]{escape(str(error))}[/red]")
            return 1
        except KeyboardInterrupt:  # Ctrl-C or SIGTERM while it starts: standalone runs in its own session
            airflow_local.stop(process)
            raise
    login = airflow_local.login(airflow_home, args.port)
    console.print(f"[bold green]Airflow is up[/bold green]: {login.url}")
    console.print(f"  login:        {login.user} / {login.password or '(see ' + str(login.passwords_file) + ')'}")
    console.print(f"  DAGs folder:  {env['AIRFLOW__CORE__DAGS_FOLDER']} (new DAGs start paused: unpause in the UI)")
    console.print(f"  AIRFLOW_HOME: {airflow_home}   log: {log_file}")
    console.print(f"  metadata:     {mask_url(env['AIRFLOW__DATABASE__SQL_ALCHEMY_CONN'])}   executor: "
                  f"{env.get('AIRFLOW__CORE__EXECUTOR', 'LocalExecutor (standalone)')}")
    console.print("Ctrl-C stops it.")
    try:
        process.wait()
    except KeyboardInterrupt:
        console.print("stopping Airflow …")
    finally:
        airflow_local.stop(process)
    return 0 if process.returncode in (0, None, -15) else int(process.returncode)
