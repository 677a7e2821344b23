"""Spark and an object-store root: without the Hadoop connector (it cannot be downloaded here) a read or write
through Spark fails at once with one message naming the missing jars, before Spark or delta-rs writes anything;
HDFS needs none (pyspark ships the client). A table written by delta-rs alone (write_arrow) is read by Spark.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest
from pyspark.sql import SparkSession
from s3_server import S3Server, moto_s3_server

from citydata.lakehouse import Lakehouse
from citydata.lakehouse.storage import ObjectStoreConnectorError, check_spark_reaches


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    with moto_s3_server() as server:
        server.create_bucket("city-lake")
        yield server


def test_spark_on_s3_without_the_connector_fails_early_with_one_message(spark: SparkSession, s3: S3Server) -> None:
    lake = Lakehouse(spark, "s3://city-lake/prod", personal_columns=lambda layer, table: (),
                     storage_options=s3.storage_options)
    assert lake.write_arrow(pa.table({"k": pa.array([1, 2], pa.int64())}), "silver", "t") == 0  # delta-rs side
    with pytest.raises(ObjectStoreConnectorError) as read_error:
        lake.read("silver", "t")
    message = str(read_error.value)
    assert "'s3://city-lake/prod'" in message and "No FileSystem for scheme" in message
    assert "hadoop-aws-3.5.0.jar" in message and "docs/scale.md" in message
    assert "\n" not in message and "\tat " not in message  # one line, no JVM stack trace
    assert read_error.value.__cause__ is None and read_error.value.__suppress_context__

    with pytest.raises(ObjectStoreConnectorError, match="hadoop-aws"):
        lake.write(spark.createDataFrame([(3,)], "k long"), "silver", "t")
    assert lake.version("silver", "t") == 0 and lake.count("silver", "t") == 2  # nothing written


def test_hdfs_and_oss_roots(spark: SparkSession) -> None:
    check_spark_reaches(spark, "hdfs://127.0.0.1:9/lake")  # the HDFS client is in pyspark's jars: no error
    with pytest.raises(ObjectStoreConnectorError, match="hadoop-aliyun-3.5.0.jar"):
        check_spark_reaches(spark, "oss://city-lake/prod")


def test_a_table_written_by_delta_rs_alone_reads_in_spark(spark: SparkSession, tmp_path: Path) -> None:
    lake = Lakehouse(spark, tmp_path / "lakehouse", personal_columns=lambda layer, table: {"name"})
    rows = pa.table({"resident_id": pa.array([1, 2], pa.int64()), "name": ["张三", "李四"]})
    lake.write_arrow(rows, "silver", "person")
    view = lake.register_view("silver", "person")
    lake.write_arrow(pa.table({"resident_id": pa.array([3], pa.int64()), "name": ["王五"]}), "silver", "person")
    # the view this session registered was refreshed by the write
    assert sorted(tuple(r) for r in spark.table(view).collect()) == [(1, "张三"), (2, "李四"), (3, "王五")]
