"""A small delivery is landed by the driver (no Spark job), a larger one by Spark tasks: `land_delivery` chooses by
the delivered rows (`driver_rows`), and both ways leave the same bronze and rejects tables.

Every source of a simulated day with raised defect rates (seed 4, as test_every_source_bronze: checksum and
birth-date errors, repeated rows, truncated files, points outside the city, GBK and UTF-8 CSV, XLSX, JSON pages,
GeoJSON) is landed twice into two lakehouses — once with `driver_rows=0` (every delivery through Spark) and once
with the default (every delivery of this city on the driver) — at the same landing time: the tables' columns and
every row are equal, and so is what each landing reports. Landing again writes no new version either way.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest

from citydata.catalog.contracts import load_contracts
from citydata.ingest.bronze import BRONZE, DRIVER_ROWS, DeliveryRejectedError, land_delivery
from citydata.lakehouse import Lakehouse
from citydata.sources.connectors import delivery_path
from citydata.sources.simulate import DefectRates, simulate
from pyspark_delta.log import open_table, spark_schema

CONTRACTS = load_contracts()
DEFECTS = DefectRates(id_checksum=0.03, id_birthdate=0.02, duplicate_row=0.02, uscc_checksum=0.05,
                      outside_city=0.1, date_format=0.3,
                      truncated=("health/deaths.csv", "credit/licences.csv"))
AT = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)


def _land_all(spark, lakehouse: Lakehouse, folder, driver_rows: int) -> dict:  # noqa: ANN001
    out = {}
    for source, contract in sorted(CONTRACTS.items()):
        try:
            out[source] = land_delivery(spark, lakehouse, contract, delivery_path(contract, folder), ingested_at=AT,
                                        driver_rows=driver_rows)
        except DeliveryRejectedError as error:
            out[source] = (error.reason, str(error))
    return out


@pytest.fixture(scope="module")
def both(spark, tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("small-landing")
    [day] = simulate(root / "sim", [1], persons=300, seed=4, period_days=30, defects=DEFECTS)
    folder = day.folder / "delivery"
    lakehouses = {"spark": Lakehouse(spark, root / "by-spark"), "driver": Lakehouse(spark, root / "by-driver")}
    results = {"spark": _land_all(spark, lakehouses["spark"], folder, 0),
               "driver": _land_all(spark, lakehouses["driver"], folder, DRIVER_ROWS)}
    return {"folder": folder, "lakehouses": lakehouses, "results": results}


def test_the_city_is_small_enough_for_the_driver_and_lands_rows_of_every_kind(both) -> None:
    landed = [r for r in both["results"]["driver"].values() if not isinstance(r, tuple) and r.delivered]
    assert len(landed) > 10 and all(r.delivered <= DRIVER_ROWS for r in landed)
    reasons = {reason for r in landed for reason in r.rejects_by_reason}
    assert {"ID_CHECKSUM", "DUPLICATE_ROW", "GEO_OUTSIDE_CITY", "USCC_CHECKSUM"} <= reasons
    assert {"FILE_TRUNCATED"} <= {r[0] for r in both["results"]["driver"].values() if isinstance(r, tuple)}
    assert {CONTRACTS[r.source].delivery.format for r in landed} == {"csv", "xlsx", "json_api", "geojson"}


@pytest.mark.parametrize("source", sorted(CONTRACTS))
def test_driver_and_spark_land_the_same_tables_and_report_the_same(both, source: str) -> None:
    spark_result, driver_result = both["results"]["spark"][source], both["results"]["driver"][source]
    assert driver_result == spark_result  # the same counts, reasons, batch and versions (or the same refusal)
    contract = CONTRACTS[source]
    for table in (contract.tables.bronze, contract.tables.rejects):
        by_spark, by_driver = (both["lakehouses"][way] for way in ("spark", "driver"))
        assert by_driver.exists(BRONZE, table) == by_spark.exists(BRONZE, table)
        if not by_spark.exists(BRONZE, table):
            continue
        assert spark_schema(open_table(by_driver.path(BRONZE, table))) == \
            spark_schema(open_table(by_spark.path(BRONZE, table)))
        columns = by_spark.read(BRONZE, table).columns
        got = Counter(map(tuple, by_driver.read(BRONZE, table).select(*columns).collect()))
        expected = Counter(map(tuple, by_spark.read(BRONZE, table).select(*columns).collect()))
        assert got == expected
        assert got.total() == (spark_result.landed if table == contract.tables.bronze else spark_result.rejected)


@pytest.mark.parametrize("way", ["spark", "driver"])
def test_landing_again_writes_no_version(spark, both, way: str) -> None:
    lakehouse = both["lakehouses"][way]
    versions = {t: lakehouse.version(layer, t) for layer, t in lakehouse.tables()}
    again = _land_all(spark, lakehouse, both["folder"], 0 if way == "spark" else DRIVER_ROWS)
    assert all(r.already_landed for r in again.values() if not isinstance(r, tuple) and r.delivered)
    assert {t: lakehouse.version(layer, t) for layer, t in lakehouse.tables()} == versions
