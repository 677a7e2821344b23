"""Statistics and personal values, with real Spark and Delta: Lakehouse writes keep min/max off personal columns
in the log and the footers (write, merge, compaction), a lookup by the keyed hash still prunes files, and Spark's
own Parquet writer (the gold staging path) writes no statistics when told so."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable
from pyspark.sql import SparkSession

from citydata.lakehouse import Lakehouse, MergeKeyError
from citydata.standards.pseudonym import id_number_hash, platform_key
from pyspark_delta.files import STATS_COLUMNS_PROPERTY

SCHEMA = "id_number string, name string, phone string, id_hash string, district_code string"
# Eight persons (test numbers of the GB 11643 shape, phones of the 11-digit mobile shape), written as 4 files.
PERSONS = [(f"11010119900101{i:04d}", f"测试{'甲乙丙丁戊己庚辛'[i]}", f"1380000{i:04d}", "110101") for i in range(8)]


def _rows(lakehouse: Lakehouse) -> list[tuple[str, ...]]:
    key = platform_key(lakehouse.root)
    return [(id_number, name, phone, id_number_hash(id_number, key), district)
            for id_number, name, phone, district in PERSONS]


def _log_stats(table: Path) -> list[dict]:
    stats = []
    for commit in sorted((table / "_delta_log").glob("*.json")):
        for line in commit.read_text(encoding="utf-8").splitlines():
            add = json.loads(line).get("add")
            if add and add.get("stats"):
                stats.append(json.loads(add["stats"]))
    return stats


def _footer_columns_with_statistics(table: Path) -> set[str]:
    found = set()
    for file in table.rglob("*.parquet"):
        meta = pq.read_metadata(file)
        for g in range(meta.num_row_groups):
            for c in range(meta.num_columns):
                chunk = meta.row_group(g).column(c)
                if chunk.statistics is not None and chunk.statistics.has_min_max:
                    found.add(chunk.path_in_schema)
    return found


def test_personal_columns_get_no_statistics_and_the_hash_prunes(spark: SparkSession, lakehouse: Lakehouse) -> None:
    rows = _rows(lakehouse)
    # 4 files as a larger table would have (Spark's AQE would put 8 rows in one file)
    spark.conf.set("spark.sql.adaptive.coalescePartitions.enabled", "false")
    try:
        lakehouse.write(spark.createDataFrame(rows, SCHEMA), "silver", "person_like", cluster_by="id_hash")
    finally:
        spark.conf.unset("spark.sql.adaptive.coalescePartitions.enabled")
    table = Path(lakehouse.path("silver", "person_like"))
    stats = _log_stats(table)
    assert len(stats) == 4
    assert all(set(s["minValues"]) == {"id_hash", "district_code"} for s in stats)
    assert all(set(s["nullCount"]) == {"id_number", "name", "phone", "id_hash", "district_code"} for s in stats)
    assert _footer_columns_with_statistics(table) == {"id_hash", "district_code"}
    assert DeltaTable(str(table)).metadata().configuration == {STATS_COLUMNS_PROPERTY: "id_hash,district_code"}

    # clustered: each file holds a range of hashes of its own
    ranges = sorted((st["minValues"]["id_hash"], st["maxValues"]["id_hash"]) for st in stats)
    assert all(high < low for (_, high), (low, _) in zip(ranges, ranges[1:]))
    # one resident by hash: the log's statistics leave one file of four to read
    wanted = rows[5]
    files = lakehouse.files("silver", "person_like", where=f"id_hash = '{wanted[3]}'")
    assert len(files) == 1 and len(lakehouse.files("silver", "person_like")) == 4
    found = lakehouse.read("silver", "person_like", where=f"id_hash = '{wanted[3]}'")
    assert len(found.inputFiles()) == 1
    assert [tuple(r) for r in found.collect()] == [wanted]
    # by ID number: no statistics, so every file is read (the result is still exact)
    assert len(lakehouse.files("silver", "person_like", where=f"id_number = '{wanted[0]}'")) == 4


def test_merge_and_compaction_keep_the_policy(spark: SparkSession, lakehouse: Lakehouse) -> None:
    rows = _rows(lakehouse)
    lakehouse.merge(spark.createDataFrame(rows[:4], SCHEMA), "silver", "person_like", keys=["id_number"],
                    personal_columns=["district_code"])
    moved = [(*r[:4], "110102") for r in rows[2:4]]
    result = lakehouse.merge(spark.createDataFrame(moved + rows[4:], SCHEMA), "silver", "person_like",
                             keys=["id_number"], personal_columns=["district_code"])
    assert (result.inserted, result.updated) == (4, 2)
    lakehouse.compact("silver", "person_like")
    table = Path(lakehouse.path("silver", "person_like"))
    assert DeltaTable(str(table)).metadata().configuration == {STATS_COLUMNS_PROPERTY: "id_hash"}
    assert all(set(s["minValues"]) == {"id_hash"} for s in _log_stats(table))
    assert _footer_columns_with_statistics(table) == {"id_hash"}
    assert lakehouse.count("silver", "person_like") == 8

    # a duplicate key is named without its value
    with pytest.raises(MergeKeyError) as caught:
        lakehouse.merge(spark.createDataFrame(rows[:1] * 2, SCHEMA), "silver", "person_like", keys=["id_number"])
    assert rows[0][0] not in str(caught.value) and "<personal, 18 characters>" in str(caught.value)


def test_spark_parquet_writes_no_statistics_when_told(spark: SparkSession, tmp_path: Path) -> None:
    """The gold staging path (`insert overwrite directory ... using parquet`) with the materialization's option:
    no row-group statistics and no column index (page min/max) in the footers; without it, both are there."""
    spark.createDataFrame(PERSONS, "id_number string, name string, phone string, district_code string") \
        .createOrReplaceTempView("persons_for_staging")
    for folder, options in (("off", "options ('parquet.column.statistics.enabled' 'false')"), ("on", "")):
        spark.sql(f"insert overwrite directory '{tmp_path / folder}' using parquet {options} "
                  "select * from persons_for_staging")
    for folder, expected in (("off", False), ("on", True)):
        chunks = [pq.read_metadata(f).row_group(g).column(c)
                  for f in (tmp_path / folder).glob("*.parquet")
                  for g in range(pq.read_metadata(f).num_row_groups)
                  for c in range(pq.read_metadata(f).num_columns)]
        assert chunks
        assert {bool(ch.statistics is not None and ch.statistics.has_min_max) for ch in chunks} == {expected}, folder
        assert {ch.has_column_index for ch in chunks} == {expected}, folder
