"""Expected failures of a command as one line: the platform's own errors and Delta commit conflicts.

A command that fails for a reason the platform names (a delivery refused, a step that lost a commit race
to another run, a dbt model failing, a folder that is not a day) prints that reason on one line and exits
non-zero; the traceback is for `--verbose` or `CITYDATA_DEBUG=1`. Anything else (a bug) keeps its
traceback. The messages quoted are the platform's own, which mask personal values where they quote data.
Imports no Spark.
"""

from __future__ import annotations

import os
import re

PLATFORM_MODULES = ("citydata.", "pyspark_delta.")
DEBUG_VARIABLE = "CITYDATA_DEBUG"
MAX_CHARS = 2000  # a message longer than this is cut: one line on a terminal, not a page
# A platform error quoted inside a Spark exception (the `delta` data source's commit runs in a Python
# process of Spark's, so its error arrives as text): "pyspark_delta.errors.DeltaCommitError: message".
_QUOTED = re.compile(r"\b((?:pyspark_delta|citydata)(?:\.\w+)*\.(\w+(?:Error|Exception|Failed))): ([^\n]+)")
# delta-rs's own commit failures (a writer that does not go through the bridge, e.g. a vacuum)
_DELTA_CONFLICT_CLASSES = {"CommitFailedError"}


def debug_requested(verbose: bool = False) -> bool:
    """Whether to show tracebacks: `--verbose` or CITYDATA_DEBUG set to anything but empty/0/false."""
    return verbose or os.environ.get(DEBUG_VARIABLE, "").strip().lower() not in ("", "0", "false", "no")


def _one_line(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= MAX_CHARS else line[: MAX_CHARS - 1] + "…"


def expected_failure(error: BaseException) -> str | None:
    """One line for an expected failure (`ClassName: message`), None for anything else (a bug)."""
    module = type(error).__module__ or ""
    if module.startswith(PLATFORM_MODULES):
        return _one_line(f"{type(error).__name__}: {error}")
    if type(error).__name__ in _DELTA_CONFLICT_CLASSES and module.startswith("deltalake"):
        return _one_line(f"Delta commit conflict: {error}. Another run is writing the lakehouse; retry when it "
                         "has finished")
    quoted = _QUOTED.findall(str(error))
    if quoted:
        _, name, message = quoted[-1]
        return _one_line(f"{name}: {message}")
    return None
