"""Entry point of the `citydata` command; each subcommand parses arguments and calls the library."""

from __future__ import annotations

import argparse
import importlib
import sys

from citydata.cli.errors import DEBUG_VARIABLE, debug_requested, expected_failure

# One module per subcommand (citydata.cli.<name>), each defining `register(subparsers)` that adds
# its parser and sets `handler`. Adding a command is adding a module and its name here.
COMMAND_MODULES: tuple[str, ...] = ("demo", "simulate", "airflow", "alerts", "ingest", "run_day", "sql", "release",
                                    "portal", "doctor", "cluster", "postgres")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="citydata", description="City data middle platform.")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(f"citydata.cli.{name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    try:
        return int(args.handler(args) or 0)
    except Exception as error:
        # An expected failure (the platform's own error, a Delta commit conflict) is one line and exit 1;
        # a bug, or --verbose / CITYDATA_DEBUG=1, keeps the traceback.
        line = expected_failure(error)
        if line is None or debug_requested(getattr(args, "verbose", False)):
            raise
        print(f"citydata {args.command}: {line}", file=sys.stderr)
        how = f"--verbose or {DEBUG_VARIABLE}=1" if hasattr(args, "verbose") else f"{DEBUG_VARIABLE}=1"
        print(f"(for the traceback, run it again with {how})", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
