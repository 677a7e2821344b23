"""`citydata portal build | serve`: build the open-data portal's static site of a release, or serve it."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:  # noqa: SLF001 - argparse's own type
    parser = subparsers.add_parser(
        "portal", help="build the open-data portal (static site of the current release) or serve it",
        description="`citydata portal build` writes the static site of the current release (or --release N) "
                    "to data/portal/site/ from the release manifests and the release's export folder. "
                    "`citydata portal serve` serves that site on 127.0.0.1 (CKAN API URLs included) until "
                    "Ctrl-C; it builds the site first when there is none (docs/portal.md).")
    parser.add_argument("action", choices=("build", "serve"), help="build the site, or serve it")
    parser.add_argument("--home", type=Path, default=None,
                        help="platform home (data under it); default: $CITYDATA_HOME or the current folder")
    parser.add_argument("--release", type=int, default=None, help="build: the release to show (default: current)")
    parser.add_argument("--base-url", default=None,
                        help="the portal's public URL shown to developers (default: $CITYDATA_PORTAL_URL or "
                             "http://127.0.0.1:8090)")
    parser.add_argument("--host", default="127.0.0.1", help="serve: address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8090, help="serve: port (default 8090)")
    parser.add_argument("-v", "--verbose", action="store_true", help="show the portal's INFO logs (requests)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from citydata.config import Paths
    from citydata.portal import PortalError, build_portal, site_dir
    from citydata.portal.server import PortalServer

    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    console = Console()
    paths = Paths.from_env(args.home)
    site = site_dir(paths)
    if args.action == "build" or not (site / "index.html").is_file():
        try:
            built = build_portal(paths, release=args.release, base_url=args.base_url)
        except PortalError as exc:
            console.print(f"[red]portal: {exc}[/red]", soft_wrap=True)
            return 1
        console.print(f"[green]✓[/green] portal: release {built.release}, {built.pages} pages "
                      f"({built.datasets} datasets, {built.open_datasets} open) in {built.seconds:.2f} s -> "
                      f"[cyan]{built.site}[/cyan]", soft_wrap=True)
    if args.action == "serve":
        try:
            server = PortalServer(site, host=args.host, port=args.port)
        except OSError as exc:
            console.print(f"[red]portal: cannot listen on {args.host}:{args.port}: {exc.strerror}. "
                          "Fix: choose another --port[/red]")
            return 1
        with server:
            console.print(f"Portal is up: [bold cyan]{server.url}/[/bold cyan]  (site {site}; Ctrl-C stops)",
                          soft_wrap=True)
            try:
                server.wait()
            except KeyboardInterrupt:
                console.print("stopped")
    return 0
