"""`_delivery_day` in bronze: the day folder a delivery lies in, recorded per row; a bronze table landed
before the column existed gets it on its next landing (old rows null) and silver still reads it."""

from __future__ import annotations

from pathlib import Path

from pyspark.sql import functions as F

from citydata.catalog.contracts import load_contract
from citydata.ingest.bronze import land_delivery
from citydata.ingest.delivery_day import DELIVERY_DAY, delivery_day_of
from citydata.ingest.silver import build_silver
from citydata.lakehouse import Lakehouse
from citydata.sources.samples import sample_delivery

CONTRACT = load_contract("household_register")
SAMPLE = sample_delivery("household_register")


def test_delivery_day_of_a_path_is_its_nearest_day_folder() -> None:
    assert delivery_day_of("/x/simulated/day-002/delivery/household_register.csv") == "day-002"
    assert delivery_day_of("/landing/2026-11-25/a/b.csv") == "2026-11-25"
    assert delivery_day_of("/landing/api/pois/day-003/page-0001.json") == "day-003"
    assert delivery_day_of("/tmp/sample.csv") is None
    assert delivery_day_of("https://example.org/api?page=1") is None


def test_a_bronze_table_without_the_column_gets_it_on_the_next_landing(spark, tmp_path: Path) -> None:
    lakehouse = Lakehouse(spark, tmp_path / "lakehouse")
    first = land_delivery(spark, lakehouse, CONTRACT, SAMPLE, delivery_day="day-001")
    landed = lakehouse.read("bronze", CONTRACT.tables.bronze)
    assert {r[DELIVERY_DAY] for r in landed.select(DELIVERY_DAY).collect()} == {"day-001"}
    # an older version's table: the same rows without the column
    old = landed.drop(DELIVERY_DAY)
    lakehouse.write(old, "bronze", CONTRACT.tables.bronze, mode="overwrite")
    assert DELIVERY_DAY not in lakehouse.read("bronze", CONTRACT.tables.bronze).columns

    header, *lines = SAMPLE.read_bytes().decode("gbk").splitlines()
    chen = lines[0].split(",")  # a move: a second batch with one changed row
    chen[7], chen[8], chen[10] = "339901002", "示范市东湖区清波街道解放路99号", "2026-03-01"
    day_two = tmp_path / "day-002" / "delivery"
    day_two.mkdir(parents=True)
    delivery = day_two / "household_register.csv"
    delivery.write_bytes(("\r\n".join([header, ",".join(chen)]) + "\r\n").encode("gbk"))
    second = land_delivery(spark, lakehouse, CONTRACT, delivery)  # the day from its folder

    bronze = lakehouse.read("bronze", CONTRACT.tables.bronze)
    days = {(r["_batch_id"], r[DELIVERY_DAY]): r["n"]
            for r in bronze.groupBy("_batch_id", DELIVERY_DAY).agg(F.count("*").alias("n")).collect()}
    assert days == {(first.batch_id, None): 21, (second.batch_id, "day-002"): 1}
    silver = build_silver(spark, lakehouse, CONTRACT)
    assert (silver.rows, silver.inserted) == (20, 20)
    moved = lakehouse.read("silver", CONTRACT.tables.silver).where(F.col("id_number") == "339901196804120110")
    assert [(r["street_code"], r["_batch_id"]) for r in moved.collect()] == [("339901002", second.batch_id)]
