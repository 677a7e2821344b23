"""The `citydata` command line: thin commands over the domain packages (prints with rich)."""

from citydata.cli.main import main

__all__ = ["main"]
