"""Failure behaviour: failed and killed writes leave the previous version intact; refused features."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake
from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import LongType

from citydata.lakehouse import Lakehouse, UnsupportedTableFeatureError


def parquet_files(path: str) -> set[str]:
    return {str(p) for p in Path(path).rglob("*.parquet")}


def referenced_files(path: str) -> set[str]:
    return set(DeltaTable(path).file_uris())


def test_write_failing_in_one_task_leaves_previous_version_and_no_orphans(
    spark: SparkSession, lakehouse: Lakehouse
) -> None:
    lakehouse.write(spark.range(0, 10).withColumn("part", F.col("id") % 2), "silver", "f",
                    partition_by=["part"])
    path = lakehouse.path("silver", "f")
    before = sorted(lakehouse.read("silver", "f").collect())

    @F.udf(LongType())
    def explode_on_77(x):  # no type hints: PySpark would read them as a pandas UDF
        if x == 77:
            raise ValueError("boom on row 77")
        return x

    # Four tasks; the one holding id 77 fails after the others may have written their files.
    bad = spark.range(0, 100, numPartitions=4).select(
        explode_on_77("id").alias("id"), (F.col("id") % 2).alias("part")
    )
    with pytest.raises(Exception, match="boom on row 77"):
        lakehouse.write(bad, "silver", "f")
    assert DeltaTable(path).version() == 0
    assert sorted(lakehouse.read("silver", "f").collect()) == before
    # Every Parquet file on disk is referenced by the table: the aborted job left nothing behind.
    deadline = time.time() + 10  # tasks cancelled by the failure may still be finishing
    while parquet_files(path) != referenced_files(path) and time.time() < deadline:
        time.sleep(0.5)
    assert parquet_files(path) == referenced_files(path)


CHILD = textwrap.dedent(
    """
    import sys, time
    from pyspark.sql import functions as F
    from pyspark.sql.types import LongType
    from citydata.lakehouse import Lakehouse, get_spark

    root, marker = sys.argv[1], sys.argv[2]
    spark = get_spark(app_name="killed-writer")

    @F.udf(LongType())
    def slow_in_second_task(x):
        if x >= 50:
            open(marker, "w").close()   # tell the test the write is under way
            time.sleep(600)              # ...and never finish
        return x

    df = spark.range(0, 100, numPartitions=2).select(
        slow_in_second_task("id").alias("id"), (F.col("id") % 2).alias("part"))
    Lakehouse(spark, root).write(df, "silver", "k")
    """
)


def test_write_killed_midway_leaves_previous_version_readable(
    spark: SparkSession, lakehouse: Lakehouse, tmp_path: Path
) -> None:
    lakehouse.write(spark.range(0, 10).withColumn("part", F.col("id") % 2), "silver", "k",
                    partition_by=["part"])
    path = lakehouse.path("silver", "k")
    committed = referenced_files(path)
    before = sorted(lakehouse.read("silver", "k").collect())
    script, marker = tmp_path / "child.py", tmp_path / "started"
    script.write_text(CHILD)
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable, "PYSPARK_DRIVER_PYTHON": sys.executable,
           "CITYDATA_SPARK_MASTER": "local[2]"}
    child = subprocess.Popen(
        [sys.executable, str(script), lakehouse.root, str(marker)],
        env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.time() + 180
        # Wait until the fast task has written its file and the slow one is running.
        while time.time() < deadline and not (marker.exists() and parquet_files(path) - committed):
            assert child.poll() is None, "the writer process ended before it could be killed"
            time.sleep(0.5)
        assert marker.exists() and parquet_files(path) - committed, "write never got under way"
    finally:
        os.killpg(child.pid, signal.SIGKILL)  # the JVM and the Python workers with it
        child.wait(timeout=60)
    assert DeltaTable(path).version() == 0
    assert sorted(lakehouse.read("silver", "k").collect()) == before
    # The killed job's files are orphans; vacuum (full) removes them.
    orphans = parquet_files(path) - committed
    assert orphans
    lakehouse.vacuum("silver", "k", retention_hours=0)
    assert parquet_files(path) == committed
    assert sorted(lakehouse.read("silver", "k").collect()) == before


@pytest.mark.parametrize(
    ("configuration", "feature"),
    [
        ({"delta.enableDeletionVectors": "true"}, "deletion vectors"),
        ({"delta.columnMapping.mode": "name", "delta.minReaderVersion": "2",
          "delta.minWriterVersion": "5"}, "column mapping"),
    ],
)
def test_tables_with_deletion_vectors_or_column_mapping_are_refused(
    spark: SparkSession, lakehouse: Lakehouse, configuration: dict[str, str], feature: str
) -> None:
    path = lakehouse.path("bronze", "foreign")
    write_deltalake(path, pa.table({"id": pa.array([1], pa.int64())}), configuration=configuration)
    with pytest.raises(UnsupportedTableFeatureError, match=f"bronze/foreign.*uses {feature}"):
        lakehouse.read("bronze", "foreign")
    with pytest.raises(UnsupportedTableFeatureError, match=feature):
        lakehouse.write(spark.range(3), "bronze", "foreign")
    with pytest.raises(UnsupportedTableFeatureError):
        lakehouse.register_views()
    with pytest.raises(Exception, match="UnsupportedTableFeatureError"):
        spark.read.format("delta").load(path).collect()


def test_commit_conflicting_with_a_concurrent_write_is_refused(lakehouse: Lakehouse) -> None:
    from pyspark.sql.types import LongType, StructField, StructType

    from citydata.lakehouse import DeltaCommitError
    from pyspark_delta.files import write_task_files
    from pyspark_delta.log import CommitRequest, active_files, commit

    path = lakehouse.path("silver", "race")
    write_deltalake(path, pa.table({"a": pa.array([1, 2], pa.int64())}))
    read_file = active_files(DeltaTable(path))[0].path  # a MERGE read this file at version 0...
    write_deltalake(path, pa.table({"a": pa.array([3], pa.int64())}), mode="overwrite")  # ...another writer removed it
    adds = write_task_files(path, [], "racejob", 0, iter(pa.table({"a": pa.array([9], pa.int64())}).to_batches()))
    schema = StructType([StructField("a", LongType())])
    with pytest.raises(DeltaCommitError, match="concurrent transaction deleted data this operation read"):
        commit(CommitRequest(path=path, schema=schema, adds=adds, remove_paths=[read_file],
                             read_version=0, operation="MERGE"))
    assert DeltaTable(path).version() == 1
    assert DeltaTable(path).to_pyarrow_table().to_pylist() == [{"a": 3}]
