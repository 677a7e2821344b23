"""Point lookups with real Spark and Delta: `citydata.lakehouse.lookup` returns exactly what `Lakehouse.read` with
the same predicate returns (rows, types, partition columns), reads one row group of a clustered table, and hands a
lookup that matches many rows to Spark."""

from __future__ import annotations

import logging
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from pyspark.sql import SparkSession

from citydata.lakehouse import Lakehouse
from citydata.lakehouse.lookup import lookup
from pyspark_delta.files import ROW_GROUP_ROWS

SCHEMA = ("key string, amount decimal(12,2), born date, seen timestamp, flag boolean, note string, "
          "district string")


def _rows(count: int) -> list[tuple]:
    # every third note null, two districts, keys unique and zero-padded so that their order is the string order
    return [(f"k{i:07d}", Decimal(i) / 100, date(1950 + i % 60, 1 + i % 12, 1 + i % 28),
             datetime(2026, 12, 1, i % 24, i % 60), i % 2 == 0, None if i % 3 == 0 else f"备注{i}",
             "110101" if i % 2 else "110102") for i in range(count)]


def _as_dicts(df) -> list[dict]:
    return sorted((r.asDict() for r in df.collect()), key=lambda r: r["key"])


@pytest.fixture
def keyed(spark: SparkSession, lakehouse: Lakehouse) -> Lakehouse:
    """silver.keyed: 2.5 row groups of rows, clustered by key; silver.by_district: the same rows partitioned."""
    df = spark.createDataFrame(_rows(ROW_GROUP_ROWS * 5 // 2), SCHEMA)
    lakehouse.write(df, "silver", "keyed", mode="overwrite", cluster_by="key")
    lakehouse.write(df, "silver", "by_district", mode="overwrite", partition_by=["district"])
    return lakehouse


@pytest.mark.parametrize("table", ["keyed", "by_district"])
@pytest.mark.parametrize("key", ["k0000000", "k0070001", "k0163839"])
def test_a_lookup_returns_what_a_read_returns(keyed: Lakehouse, table: str, key: str) -> None:
    found = lookup(keyed, "silver", table, "key", key)
    assert found.schema == keyed.read("silver", table).schema
    assert _as_dicts(found) == _as_dicts(keyed.read("silver", table, where=f"key = '{key}'"))
    assert len(_as_dicts(found)) == 1


def test_an_absent_key_gives_no_row_with_the_tables_columns(keyed: Lakehouse) -> None:
    found = lookup(keyed, "silver", "keyed", "key", "k9999999")
    assert found.collect() == []
    assert found.schema == keyed.read("silver", "keyed").schema


def test_a_clustered_table_holds_sorted_row_groups_a_lookup_can_skip(keyed: Lakehouse) -> None:
    groups = []
    for location in keyed.files("silver", "keyed"):
        meta = pq.ParquetFile(location).metadata
        key_column = meta.schema.names.index("key")
        groups += [(meta.row_group(i).column(key_column).statistics.min,
                    meta.row_group(i).column(key_column).statistics.max) for i in range(meta.num_row_groups)]
    assert len(groups) >= 3  # 2.5 groups' worth of rows: at least 3 row groups
    assert all(low <= high for low, high in groups)
    ordered = sorted(groups)
    assert all(previous[1] < following[0] for previous, following in zip(ordered, ordered[1:]))  # disjoint
    assert Path(keyed.files("silver", "keyed", where="key = 'k0070001'")[0]).exists()


def test_a_lookup_matching_more_than_the_driver_holds_is_read_by_spark(
        keyed: Lakehouse, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="citydata.lakehouse.lookup"):
        found = lookup(keyed, "silver", "by_district", "district", "110101", driver_rows=1000)
    assert "read by Spark" in caplog.text
    expected = keyed.read("silver", "by_district", where="district = '110101'")
    assert found.count() == expected.count() == ROW_GROUP_ROWS * 5 // 4
    assert found.exceptAll(expected).count() == 0
