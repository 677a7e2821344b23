"""`citydata postgres start|stop|status`: the project-local PostgreSQL Airflow's metadata database can live on
(`citydata.airflow_postgres`; CITYDATA_AIRFLOW_DB=local points Airflow at it). The URL is printed with its
password masked; `--show-url` prints it whole (for a tool that needs it)."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "postgres", help="start, stop or show the project-local PostgreSQL for Airflow (CITYDATA_AIRFLOW_DB=local)",
        description="Runs Debian's PostgreSQL server (make postgres installs it) on a free loopback port with its "
                    "data, socket, password and log under $CITYDATA_HOME/.postgres (CITYDATA_POSTGRES_DIR "
                    "overrides); never a system service. As root the server runs as the `postgres` user.")
    parser.add_argument("action", choices=("start", "stop", "status"))
    parser.add_argument("--home", type=Path, default=None,
                        help="platform home; default: $CITYDATA_HOME or the current folder")
    parser.add_argument("--port", type=int, default=None, help="port to start on (default: the last one if free)")
    parser.add_argument("--show-url", action="store_true", help="print the URL with its password")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from citydata.airflow_postgres import LocalPostgres, default_root, mask_url
    from citydata.config import Paths

    server = LocalPostgres(default_root(Paths.from_env(args.home).home))
    if args.action == "start":
        server.start(args.port)
    elif args.action == "stop":
        print(f"stopped PostgreSQL in {server.root}" if server.stop() else f"no PostgreSQL running in {server.root}")
        return 0
    if not server.running():
        print(f"no PostgreSQL running in {server.root} (`citydata postgres start` starts it)")
        return 3
    url = server.url()
    print(f"PostgreSQL running in {server.root} on 127.0.0.1:{server.port} (log: {server.log_file})")
    print(f"  URL: {url if args.show_url else mask_url(url)}")
    print("  Airflow on it: CITYDATA_AIRFLOW_DB=local citydata airflow   (LocalExecutor)")
    return 0
