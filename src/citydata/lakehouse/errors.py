"""Exceptions of the lakehouse layer (the bridge's own, re-exported, plus naming errors)."""

from __future__ import annotations

import re

from pyspark_delta.errors import (
    DeltaBridgeError,
    DeltaCommitError,
    DeltaTableNotFoundError,
    MergeKeyError,
    SchemaMismatchError,
    UnsupportedPartitionTypeError,
    UnsupportedTableFeatureError,
)

LakehouseError = DeltaBridgeError


class InvalidTableNameError(LakehouseError):
    """A layer or table name that cannot become part of a path and a Spark view name."""

    def __init__(self, kind: str, name: str) -> None:
        super().__init__(
            f"Invalid {kind} name {name!r}: use lower-case letters, digits and underscores, "
            "starting with a letter (the view name is '{layer}_{table}')."
        )


class InvalidWriteModeError(LakehouseError):
    """A write mode other than append/overwrite."""

    def __init__(self, mode: str, path: str) -> None:
        super().__init__(
            f"Unsupported write mode {mode!r} for Delta table {path!r}: use 'append' or 'overwrite'; "
            "for partition replacement use Lakehouse.overwrite_partitions, for upserts Lakehouse.merge."
        )


_TABLE_IN_MESSAGE = re.compile(r"Delta table '[^']*?/([a-z][a-z0-9_]*)/([a-z][a-z0-9_]*)'")


def table_of_commit_error(error: BaseException) -> str:
    """`layer.table` named by a bridge error's message (its table folder), or "a lakehouse table"."""
    found = _TABLE_IN_MESSAGE.search(str(error))
    return f"{found.group(1)}.{found.group(2)}" if found else "a lakehouse table"


class ConcurrentWriteError(DeltaCommitError):
    """Another run kept committing to a table this run writes; running the step again did not get through."""

    def __init__(self, table: str, attempts: int) -> None:
        self.table = table
        self.attempts = attempts
        super().__init__(
            f"another run is writing {table}; retry when it has finished "
            f"(this run lost the commit race {attempts} time(s); rerunning is safe)"
        )


__all__ = [
    "ConcurrentWriteError",
    "LakehouseError",
    "DeltaCommitError",
    "DeltaTableNotFoundError",
    "InvalidTableNameError",
    "InvalidWriteModeError",
    "MergeKeyError",
    "SchemaMismatchError",
    "UnsupportedPartitionTypeError",
    "UnsupportedTableFeatureError",
    "table_of_commit_error",
]
