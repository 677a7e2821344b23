"""Silver POIs on real Spark + Delta: WGS-84 decimals plus the source's system, district and street by point
in polygon, open/closed from the latest full crawl, incremental and idempotent.

Seed 5 with 15 % of POIs outside the city: day 1 crawls 15 POIs, of which the truth rejects three
(GEO_OUTSIDE_CITY at bronze). A second crawl is made from day 1's pages by hand: the first record
is gone (the POI closed) and the second is renamed; every other record is byte-identical.
"""

from __future__ import annotations

import csv
import json
import shutil
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from citydata.catalog.contracts import load_contract
from citydata.ingest.batches import APPLIED_TABLE
from citydata.ingest.bronze import BRONZE, land_delivery
from citydata.ingest.geo_features import POI_STAGING, build_pois, empty_tables
from citydata.ingest.runner import ensure_silver_tables
from citydata.ingest.silver import SILVER
from citydata.lakehouse import Lakehouse
from citydata.sources.connectors import delivery_path
from citydata.sources.simulate import DefectRates, simulate
from citydata.sources.simulate.config import SimulationConfig
from citydata.sources.simulate.deliveries import make_pois
from citydata.sources.simulate.population import city_streets
from citydata.standards import coords

SEED = 5
DEFECTS = DefectRates(outside_city=0.15)
CONTRACT = load_contract("internet_poi")
AT1 = datetime(2025, 1, 2, tzinfo=UTC)
AT2 = datetime(2025, 1, 3, tzinfo=UTC)


def _second_crawl(day_folder: Path, out: Path) -> tuple[str, str]:
    """Day 1's crawl without its first record and with the second renamed; returns those two POI ids."""
    shutil.copytree(day_folder / "delivery" / "internet_poi", out)
    page = out / "pages" / "page-00001.json"
    document = json.loads(page.read_text(encoding="utf-8"))
    gone = document["records"].pop(0)
    document["records"][0]["name"] += "新址"
    document["total"] -= 1
    page.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return gone["id"], document["records"][0]["id"]


@pytest.fixture(scope="module")
def run(spark, tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("pois")
    [day] = simulate(root / "sim", [1], persons=300, seed=SEED, period_days=30, defects=DEFECTS)
    lakehouse = Lakehouse(spark, root / "lakehouse")
    out: dict = {"lakehouse": lakehouse, "day": day.folder}
    out["landed1"] = land_delivery(spark, lakehouse, CONTRACT, delivery_path(CONTRACT, day.folder / "delivery"),
                                   ingested_at=AT1)
    out["result1"] = build_pois(spark, lakehouse, applied_at=AT1)
    out["pois1"] = {r["poi_id"]: r.asDict() for r in lakehouse.read(SILVER, "poi").collect()}
    crawl2 = root / "day-002" / "internet_poi"  # a later day's crawl: silver orders crawls by their day
    out["gone"], out["renamed"] = _second_crawl(day.folder, crawl2)
    out["landed2"] = land_delivery(spark, lakehouse, CONTRACT, crawl2, ingested_at=AT2)
    out["result2"] = build_pois(spark, lakehouse, applied_at=AT2)
    out["pois2"] = {r["poi_id"]: r.asDict() for r in lakehouse.read(SILVER, "poi").collect()}
    tables = [(SILVER, "poi"), (SILVER, POI_STAGING), (SILVER, APPLIED_TABLE), (BRONZE, "internet_poi")]
    versions = [lakehouse.version(*t) for t in tables]
    out["result3"] = build_pois(spark, lakehouse, applied_at=AT2)
    out["versions"] = (versions, [lakehouse.version(*t) for t in tables])
    return out


def _truth(folder: Path) -> Counter:
    with (folder / "truth" / "poi_by_district.csv").open(encoding="utf-8", newline="") as handle:
        return Counter({(r["district_code"], r["category"]): int(r["pois"]) for r in csv.DictReader(handle)})


def _open_by_district(pois: dict) -> Counter:
    return Counter((p["district_code"], p["category"]) for p in pois.values() if p["is_open"])


def test_the_seed_has_points_outside_the_city(run) -> None:
    assert run["landed1"].rejects_by_reason == {"GEO_OUTSIDE_CITY": 3}
    assert (run["landed1"].delivered, run["landed1"].landed) == (15, 12)


def test_day1_pois_per_district_and_category_equal_the_truth(run) -> None:
    assert _open_by_district(run["pois1"]) == _truth(run["day"])
    assert len(run["pois1"]) == 12 == run["result1"].poi.inserted == run["result1"].touched
    assert run["result1"].source.table == POI_STAGING and run["result1"].source.rows == 12


def test_points_are_wgs84_decimals_that_round_trip_to_the_delivered_gcj02_within_a_metre(run) -> None:
    delivered = {r["poi_id"]: r["location"] for r in run["lakehouse"].read(BRONZE, "internet_poi").collect()}
    cfg = SimulationConfig(persons=300, seed=SEED, period_days=30, defects=DEFECTS)
    streets = city_streets(cfg.as_of(1))
    simulated = make_pois(cfg, streets)
    for poi_id, poi in run["pois1"].items():
        assert (poi["coord_system"], poi["source_coord_system"]) == ("wgs84", "gcj02")
        assert poi["longitude"].as_tuple().exponent == -6 and poi["latitude"].as_tuple().exponent == -6
        gcj_lon, gcj_lat = (float(x) for x in delivered[poi_id].split(","))
        back = coords.wgs84_to_gcj02(float(poi["longitude"]), float(poi["latitude"]))
        assert coords.haversine_m(*back, gcj_lon, gcj_lat) < 1.0
        # the simulator placed POI i in streets[street[i]] and computed the district the pipeline must find
        i = int(poi_id[-8:])
        assert (poi["district_code"], poi["street_code"]) == (simulated.district[i], streets[simulated.street[i]].code)
        assert (float(simulated.lon[i]), float(simulated.lat[i])) == (gcj_lon, gcj_lat)


def test_a_poi_missing_from_the_latest_crawl_is_closed_and_a_renamed_one_updated(run) -> None:
    before, after, result = run["pois1"], run["pois2"], run["result2"]
    assert (result.poi.inserted, result.poi.updated, result.poi.unchanged) == (0, 2, 10)
    assert result.latest_batch == run["landed2"].batch_id and result.batches == [run["landed2"].batch_id]
    assert after[run["gone"]]["is_open"] is False and after[run["gone"]]["_batch_id"] == run["landed2"].batch_id
    assert after[run["renamed"]]["name"] == before[run["renamed"]]["name"] + "新址"
    changed = {p for p in after if after[p] != before[p]}
    assert changed == {run["gone"], run["renamed"]}
    expected = _truth(run["day"])
    expected[(before[run["gone"]]["district_code"], before[run["gone"]]["category"])] -= 1
    assert _open_by_district(after) == +expected


def test_a_rerun_commits_nothing(run) -> None:
    before, after = run["versions"]
    assert before == after
    assert run["result3"].batches == [] and run["result3"].poi.rows == 12
    assert run["lakehouse"].read(SILVER, "poi").where(F.col("is_open")).count() == 11


def test_an_empty_poi_table_has_the_columns_the_step_writes(run) -> None:
    """Before any crawl, ensure_silver_tables creates silver.poi empty with `empty_tables()`' columns: those
    build_pois writes."""
    [(table, schema)] = empty_tables().items()
    held = run["lakehouse"].schema(SILVER, table)
    assert [(f.name, f.dataType) for f in schema.fields] == [(f.name, f.dataType) for f in held.fields]


def test_a_lakehouse_without_crawl_or_tax_page_gets_both_tables_empty_once(spark, tmp_path) -> None:
    lakehouse = Lakehouse(spark, tmp_path / "lakehouse")
    created = ensure_silver_tables(spark, lakehouse)
    assert {"poi", "tax_payment"} <= set(created)
    assert (lakehouse.count(SILVER, "poi"), lakehouse.count(SILVER, "tax_payment")) == (0, 0)
    assert lakehouse.read(SILVER, "poi").columns == [f.name for f in empty_tables()["poi"].fields]
    versions = {t: lakehouse.version(SILVER, t) for t in created}
    assert ensure_silver_tables(spark, lakehouse) == []
    assert {t: lakehouse.version(SILVER, t) for t in created} == versions
