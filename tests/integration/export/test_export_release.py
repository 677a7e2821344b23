"""export_release on real Delta tables (Spark reads, delta-rs log): the pinned version is what leaves, a later
version does not leak, only 无条件开放 items are exported, undeclared columns stay, decimals keep the
table's type, and exporting the same release again gives the same bytes."""

from __future__ import annotations

import hashlib
import json
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from rdflib import Graph, Namespace

from citydata.catalog.items import CatalogItem, parse_item
from citydata.export.release import export_release, is_exported, load_release_export

DCAT = Namespace("http://www.w3.org/ns/dcat#")
RDF = Namespace("http://www.w3.org/1999/02/22-rdf-syntax-ns#")
SCHEMA = ("district_code string, district_name string, residents long, male long, female long, "
          "area_km2 decimal(18,6), as_of_date date, batch_note string")
VERSION_0 = [
    ("339901", "东湖区", 1200, 610, 590, Decimal("35.125000"), date(2025, 3, 2), "internal: not declared"),
    ("339902", "西山区", 9, 6, 3, Decimal("8.500000"), date(2025, 3, 2), "internal: not declared"),
    ("339903", "南江区", 800, 390, 410, Decimal("21.000000"), date(2025, 3, 2), "internal: not declared"),
]
# version 1 (a later day): a district that must not appear in release 1, which pins version 0
VERSION_1 = [("339909", "泄漏区", 5000, 2500, 2500, Decimal("1.000000"), date(2025, 3, 3), "later")]
COMMON = {"department": "市公安局", "theme": "人口", "category": "人口基础库", "format": "CSV",
          "sharing": "无条件共享", "update_cycle": "daily", "license": "CC-BY-4.0"}


def _items() -> list[CatalogItem]:
    population = parse_item({
        **COMMON, "resource_code": "339900-GA-OD-0001", "name": "population_by_district",
        "title": "示范市分区户籍人口统计", "summary": "Registered residents by district.", "opening": "无条件开放",
        "keywords": ["人口"], "source_table": "gold/population_by_district",
        "suppress": ["residents", "male", "female"],
        "fields": [{"name": n, "type": t, "classification": "public", "title": n} for n, t in (
            ("district_code", "string"), ("district_name", "string"), ("residents", "integer"), ("male", "integer"),
            ("female", "integer"), ("area_km2", "decimal"), ("as_of_date", "date"))],
    })
    residents = parse_item({  # pinned by the release but 有条件开放: never in the open-data export
        **COMMON, "resource_code": "339900-GA-OD-0002", "name": "resident_extract", "title": "户籍人口脱敏样例",
        "summary": "One row per resident.", "opening": "有条件开放", "source_table": "gold/dim_resident",
        "fields": [{"name": "id_number", "type": "string", "classification": "sensitive", "mask": "id_number"}],
    })
    return [population, residents]


def test_export_release_reads_the_pinned_version_only(spark, lakehouse, tmp_path: Path) -> None:
    lakehouse.write(spark.createDataFrame(VERSION_0, SCHEMA), "gold", "population_by_district")
    lakehouse.write(spark.createDataFrame([("339901196804120110",)], "id_number string"), "gold", "dim_resident")
    lakehouse.write(spark.createDataFrame(VERSION_1, SCHEMA), "gold", "population_by_district", mode="append")
    assert lakehouse.version("gold", "population_by_district") == 1
    manifest = {"release": 1, "released_at": "2026-12-07T06:00:00Z", "catalog": "示范市公共数据资源目录",
                "datasets": {"gold/population_by_district": {"delta_version": 0, "rows": 3},
                             "gold/dim_resident": {"delta_version": 0, "rows": 1}}}
    exports = tmp_path / "exports"
    assert not is_exported(manifest, exports, _items())

    started = time.monotonic()
    export = export_release(lakehouse, manifest, exports, _items(), base_url="http://portal.test",
                            issued={"population_by_district": "2026-12-01T06:00:00Z"})
    seconds = time.monotonic() - started
    folder = exports / "release-0001"
    assert export.folder == folder and [d.dataset for d in export.datasets] == ["population_by_district"]
    assert sorted(p.name for p in folder.iterdir()) == [
        "SHA256SUMS", "api", "catalog.jsonld", "population_by_district.csv", "population_by_district.json",
        "population_by_district.metadata.json", "population_by_district.parquet"]

    csv_text = (folder / "population_by_district.csv").read_bytes().decode("utf-8-sig")
    assert csv_text.splitlines() == [
        "district_code,district_name,residents,male,female,area_km2,as_of_date",
        "339901,东湖区,1200,610,590,35.125000,2025-03-02",
        "339902,西山区,9,*,*,8.500000,2025-03-02",
        "339903,南江区,800,*,*,21.000000,2025-03-02",
    ]
    everything = b"".join(p.read_bytes() for p in folder.rglob("*") if p.is_file())
    for leaked in ("泄漏区", "339909", "internal: not declared", "batch_note", "339901196804120110"):
        assert leaked.encode("utf-8") not in everything, leaked
    table = pq.read_table(folder / "population_by_district.parquet")
    assert table.schema.field("area_km2").type == pa.decimal128(18, 6)
    assert table.column("male").to_pylist() == [610, None, None]

    meta = json.loads((folder / "population_by_district.metadata.json").read_text(encoding="utf-8"))
    assert meta["provenance"] == {"release": 1, "table": "gold/population_by_district", "delta_version": 0}
    assert (meta["issued"], meta["modified"]) == ("2026-12-01T06:00:00Z", "2026-12-07T06:00:00Z")
    summary = export.as_dict()
    assert summary["datasets"]["population_by_district"]["rows"] == 3
    for info in summary["datasets"]["population_by_district"]["files"].values():
        assert info["sha256"] == hashlib.sha256(Path(info["path"]).read_bytes()).hexdigest()
    graph = Graph().parse(folder / "catalog.jsonld", format="json-ld")
    assert len(list(graph.subjects(RDF.type, DCAT.Distribution))) == 3
    assert is_exported(manifest, exports, _items())
    assert load_release_export(folder).as_dict() == summary

    before = {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    again = export_release(lakehouse, manifest, exports, _items(), base_url="http://portal.test",
                           issued={"population_by_district": "2026-12-01T06:00:00Z"})
    assert {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()} == before
    assert again.as_dict() == summary
    assert sorted(p.name for p in exports.iterdir()) == ["release-0001"]  # no partial or old folder left
    print(f"export_release: 1 dataset, {summary['rows']} rows, {summary['bytes']} bytes in {seconds:.2f} s")
