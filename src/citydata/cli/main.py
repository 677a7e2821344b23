"""Entry point of the `citydata` command; each subcommand parses arguments and calls the library."""

from __future__ import annotations

import argparse
import importlib
import sys

# One module per subcommand (citydata.cli.<name>), each defining `register(subparsers)` that adds
# its parser and sets `handler`. Adding a command is adding a module and its name here.
COMMAND_MODULES: tuple[str, ...] = ("demo", "simulate", "airflow", "alerts", "ingest", "run_day", "sql", "release",
                                    "portal")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="citydata", description="City data middle platform.")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(f"citydata.cli.{name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    return int(args.handler(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
