"""A few rows are written by the driver (an Arrow table through the `delta` data source's own writer, no Spark
job), more by Spark tasks: both leave the same table, the same statistics policy and the same commit rules.

`Lakehouse.merge` writes from the driver when its new files hold at most `driver_rows` rows: the same MERGE into
two copies of a table — `driver_rows=0` (Spark writes) and the default — gives the same result, rows, columns and
number of versions, into an existing table (plain and partitioned, with an update that rewrites a file and keeps
its other rows) and into a missing one. `Lakehouse.write` of an Arrow table honours claims like a DataFrame's.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections import Counter
from decimal import Decimal

import pyarrow as pa
import pytest
from pyspark.sql import SparkSession

from citydata.lakehouse import DeltaCommitError, Lakehouse
from citydata.lakehouse.core import DRIVER_WRITE_ROWS, arrow_rows

SCHEMA = "id string, district string, amount decimal(20,2), born date, seen timestamp, ok boolean, n long"
T1 = dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
T2 = dt.datetime(2024, 3, 4, 5, 6, 7, tzinfo=dt.UTC)


def _row(key: int, district: str, when: dt.datetime, amount: str | None = "12.50") -> tuple:
    return (f"k{key:03d}", district, None if amount is None else Decimal(amount), dt.date(1990, 1, key % 28 + 1),
            when, key % 2 == 0, key)


def _content(lakehouse: Lakehouse, table: str) -> Counter:
    return Counter(map(tuple, lakehouse.read("silver", table).collect()))


@pytest.mark.parametrize("partition_by", [None, ["district"]])
def test_a_merge_written_by_the_driver_equals_one_written_by_spark(spark: SparkSession, tmp_path,
                                                                  partition_by: list[str] | None) -> None:
    base = Lakehouse(spark, tmp_path / "base")
    for part in range(3):  # three files of ten rows
        rows = [_row(key, "110101" if key % 3 else "110102", T1) for key in range(part * 10, part * 10 + 10)]
        base.write(spark.createDataFrame(rows, SCHEMA), "silver", "t", partition_by=partition_by)
    source = spark.createDataFrame(
        [_row(3, "110101", T2, "99.99"), _row(4, "110101", T1),  # an update, an unchanged row
         _row(15, "110102", T2, None), _row(40, "110101", T2), _row(41, "110102", T2)], SCHEMA)  # update, inserts
    results, lakehouses = {}, {}
    for way, driver_rows in (("spark", 0), ("driver", DRIVER_WRITE_ROWS)):
        shutil.copytree(tmp_path / "base", tmp_path / way)
        lakehouses[way] = Lakehouse(spark, tmp_path / way)
        results[way] = lakehouses[way].merge(source, "silver", "t", keys=["id"], driver_rows=driver_rows)
        results[f"{way} new"] = lakehouses[way].merge(source, "silver", "fresh", keys=["id"], driver_rows=driver_rows)
    assert results["driver"] == results["spark"]
    assert (results["spark"].inserted, results["spark"].updated, results["spark"].unchanged) == (2, 2, 1)
    assert results["spark"].files_rewritten >= 1
    assert results["driver new"] == results["spark new"]
    for table in ("t", "fresh"):
        by_spark, by_driver = lakehouses["spark"], lakehouses["driver"]
        assert by_driver.schema("silver", table) == by_spark.schema("silver", table)
        assert _content(by_driver, table) == _content(by_spark, table)
        assert by_driver.version("silver", table) == by_spark.version("silver", table)
        assert [h["operation"] for h in by_driver.history("silver", table)] == \
            [h["operation"] for h in by_spark.history("silver", table)]
    merged = {r["id"]: r for r in lakehouses["driver"].read("silver", "t").collect()}
    assert (merged["k003"]["amount"], merged["k015"]["amount"], len(merged)) == (Decimal("99.99"), None, 32)
    again = lakehouses["driver"].merge(source, "silver", "t", keys=["id"])
    assert (again.inserted, again.updated, again.version) == (0, 0, results["driver"].version)


def test_an_arrow_write_is_refused_when_another_commit_recorded_its_claim(spark: SparkSession, tmp_path) -> None:
    lakehouse = Lakehouse(spark, tmp_path / "lake")
    schema = pa.schema([("batch", pa.string()), ("at", pa.timestamp("us", tz="UTC"))])
    lakehouse.write(arrow_rows([("a", T1)], schema), "bronze", "claimed", claims=["a"], read_version=-1)
    lakehouse.write(spark.createDataFrame([("b", T2)], "batch string, at timestamp"), "bronze", "claimed",
                    claims=["b"], read_version=0)
    with pytest.raises(DeltaCommitError):  # claim b was committed after version 0
        lakehouse.write(arrow_rows([("b", T2)], schema), "bronze", "claimed", claims=["b"], read_version=0)
    lakehouse.write(arrow_rows([("c", T2)], schema), "bronze", "claimed", claims=["c"], read_version=0)
    local = {t: t.astimezone().replace(tzinfo=None) for t in (T1, T2)}  # as collect gives a timestamp
    assert sorted(map(tuple, lakehouse.read("bronze", "claimed").collect())) == [
        ("a", local[T1]), ("b", local[T2]), ("c", local[T2])]
