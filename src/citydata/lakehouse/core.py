"""`Lakehouse`: the platform's Delta tables, one folder per table at `{root}/{layer}/{table}`.

Writes go through the `delta` Spark data source (tasks write Parquet, the driver commits once);
reads resolve the snapshot's files with delta-rs and hand them to Spark's native Parquet reader.
Partition overwrite, MERGE and compaction are computed in Spark and committed as one transaction
that removes the old files and adds the new ones. Every write keeps min/max statistics off the table's
personal columns (`personal_columns`): the Delta log and Parquet footers are readable by anyone who can list
the table.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.fs as pafs
from deltalake import ColumnProperties, CommitProperties, DeltaTable, WriterProperties, write_deltalake
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.pandas.types import from_arrow_schema
from pyspark.sql.types import StructType, TimestampType

from citydata.config import storage_options_from_env
from citydata.lakehouse import storage
from citydata.lakehouse.errors import (
    DeltaCommitError,
    DeltaTableNotFoundError,
    InvalidTableNameError,
    InvalidWriteModeError,
    LakehouseError,
    MergeKeyError,
    SchemaMismatchError,
)
from pyspark_delta.files import (
    STATS_COLUMNS_PROPERTY,
    configured_stats_columns,
    parse_column_list,
)
from pyspark_delta.log import (
    ActiveFile,
    active_files,
    check_partition_columns,
    commit,
    normalize_path,
    schema_problems,
    spark_schema,
)
from pyspark_delta.source import DeltaCommitMessage, DeltaDataSource
from pyspark_delta.staged import StagedFiles

log = logging.getLogger(__name__)

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
DEFAULT_TARGET_FILE_BYTES = 128 * 1024 * 1024
# A merge whose new files hold at most this many rows writes them from the driver (`Lakehouse.merge`): at that size
# a Spark write is mostly fixed cost (its job, the data source's writer and commit in Python processes of Spark's).
DRIVER_WRITE_ROWS = 50_000
_FILE_COL = "__citydata_file"
_PLAIN_COLUMN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_COMMIT_ERROR = re.compile(r"DeltaCommitError: ([^\n]+)")


@dataclass(frozen=True)
class MergeResult:
    """Outcome of `Lakehouse.merge`: row counts and the table version after it."""

    inserted: int
    updated: int
    unchanged: int
    version: int
    files_rewritten: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.inserted or self.updated)


@dataclass(frozen=True)
class CompactResult:
    """Outcome of `Lakehouse.compact`: files replaced and the version (unchanged if nothing to do)."""

    files_removed: int
    files_added: int
    version: int


def sql_literal(value: Any) -> str:
    """`value` as a Spark SQL / delta-rs predicate literal (a string quoted, its quotes doubled)."""
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, datetime):
        return f"'{value.isoformat()}'"
    if hasattr(value, "isoformat"):
        return f"'{value.isoformat()}'"
    raise TypeError(f"no SQL literal for {value!r}")


def snapshot_dataset(dt: DeltaTable, storage_options: Mapping[str, str] | None = None,
                     files: Sequence[ActiveFile] | None = None) -> ds.Dataset:
    """A Delta snapshot as a pyarrow dataset: one fragment per active file, in `active_files(dt)` order, with
    its partition values as guarantees (file statistics are not used: see `Lakehouse.arrow_dataset`).
    `storage_options`: those the table was opened with, for a table in an object store. `files`: only these
    of the snapshot's files (e.g. `active_files(dt, predicate)`, pruned by the log's statistics)."""
    schema = pa.schema(dt.schema().to_arrow())
    files = active_files(dt) if files is None else files
    fs, _ = storage.filesystem(dt.table_uri, storage_options or {})
    partitions = []
    for f in files:
        guarantee = ds.scalar(True)
        for column, value in f.partition_values.items():
            field = ds.field(column)
            guarantee = guarantee & (field.is_null() if value is None else
                                     field == pa.scalar(value).cast(schema.field(column).type))
        partitions.append(guarantee)
    paths = [f.location.split("://", 1)[1] if "://" in f.location else f.location for f in files]
    return ds.FileSystemDataset.from_paths(paths, schema=schema, format=ds.ParquetFileFormat(),
                                           filesystem=fs, partitions=partitions)


def _location_of(file_uri: str) -> str:
    """Local path or URI of a Spark `_metadata.file_path`, comparable with ActiveFile.location."""
    parsed = urlparse(file_uri)
    if parsed.scheme in ("", "file"):
        return unquote(parsed.path)
    return f"{parsed.scheme}://{parsed.netloc}{unquote(parsed.path)}"


def contract_personal_columns(layer: str, table: str) -> Collection[str]:
    """The default classification: columns the source contracts classify sensitive or core, by name."""
    # Imported here, not at the top: the lakehouse knows nothing of contracts, but every process builds its own
    # Lakehouse (CLI, Airflow tasks, jobs, tests), and a policy each of them had to pass would be forgotten once.
    from citydata.catalog.classification import personal_columns

    return personal_columns(layer, table)


def arrow_rows(rows: Sequence[Sequence[Any]], schema: pa.Schema) -> pa.Table:
    """Python rows as an Arrow table of `schema`, for `Lakehouse.write` by the driver: a datetime is taken as
    Spark's createDataFrame takes it (`TimestampType.toInternal`: a naive one is local time), so both write the
    same instants."""
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(schema)
    arrays = [pa.array([None if v is None else TimestampType().toInternal(v) for v in values], pa.int64()).cast(
        field.type) if pa.types.is_timestamp(field.type) else pa.array(list(values), field.type)
        for field, values in zip(schema, columns, strict=True)]
    return pa.Table.from_arrays(arrays, schema=schema)


def _clustered(df: DataFrame, column: str | None) -> DataFrame:
    """`df` range-partitioned and sorted by `column` (None: as it is); Spark (AQE) picks the number of files."""
    if column is None:
        return df
    return df.repartitionByRange(F.col(f"`{column}`")).sortWithinPartitions(F.col(f"`{column}`"))


class Lakehouse:
    """Delta tables of every layer under one root (a folder or a URI such as s3://bucket/lake).

    `personal_columns(layer, table)` names the columns that hold personal values: they get no min/max
    statistics (default: the contracts' sensitive and core fields, `citydata.catalog.classification`).
    `storage_options`: delta-rs options for an object-store root (endpoint, region, keys; default: the
    CITYDATA_STORAGE_* variables, `citydata.config.storage_options_from_env`), passed to every delta-rs call and
    to the driver's pyarrow filesystem. Spark reaches a non-local root only with a Hadoop connector on its
    classpath: reads and writes through Spark check for it first (ObjectStoreConnectorError, docs/scale.md).
    `spark` may also be a function that starts the session: it is called when Spark is first needed, so work that
    turns out to need none (a stage with nothing to do) starts no JVM.
    """

    def __init__(self, spark: SparkSession | Callable[[], SparkSession] | None, root: str | Path,
                 personal_columns: Callable[[str, str], Collection[str]] | None = None,
                 storage_options: Mapping[str, str] | None = None) -> None:
        self._start_spark = spark if callable(spark) else None
        self._spark = None if callable(spark) else spark
        self.root = normalize_path(str(root))
        self.personal_columns = personal_columns or contract_personal_columns
        self.storage_options: dict[str, str] = dict(
            storage_options if storage_options is not None else storage_options_from_env())
        self._spark_reaches_root = storage.is_local(self.root)

    @property
    def spark(self) -> SparkSession:
        """The session reads and writes run in (a Lakehouse built with None has the delta-rs side only)."""
        if self._spark is None and self._start_spark is not None:
            self._spark = self._start_spark()
        if self._spark is None:
            raise LakehouseError(
                f"This Lakehouse on {self.root!r} was built without a SparkSession: only its delta-rs side works "
                "(exists, tables, version, history, count, files, arrow_dataset, write_arrow, vacuum). "
                "Build it with Lakehouse(get_spark(), root) to read, write or merge with Spark."
            )
        return self._spark

    # -- naming ------------------------------------------------------------------------------
    def path(self, layer: str, table: str) -> str:
        """Folder of a table: `{root}/{layer}/{table}`."""
        for kind, name in (("layer", layer), ("table", table)):
            if not _NAME.match(name):
                raise InvalidTableNameError(kind, name)
        return f"{self.root}/{layer}/{table}"

    @staticmethod
    def view_name(layer: str, table: str) -> str:
        """Temporary view name of a table: `{layer}_{table}` (e.g. `silver_person`)."""
        return f"{layer}_{table}"

    def exists(self, layer: str, table: str) -> bool:
        """True when the table folder holds a Delta table."""
        return self._exists(self.path(layer, table))

    def _exists(self, path: str) -> bool:
        return storage.table_exists(path, self.storage_options)

    def _open_path(self, path: str, version: int | None = None, without_files: bool = False) -> DeltaTable:
        return storage.open_table(path, self.storage_options, version, without_files)

    def _check_spark_reaches_root(self) -> None:
        """Before Spark touches the root: one clear error when its JVM has no file system for the root's scheme
        (asked once per Lakehouse; a local root needs no asking)."""
        if not self._spark_reaches_root:
            storage.check_spark_reaches(self.spark, self.root)
            self._spark_reaches_root = True

    def tables(self, layers: Iterable[str] | None = None) -> list[tuple[str, str]]:
        """(layer, table) of every Delta table under the root, sorted."""
        fs, base = storage.filesystem(self.root, self.storage_options)
        found: list[tuple[str, str]] = []
        layer_names = list(layers) if layers is not None else [
            info.base_name for info in self._list_dirs(fs, base)
        ]
        for layer in sorted(layer_names):
            if not _NAME.match(layer):
                continue
            for info in self._list_dirs(fs, f"{base}/{layer}"):
                if _NAME.match(info.base_name) and self.exists(layer, info.base_name):
                    found.append((layer, info.base_name))
        return found

    @staticmethod
    def _list_dirs(fs: pafs.FileSystem, folder: str) -> list[pafs.FileInfo]:
        infos = fs.get_file_info(pafs.FileSelector(folder, allow_not_found=True))
        return [i for i in infos if i.type == pafs.FileType.Directory]

    # -- reads -------------------------------------------------------------------------------
    def _open(self, layer: str, table: str, version: int | None = None) -> DeltaTable:
        path = self.path(layer, table)
        if not self._exists(path):
            raise DeltaTableNotFoundError(
                path, f"Table {layer}.{table} has not been written yet (Lakehouse.write creates it)."
            )
        return self._open_path(path, version)

    def files(
        self, layer: str, table: str, version: int | None = None, where: str | None = None
    ) -> list[str]:
        """Data files `read` hands to Spark for this snapshot and filter (after pruning)."""
        return [f.location for f in active_files(self._open(layer, table, version), where)]

    def schema(self, layer: str, table: str) -> StructType:
        """The table's columns as `read` gives them (from its Delta log: no Spark)."""
        return spark_schema(self._open(layer, table))

    def count(self, layer: str, table: str, version: int | None = None) -> int:
        """Rows of the table (at `version`, default latest), from the Delta log's per-file record counts
        when every active file has one (no Spark job), else counted by Spark."""
        dt = self._open(layer, table, version)
        files = active_files(dt)
        if all(f.num_records is not None for f in files):
            return sum(int(f.num_records) for f in files)  # type: ignore[arg-type]
        path = self.path(layer, table)
        log.info("count of %s: some files have no record count in the log: counting with Spark", path)
        return self._scan(path, spark_schema(dt), files).count()

    def read(
        self, layer: str, table: str, version: int | None = None, where: str | None = None
    ) -> DataFrame:
        """The table (at `version`, default latest) as a DataFrame read by Spark's Parquet reader.

        `where` is a SQL predicate: files are pruned by partition values and min/max statistics,
        then the rows are filtered by Spark, so the result is exact.
        """
        path = self.path(layer, table)
        dt = self._open(layer, table, version)
        df = self._scan(path, spark_schema(dt), active_files(dt, where))
        return df.where(where) if where else df

    def arrow_dataset(self, layer: str, table: str, version: int | None = None,
                      where: str | None = None) -> ds.Dataset:
        """The table's snapshot (at `version`, default latest) as a pyarrow dataset on the driver, for
        bookkeeping reads of a column or two (which batches a table holds, how many rows one has) and point
        lookups (`citydata.lakehouse.lookup`): they need no Spark job, which costs more than the read on a small
        day. Scan it column by column (`to_batches(columns=..., filter=...)`, `count_rows(filter=...)`); rows for
        processing go through `read`. `where`: a SQL predicate that prunes files as `read`'s does (the scan's own
        `filter` must still select the rows).

        Built from the snapshot's file list, not with delta-rs's `to_pyarrow_dataset`: that one turns each
        file's min/max statistics into a guarantee, and a long string's statistics hold a prefix as the minimum
        and no maximum, which made it skip every file for `_batch_id == '<a batch id of 35 characters>'`."""
        dt = self._open(layer, table, version)
        return snapshot_dataset(dt, self.storage_options, files=active_files(dt, where) if where else None)

    def distinct_values(self, layer: str, table: str, column: str,
                        where: ds.Expression | None = None) -> set[Any]:
        """The distinct values of one column (of the rows matching the pyarrow `where`), read on the driver
        batch by batch (memory follows the distinct values, not the table)."""
        seen: set[Any] = set()
        for batch in self.arrow_dataset(layer, table).to_batches(columns=[column], filter=where):
            seen.update(pc.unique(batch.column(0)).to_pylist())
        return seen

    def _scan(self, path: str, schema: StructType, files: Sequence[ActiveFile]) -> DataFrame:
        self._check_spark_reaches_root()
        if not files:
            return self.spark.createDataFrame([], schema)
        df = (
            self.spark.read.schema(schema)
            .option("basePath", path)
            .parquet(*[f.location for f in files])
        )
        return df.select(*[F.col(f"`{f.name}`") for f in schema.fields])

    def version(self, layer: str, table: str) -> int:
        """Latest version of the table."""
        path = self.path(layer, table)
        if not self._exists(path):
            raise DeltaTableNotFoundError(path)
        return self._open_path(path, without_files=True).version()

    def history(self, layer: str, table: str, limit: int | None = None) -> list[dict[str, Any]]:
        """Commits, newest first: version, timestamp (UTC), operation, parameters, metrics."""
        dt = self._open(layer, table)
        out = []
        for entry in dt.history(limit):
            ts = entry.get("timestamp")
            out.append(
                {
                    "version": entry.get("version"),
                    "timestamp": datetime.fromtimestamp(ts / 1000, tz=UTC) if ts else None,
                    "operation": entry.get("citydata.operation") or entry.get("operation"),
                    "delta_operation": entry.get("operation"),
                    "parameters": entry.get("operationParameters") or {},
                    "metrics": entry.get("citydata.metrics") or entry.get("operationMetrics") or {},
                }
            )
        return out

    # -- views -------------------------------------------------------------------------------
    def register_view(self, layer: str, table: str) -> str:
        """(Re)create the temporary view `{layer}_{table}` over the table's latest snapshot."""
        name = self.view_name(layer, table)
        self.read(layer, table).createOrReplaceTempView(name)
        return name

    def register_views(self, layers: Iterable[str] | None = None) -> list[str]:
        """One temporary view per table (fast read path), named `{layer}_{table}`; returns names."""
        names = [self.register_view(layer, table) for layer, table in self.tables(layers)]
        log.info("registered %d lakehouse views", len(names))
        return names

    def _refresh_view(self, layer: str, table: str) -> None:
        # A temp view pins its file list: point it at the new snapshot after every write.
        self.register_view(layer, table)

    # -- writes ------------------------------------------------------------------------------
    def stats_columns(self, layer: str, table: str, schema: StructType, partition_by: Sequence[str] = (),
                      personal_columns: Collection[str] = ()) -> list[str]:
        """Columns that get min/max statistics: every data column but the personal ones (the classification's
        and `personal_columns`), partition columns (their values are in the folder names) and types Delta keeps
        no min/max for."""
        personal = set(self.personal_columns(layer, table)) | set(personal_columns)
        return [f.name for f in schema.fields
                if f.name not in personal and f.name not in partition_by
                and f.dataType.typeName() not in ("array", "map", "struct", "binary")]

    def _stats_option(self, layer: str, table: str, schema: StructType, partition_by: Sequence[str] | None,
                      personal_columns: Collection[str]) -> dict[str, str]:
        """The write option that keeps statistics off personal columns (recorded as the table property
        `delta.dataSkippingStatsColumns` by the write that creates the table, so delta-spark honours it too)."""
        if partition_by is None:
            path = self.path(layer, table)
            partition_by = self._open_path(path).metadata().partition_columns if self._exists(path) else []
        columns = self.stats_columns(layer, table, schema, partition_by, personal_columns)
        return {STATS_COLUMNS_PROPERTY: ",".join(c if _PLAIN_COLUMN.match(c) else f"`{c}`" for c in columns)}

    def _check_schema(self, path: str, schema: StructType) -> None:
        problems = schema_problems(spark_schema(self._open_path(path)), schema)
        if problems:
            raise SchemaMismatchError(path, problems)

    def _save(self, df: DataFrame | pa.Table | StagedFiles, path: str, mode: str, options: dict[str, str]) -> None:
        if isinstance(df, pa.Table):
            self._save_on_driver(df, path, mode, options)
            return
        if isinstance(df, StagedFiles):
            # the files are the caller's: a refused commit leaves them for a retry (no abort)
            writer = DeltaDataSource({**options, "path": path}).writer(df.schema, mode == "overwrite")
            commit(writer.request([DeltaCommitMessage(adds=df.adds)]))
            return
        self._check_spark_reaches_root()
        writer = df.write.format("delta").mode(mode)
        for key, value in options.items():
            writer = writer.option(key, value)
        try:
            writer.save(path)
        except Exception as exc:
            # The data source commits in a Python process of Spark's: a lost commit race arrives as a Spark
            # exception quoting the bridge's error. Raise it as the bridge's class, so callers can retry it.
            found = _COMMIT_ERROR.findall(str(exc))
            if found:
                raise DeltaCommitError(found[-1].strip()) from exc
            raise

    @staticmethod
    def _save_on_driver(data: pa.Table, path: str, mode: str, options: dict[str, str]) -> None:
        """What `_save` has Spark do, done by the driver: the `delta` data source's own writer writes the rows
        as one task would and commits them (same files, statistics, claims and conflict checks), without a
        Spark job — a job's fixed cost is most of a small write."""
        writer = DeltaDataSource({**options, "path": path}).writer(from_arrow_schema(data.schema),
                                                                   mode == "overwrite")
        writer.commit([writer.write(iter(data.to_batches()))])

    def write(
        self,
        df: DataFrame | pa.Table | StagedFiles,
        layer: str,
        table: str,
        mode: str = "append",
        partition_by: Sequence[str] | None = None,
        *,
        read_version: int | None = None,
        claims: Sequence[str] = (),
        personal_columns: Collection[str] = (),
        cluster_by: str | None = None,
    ) -> int:
        """Append to or overwrite the table (created on first write); returns the new version.

        `df` is a DataFrame (written by Spark tasks) or, for rows already on the driver, an Arrow table: the
        driver then writes it through the same data source without a Spark job (no `cluster_by`); or files a job
        already wrote into the table's folder (`StagedFiles`, written with `stats_columns`' columns), committed.

        Overwrite replaces content, schema and (when `partition_by` is given) partitioning in one
        commit; append requires the table's exact columns and types. `claims` are recorded with the
        commit (Delta application transactions): it is refused with DeltaCommitError when a commit after
        `read_version` (the version the caller checked; -1: it found no table) recorded one of them, or
        when the table was created concurrently; commits of other claims do not conflict.
        `personal_columns`: columns without min/max statistics besides the classification's. `cluster_by`:
        rows range-partitioned and sorted by this column, so each file holds a narrow range of it and a
        lookup by it prunes files by their statistics (a keyed hash is random: unclustered, every file's
        range covers nearly all values).
        """
        path = self.path(layer, table)
        if mode not in ("append", "overwrite"):
            raise InvalidWriteModeError(mode, path)
        on_driver = isinstance(df, (pa.Table, StagedFiles))
        if on_driver and cluster_by is not None:
            raise LakehouseError(f"write to {path!r}: cluster_by needs a DataFrame (Spark sorts the rows), "
                                 "not an Arrow table")
        schema = from_arrow_schema(df.schema) if isinstance(df, pa.Table) else df.schema
        exists = self._exists(path)
        options: dict[str, str] = {"operation": "WRITE" if mode == "append" else "OVERWRITE"}
        if exists and mode == "append":
            self._check_schema(path, schema)
            table_parts = self._open_path(path).metadata().partition_columns
            if partition_by is not None and list(partition_by) != table_parts:
                raise SchemaMismatchError(
                    path, [f"partition_by {list(partition_by)} differs from the table's {table_parts}"]
                )
        elif partition_by is not None:
            check_partition_columns(path, schema, list(partition_by))
            options["partitionBy"] = ",".join(partition_by)
        elif not exists:
            options["partitionBy"] = ""
        if claims:
            options["claims"] = json.dumps(list(claims))
        if read_version is not None:
            options["readVersion"] = str(read_version)
        new_partitioning = list(partition_by) if partition_by is not None and mode == "overwrite" else None
        options.update(self._stats_option(layer, table, schema, new_partitioning, personal_columns))
        self._save(df if on_driver else _clustered(df, cluster_by), path, mode, options)
        version = self.version(layer, table)
        how = ", staged files" if isinstance(df, StagedFiles) else ", on the driver" if on_driver else ""
        log.info("wrote %s.%s (%s%s): version %d", layer, table, mode, how, version)
        if self._spark is not None:
            self._refresh_view(layer, table)
        return version

    def write_arrow(self, data: pa.Table, layer: str, table: str, mode: str = "append",
                    partition_by: Sequence[str] | None = None, *, personal_columns: Collection[str] = ()) -> int:
        """Append to or overwrite the table from an Arrow table on the driver, with delta-rs alone (one commit,
        no Spark job); returns the new version.

        For small tables (bookkeeping, a few thousand rows) and for roots Spark cannot reach (an object store
        without the Hadoop connector, docs/scale.md): rows for processing go through `write`. Same rules as
        `write`: append needs the table's exact columns and types, personal columns get no min/max statistics
        in the Delta log (the table property) nor in the Parquet footers. Works on a Lakehouse built without a
        SparkSession; with one, the table's view is refreshed when the session has registered it.
        """
        path = self.path(layer, table)
        if mode not in ("append", "overwrite"):
            raise InvalidWriteModeError(mode, path)
        schema = from_arrow_schema(data.schema)
        exists = self._exists(path)
        if exists and mode == "append":
            self._check_schema(path, schema)
            partition_by = None  # the table's
        elif partition_by is not None:
            check_partition_columns(path, schema, list(partition_by))
        personal = set(self.personal_columns(layer, table)) | set(personal_columns)
        stats = self._stats_option(layer, table, schema, partition_by, personal_columns)
        no_footer_stats = {c: ColumnProperties(statistics_enabled="NONE") for c in schema.fieldNames() if c in personal}
        operation = "WRITE" if mode == "append" else "OVERWRITE"
        write_deltalake(
            path, data, mode=mode, partition_by=list(partition_by) if partition_by else None,
            configuration=stats if not exists or mode == "overwrite" else None,
            schema_mode="overwrite" if exists and mode == "overwrite" else None,
            storage_options=self.storage_options or None,
            writer_properties=WriterProperties(column_properties=no_footer_stats or None),
            commit_properties=CommitProperties(custom_metadata={"citydata.operation": operation}),
        )
        version = self.version(layer, table)
        log.info("wrote %s.%s from Arrow (%s, %d rows): version %d", layer, table, mode, data.num_rows, version)
        view = self.view_name(layer, table)
        if self._spark is not None and self._spark_reaches_root and self._spark.catalog.tableExists(view):
            self._refresh_view(layer, table)  # a view this session registered would still show the old files
        return version

    def overwrite_partitions(self, df: DataFrame, layer: str, table: str, *,
                             personal_columns: Collection[str] = ()) -> int:
        """Replace exactly the partitions present in `df` (one commit); returns the new version."""
        path = self.path(layer, table)
        dt = self._open(layer, table)
        parts = dt.metadata().partition_columns
        if not parts:
            raise LakehouseError(
                f"Delta table {path!r} is not partitioned: overwrite_partitions needs a partitioned "
                "table. Use write(..., mode='overwrite') to replace all of it."
            )
        self._check_schema(path, df.schema)
        self._save(
            df, path, "overwrite",
            {"partitionOverwriteMode": "dynamic", "operation": "OVERWRITE PARTITIONS",
             "readVersion": str(dt.version()),
             **self._stats_option(layer, table, df.schema, parts, personal_columns)},
        )
        version = self.version(layer, table)
        self._refresh_view(layer, table)
        return version

    def merge(self, df: DataFrame, layer: str, table: str, keys: Sequence[str], *,
              personal_columns: Collection[str] = (), read_version: int | None = None,
              cluster_by: str | None = None, driver_rows: int = DRIVER_WRITE_ROWS) -> MergeResult:
        """Upsert `df` into the table by `keys`: one commit, or none when nothing changes.

        Only files that may hold a source key are read (partition + min/max pruning), only files
        holding an updated row are rewritten; new keys go to new files. Source keys must be unique.
        `personal_columns`: columns without min/max statistics besides the classification's; `cluster_by`:
        the files this merge writes are range-partitioned and sorted by that column (see `write`).
        `read_version`: the table's version `df` was computed from (e.g. rows compared with the table's current
        ones); the merge is refused with DeltaCommitError when another writer committed since. Without it, the
        version the merge itself reads; either way the commit is refused if any commit came after it.
        When the files it writes hold at most `driver_rows` rows (the inserted and updated ones and the rows kept
        from rewritten files), they are collected and written by the driver (`write` of an Arrow table: the same
        rows and commit, without the write job and the data source's Python processes).
        """
        path = self.path(layer, table)
        keys = list(keys)
        if not keys:
            raise MergeKeyError(f"merge into {path!r} needs at least one key column (keys=[...]).")
        missing = [k for k in keys if k not in df.columns]
        if missing:
            raise MergeKeyError(
                f"merge into {path!r}: key column(s) {missing} are not in the source "
                f"columns {df.columns}."
            )
        exists = self._exists(path)
        if exists:
            self._check_schema(path, df.schema)
        # The source is evaluated several times (key check, pruning bounds, classification):
        # persist it so it is computed once and every step sees the same rows.
        owned = not df.is_cached  # leave a caller's own cache alone
        source_all = df.persist() if owned else df
        try:
            return self._merge(source_all, layer, table, path, keys, exists, tuple(personal_columns), read_version,
                               cluster_by=cluster_by, driver_rows=driver_rows)
        finally:
            if owned:
                source_all.unpersist()

    def _merge(
        self, df: DataFrame, layer: str, table: str, path: str, keys: list[str], exists: bool,
        personal_columns: tuple[str, ...] = (), computed_from: int | None = None, cluster_by: str | None = None,
        driver_rows: int = 0,
    ) -> MergeResult:
        # One job for the key check, the pruning bounds of the first key (the grouped keys keep it) and the rows.
        first = keys[0]
        per_key = df.groupBy(*keys).count()
        summary = per_key.agg(F.max("count").alias("most"), F.min(first).alias("lo"),
                              F.max(first).alias("hi"), F.sum("count").alias("rows")).first()
        if summary is not None and (summary["most"] or 0) > 1:
            duplicate = per_key.where(F.col("count") > 1).limit(1).collect()
            personal = set(self.personal_columns(layer, table)) | set(personal_columns)
            # an error message must not quote a personal value: such a key part is replaced by its length
            example = {k: f"<personal, {len(str(duplicate[0][k]))} characters>" if k in personal else duplicate[0][k]
                       for k in keys}
            raise MergeKeyError(
                f"merge into {path!r}: the source holds several rows for key {example}; "
                "deduplicate the source by the keys first."
            )
        if not exists:
            inserted = int(summary["rows"] or 0) if summary is not None else 0
            if inserted <= driver_rows:  # a few rows: collected and written by the driver
                rows: DataFrame | pa.Table = _clustered(df, cluster_by).toArrow()
                clustering = None
            else:
                rows, clustering = df, cluster_by
            # -1: created by another writer since `exists` was checked, the commit is refused (not appended to)
            version = self.write(rows, layer, table, mode="append", read_version=-1, personal_columns=personal_columns,
                                 cluster_by=clustering)
            return MergeResult(inserted=inserted, updated=0, unchanged=0, version=version)

        if computed_from is not None and computed_from != self.version(layer, table):
            raise DeltaCommitError(
                f"Commit to Delta table {path!r} failed: another writer committed after version {computed_from}, "
                "which this merge's rows were computed from. Re-run the operation.")
        dt = self._open(layer, table, computed_from)
        read_version = dt.version()
        schema = spark_schema(dt)
        bounds = (summary["lo"], summary["hi"]) if summary is not None else (None, None)
        personal = set(self.personal_columns(layer, table)) | set(personal_columns)
        if keys[0] in personal:
            bounds = (None, None)  # no statistics on a personal key: a range over it would prune nothing
        files = active_files(dt, self._merge_predicate(df, keys, dt.metadata().partition_columns, bounds))
        source = df.select(*[F.col(f"`{f.name}`") for f in schema.fields])
        value_cols = [f.name for f in schema.fields if f.name not in keys]

        if files:
            target = self._scan(path, schema, files).withColumn(
                _FILE_COL, F.col("_metadata.file_path")
            )
            t = target.select(
                *keys, *[F.col(f"`{c}`").alias(f"__t_{c}") for c in value_cols], _FILE_COL
            )
            joined = source.join(t, on=keys, how="left")
            same: Column = F.lit(True)
            for c in value_cols:
                same = same & F.col(f"`{c}`").eqNullSafe(F.col(f"`__t_{c}`"))
            status = (
                F.when(F.col(_FILE_COL).isNull(), F.lit("insert"))
                .when(same, F.lit("same"))
                .otherwise(F.lit("update"))
            )
            classified = joined.select(
                *[F.col(f"`{f.name}`") for f in schema.fields], F.col(_FILE_COL),
                status.alias("__status"),
            ).persist()
        else:
            target = None
            classified = source.withColumn(_FILE_COL, F.lit(None).cast("string")) \
                .withColumn("__status", F.lit("insert")).persist()
        try:
            # one job: the rows per status and, for the updates, the files that hold them (to rewrite)
            by_file = classified.groupBy("__status", _FILE_COL).count().collect()
            counts = {status: sum(r["count"] for r in by_file if r["__status"] == status)
                      for status in ("insert", "update", "same")}
            inserted, updated, unchanged = counts["insert"], counts["update"], counts["same"]
            if not inserted and not updated:
                log.info("merge into %s: nothing changed (%d rows identical)", path, unchanged)
                return MergeResult(0, 0, unchanged, read_version)
            rewrite_uris = [r[_FILE_COL] for r in by_file if r["__status"] == "update"]
            by_location = {f.location: f for f in files}
            rewrite = [by_location[_location_of(u)] for u in rewrite_uris]
            out = classified.where(F.col("__status").isin("insert", "update")).select(
                *[F.col(f"`{f.name}`") for f in schema.fields]
            )
            if rewrite and target is not None:
                updated_keys = classified.where(F.col("__status") == "update").select(*keys)
                kept = (
                    self._scan(path, schema, rewrite)
                    .join(updated_keys, on=keys, how="left_anti")
                    .select(*[F.col(f"`{f.name}`") for f in schema.fields])
                )
                out = out.unionByName(kept)
            metrics = {"inserted": inserted, "updated": updated, "unchanged": unchanged,
                       "files_rewritten": len(rewrite)}
            written = _clustered(out, cluster_by)
            kept_rows = [f.num_records for f in rewrite]
            if None not in kept_rows and inserted + updated + sum(kept_rows) <= driver_rows:  # type: ignore[arg-type]
                written = written.toArrow()  # a few rows: collected (one job) and written by the driver
            self._save(
                written, path, "append",
                # exclusive: inserts computed from this snapshot add files only, which delta-rs' conflict
                # checker lets through; a concurrent MERGE of the same keys would leave them twice.
                {"replaceFiles": json.dumps([f.path for f in rewrite]),
                 "readVersion": str(read_version), "exclusive": "true", "operation": "MERGE",
                 "commitMetrics": json.dumps(metrics),
                 **self._stats_option(layer, table, schema, dt.metadata().partition_columns, personal_columns)},
            )
        finally:
            classified.unpersist()
        version = self.version(layer, table)
        log.info("merge into %s: %s -> version %d", path, metrics, version)
        self._refresh_view(layer, table)
        return MergeResult(inserted, updated, unchanged, version, len(rewrite))

    def _merge_predicate(
        self, df: DataFrame, keys: list[str], partitions: list[str], bounds: tuple[Any, Any]
    ) -> str | None:
        """File-pruning predicate for the target rows a source can touch (`bounds`: the source's
        min and max of the first key)."""
        clauses: list[str] = []
        if partitions and set(partitions) <= set(keys):
            combos = df.select(*partitions).distinct().limit(1001).collect()
            if len(combos) <= 1000:
                ors = []
                for row in combos:
                    ands = [
                        f"`{c}` IS NULL" if row[c] is None else f"`{c}` = {sql_literal(row[c])}"
                        for c in partitions
                    ]
                    ors.append("(" + " AND ".join(ands) + ")")
                clauses.append("(" + " OR ".join(ors) + ")" if ors else "false")
        first = keys[0]
        type_name = df.schema[first].dataType.typeName()
        lo, hi = bounds
        if type_name in ("string", "integer", "long", "short", "byte", "date") and lo is not None:
            clauses.append(f"`{first}` >= {sql_literal(lo)} AND `{first}` <= {sql_literal(hi)}")
        return " AND ".join(clauses) if clauses else None

    # -- maintenance -------------------------------------------------------------------------
    def compact(
        self, layer: str, table: str, target_file_bytes: int = DEFAULT_TARGET_FILE_BYTES
    ) -> CompactResult:
        """Rewrite small files (per partition) into fewer, larger ones: one commit, dataChange=false."""
        path = self.path(layer, table)
        dt = self._open(layer, table)
        parts = dt.metadata().partition_columns
        groups: dict[tuple[Any, ...], list[ActiveFile]] = {}
        for f in active_files(dt):
            if f.size < target_file_bytes:
                groups.setdefault(tuple(f.partition_values.get(c) for c in parts), []).append(f)
        small = [f for group in groups.values() if len(group) > 1 for f in group]
        if not small:
            log.info("compact %s: nothing to do", path)
            return CompactResult(0, 0, dt.version())
        df = self._scan(path, spark_schema(dt), small)
        if parts:
            df = df.repartition(*parts)
        else:
            df = df.coalesce(max(1, math.ceil(sum(f.size for f in small) / target_file_bytes)))
        self._save(
            df, path, "append",
            {"replaceFiles": json.dumps([f.path for f in small]), "readVersion": str(dt.version()),
             "dataChange": "false", "operation": "OPTIMIZE", **self._compaction_stats_option(layer, table, dt)},
        )
        version = self.version(layer, table)
        added = len(active_files(self._open_path(path))) - (len(active_files(dt)) - len(small))
        self._refresh_view(layer, table)
        log.info("compact %s: %d small files -> %d, version %d", path, len(small), added, version)
        return CompactResult(len(small), added, version)

    def _compaction_stats_option(self, layer: str, table: str, dt: DeltaTable) -> dict[str, str]:
        """Compaction rewrites rows as they are: statistics on the columns the table already has them for
        (its property), and never on the classification's personal columns."""
        schema = spark_schema(dt)
        parts = dt.metadata().partition_columns
        listed = configured_stats_columns(dt.metadata().configuration, schema.fieldNames())
        option = self._stats_option(layer, table, schema, parts, ())
        if listed is None:
            return option
        allowed = set(parse_column_list(option[STATS_COLUMNS_PROPERTY]))
        kept = [c for c in listed if c in allowed]
        return {STATS_COLUMNS_PROPERTY: ",".join(c if _PLAIN_COLUMN.match(c) else f"`{c}`" for c in kept)}

    def vacuum(
        self, layer: str, table: str, retention_hours: int = 168, dry_run: bool = False
    ) -> list[str]:
        """Delete files no snapshot younger than `retention_hours` needs (also orphans of failed
        writes older than that); returns the files deleted (or that would be, when dry_run)."""
        dt = self._open(layer, table)
        if retention_hours < 168:
            log.warning("vacuum %s with retention %dh: time travel to older versions will fail",
                        self.path(layer, table), retention_hours)
        deleted = dt.vacuum(
            retention_hours=retention_hours,
            dry_run=dry_run,
            enforce_retention_duration=False,
            full=True,
        )
        log.info("vacuum %s: %d file(s)%s", self.path(layer, table), len(deleted),
                 " (dry run)" if dry_run else "")
        return deleted
