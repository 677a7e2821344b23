"""`citydata cluster start|stop|status`: a Spark standalone cluster on this machine (citydata.lakehouse.cluster).

`start` prints the master URL to put in CITYDATA_SPARK_MASTER and the web UI; the daemons keep running after
the command returns, until `stop`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

    from citydata.lakehouse.cluster import ClusterConfig


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "cluster", help="start, stop or show a Spark standalone cluster (master + workers) on 127.0.0.1",
        description="Starts a Spark standalone master and its workers from the pyspark installation, bound to "
                    "127.0.0.1, with logs and pid files under <home>/.cluster/, sized to the machine (a worker per "
                    "core share and a quarter of the memory; CITYDATA_CLUSTER_WORKERS, _WORKER_CORES, "
                    "_WORKER_MEMORY, _MASTER_PORT (7077), _UI_PORT (8180) override). Jobs, dbt and the SQL "
                    "endpoint run on it with CITYDATA_SPARK_MASTER=<master URL>.")
    parser.add_argument("action", choices=("start", "stop", "status"))
    parser.add_argument("--home", type=Path, default=None,
                        help="platform home (.cluster/ under it); default: $CITYDATA_HOME or the current folder")
    parser.add_argument("--timeout", type=float, default=180.0,
                        help="seconds to wait for every worker to register (start)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.markup import escape

    from citydata.config import Paths
    from citydata.lakehouse import cluster

    console = Console(highlight=False)
    config = cluster.ClusterConfig.from_env(Paths.from_env(args.home).home)
    if args.action == "stop":
        ended = cluster.stop(config)
        console.print(f"Spark cluster stopped ({len(ended)} processes ended)" if ended
                      else f"no Spark cluster was running from {config.folder}")
        return 0
    if args.action == "status":
        state = cluster.status(config)
        if not state.daemons:
            console.print(f"no Spark cluster started from {config.folder} (`citydata cluster start`)")
            return 1
        for daemon in state.daemons:
            console.print(f"  {daemon.name:<9} pid {daemon.pid:<8} {'running' if daemon.alive else 'not running'}")
        _print_urls(console, config, state.alive_workers)
        return 0 if state.running else 1
    try:
        with console.status(f"starting a Spark master and {config.workers} workers (logs: {config.folder}/logs) …"):
            state = cluster.start(config, timeout=args.timeout)
    except cluster.ClusterError as error:
        console.print(f"[red]citydata cluster: {escape(str(error))}[/red]")
        return 2 if isinstance(error, cluster.ClusterPortError) else 1
    console.print(f"[bold green]Spark cluster is up[/bold green]: {config.workers} workers x "
                  f"{config.worker_cores} core(s), {config.worker_memory_mb} MiB each")
    _print_urls(console, config, state.alive_workers)
    console.print(f"  run on it:   export CITYDATA_SPARK_MASTER={config.master_url}")
    console.print("  stop it:     make cluster-stop (citydata cluster stop)")
    return 0


def _print_urls(console: Console, config: ClusterConfig, alive_workers: int | None) -> None:
    console.print(f"  master URL:  {config.master_url}")
    console.print(f"  web UI:      {config.ui_url} "
                  f"({'master down' if alive_workers is None else f'{alive_workers} alive workers'})")
    console.print(f"  logs, pids:  {config.folder}")
