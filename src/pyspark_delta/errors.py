"""Exceptions of the Spark <-> Delta bridge; every message names the table and the fix."""

from __future__ import annotations


class DeltaBridgeError(Exception):
    """Base class of every error raised by the `delta` data source and the lakehouse layer."""


class DeltaTableNotFoundError(DeltaBridgeError):
    """The path holds no Delta table (no `_delta_log`)."""

    def __init__(self, path: str, hint: str = "") -> None:
        self.path = path
        super().__init__(
            f"No Delta table at {path!r} (no _delta_log folder). "
            + (hint or "Write the table first, or check the path/layer/table name.")
        )


class SchemaMismatchError(DeltaBridgeError):
    """Data written to an existing table does not have the table's schema."""

    def __init__(self, path: str, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(
            f"Schema mismatch writing to Delta table {path!r}: "
            + "; ".join(problems)
            + ". Cast the columns to the table's types (e.g. df.withColumn(c, col(c).cast(t))), "
            "or write with mode='overwrite' to replace the table and its schema."
        )


class UnsupportedTableFeatureError(DeltaBridgeError):
    """The table uses a Delta feature whose data files cannot be read or written as plain Parquet."""

    def __init__(self, path: str, features: list[str]) -> None:
        self.path = path
        self.features = features
        super().__init__(
            f"Delta table {path!r} uses {', '.join(features)}, which this Spark/delta-rs bridge "
            "refuses: its Parquet files alone do not hold the table's rows or column names. "
            "Rewrite the table without the feature (with delta-spark: REORG TABLE ... APPLY (PURGE) "
            "and disable the feature), or use native delta-spark."
        )


class UnsupportedPartitionTypeError(DeltaBridgeError):
    """A partition column has a type this bridge does not partition by."""

    def __init__(self, path: str, column: str, type_name: str) -> None:
        super().__init__(
            f"Cannot partition Delta table {path!r} by column {column!r} of type {type_name}: "
            "partition columns must be string, date, boolean or an integer type. "
            "Partition by a derived column instead (e.g. to_date(ts) or a year integer)."
        )


class DeltaCommitError(DeltaBridgeError):
    """The Delta transaction could not be committed (e.g. a concurrent writer won)."""


class MergeKeyError(DeltaBridgeError):
    """MERGE keys are missing or the source holds several rows for one key."""
