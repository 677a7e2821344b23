"""get_spark: the platform's session settings."""

from __future__ import annotations

import os
from pathlib import Path

from pyspark.sql import SparkSession

from citydata.lakehouse import get_spark


def test_get_spark_settings_and_get_or_create(spark: SparkSession) -> None:
    assert get_spark(app_name="again") is spark  # getOrCreate: the running session is reused
    conf = spark.conf
    assert conf.get("spark.sql.session.timeZone") == "UTC"
    assert conf.get("spark.sql.shuffle.partitions") == os.environ.get("CITYDATA_SHUFFLE_PARTITIONS", "4")
    # off: a partitioning-aware UNION in a cached plan broke the population master at 1M residents
    # ("Can't zip RDDs with unequal numbers of partitions"; see lakehouse/session.py, docs/benchmarks.md)
    assert conf.get("spark.sql.unionOutputPartitioning") == "false"
    warehouse = conf.get("spark.sql.warehouse.dir").removeprefix("file:")
    assert not Path(warehouse).resolve().is_relative_to(Path.home().resolve())
    assert os.environ["PYSPARK_PYTHON"] and os.environ["PYSPARK_DRIVER_PYTHON"]
    # The Python workers run an interpreter that can import the delta data source.
    worker = spark.sparkContext.parallelize([0], 1).map(lambda _: __import__("sys").executable).collect()
    assert worker == [os.environ["PYSPARK_PYTHON"]]
    # Timestamps are interpreted in UTC whatever the machine's zone.
    assert spark.sql("select unix_timestamp(timestamp'2024-01-01 00:00:00') as s").collect()[0].s == 1704067200
