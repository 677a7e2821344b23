"""Driver side of the bridge: the Delta transaction log through delta-rs.

Opens tables (refusing features whose Parquet files are not the table's rows), converts schemas
between Spark and Delta, checks the schema of appended data, lists the active files of a snapshot
with partition and statistics pruning, and commits a whole write as ONE Delta transaction.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from deltalake import DeltaTable
from deltalake import Schema as DeltaSchema
from deltalake.exceptions import CommitFailedError, DeltaError, TableNotFoundError
from deltalake.transaction import (
    AddAction,
    CommitProperties,
    RemoveAction,
    Transaction,
    create_table_with_add_actions,
)
from pyspark.sql.types import DataType, StructType

from pyspark_delta.errors import (
    DeltaCommitError,
    DeltaTableNotFoundError,
    SchemaMismatchError,
    UnsupportedPartitionTypeError,
    UnsupportedTableFeatureError,
)
from pyspark_delta.files import file_path_from_log, partition_value_string

log = logging.getLogger(__name__)

REFUSED_READER_FEATURES = {"deletionVectors": "deletion vectors", "columnMapping": "column mapping"}
PARTITION_TYPES = {"string", "date", "boolean", "byte", "short", "integer", "long"}


def normalize_path(path: str) -> str:
    """Absolute local path (no scheme) or the URI unchanged; no trailing slash."""
    if "://" in path and not path.startswith("file://"):
        return path.rstrip("/")
    local = path[len("file://"):] if path.startswith("file://") else path
    return os.path.abspath(local)


def table_exists(path: str) -> bool:
    """True when `path` holds a Delta table (a readable `_delta_log`)."""
    return DeltaTable.is_deltatable(normalize_path(path))


def check_features(table: DeltaTable, path: str) -> None:
    """Raise UnsupportedTableFeatureError for deletion vectors or column mapping."""
    protocol = table.protocol()
    found = [
        label for name, label in REFUSED_READER_FEATURES.items()
        if name in (protocol.reader_features or [])
    ]
    config = table.metadata().configuration
    mode = (config.get("delta.columnMapping.mode") or "none").lower()
    if mode != "none" and "column mapping" not in found:
        found.append(f"column mapping (mode {mode})")
    if found:
        raise UnsupportedTableFeatureError(path, found)


def open_table(path: str, version: int | None = None) -> DeltaTable:
    """Open a Delta table (optionally at a version), refusing unsupported features."""
    path = normalize_path(path)
    try:
        table = DeltaTable(path, version=version)
    except TableNotFoundError as exc:
        raise DeltaTableNotFoundError(path) from exc
    check_features(table, path)
    return table


def spark_schema(table: DeltaTable) -> StructType:
    """The table's schema as a Spark StructType (Delta's schema JSON is Spark's)."""
    return StructType.fromJson(json.loads(table.schema().to_json()))


def _nullable(node: Any) -> Any:
    """Schema JSON with every field nullable (Delta tables written from Spark are nullable)."""
    if isinstance(node, dict):
        out = {k: _nullable(v) for k, v in node.items()}
        if "nullable" in out:
            out["nullable"] = True
        if "containsNull" in out:
            out["containsNull"] = True
        if "valueContainsNull" in out:
            out["valueContainsNull"] = True
        if out.get("type") == "struct" and "fields" in out:
            for f in out["fields"]:
                f["metadata"] = {}
        return out
    if isinstance(node, list):
        return [_nullable(v) for v in node]
    return node


def delta_schema(schema: StructType) -> DeltaSchema:
    """Delta schema of a Spark schema (all columns nullable, column metadata dropped)."""
    return DeltaSchema.from_json(json.dumps(_nullable(schema.jsonValue())))


def _type_label(t: DataType) -> str:
    return t.simpleString()


def _comparable(t: DataType) -> str:
    return json.dumps(_nullable(t.jsonValue()), sort_keys=True)


def schema_problems(expected: StructType, given: StructType) -> list[str]:
    """Differences between a table schema and data being appended, one message per column."""
    problems: list[str] = []
    given_by_name = {f.name: f for f in given.fields}
    expected_names = {f.name for f in expected.fields}
    for f in expected.fields:
        g = given_by_name.get(f.name)
        if g is None:
            problems.append(f"column {f.name!r} ({_type_label(f.dataType)}) is missing from the data")
        elif _comparable(f.dataType) != _comparable(g.dataType):
            problems.append(
                f"column {f.name!r}: table has {_type_label(f.dataType)}, "
                f"data has {_type_label(g.dataType)}"
            )
    for g in given.fields:
        if g.name not in expected_names:
            problems.append(f"column {g.name!r} ({_type_label(g.dataType)}) is not in the table")
    return problems


def check_append_schema(path: str, table: DeltaTable, given: StructType) -> None:
    """Raise SchemaMismatchError unless `given` has exactly the table's columns and types."""
    problems = schema_problems(spark_schema(table), given)
    if problems:
        raise SchemaMismatchError(path, problems)


def check_partition_columns(path: str, schema: StructType, partition_by: Sequence[str]) -> None:
    """Partition columns must exist and have a type with a stable directory-name form."""
    by_name = {f.name: f for f in schema.fields}
    for c in partition_by:
        if c not in by_name:
            raise SchemaMismatchError(
                path, [f"partition column {c!r} is not a column of the data ({schema.simpleString()})"]
            )
        type_name = by_name[c].dataType.typeName()
        if type_name not in PARTITION_TYPES:
            raise UnsupportedPartitionTypeError(path, c, by_name[c].dataType.simpleString())
    if partition_by and len(partition_by) == len(schema.fields):
        raise SchemaMismatchError(path, ["every column is a partition column; keep one data column"])


@dataclass(frozen=True)
class ActiveFile:
    """One data file of a snapshot: relative path (as on disk, not URI-encoded), absolute location,
    size, partition values, rows."""

    path: str
    location: str
    size: int
    partition_values: dict[str, str | None]
    num_records: int | None


def active_files(table: DeltaTable, predicate: str | None = None) -> list[ActiveFile]:
    """Active files of the table's loaded snapshot, pruned by `predicate` when given.

    The predicate is a SQL boolean expression; delta-rs prunes by partition values (exactly) and by
    min/max statistics (a superset): the caller still filters the rows. A predicate delta-rs
    cannot use for pruning (functions, LIKE) selects every file.
    """
    base = table.table_uri.rstrip("/")
    if base.startswith("file://"):
        base = base[len("file://"):]
    adds = table.get_add_actions(flatten=False)
    rows = _rows(adds)
    keep: set[str] | None = None
    if predicate:
        try:
            keep = set(table.file_uris(file_pruning_predicate=predicate))
        except DeltaError as exc:
            # delta-rs prunes only with comparisons, IN, IS NULL, AND/OR/NOT on columns; for
            # anything else (functions, LIKE) read every file — the caller's row filter stays exact.
            # The predicate is not logged: its literals may be personal values (a lookup by ID number).
            log.info("no file pruning on %s: delta-rs cannot prune with this predicate (%s)", base,
                     type(exc).__name__)
    files = []
    for row in rows:
        relative = file_path_from_log(row["path"])
        location = f"{base}/{relative}"
        if keep is not None and location not in keep:
            continue
        partition = row.get("partition") or {}
        files.append(
            ActiveFile(
                path=relative,
                location=location,
                size=int(row["size_bytes"]),
                partition_values={k: partition_value_string(v) for k, v in partition.items()},
                num_records=row.get("num_records"),
            )
        )
    return files


def _rows(arrow_like: Any) -> list[dict[str, Any]]:
    import pyarrow as pa

    return pa.table(arrow_like).to_pylist()


def _remove_action(f: ActiveFile, data_change: bool, now_ms: int) -> RemoveAction:
    return RemoveAction(
        path=f.path,
        data_change=data_change,
        deletion_timestamp=now_ms,
        size=f.size,
        partition_values=f.partition_values,
    )


def _add_action(add: dict[str, Any], data_change: bool) -> AddAction:
    return AddAction(
        path=add["path"],
        size=add["size"],
        partition_values=add["partition_values"],
        modification_time=add["modification_time"],
        data_change=data_change,
        stats=add["stats"],
    )


@dataclass
class CommitRequest:
    """Everything the driver needs to commit one write.

    mode: "append" or "overwrite"; dynamic_partitions: overwrite only the partitions written;
    remove_paths: log paths removed in the same transaction (MERGE, compaction);
    read_version: snapshot the operation read (conflict detection; -1: the table did not exist
    then, so finding it refuses the commit); data_change: False for
    compaction; operation: recorded in the commit's custom metadata (`citydata.operation`);
    exclusive: commit only while the table is still at read_version (any commit since refuses this
    one: a MERGE computed against that snapshot); claims: ids recorded as Delta application
    transactions (`txn`) with the commit — a commit since read_version that recorded one of them
    refuses this one, other commits do not (a bronze batch lands once under concurrent runs);
    configuration: table properties (e.g. `delta.dataSkippingStatsColumns`) set when this commit creates or
    replaces the table definition (an existing table keeps its own).
    """

    path: str
    schema: StructType
    adds: list[dict[str, Any]]
    mode: str = "append"
    partition_by: list[str] | None = None
    dynamic_partitions: bool = False
    remove_paths: list[str] | None = None
    read_version: int | None = None
    data_change: bool = True
    operation: str = "WRITE"
    metrics: dict[str, Any] | None = None
    configuration: dict[str, str] | None = None  # table properties recorded when the commit creates the table
    exclusive: bool = False
    claims: list[str] | None = None


def claimed(path: str, claim: str, version: int | None = None) -> bool:
    """Whether a commit of the table (up to `version`, default latest) recorded `claim` (a `txn` action)."""
    path = normalize_path(path)
    if not table_exists(path):
        return False
    return DeltaTable(path, version=version).transaction_version(claim) is not None


def commit(req: CommitRequest) -> int:
    """Commit one write as ONE Delta transaction; return the new table version."""
    path = normalize_path(req.path)
    custom_metadata = {
        "citydata.operation": req.operation,
        **({"citydata.metrics": req.metrics} if req.metrics else {}),
    }
    app_transactions = [Transaction(app_id=c, version=1) for c in req.claims or []] or None
    properties = CommitProperties(
        custom_metadata=custom_metadata,
        app_transactions=app_transactions,
        max_commit_retries=0 if req.exclusive else None,
    )
    if not table_exists(path):
        if req.remove_paths:
            raise DeltaTableNotFoundError(path, "Cannot remove files from a table that does not exist.")
        partition_by = list(req.partition_by or [])
        check_partition_columns(path, req.schema, partition_by)
        try:
            # No retry: a creation that lost the race to a concurrent one would otherwise be committed as a
            # second CREATE on top of it (seen with deltalake 1.6.6), adding its files to the winner's.
            create_table_with_add_actions(
                path,
                delta_schema(req.schema),
                [_add_action(a, True) for a in req.adds],
                mode="error",
                partition_by=partition_by,
                configuration=req.configuration or None,
                commit_properties=CommitProperties(custom_metadata=custom_metadata,
                                                   app_transactions=app_transactions, max_commit_retries=0),
            )
        except (CommitFailedError, DeltaError) as exc:
            if not table_exists(path):
                raise
            raise DeltaCommitError(
                f"Commit to Delta table {path!r} failed: another writer created the table at the same "
                f"time ({exc}). Re-run the operation."
            ) from exc
        version = DeltaTable(path).version()
        log.info("created Delta table %s at version %s with %d files", path, version, len(req.adds))
        return version

    if req.read_version is not None and req.read_version < 0:
        # the caller checked when the table did not exist (read_version -1): another writer created it since
        raise DeltaCommitError(
            f"Commit to Delta table {path!r} failed: another writer created the table after this operation "
            "found none. Re-run the operation."
        )
    table = open_table(path, version=req.read_version)
    table_partitions = table.metadata().partition_columns
    if req.partition_by and list(req.partition_by) != table_partitions \
            and not (req.mode == "overwrite" and not req.dynamic_partitions):
        raise SchemaMismatchError(
            path,
            [f"partition columns {list(req.partition_by)} differ from the table's {table_partitions}"],
        )
    now_ms = int(time.time() * 1000)
    current = active_files(table)
    removes: list[RemoveAction] = []
    schema = spark_schema(table)
    partition_by = table_partitions
    write_mode = "append"
    if req.mode == "overwrite" and not req.dynamic_partitions:
        # Full overwrite: delta-rs removes every active file in the same commit and records the
        # new schema when it changed.
        write_mode = "overwrite"
        removes_count = len(current)
        schema = req.schema
        partition_by = list(req.partition_by) if req.partition_by is not None else table_partitions
        check_partition_columns(path, schema, partition_by)
        if partition_by != table_partitions:
            # create_write_transaction would commit the new files without new partition columns
            # in the metadata (an unreadable table, seen with deltalake 1.6.6): replace the table
            # definition instead — still one commit ("CREATE OR REPLACE TABLE"), old files removed.
            create_table_with_add_actions(
                path,
                delta_schema(schema),
                [_add_action(a, True) for a in req.adds],
                mode="overwrite",
                partition_by=partition_by,
                configuration={**table.metadata().configuration, **(req.configuration or {})},
                commit_properties=properties,
            )
            version = DeltaTable(path).version()
            log.info("replaced Delta table %s (partitioning %s -> %s): version %s",
                     path, table_partitions, partition_by, version)
            return version
    else:
        check_append_schema(path, table, req.schema)
        if req.dynamic_partitions:
            written = {
                tuple(a["partition_values"].get(c) for c in table_partitions) for a in req.adds
            }
            removes = [
                _remove_action(f, req.data_change, now_ms) for f in current
                if tuple(f.partition_values.get(c) for c in table_partitions) in written
            ]
        if req.remove_paths:
            by_path = {f.path: f for f in current}
            missing = [p for p in req.remove_paths if p not in by_path]
            if missing:
                raise DeltaCommitError(
                    f"Cannot commit to Delta table {path!r}: {len(missing)} file(s) to remove are not "
                    f"active at version {table.version()} (e.g. {missing[0]!r}); a concurrent write "
                    "changed them. Re-run the operation."
                )
            removes += [_remove_action(by_path[p], req.data_change, now_ms) for p in req.remove_paths]
    actions: list[AddAction | RemoveAction] = [_add_action(a, req.data_change) for a in req.adds]
    actions += removes
    if write_mode == "append":
        removes_count = len(removes)
    if not actions and write_mode == "append":
        log.info("nothing to commit to %s (no files added or removed)", path)
        return DeltaTable(path).version()
    try:
        table.create_write_transaction(
            actions,
            mode=write_mode,
            schema=delta_schema(schema),
            partition_by=partition_by,
            commit_properties=properties,
        )
    except CommitFailedError as exc:
        # With max_commit_retries=0 delta-rs says only "Failed to commit transaction: 0": name what happened.
        reason = (f"another writer committed after version {table.version()}, which this operation read"
                  if req.exclusive else str(exc))
        raise DeltaCommitError(
            f"Commit to Delta table {path!r} failed: {reason}. Another writer changed the table; "
            "re-run the operation."
        ) from exc
    version = DeltaTable(path).version()
    log.info(
        "committed %s to %s: version %s, +%d files, -%d files",
        req.operation, path, version, len(req.adds), removes_count,
    )
    return version


def add_descriptions(messages: Iterable[Any]) -> list[dict[str, Any]]:
    """Flatten the `adds` lists of task commit messages (None for failed tasks)."""
    adds: list[dict[str, Any]] = []
    for m in messages:
        if m is not None:
            adds.extend(m.adds)
    return adds
