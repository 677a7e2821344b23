"""Exceptions of the lakehouse layer (the bridge's own, re-exported, plus naming errors)."""

from __future__ import annotations

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


__all__ = [
    "LakehouseError",
    "DeltaCommitError",
    "DeltaTableNotFoundError",
    "InvalidTableNameError",
    "InvalidWriteModeError",
    "MergeKeyError",
    "SchemaMismatchError",
    "UnsupportedPartitionTypeError",
    "UnsupportedTableFeatureError",
]
