"""Lakehouse basics on real Spark + real Delta: create, append, overwrite, read, views, SQL, interop."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from deltalake import DeltaTable
from pyspark.sql import SparkSession

from citydata.lakehouse import (
    DeltaTableNotFoundError,
    InvalidTableNameError,
    Lakehouse,
    SchemaMismatchError,
    UnsupportedPartitionTypeError,
)

SCHEMA = "id long, name string, district string, born date, score double"
# Three residents in two districts; row 3 has a null name and a null score (nulls must survive).
ROWS = [
    (1, "张三", "110101", dt.date(1990, 1, 2), 1.5),
    (2, "Li Si", "110102", dt.date(1985, 5, 6), 2.5),
    (3, None, "110101", dt.date(2000, 12, 31), None),
]


def people(spark: SparkSession, rows=ROWS):
    return spark.createDataFrame(rows, SCHEMA)


def collect_sorted(df) -> list[tuple]:
    return sorted(tuple(r) for r in df.collect())


def test_path_and_names(lakehouse: Lakehouse) -> None:
    assert lakehouse.path("silver", "person") == f"{lakehouse.root}/silver/person"
    assert not lakehouse.exists("silver", "person")
    with pytest.raises(InvalidTableNameError, match="Silver"):
        lakehouse.path("Silver", "person")
    with pytest.raises(DeltaTableNotFoundError, match="silver/person"):
        lakehouse.read("silver", "person")


def test_write_creates_then_appends_and_reads_back(spark: SparkSession, lakehouse: Lakehouse) -> None:
    v0 = lakehouse.write(people(spark), "silver", "person", partition_by=["district"])
    assert v0 == 0 and lakehouse.exists("silver", "person")
    v1 = lakehouse.write(people(spark, ROWS[:1]), "silver", "person")
    assert v1 == 1 and lakehouse.version("silver", "person") == 1
    df = lakehouse.read("silver", "person")
    assert df.schema.simpleString() == "struct<id:bigint,name:string,district:string,born:date,score:double>"
    assert collect_sorted(df) == sorted(ROWS + ROWS[:1])
    # Partition column typed from the Delta schema, not inferred from the folder name ("110101").
    assert df.where("district = '110101'").count() == 3
    # Earlier version still readable.
    assert collect_sorted(lakehouse.read("silver", "person", version=0)) == sorted(ROWS)


def test_overwrite_replaces_content_in_one_commit(spark: SparkSession, lakehouse: Lakehouse) -> None:
    lakehouse.write(people(spark), "bronze", "t")
    v = lakehouse.write(people(spark, ROWS[1:2]), "bronze", "t", mode="overwrite")
    assert v == 1
    assert collect_sorted(lakehouse.read("bronze", "t")) == [tuple(ROWS[1])]
    assert len(lakehouse.files("bronze", "t")) == 1


def test_overwrite_may_change_schema(spark: SparkSession, lakehouse: Lakehouse) -> None:
    lakehouse.write(people(spark), "gold", "t")
    lakehouse.write(spark.createDataFrame([("a", 1)], "k string, n int"), "gold", "t", mode="overwrite")
    assert lakehouse.read("gold", "t").collect() == [("a", 1)]
    assert [f.name for f in DeltaTable(lakehouse.path("gold", "t")).schema().fields] == ["k", "n"]


def test_append_with_wrong_schema_is_refused_with_column_and_types(
    spark: SparkSession, lakehouse: Lakehouse
) -> None:
    lakehouse.write(people(spark), "silver", "person")
    wrong = spark.createDataFrame([(1, "x", 110101, dt.date(2000, 1, 1), 1.0)],
                                  "id long, name string, district int, born date, score double")
    with pytest.raises(SchemaMismatchError) as err:
        lakehouse.write(wrong, "silver", "person")
    msg = str(err.value)
    assert "silver/person" in msg and "'district'" in msg
    assert "table has string, data has int" in msg
    extra = people(spark).selectExpr("*", "id AS extra")
    with pytest.raises(SchemaMismatchError, match="'extra' .* is not in the table"):
        lakehouse.write(extra, "silver", "person")
    assert lakehouse.version("silver", "person") == 0


def test_generic_writer_checks_schema_too(spark: SparkSession, lakehouse: Lakehouse) -> None:
    path = lakehouse.path("silver", "g")
    people(spark).write.format("delta").mode("append").save(path)
    wrong = spark.createDataFrame([(1, 2)], "id long, name int")
    with pytest.raises(Exception, match="SchemaMismatchError.*'name': table has string, data has int"):
        wrong.write.format("delta").mode("append").save(path)
    assert DeltaTable(path).version() == 0


def test_float_partition_is_refused(spark: SparkSession, lakehouse: Lakehouse) -> None:
    with pytest.raises(UnsupportedPartitionTypeError, match="'score' of type double"):
        lakehouse.write(people(spark), "silver", "p", partition_by=["score"])


def test_generic_format_delta_write_and_read(spark: SparkSession, tmp_path: Path) -> None:
    path = str(tmp_path / "generic")
    # Python data sources accept only append/overwrite (no default ErrorIfExists), and take the
    # partition columns as an option (DataFrameWriter.partitionBy is refused for them).
    people(spark).write.format("delta").mode("append").option("partitionBy", "district").save(path)
    people(spark, ROWS[:1]).write.format("delta").mode("append").save(path)
    df = spark.read.format("delta").load(path)
    assert collect_sorted(df) == sorted(ROWS + ROWS[:1])
    assert spark.read.format("delta").option("versionAsOf", 0).load(path).count() == 3
    people(spark, ROWS[2:]).write.format("delta").mode("overwrite").save(path)
    assert collect_sorted(spark.read.format("delta").load(path)) == [tuple(ROWS[2])]
    assert DeltaTable(path).version() == 2


def test_empty_table_reads_as_empty_dataframe_with_schema(spark: SparkSession, lakehouse: Lakehouse) -> None:
    lakehouse.write(spark.createDataFrame([], SCHEMA), "silver", "empty")
    df = lakehouse.read("silver", "empty")
    assert df.count() == 0 and [f.name for f in df.schema.fields] == ["id", "name", "district", "born", "score"]


def test_register_views_names_layer_table(spark: SparkSession, lakehouse: Lakehouse) -> None:
    lakehouse.write(people(spark), "silver", "person")
    lakehouse.write(people(spark, ROWS[:1]), "bronze", "household_register")
    names = lakehouse.register_views()
    assert names == ["bronze_household_register", "silver_person"]
    assert spark.sql("select count(*) from silver_person").collect()[0][0] == 3
    assert lakehouse.register_views(layers=["bronze"]) == ["bronze_household_register"]
    # Writing re-registers the view on the new snapshot.
    lakehouse.write(people(spark, ROWS[:1]), "silver", "person")
    assert spark.sql("select count(*) from silver_person").collect()[0][0] == 4


def test_sql_temp_view_insert_overwrite_is_one_commit(spark: SparkSession, lakehouse: Lakehouse) -> None:
    path = lakehouse.path("gold", "by_district")
    # A table that does not exist yet needs the column list (the source cannot infer a schema).
    with pytest.raises(Exception, match="To write a new table through a SQL temporary view"):
        spark.sql(f"CREATE OR REPLACE TEMPORARY VIEW sink_nocols USING delta OPTIONS (path '{path}')")
    spark.sql(
        f"CREATE OR REPLACE TEMPORARY VIEW sink (district string, residents bigint) "
        f"USING delta OPTIONS (path '{path}')"
    )
    people(spark).createOrReplaceTempView("src_people")
    spark.sql("INSERT OVERWRITE sink SELECT district, count(*) FROM src_people GROUP BY district")
    assert DeltaTable(path).version() == 0
    spark.sql("INSERT OVERWRITE sink SELECT district, count(*) + 10 FROM src_people GROUP BY district")
    assert DeltaTable(path).version() == 1
    assert len(DeltaTable(path).history()) == 2
    assert collect_sorted(lakehouse.read("gold", "by_district")) == [("110101", 12), ("110102", 11)]
    # Once the table exists the column list may be left out.
    spark.sql(f"CREATE OR REPLACE TEMPORARY VIEW sink2 USING delta OPTIONS (path '{path}')")
    spark.sql("INSERT OVERWRITE sink2 SELECT '110103', 7")
    assert DeltaTable(path).version() == 2
    assert collect_sorted(spark.sql("select * from sink2")) == [("110103", 7)]


def test_tables_are_plain_delta_for_deltalake_and_polars(spark: SparkSession, lakehouse: Lakehouse) -> None:
    # A partition value with characters that need escaping in folder names, and a null partition.
    rows = ROWS + [(4, "quote'd", "a b:c/d%e", dt.date(1970, 1, 1), 0.0),
                   (5, "nopart", None, None, -1.0),
                   (6, "王五", "朝阳区", dt.date(1999, 9, 9), 6.0)]  # non-ASCII partition value
    lakehouse.write(people(spark, rows), "silver", "interop", partition_by=["district"])
    lakehouse.write(people(spark, rows[:1]), "silver", "interop")
    path = lakehouse.path("silver", "interop")
    expected = sorted(rows + rows[:1], key=lambda r: r[0])
    spark_rows = sorted((tuple(r) for r in lakehouse.read("silver", "interop").collect()), key=lambda r: r[0])
    assert spark_rows == expected
    table = DeltaTable(path)
    assert table.version() == 1
    arrow_rows = sorted(
        (tuple(r[c] for c in ("id", "name", "district", "born", "score"))
         for r in table.to_pyarrow_table().to_pylist()),
        key=lambda r: r[0],
    )
    assert arrow_rows == expected
    polars_rows = sorted(pl.read_delta(path).select("id", "name", "district", "born", "score").rows(),
                         key=lambda r: r[0])
    assert polars_rows == expected
    # The generic Python reader returns the same rows.
    generic = sorted((tuple(r) for r in spark.read.format("delta").load(path).collect()), key=lambda r: r[0])
    assert generic == expected


def test_timestamps_round_trip_and_prune_by_statistics(spark: SparkSession, lakehouse: Lakehouse) -> None:
    utc = dt.UTC
    # Sub-millisecond values: Delta statistics keep milliseconds, pruning must not lose row 2.
    t1 = dt.datetime(2024, 3, 1, 8, 0, 0, 123456, tzinfo=utc)
    t2 = dt.datetime(2024, 3, 1, 8, 0, 0, 999999, tzinfo=utc)
    df = spark.createDataFrame([(1, t1), (2, t2)], "id long, at timestamp")
    lakehouse.write(df.coalesce(1), "bronze", "ts")
    got = lakehouse.read("bronze", "ts").orderBy("id").collect()
    assert [r.at.replace(tzinfo=utc) for r in got] == [t1, t2]  # session time zone is UTC
    assert lakehouse.read("bronze", "ts", where="at > '2024-03-01 08:00:00.999'").count() == 1
    assert len(lakehouse.files("bronze", "ts", where="at > '2024-03-01 08:00:00.999'")) == 1
    assert lakehouse.files("bronze", "ts", where="at > '2024-03-01 08:00:01.001'") == []
    polars_at = pl.read_delta(lakehouse.path("bronze", "ts")).sort("id")["at"].to_list()
    assert [v.replace(tzinfo=utc) for v in polars_at] == [t1, t2]
    generic = spark.read.format("delta").load(lakehouse.path("bronze", "ts")).orderBy("id").collect()
    assert [r.at for r in generic] == [r.at for r in got]


def test_pruning_reduces_files_handed_to_spark(spark: SparkSession, lakehouse: Lakehouse) -> None:
    lakehouse.write(people(spark), "silver", "pruned", partition_by=["district"])
    lakehouse.write(people(spark, [(100 + i, "x", "110101", None, float(i)) for i in range(3)]),
                    "silver", "pruned")
    all_files = lakehouse.files("silver", "pruned")
    assert len(all_files) >= 3
    by_partition = lakehouse.files("silver", "pruned", where="district = '110102'")
    assert len(by_partition) == 1 and "district=110102" in by_partition[0]
    # Statistics pruning: ids 100..102 live only in the second write's file(s).
    by_stats = lakehouse.files("silver", "pruned", where="id >= 100")
    assert 0 < len(by_stats) < len(all_files)
    df = lakehouse.read("silver", "pruned", where="id >= 100")
    assert sorted(r.id for r in df.collect()) == [100, 101, 102]
    assert set(df.inputFiles()) <= {"file://" + f for f in by_stats} | set(by_stats)
    # A filter delta-rs cannot prune with (a function, LIKE) reads every file, still exact.
    assert len(lakehouse.files("silver", "pruned", where="upper(name) = 'X'")) == len(all_files)
    assert lakehouse.read("silver", "pruned", where="upper(name) = 'X' AND name LIKE 'x%'").count() == 3


def test_sql_view_with_new_column_list_replaces_schema_on_insert_overwrite(
    spark: SparkSession, lakehouse: Lakehouse
) -> None:
    # What the dbt materialization relies on when a model's columns change between runs.
    path = lakehouse.path("gold", "model")
    spark.sql(f"CREATE OR REPLACE TEMPORARY VIEW m1 (a bigint) USING delta OPTIONS (path '{path}')")
    spark.sql("INSERT OVERWRITE m1 SELECT 1")
    spark.sql(
        f"CREATE OR REPLACE TEMPORARY VIEW m2 (a bigint, b string) USING delta OPTIONS (path '{path}')"
    )
    spark.sql("INSERT OVERWRITE m2 SELECT 2, 'two'")
    assert lakehouse.read("gold", "model").collect() == [(2, "two")]
    assert lakehouse.version("gold", "model") == 1
    # Appending with the old column list is refused: the table's schema is checked.
    with pytest.raises(Exception, match="SchemaMismatchError.*'b'"):
        spark.sql("INSERT INTO m1 SELECT 3")
    assert lakehouse.version("gold", "model") == 1


def test_add_entries_carry_partition_values_and_statistics(spark: SparkSession, lakehouse: Lakehouse) -> None:
    lakehouse.write(people(spark).coalesce(1), "silver", "stats", partition_by=["district"])
    actions = {
        r["partition"]["district"]: r
        for r in pa_rows(DeltaTable(lakehouse.path("silver", "stats")).get_add_actions())
    }
    assert set(actions) == {"110101", "110102"}
    a = actions["110101"]  # rows 1 and 3: row 3 has a null name and score
    assert a["num_records"] == 2
    assert (a["min"]["id"], a["max"]["id"]) == (1, 3)
    assert (a["min"]["born"], a["max"]["born"]) == (dt.date(1990, 1, 2), dt.date(2000, 12, 31))
    # `name` is a personal column (the contracts classify it sensitive): no min/max, the null count stays
    # (the log keeps its null count; delta-rs shows statistics of the listed columns only)
    assert "name" not in a["min"] and "name" not in a["max"]
    assert a["null_count"]["score"] == 1 and a["null_count"]["id"] == 0
    assert actions["110102"]["num_records"] == 1


def pa_rows(arrow_like) -> list[dict]:
    import pyarrow as pa

    return pa.table(arrow_like).to_pylist()


def test_overwrite_may_change_partitioning_in_one_commit(spark: SparkSession, lakehouse: Lakehouse) -> None:
    lakehouse.write(people(spark), "gold", "repart", partition_by=["district"])
    v = lakehouse.write(people(spark), "gold", "repart", mode="overwrite", partition_by=["born"])
    assert v == 1
    table = DeltaTable(lakehouse.path("gold", "repart"))
    assert table.metadata().partition_columns == ["born"]
    assert collect_sorted(lakehouse.read("gold", "repart")) == sorted(ROWS)
    assert sorted(pl.read_delta(lakehouse.path("gold", "repart"))["id"].to_list()) == [1, 2, 3]
    assert collect_sorted(lakehouse.read("gold", "repart", version=0)) == sorted(ROWS)
    # Overwrite without partition_by keeps the table's partitioning.
    lakehouse.write(people(spark, ROWS[:1]), "gold", "repart", mode="overwrite")
    assert DeltaTable(lakehouse.path("gold", "repart")).metadata().partition_columns == ["born"]
    assert lakehouse.history("gold", "repart")[1]["operation"] == "OVERWRITE"
