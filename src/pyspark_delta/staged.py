"""Files written before their commit, committed on the driver (no Spark job, no Python data-source planner
process): Parquet files that Spark's native writer put in a staging folder, committed as ONE Delta overwrite;
and `StagedFiles`, Parquet files a job of the caller's wrote straight into a table's folder.

Why: every write through the `delta` data source starts Python planner processes (schema, writer, commit)
that cost seconds each on a small machine, and commits when its job ends; a SQL-only caller (a dbt
materialization) can instead write `INSERT OVERWRITE DIRECTORY ... USING parquet` natively and have the driver
commit the result afterwards, and one job can write several tables (bronze and its rejects, citydata.ingest.bronze)
whose commits the driver makes once it has checked what the tasks wrote.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from pyspark.sql.types import StructType

from pyspark_delta.files import STATS_COLUMNS_PROPERTY, delete_job_files, filesystem_for, write_task_files

log = logging.getLogger(__name__)


def overwrite_from_parquet(table_path: str, parquet_dir: str, *, operation: str = "OVERWRITE",
                           without_stats: Collection[str] = ()) -> int:
    """Replace the Delta table at `table_path` (created if absent) with the rows of the Parquet files in
    `parquet_dir` (names starting with `_` or `.`, such as Spark's `_SUCCESS`, are not data). The schema is
    the files' schema. Columns in `without_stats` get no min/max statistics (in the log or the Parquet
    footers; the table records the others as `delta.dataSkippingStatsColumns` when this creates it).
    Returns the new version; on a failed commit the files it wrote are deleted."""
    import pyarrow.dataset as ds
    from pyspark.sql.pandas.types import from_arrow_schema

    from pyspark_delta.log import CommitRequest, commit

    fs, base = filesystem_for(parquet_dir)
    dataset = ds.dataset(base, format="parquet", filesystem=fs)
    schema = from_arrow_schema(dataset.schema)
    excluded = set(without_stats)
    stats_columns = [name for name in dataset.schema.names if name not in excluded] if excluded else None
    configuration = {STATS_COLUMNS_PROPERTY: ",".join(stats_columns)} if stats_columns is not None else None
    job_id = uuid.uuid4().hex[:16]
    adds = write_task_files(table_path, [], job_id, 0, dataset.to_batches(), stats_columns)
    try:
        return commit(CommitRequest(path=table_path, schema=schema, adds=adds, mode="overwrite",
                                    partition_by=[], operation=operation, configuration=configuration))
    except BaseException:
        delete_job_files(table_path, job_id)
        raise


def remove_folder(folder: str) -> None:
    """Delete a staging folder and everything in it (absent: nothing to do)."""
    import pyarrow.fs as pafs

    fs, base = filesystem_for(folder)
    if fs.get_file_info(base).type != pafs.FileType.NotFound:
        fs.delete_dir(base)


@dataclass(frozen=True)
class StagedFiles:
    """Parquet files already in a table's folder, written by tasks of the caller's job (`write_task_files` with
    `job_id`), not yet committed: `Lakehouse.write` commits them as the rows of an append or overwrite, with the
    table's schema checks, claims and read version. A refused commit leaves them in place (a retry commits them
    again); files never committed are the caller's to delete (`delete_job_files(path, job_id)`)."""

    schema: StructType
    adds: list[dict[str, Any]]
    job_id: str

    @property
    def rows(self) -> int:
        """Rows of every file (the tasks' counts, as the Delta log records them)."""
        return sum(int(add["num_records"]) for add in self.adds)
