"""Lakehouse operations: partition overwrite, MERGE, time travel, history, compaction, vacuum."""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from citydata.lakehouse import Lakehouse, LakehouseError, MergeKeyError, MergeResult

SCHEMA = "id long, name string, district string, updated date"
D1 = dt.date(2024, 1, 1)
D2 = dt.date(2024, 2, 1)


def rows(lakehouse: Lakehouse, layer: str, table: str, version: int | None = None) -> list[tuple]:
    return sorted(tuple(r) for r in lakehouse.read(layer, table, version=version).collect())


def parquet_files(path: str) -> set[str]:
    return {str(p) for p in Path(path).rglob("*.parquet")}


def test_overwrite_partitions_replaces_only_present_partitions(
    spark: SparkSession, lakehouse: Lakehouse
) -> None:
    base = [(1, "a", "110101", D1), (2, "b", "110102", D1), (3, "c", "110103", D1)]
    lakehouse.write(spark.createDataFrame(base, SCHEMA), "silver", "p", partition_by=["district"])
    # Replace district 110102 (2 rows instead of 1) and add a new district 110104; 110101/110103 stay.
    new = [(20, "x", "110102", D2), (21, "y", "110102", D2), (40, "z", "110104", D2)]
    v = lakehouse.overwrite_partitions(spark.createDataFrame(new, SCHEMA), "silver", "p")
    assert v == 1
    assert rows(lakehouse, "silver", "p") == sorted([base[0], base[2], *new])
    assert rows(lakehouse, "silver", "p", version=0) == sorted(base)
    # Idempotent: running it again leaves the same content.
    lakehouse.overwrite_partitions(spark.createDataFrame(new, SCHEMA), "silver", "p")
    assert rows(lakehouse, "silver", "p") == sorted([base[0], base[2], *new])
    hist = lakehouse.history("silver", "p")
    assert [h["operation"] for h in hist] == ["OVERWRITE PARTITIONS", "OVERWRITE PARTITIONS", "WRITE"]


def test_overwrite_partitions_needs_a_partitioned_table(spark: SparkSession, lakehouse: Lakehouse) -> None:
    lakehouse.write(spark.createDataFrame([(1, "a", "110101", D1)], SCHEMA), "silver", "flat")
    with pytest.raises(LakehouseError, match="silver/flat.*not partitioned"):
        lakehouse.overwrite_partitions(spark.createDataFrame([(1, "a", "110101", D1)], SCHEMA),
                                       "silver", "flat")


@pytest.mark.parametrize("partition_by", [None, ["district"]])
def test_merge_inserts_updates_and_rerun_is_noop(
    spark: SparkSession, lakehouse: Lakehouse, partition_by: list[str] | None
) -> None:
    # Two files: one holding ids 1-2, one holding ids 3-4 (two writes).
    lakehouse.write(spark.createDataFrame([(1, "a", "110101", D1), (2, "b", "110102", D1)], SCHEMA),
                    "silver", "person", partition_by=partition_by)
    lakehouse.write(spark.createDataFrame([(3, "c", "110101", D1), (4, "d", "110102", D1)], SCHEMA),
                    "silver", "person")
    files_before = set(lakehouse.files("silver", "person"))
    # id 2 changes name, id 3 is identical, id 5 is new.
    source = spark.createDataFrame(
        [(2, "b2", "110102", D2), (3, "c", "110101", D1), (5, "e", "110103", D2)], SCHEMA
    )
    result = lakehouse.merge(source, "silver", "person", keys=["id"])
    assert result == MergeResult(inserted=1, updated=1, unchanged=1, version=2,
                                 files_rewritten=1)
    assert rows(lakehouse, "silver", "person") == [
        (1, "a", "110101", D1), (2, "b2", "110102", D2), (3, "c", "110101", D1),
        (4, "d", "110102", D1), (5, "e", "110103", D2),
    ]
    # Only the file that held id 2 was replaced; the file holding 3 and 4 is untouched.
    files_after = set(lakehouse.files("silver", "person"))
    assert len(files_before - files_after) == 1
    # No-op rerun: nothing committed.
    again = lakehouse.merge(source, "silver", "person", keys=["id"])
    assert again == MergeResult(inserted=0, updated=0, unchanged=3, version=2)
    assert lakehouse.version("silver", "person") == 2
    assert lakehouse.history("silver", "person")[0]["operation"] == "MERGE"
    assert lakehouse.history("silver", "person")[0]["metrics"]["updated"] == 1


def test_merge_into_missing_table_creates_it(spark: SparkSession, lakehouse: Lakehouse) -> None:
    source = spark.createDataFrame([(1, "a", "110101", D1)], SCHEMA)
    assert lakehouse.merge(source, "silver", "new", keys=["id"]) == MergeResult(1, 0, 0, 0)


def test_merge_refuses_duplicate_source_keys(spark: SparkSession, lakehouse: Lakehouse) -> None:
    lakehouse.write(spark.createDataFrame([(1, "a", "110101", D1)], SCHEMA), "silver", "dup")
    source = spark.createDataFrame([(7, "a", "110101", D1), (7, "b", "110101", D1)], SCHEMA)
    with pytest.raises(MergeKeyError, match=r"several rows for key \{'id': 7\}"):
        lakehouse.merge(source, "silver", "dup", keys=["id"])
    with pytest.raises(MergeKeyError, match="not in the source"):
        lakehouse.merge(source, "silver", "dup", keys=["nope"])


def test_merge_with_partition_key_prunes_to_source_partitions(
    spark: SparkSession, lakehouse: Lakehouse
) -> None:
    data = [(i, f"n{i}", f"11010{i % 3}", D1) for i in range(9)]
    lakehouse.write(spark.createDataFrame(data, SCHEMA), "silver", "pk", partition_by=["district"])
    source = spark.createDataFrame([(3, "changed", "110100", D2), (100, "new", "110100", D2)], SCHEMA)
    predicate = lakehouse._merge_predicate(source, ["district", "id"], ["district"], ("110100", "110100"))
    assert "`district` >= '110100' AND `district` <= '110100'" in (predicate or "")
    assert predicate is not None and "`district` = '110100'" in predicate
    pruned = lakehouse.files("silver", "pk", where=predicate)
    assert pruned and all("/district=110100/" in f for f in pruned)
    assert len(pruned) < len(lakehouse.files("silver", "pk"))
    result = lakehouse.merge(source, "silver", "pk", keys=["district", "id"])
    assert (result.inserted, result.updated, result.unchanged) == (1, 1, 0)
    got = rows(lakehouse, "silver", "pk")
    assert (3, "changed", "110100", D2) in got and (100, "new", "110100", D2) in got
    assert len(got) == 10


def test_time_travel_and_history(spark: SparkSession, lakehouse: Lakehouse) -> None:
    for i in range(3):
        lakehouse.write(spark.createDataFrame([(i, f"v{i}", "110101", D1)], SCHEMA), "gold", "tt")
    assert lakehouse.version("gold", "tt") == 2
    assert [r[0] for r in rows(lakehouse, "gold", "tt", version=0)] == [0]
    assert [r[0] for r in rows(lakehouse, "gold", "tt", version=1)] == [0, 1]
    assert [r[0] for r in rows(lakehouse, "gold", "tt")] == [0, 1, 2]
    hist = lakehouse.history("gold", "tt")
    assert [h["version"] for h in hist] == [2, 1, 0]
    assert all(h["operation"] == "WRITE" and h["timestamp"].tzinfo is not None for h in hist)


def test_compact_keeps_content_and_marks_no_data_change(spark: SparkSession, lakehouse: Lakehouse) -> None:
    for i in range(4):
        df = spark.createDataFrame([(i * 10 + j, f"n{j}", f"11010{j % 2}", D1) for j in range(4)], SCHEMA)
        lakehouse.write(df.coalesce(1), "silver", "small", partition_by=None if i else ["district"])
    before = rows(lakehouse, "silver", "small")
    assert len(lakehouse.files("silver", "small")) == 8  # 4 writes x 2 partitions
    result = lakehouse.compact("silver", "small")
    assert (result.files_removed, result.files_added, result.version) == (8, 2, 4)
    assert len(lakehouse.files("silver", "small")) == 2
    assert rows(lakehouse, "silver", "small") == before
    assert lakehouse.history("silver", "small")[0]["operation"] == "OPTIMIZE"
    log = Path(lakehouse.path("silver", "small"), "_delta_log", "00000000000000000004.json").read_text()
    assert '"dataChange":true' not in log
    # Second compaction has nothing to do and commits nothing.
    assert lakehouse.compact("silver", "small").version == 4


def test_vacuum_removes_unreferenced_files_only(spark: SparkSession, lakehouse: Lakehouse) -> None:
    lakehouse.write(spark.createDataFrame([(1, "a", "110101", D1)], SCHEMA), "silver", "vac")
    lakehouse.write(spark.createDataFrame([(2, "b", "110101", D1)], SCHEMA), "silver", "vac",
                    mode="overwrite")
    path = lakehouse.path("silver", "vac")
    assert len(parquet_files(path)) == 2
    # Within the retention period nothing goes (the old file is needed for version 0).
    assert lakehouse.vacuum("silver", "vac") == []
    assert lakehouse.version("silver", "vac") == 1  # a vacuum that deletes nothing commits nothing
    deleted = lakehouse.vacuum("silver", "vac", retention_hours=0)
    assert len(deleted) == 1
    assert len(parquet_files(path)) == 1
    assert [h["operation"] for h in lakehouse.history("silver", "vac")][:2] == ["VACUUM END", "VACUUM START"]
    assert rows(lakehouse, "silver", "vac") == [(2, "b", "110101", D1)]


def test_count_from_the_log_equals_spark_count_through_every_operation(
    spark: SparkSession, lakehouse: Lakehouse
) -> None:
    def both(version: int | None = None) -> tuple[int, int]:
        return (lakehouse.count("silver", "c", version=version),
                lakehouse.read("silver", "c", version=version).count())

    first = [(i, f"n{i}", "110101" if i % 2 else "110102", D1) for i in range(10)]
    lakehouse.write(spark.createDataFrame(first, SCHEMA), "silver", "c", partition_by=["district"])
    assert both() == (10, 10)
    # MERGE: 2 updated (their files rewritten), 3 inserted
    changes = [(0, "changed", "110102", D2), (1, "changed", "110101", D2)] + [
        (i, f"n{i}", "110103", D2) for i in range(10, 13)]
    lakehouse.merge(spark.createDataFrame(changes, SCHEMA), "silver", "c", keys=["id", "district"])
    assert both() == (13, 13)
    lakehouse.overwrite_partitions(spark.createDataFrame([(99, "x", "110103", D2)], SCHEMA), "silver", "c")
    assert both() == (11, 11)
    lakehouse.compact("silver", "c")
    assert both() == (11, 11)
    assert both(version=0) == (10, 10)


def test_count_falls_back_to_spark_when_the_log_has_no_record_counts(
    spark: SparkSession, lakehouse: Lakehouse, caplog: pytest.LogCaptureFixture
) -> None:
    lakehouse.write(spark.createDataFrame([(1, "a", "110101", D1), (2, "b", "110102", D1)], SCHEMA),
                    "silver", "nostats")
    # a writer that records no statistics (allowed by the Delta protocol): strip them from the commit
    commit = Path(lakehouse.path("silver", "nostats")) / "_delta_log" / "00000000000000000000.json"
    actions = [json.loads(line) for line in commit.read_text().splitlines() if line.strip()]
    for action in actions:
        action.get("add", {}).pop("stats", None)
    commit.write_text("".join(json.dumps(a) + "\n" for a in actions))
    with caplog.at_level(logging.INFO, logger="citydata.lakehouse.core"):
        assert lakehouse.count("silver", "nostats") == 2
    assert "counting with Spark" in caplog.text


def test_driver_side_bookkeeping_reads_equal_spark_through_merges_and_partitions(
    spark: SparkSession, lakehouse: Lakehouse
) -> None:
    import pyarrow.compute as pc

    first = [(i, f"n{i}", "110101" if i % 2 else "110102", D1) for i in range(10)]
    lakehouse.write(spark.createDataFrame(first, SCHEMA), "silver", "book", partition_by=["district"])
    lakehouse.merge(spark.createDataFrame([(0, "changed", "110102", D2), (20, "new", "110103", D2)], SCHEMA),
                    "silver", "book", keys=["id", "district"])
    spark_names = {r["name"] for r in lakehouse.read("silver", "book").select("name").distinct().collect()}
    assert lakehouse.distinct_values("silver", "book", "name") == spark_names  # the merged snapshot, not history
    assert "n0" not in spark_names and "changed" in spark_names
    # partition columns come from the log, filters are exact
    assert lakehouse.distinct_values("silver", "book", "district") == {"110101", "110102", "110103"}
    assert lakehouse.distinct_values("silver", "book", "id", pc.field("district") == "110101") == {1, 3, 5, 7, 9}
    assert lakehouse.arrow_dataset("silver", "book").count_rows(filter=pc.field("district") == "110102") == \
        lakehouse.read("silver", "book").where("district = '110102'").count() == 5
    # a string longer than the statistics keep (a prefix as minimum, no maximum): every file still counts
    batch = "social_insurance_employment-58c5655785c63b7f"
    lakehouse.write(spark.createDataFrame([(1, batch, "110101", D1), (2, batch, "110102", D1)], SCHEMA),
                    "bronze", "long")
    assert lakehouse.arrow_dataset("bronze", "long").count_rows(filter=pc.field("name") == batch) == 2
    assert lakehouse.distinct_values("bronze", "long", "id", pc.field("name") == batch) == {1, 2}
