"""Lakehouse I/O: the SparkSession and Delta tables (through delta-rs) for every layer.

Owns: session configuration, Delta reads/writes, partition overwrite, MERGE, time travel, history,
compaction, vacuum and the temporary views that make tables queryable by name.
Must not: know about sources, themes or standards.
"""

from citydata.lakehouse.core import CompactResult, Lakehouse, MergeResult
from citydata.lakehouse.errors import (
    DeltaCommitError,
    DeltaTableNotFoundError,
    InvalidTableNameError,
    InvalidWriteModeError,
    LakehouseError,
    MergeKeyError,
    SchemaMismatchError,
    UnsupportedPartitionTypeError,
    UnsupportedTableFeatureError,
)
from citydata.lakehouse.session import get_spark

__all__ = [
    "CompactResult",
    "DeltaCommitError",
    "DeltaTableNotFoundError",
    "InvalidTableNameError",
    "InvalidWriteModeError",
    "Lakehouse",
    "LakehouseError",
    "MergeKeyError",
    "MergeResult",
    "SchemaMismatchError",
    "UnsupportedPartitionTypeError",
    "UnsupportedTableFeatureError",
    "get_spark",
]
