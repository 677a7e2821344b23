"""One bad file per kind landed end to end on real Spark + Delta (land_source, as `citydata ingest` does):
raw rows = bronze + rejects for every file that lands, a file refused whole is one row of
bronze.refused_files (recorded once however often it is landed), invalid geometries never reach silver.
The connector-level faults (and the encoding note, tests/unit/connectors/test_truncation.py and
tests/unit/ingest/test_refused_and_encoding_notes.py) are covered without Spark; this test checks the
tables, with as few landings as the cases need (each costs Spark jobs).

A 50-resident simulated day 1 (seed 3, nothing broken by the simulator) gives real files; each is
broken as its comment says.
"""

from __future__ import annotations

import hashlib
import json
import shutil

import pytest

from citydata.catalog.contracts import load_contract
from citydata.ingest.bronze import BRONZE, DeliveryRejectedError
from citydata.ingest.refused import REFUSED_TABLE
from citydata.ingest.runner import land_source
from citydata.ingest.silver import build_silver
from citydata.lakehouse import Lakehouse
from citydata.sources.simulate import DefectRates, simulate
from citydata.standards.geo import load_city_geometry

OPEN_RING = {"type": "Polygon", "coordinates": [[[120.05, 30.30], [120.10, 30.35]]]}
BOW_TIE = {"type": "Polygon", "coordinates": [[[120.05, 30.30], [120.10, 30.35], [120.10, 30.30], [120.05, 30.35],
                                               [120.05, 30.30]]]}


def _rows(lakehouse: Lakehouse, table: str) -> list[dict]:
    return lakehouse.arrow_dataset(BRONZE, table).to_table().to_pylist() if lakehouse.exists(BRONZE, table) else []


@pytest.fixture(scope="module")
def day(spark, tmp_path_factory: pytest.TempPathFactory) -> dict:  # noqa: ANN001
    root = tmp_path_factory.mktemp("bad-inputs")
    # day 1 (the streets are delivered on it), with none of the simulator's own breakages
    simulate(root / "sim", [1], persons=50, seed=3, defects=DefectRates(truncated=(), undecodable=()))
    folder = root / "day-001" / "delivery"
    shutil.copytree(root / "sim" / "day-001" / "delivery", folder)
    # cut inside its last value: 正常参保 -> 正常参, no final line break
    employment = folder / "social_insurance" / "employment.csv"
    data = employment.read_bytes()
    employment.write_bytes(data[:-len("保\r\n".encode())])
    employment_rows = data.count(b"\r\n") - 1
    # two invalid street boundaries among the valid ones
    streets = folder / "geography" / "streets.geojson"
    collection = json.loads(streets.read_text(encoding="utf-8"))
    collection["features"][0]["geometry"], collection["features"][1]["geometry"] = OPEN_RING, BOW_TIE
    streets.write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")
    # refused whole: an Excel "Unicode text" export, a header cut inside a character
    marriages = folder / "civil_affairs" / "marriages.csv"
    marriages.write_bytes(marriages.read_bytes().decode("utf-8").encode("utf-16"))
    deaths = folder / "health" / "deaths.csv"
    deaths.write_bytes(deaths.read_bytes()[:4])  # 死亡 -> 死 and one byte of 亡

    lakehouse = Lakehouse(spark, root / "lakehouse")
    landed, refused = {}, {}
    for source in ("social_insurance_employment", "geo_streets", "marriages", "deaths"):
        try:
            landed[source] = land_source(spark, lakehouse, source, delivery_folder=folder)
        except DeliveryRejectedError as error:
            refused[source] = error
    return {"lakehouse": lakehouse, "landed": landed, "refused": refused, "folder": folder,
            "employment_rows": employment_rows, "features": len(collection["features"])}


def test_every_landed_row_is_in_bronze_or_rejects_with_the_cut_value_rejected(day: dict) -> None:
    lakehouse, landed = day["lakehouse"], day["landed"]
    for source, result in landed.items():
        contract = load_contract(source)
        bronze = lakehouse.count(BRONZE, contract.tables.bronze)
        rejects = lakehouse.count(BRONZE, contract.tables.rejects)
        assert (result.delivered, bronze + rejects) == (result.landed + result.rejected, result.delivered), source
    employment = landed["social_insurance_employment"]
    assert (employment.delivered, employment.rejects_by_reason.get("FILE_TRUNCATED")) == (day["employment_rows"], 1)
    statuses = {r["status"] for r in _rows(lakehouse, "social_insurance_employment")}
    assert statuses == {"正常参保"}  # the cut 正常参 is not in bronze
    [cut] = [r for r in _rows(lakehouse, "social_insurance_employment_rejects") if r["reason_code"] == "FILE_TRUNCATED"]
    assert cut["_row_number"] == day["employment_rows"]


def test_invalid_geometries_are_rejected_and_never_reach_silver(spark, day: dict) -> None:  # noqa: ANN001
    lakehouse = day["lakehouse"]
    streets = day["landed"]["geo_streets"]
    assert (streets.delivered, streets.landed) == (day["features"], day["features"] - 2)
    assert streets.rejects_by_reason == {"GEOMETRY_RING_OPEN": 1, "GEOMETRY_SELF_INTERSECTION": 1}
    build_silver(spark, lakehouse, load_contract("geo_streets"))
    silver = lakehouse.read("silver", "street_boundary").select("code", "geometry").collect()
    assert len(silver) == day["features"] - 2
    shipped = {f["properties"]["code"] for f in load_city_geometry().geojson["features"]}
    assert {r["code"] for r in silver} <= shipped
    assert not {json.dumps(OPEN_RING, separators=(",", ":")), json.dumps(BOW_TIE, separators=(",", ":"))} & {
        r["geometry"] for r in silver}


def test_files_refused_whole_are_recorded_once_in_bronze_refused_files(spark, day: dict) -> None:  # noqa: ANN001
    lakehouse, folder = day["lakehouse"], day["folder"]
    assert {s: e.reason for s, e in day["refused"].items()} == {
        "marriages": "FILE_ENCODING", "deaths": "FILE_TRUNCATED"}
    for source in ("marriages", "deaths"):
        assert not lakehouse.exists(BRONZE, load_contract(source).tables.bronze)  # nothing of them written
    recorded = {r["source"]: r for r in _rows(lakehouse, REFUSED_TABLE)}
    assert set(recorded) == {"marriages", "deaths"}
    deaths = recorded["deaths"]
    raw = (folder / "health" / "deaths.csv").read_bytes()
    assert (deaths["day"], deaths["file"], deaths["reason_code"], deaths["size_bytes"]) == (
        "day-001", str(folder / "health" / "deaths.csv"), "FILE_TRUNCATED", len(raw))
    assert deaths["sha256"] == hashlib.sha256(raw).hexdigest()
    assert deaths["message"] == str(day["refused"]["deaths"]) and "Fix:" in deaths["message"]
    version = lakehouse.version(BRONZE, REFUSED_TABLE)
    with pytest.raises(DeliveryRejectedError):  # a rerun of the day refuses it again ...
        land_source(spark, lakehouse, "deaths", delivery_folder=folder)
    assert lakehouse.version(BRONZE, REFUSED_TABLE) == version  # ... and records nothing new
    assert len(_rows(lakehouse, REFUSED_TABLE)) == 2
