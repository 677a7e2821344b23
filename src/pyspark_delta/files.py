"""Task side of a Delta write: Arrow batches -> Parquet files in the table folder + Delta `add` entries.

Runs inside Spark's Python workers. It never touches the transaction log: it only writes data
files (named after the write job, so an aborted job can find and delete them) and describes each
file — relative path, size, partition values, Delta statistics — for the driver's single commit.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import time
import uuid
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import unquote

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.parquet as pq

HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"
# Delta statistics keep at most this many characters of a string (delta-spark keeps 32): 64 so that a keyed
# hash (64 hex characters, silver.person.id_hash) has exact bounds and a lookup by it prunes files.
STRING_STATS_PREFIX = 64
# Rows buffered per open file before one Parquet row group is written. Small enough that a lookup by a clustered
# key (silver.person by id_hash) decodes one group of a file, not the file (`citydata.lakehouse.lookup`); at
# 1,000,000 persons Spark's full scan took no longer with 65,536-row groups than with 1,000,000-row ones.
ROW_GROUP_ROWS = 65_536
ROW_GROUP_BYTES = 96 * 1024 * 1024
# Bound on Arrow data buffered by one task across all its open files (many partitions per task).
TASK_BUFFER_BYTES = 256 * 1024 * 1024

# Delta table properties that choose the columns with min/max statistics (the Delta protocol's names, so
# delta-spark honours a table written here and the bridge honours one written by delta-spark).
STATS_COLUMNS_PROPERTY = "delta.dataSkippingStatsColumns"
NUM_INDEXED_COLUMNS_PROPERTY = "delta.dataSkippingNumIndexedCols"

# Characters Spark escapes in partition directory names (ExternalCatalogUtils), plus space and
# anything non-printable; Spark's reader unescapes every %XX, so the set only has to be a superset.
_ESCAPE = set('"#%\'*/:=?\\{}[]^ <>|') | {chr(c) for c in range(0x20)} | {"\x7f"}


def escape_partition_value(value: str) -> str:
    """Directory-name form of a partition value (Hive style, readable by Spark and delta-rs)."""
    return "".join(f"%{ord(ch):02X}" if ch in _ESCAPE else ch for ch in value)


def file_path_from_log(path: str) -> str:
    """On-disk relative path of a path as the Delta log stores it (a percent-encoded URI path)."""
    return unquote(path)


def partition_value_string(value: Any) -> str | None:
    """Delta's string serialization of a partition value (None for null)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return value if value != "" else None
    return str(value)


def filesystem_for(table_path: str) -> tuple[pafs.FileSystem, str]:
    """(pyarrow filesystem, path inside it) for a local folder or a URI such as s3://bucket/x."""
    if "://" in table_path and not table_path.startswith("file://"):
        fs, inner = pafs.FileSystem.from_uri(table_path)
        return fs, inner.rstrip("/")
    local = table_path[len("file://"):] if table_path.startswith("file://") else table_path
    return pafs.LocalFileSystem(), os.path.abspath(local)


def parse_column_list(value: str) -> list[str]:
    """Column names of a comma-separated list as Delta stores it (`a, b`, or backquoted `` `a b` ``)."""
    return [name.strip().strip("`") for name in value.split(",") if name.strip().strip("`")]


def configured_stats_columns(configuration: Mapping[str, str | None], columns: Sequence[str]) -> list[str] | None:
    """The columns of `columns` (the table's, in schema order) whose min/max statistics the table's
    configuration asks for: `delta.dataSkippingStatsColumns` when set, else the first
    `delta.dataSkippingNumIndexedCols` (-1: all); None when neither is set (then every column has them)."""
    listed = configuration.get(STATS_COLUMNS_PROPERTY)
    if listed is not None:
        wanted = set(parse_column_list(listed))
        return [c for c in columns if c in wanted]
    count = configuration.get(NUM_INDEXED_COLUMNS_PROPERTY)
    if count is None or int(count) < 0:
        return None
    return list(columns)[: int(count)]


def _stat_value(value: Any, is_max: bool) -> Any:
    """JSON form of a min/max statistic, or None when it must be left out to stay correct."""
    if value is None:
        return None
    if isinstance(value, bool) or isinstance(value, (bytes, Decimal)):
        return None
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        if len(value) <= STRING_STATS_PREFIX:
            return value
        # A prefix is a valid lower bound; an upper bound would need a tie-breaker: leave it out.
        return None if is_max else value[:STRING_STATS_PREFIX]
    if isinstance(value, dt.datetime):
        # Delta stores milliseconds: round the lower bound down and the upper bound up.
        micro = value.microsecond % 1000
        if is_max and micro:
            value = value + dt.timedelta(microseconds=1000 - micro)
        elif micro:
            value = value - dt.timedelta(microseconds=micro)
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
            return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}"
    if isinstance(value, dt.date):
        return value.isoformat()
    return None


def _has_min_max(type_: pa.DataType) -> bool:
    return (
        pa.types.is_integer(type_)
        or pa.types.is_floating(type_)
        or pa.types.is_string(type_)
        or pa.types.is_large_string(type_)
        or pa.types.is_date(type_)
        or pa.types.is_timestamp(type_)
    )


def _is_nested(type_: pa.DataType) -> bool:
    return pa.types.is_struct(type_) or pa.types.is_list(type_) or pa.types.is_large_list(type_) \
        or pa.types.is_map(type_)


@dataclass
class _ColumnStats:
    nulls: int = 0
    low: Any = None
    high: Any = None
    valid: bool = True  # False once a chunk had values whose bounds we could not compute


@dataclass
class _OpenFile:
    relative: str
    full: str
    partition_values: dict[str, str | None]
    writer: pq.ParquetWriter | None = None
    buffered: list[pa.RecordBatch] = field(default_factory=list)
    buffered_rows: int = 0
    buffered_bytes: int = 0
    rows: int = 0
    stats: dict[str, _ColumnStats] = field(default_factory=dict)


class TableFileWriter:
    """Writes the rows one Spark task receives into Parquet files of one Delta table.

    One file per partition value seen by the task; partition columns are left out of the files
    (Delta convention) and live in the directory name and the `add` entry. `stats_columns`: the only
    columns with min/max statistics, in the Delta log and in the Parquet footers (row-group statistics);
    None: every column. Null counts are kept for every column.
    """

    def __init__(
        self,
        table_path: str,
        partition_by: list[str],
        job_id: str,
        task_id: int,
        stats_columns: Collection[str] | None = None,
    ) -> None:
        self.table_path = table_path
        self.partition_by = partition_by
        self.job_id = job_id
        self.task_id = task_id
        self.stats_columns = None if stats_columns is None else frozenset(stats_columns)
        self.fs, self.base = filesystem_for(table_path)
        self._open: dict[tuple[Any, ...], _OpenFile] = {}
        self._created: list[str] = []
        self._count = 0
        self._buffered_bytes = 0

    # -- public ------------------------------------------------------------------------------
    def write_all(self, batches: Iterable[pa.RecordBatch]) -> list[dict[str, Any]]:
        """Write every batch; return one `add` description per file. Cleans up its files on error."""
        try:
            for batch in batches:
                self.write(batch)
            return self.close()
        except BaseException:
            self.delete_written()
            raise

    def write(self, batch: pa.RecordBatch) -> None:
        """Write one batch (for a task that feeds several writers from one stream; `close` when done, and
        `delete_written` on error)."""
        if batch.num_rows:
            self._write_batch(batch)

    def close(self) -> list[dict[str, Any]]:
        """Close every open file; return one `add` description per file."""
        return [self._close(f) for f in self._open.values()]

    def delete_written(self) -> None:
        """Delete every file this writer created (used when the task fails)."""
        for f in self._open.values():
            if f.writer is not None:
                try:
                    f.writer.close()
                except OSError:
                    pass  # the file is deleted next; a close error on a broken file is expected
        for full in self._created:
            try:
                self.fs.delete_file(full)
            except FileNotFoundError:
                pass

    # -- internals ---------------------------------------------------------------------------
    def _write_batch(self, batch: pa.RecordBatch) -> None:
        if not self.partition_by:
            self._append(self._file_for(()), batch)
            return
        table = pa.Table.from_batches([batch])
        keys = table.select(self.partition_by)
        data = table.drop_columns(self.partition_by)
        indexed = keys.append_column("__row", pa.array(range(table.num_rows), pa.int64()))
        groups = indexed.group_by(self.partition_by, use_threads=False).aggregate(
            [("__row", "list")]
        )
        if groups.num_rows == 1:  # the common case: the whole batch is one partition
            key = tuple(groups.column(c)[0].as_py() for c in self.partition_by)
            for part in data.to_batches():
                self._append(self._file_for(key), part)
            return
        # One take puts each partition's rows together; then zero-copy slices per partition.
        rows_col = groups.column("__row_list").combine_chunks()
        ordered = data.take(rows_col.values)
        offsets = rows_col.offsets.to_pylist()
        key_lists = [groups.column(c).to_pylist() for c in self.partition_by]
        for i in range(groups.num_rows):
            key = tuple(values[i] for values in key_lists)
            piece = ordered.slice(offsets[i], offsets[i + 1] - offsets[i])
            for part in piece.to_batches():
                self._append(self._file_for(key), part)

    def _file_for(self, key: tuple[Any, ...]) -> _OpenFile:
        f = self._open.get(key)
        if f is not None:
            return f
        values = {c: partition_value_string(v) for c, v in zip(self.partition_by, key)}
        dirs = "/".join(
            f"{c}={HIVE_NULL if v is None else escape_partition_value(v)}" for c, v in values.items()
        )
        name = f"part-{self.task_id:05d}-{self.job_id}-{self._count:03d}-{uuid.uuid4().hex[:8]}" \
            ".c000.snappy.parquet"
        self._count += 1
        relative = f"{dirs}/{name}" if dirs else name
        f = _OpenFile(relative=relative, full=f"{self.base}/{relative}", partition_values=values)
        self._open[key] = f
        return f

    def _append(self, f: _OpenFile, batch: pa.RecordBatch) -> None:
        f.buffered.append(batch)
        f.buffered_rows += batch.num_rows
        f.buffered_bytes += batch.nbytes
        self._buffered_bytes += batch.nbytes
        f.rows += batch.num_rows
        if f.buffered_rows >= ROW_GROUP_ROWS or f.buffered_bytes >= ROW_GROUP_BYTES:
            self._flush(f)
        if self._buffered_bytes > TASK_BUFFER_BYTES:
            # Too much held in memory: write the largest buffers out (smaller row groups).
            for other in sorted(self._open.values(), key=lambda o: -o.buffered_bytes):
                if self._buffered_bytes <= TASK_BUFFER_BYTES // 2:
                    break
                self._flush(other)

    def _flush(self, f: _OpenFile) -> None:
        if not f.buffered:
            return
        table = pa.Table.from_batches(f.buffered)
        self._collect_stats(f, table)
        if f.writer is None:
            self.fs.create_dir(f.full.rsplit("/", 1)[0], recursive=True)
            self._created.append(f.full)
            f.writer = pq.ParquetWriter(
                f.full, table.schema, filesystem=self.fs, compression="snappy",
                write_statistics=self._footer_statistics(table.schema),
            )
        f.writer.write_table(table, row_group_size=max(table.num_rows, 1))
        self._buffered_bytes -= f.buffered_bytes
        f.buffered, f.buffered_rows, f.buffered_bytes = [], 0, 0

    def _footer_statistics(self, schema: pa.Schema) -> bool | list[str]:
        """pyarrow's `write_statistics`: row-group min/max only where the Delta log may hold them too (a
        footer is as readable as the log to anyone who can list the table)."""
        if self.stats_columns is None:
            return True
        listed = [name for name in schema.names if name in self.stats_columns]
        return listed or False

    def _collect_stats(self, f: _OpenFile, table: pa.Table) -> None:
        for name, column in zip(table.schema.names, table.columns):
            s = f.stats.setdefault(name, _ColumnStats())
            if _is_nested(column.type):
                s.valid = False
                continue
            s.nulls += column.null_count
            if self.stats_columns is not None and name not in self.stats_columns:
                continue  # null count only: no value of this column goes into the log
            if not _has_min_max(column.type) or column.null_count == len(column):
                continue
            mm = pc.min_max(column)
            low, high = mm["min"].as_py(), mm["max"].as_py()
            if isinstance(low, float) and (math.isnan(low) or math.isnan(high)):
                s.valid = False
            if low is not None and (s.low is None or low < s.low):
                s.low = low
            if high is not None and (s.high is None or high > s.high):
                s.high = high

    def _close(self, f: _OpenFile) -> dict[str, Any]:
        self._flush(f)
        assert f.writer is not None  # a file is only opened for a non-empty batch
        f.writer.close()
        size = self.fs.get_file_info(f.full).size
        mins: dict[str, Any] = {}
        maxs: dict[str, Any] = {}
        nulls: dict[str, int] = {}
        for name, s in f.stats.items():
            if not s.valid:
                continue
            nulls[name] = s.nulls
            low, high = _stat_value(s.low, False), _stat_value(s.high, True)
            if low is not None and high is not None:
                mins[name], maxs[name] = low, high
        stats = {"numRecords": f.rows, "minValues": mins, "maxValues": maxs, "nullCount": nulls}
        return {
            # delta-rs percent-encodes add/remove paths itself when it writes the log.
            "path": f.relative,
            "size": int(size),
            "partition_values": f.partition_values,
            "modification_time": int(time.time() * 1000),
            "stats": json.dumps(stats, separators=(",", ":")),
            "num_records": f.rows,
        }


def write_task_files(
    table_path: str,
    partition_by: list[str],
    job_id: str,
    task_id: int,
    batches: Iterator[pa.RecordBatch],
    stats_columns: Collection[str] | None = None,
) -> list[dict[str, Any]]:
    """Convenience wrapper: write one task's batches, return the `add` descriptions."""
    return TableFileWriter(table_path, partition_by, job_id, task_id, stats_columns).write_all(batches)


def delete_job_files(table_path: str, job_id: str) -> list[str]:
    """Delete every data file of one write job (an aborted write) — they were never committed."""
    fs, base = filesystem_for(table_path)
    try:
        infos = fs.get_file_info(pafs.FileSelector(base, recursive=True, allow_not_found=True))
    except FileNotFoundError:
        return []
    deleted = []
    for info in infos:
        if info.type == pafs.FileType.File and f"-{job_id}-" in info.base_name \
                and "/_delta_log" not in info.path:
            fs.delete_file(info.path)
            deleted.append(info.path)
    return deleted
