"""The Spark Python data source `delta`: `df.write.format("delta")`, `spark.read.format("delta")`.

Writes: every task writes Parquet files into the table folder and sends their `add` entries back;
the driver's `commit()` turns them into ONE Delta transaction through delta-rs; `abort()` deletes
what the job wrote. Reads: active files grouped into Spark partitions, read with pyarrow (the lakehouse
layer's `Lakehouse.read` is the faster path: native Parquet scan of the resolved file list).

Options (case-insensitive): `path`; writes: `partitionBy` (comma-separated, new tables and full
overwrites), `partitionOverwriteMode=dynamic` (overwrite only the partitions written),
`replaceFiles` (JSON list of log paths removed in the same commit), `readVersion`, `dataChange`,
`operation`, `commitMetrics` (JSON recorded with the commit), `exclusive` (`true`: commit only while the
table is still at `readVersion`), `claims` (JSON list of ids recorded as Delta application transactions; a
commit since `readVersion` that recorded one refuses this write), `delta.dataSkippingStatsColumns`
(comma-separated: the only columns with min/max statistics, in the log and in the Parquet footers; recorded
as the table property when the write creates the table, which later writes honour); reads: `versionAsOf`,
`filter` (SQL predicate used to prune files, rows still filtered by Spark when the caller adds a where).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pyspark.sql.datasource import (
    DataSource,
    DataSourceArrowWriter,
    DataSourceReader,
    InputPartition,
    WriterCommitMessage,
)
from pyspark.sql.types import StructType

from pyspark_delta.errors import DeltaBridgeError, DeltaTableNotFoundError

if TYPE_CHECKING:
    from pyspark_delta.log import CommitRequest

log = logging.getLogger(__name__)


def _option(options: Any, name: str, default: str | None = None) -> str | None:
    # options is case-insensitive inside Spark, a plain dict when called directly.
    for key in (name, name.lower()):
        if key in options:
            return options[key]
    return default


def _path(options: Any) -> str:
    from pyspark_delta.log import normalize_path

    path = _option(options, "path")
    if not path:
        raise DeltaBridgeError(
            "The delta data source needs a path: df.write.format('delta').save(path), "
            "spark.read.format('delta').load(path) or OPTIONS (path '...') in SQL."
        )
    return normalize_path(path)


@dataclass
class DeltaCommitMessage(WriterCommitMessage):
    """What one task wrote: `add` descriptions (path, size, partition values, stats)."""

    adds: list[dict[str, Any]] = field(default_factory=list)


class DeltaDataSource(DataSource):
    """Delta Lake tables for Spark, through delta-rs for the transaction log."""

    @classmethod
    def name(cls) -> str:
        return "delta"

    def schema(self) -> StructType:
        from pyspark_delta.log import open_table, spark_schema

        path = _path(self.options)
        try:
            table = open_table(path, version=self._version())
        except DeltaTableNotFoundError as exc:
            raise DeltaTableNotFoundError(
                path,
                "Check the path, or write the table first. To write a new table through a SQL "
                "temporary view, declare its columns: "
                "CREATE TEMPORARY VIEW v (col type, ...) USING delta OPTIONS (path '...').",
            ) from exc
        return spark_schema(table)

    def _version(self) -> int | None:
        v = _option(self.options, "versionAsOf")
        return int(v) if v not in (None, "") else None

    def reader(self, schema: StructType) -> DeltaReader:
        return DeltaReader(_path(self.options), schema, self._version(),
                           _option(self.options, "filter"))

    def writer(self, schema: StructType, overwrite: bool) -> DeltaWriter:
        from pyspark_delta.log import (
            check_append_schema,
            check_partition_columns,
            open_table,
            table_exists,
        )

        path = _path(self.options)
        partition_by = [
            c.strip() for c in (_option(self.options, "partitionBy") or "").split(",") if c.strip()
        ]
        dynamic = (_option(self.options, "partitionOverwriteMode") or "static").lower() == "dynamic"
        exists = table_exists(path)
        configuration: dict[str, str] = {}
        if exists:
            table = open_table(path)
            configuration = table.metadata().configuration
            if not overwrite or dynamic:
                check_append_schema(path, table, schema)
                partition_by = table.metadata().partition_columns
            elif not partition_by and _option(self.options, "partitionBy") is None:
                partition_by = table.metadata().partition_columns
        check_partition_columns(path, schema, partition_by)
        return DeltaWriter(
            path=path,
            schema=schema,
            overwrite=overwrite,
            partition_by=partition_by,
            dynamic=dynamic and overwrite,
            options={k.lower(): v for k, v in dict(self.options).items()},
            stats_columns=_stats_columns(self.options, configuration, schema),
        )


def _stats_columns(options: Any, configuration: dict[str, str], schema: StructType) -> list[str] | None:
    """Columns that get min/max statistics in this write: the write option `delta.dataSkippingStatsColumns`
    (what a new table records), else the table's own property, else None (every column)."""
    from pyspark_delta.files import STATS_COLUMNS_PROPERTY, configured_stats_columns

    listed = _option(options, STATS_COLUMNS_PROPERTY)
    if listed is not None:
        configuration = {STATS_COLUMNS_PROPERTY: listed}
    return configured_stats_columns(configuration, schema.fieldNames())


def _table_properties(options: dict[str, str]) -> dict[str, str] | None:
    """Table properties a write that creates the table records: the statistics column list when given
    (options arrive lower-cased; Delta's property name is case-sensitive)."""
    from pyspark_delta.files import STATS_COLUMNS_PROPERTY

    listed = _option(options, STATS_COLUMNS_PROPERTY)
    return {STATS_COLUMNS_PROPERTY: listed} if listed is not None else None


class DeltaWriter(DataSourceArrowWriter):
    """Writes Parquet in the tasks, commits once on the driver, cleans up on abort."""

    def __init__(
        self,
        path: str,
        schema: StructType,
        overwrite: bool,
        partition_by: list[str],
        dynamic: bool,
        options: dict[str, str],
        stats_columns: list[str] | None = None,
    ) -> None:
        self.path = path
        self.schema = schema
        self.overwrite = overwrite
        self.partition_by = partition_by
        self.dynamic = dynamic
        self.options = options
        self.stats_columns = stats_columns  # None: min/max statistics for every column
        self.job_id = uuid.uuid4().hex[:16]

    def write(self, iterator: Iterator[Any]) -> DeltaCommitMessage:
        from pyspark import TaskContext

        from pyspark_delta.files import write_task_files

        ctx = TaskContext.get()
        task_id = ctx.partitionId() if ctx is not None else 0
        adds = write_task_files(self.path, self.partition_by, self.job_id, task_id, iterator,
                                self.stats_columns)
        return DeltaCommitMessage(adds=adds)

    def commit(self, messages: Sequence[DeltaCommitMessage | None]) -> None:
        from pyspark_delta.log import commit

        try:
            commit(self.request(messages))
        except BaseException:
            # Nothing was committed: the files are orphans, delete them now.
            self.abort(messages)
            raise

    def request(self, messages: Sequence[DeltaCommitMessage | None]) -> CommitRequest:
        """The Delta commit of the files the tasks described, with this write's options (mode, claims, read
        version, table properties, ...)."""
        from pyspark_delta.log import CommitRequest, add_descriptions

        replace = _option(self.options, "replacefiles")
        read_version = _option(self.options, "readversion")
        data_change = (_option(self.options, "datachange") or "true").lower() != "false"
        metrics = _option(self.options, "commitmetrics")
        claims = _option(self.options, "claims")
        return CommitRequest(
            path=self.path,
            schema=self.schema,
            adds=add_descriptions(messages),
            mode="overwrite" if self.overwrite else "append",
            partition_by=self.partition_by,
            dynamic_partitions=self.dynamic,
            remove_paths=json.loads(replace) if replace else None,
            read_version=int(read_version) if read_version else None,
            data_change=data_change,
            operation=_option(self.options, "operation") or ("OVERWRITE" if self.overwrite else "APPEND"),
            metrics=json.loads(metrics) if metrics else None,
            configuration=_table_properties(self.options),
            exclusive=(_option(self.options, "exclusive") or "false").lower() == "true",
            claims=json.loads(claims) if claims else None,
        )

    def abort(self, messages: Sequence[DeltaCommitMessage | None]) -> None:
        from pyspark_delta.files import delete_job_files

        deleted = delete_job_files(self.path, self.job_id)
        log.warning("aborted write to %s: deleted %d uncommitted file(s)", self.path, len(deleted))


class _FilesPartition(InputPartition):
    """A group of data files read by one Spark task: (location, partition values) pairs."""

    def __init__(self, files: list[tuple[str, dict[str, str | None]]]) -> None:
        super().__init__(len(files))
        self.files = files


# Files per reader task are grouped up to this many bytes (fewer, larger Python tasks).
READ_SPLIT_BYTES = 128 * 1024 * 1024


class DeltaReader(DataSourceReader):
    """Reads a snapshot with pyarrow; each Spark task reads a group of files (up to 128 MB)."""

    def __init__(self, path: str, schema: StructType, version: int | None,
                 predicate: str | None) -> None:
        from pyspark_delta.log import active_files, open_table

        self.path = path
        self.schema = schema
        table = open_table(path, version=version)
        self.partition_by = table.metadata().partition_columns
        groups: list[list[tuple[str, dict[str, str | None]]]] = []
        size = READ_SPLIT_BYTES
        for f in active_files(table, predicate):
            if size + f.size > READ_SPLIT_BYTES:
                groups.append([])
                size = 0
            groups[-1].append((f.location, f.partition_values))
            size += f.size
        self.groups = [_FilesPartition(g) for g in groups]

    def partitions(self) -> Sequence[InputPartition]:
        # An empty snapshot (a table with no rows, e.g. an empty gold mart) still needs one partition: given
        # none, Spark calls read() with None and the reader failed (AssertionError in the Python worker).
        return self.groups or [_FilesPartition([])]

    def read(self, partition: InputPartition) -> Iterator[Any]:
        import pyarrow as pa
        import pyarrow.parquet as pq
        from pyspark.sql.pandas.types import to_arrow_type

        from pyspark_delta.files import filesystem_for

        assert isinstance(partition, _FilesPartition)
        names = [f.name for f in self.schema.fields]
        types = [to_arrow_type(f.dataType, timezone="UTC") for f in self.schema.fields]
        data_names = [n for n in names if n not in self.partition_by]
        for location, partition_values in partition.files:
            constants = {}
            for name, arrow_type in zip(names, types):
                if name in self.partition_by:
                    raw = partition_values.get(name)
                    constants[name] = (
                        pa.scalar(raw, pa.string()).cast(arrow_type) if raw is not None
                        else pa.scalar(None, arrow_type)
                    )
            fs, inner = filesystem_for(location)
            for batch in pq.ParquetFile(inner, filesystem=fs).iter_batches(columns=data_names):
                columns = [
                    pa.repeat(constants[name], batch.num_rows) if name in constants
                    else batch.column(name).cast(arrow_type)
                    for name, arrow_type in zip(names, types)
                ]
                yield pa.RecordBatch.from_arrays(columns, names=names)


DefaultSource = DeltaDataSource
