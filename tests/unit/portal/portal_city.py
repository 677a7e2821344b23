"""A tiny city released twice, exported with the platform's own export (no Spark), for the portal's tests
(`tiny_city` fixture in conftest.py; imported by bare name, like the other test helpers).

Every row is there for a reason:
- dim_district: 东湖区 a unit-ish square Polygon, 西山区 a MultiPolygon of two squares (both GeoJSON forms);
- city_portrait_district: residents 120 + 80 = 200 city-wide, so the home page's totals and ratios are checkable;
- population_by_district: its summary carries HTML (`<script>`, `&`) that must be escaped; 西山区's 3 men are a
  count under 5, suppressed ('*') with a complementary cell;
- resident_extract: 有条件开放, never exported: listed with its fields and how to apply, without downloads.
Release 1 has population_by_district and dim_district, release 2 all four; CURRENT names release 2.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from citydata.catalog.items import CatalogItem, parse_item
from citydata.config import Paths
from citydata.export.dataset import export_records
from citydata.export.release import write_release_documents

BASE_URL = "http://portal.test"
HOSTILE = '<script>alert("x")</script> & <b>粗体</b>'


def _square(lon: float, lat: float, size: float = 0.1) -> list[list[float]]:
    return [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]


DISTRICTS = [
    {"district_code": "339901", "district_name": "东湖区", "area_km2": Decimal("105.5"),
     "geometry_geojson": json.dumps({"type": "Polygon", "coordinates": [_square(120.0, 30.0)]})},
    {"district_code": "339902", "district_name": "西山区", "area_km2": Decimal("94.5"),
     "geometry_geojson": json.dumps({"type": "MultiPolygon", "coordinates": [[_square(120.1, 30.0)],
                                                                          [_square(120.1, 30.1, 0.05)]]})},
]
PORTRAIT = [
    {"district_code": "339901", "district_name": "东湖区", "residents": 120, "households": 50, "active_entities": 30,
     "area_km2": Decimal("105.5"), "as_of_date": date(2025, 1, 31)},
    {"district_code": "339902", "district_name": "西山区", "residents": 80, "households": 35, "active_entities": 10,
     "area_km2": Decimal("94.5"), "as_of_date": date(2025, 1, 31)},
]
POPULATION = [
    {"district_code": "339901", "district_name": "东湖区", "residents": 120, "male": 61, "female": 59},
    {"district_code": "339902", "district_name": "西山区", "residents": 80, "male": 3, "female": 77},
]


def _item(name: str, title: str, theme: str, department: str, opening: str, fields: list[dict[str, Any]],
          **extra: Any) -> CatalogItem:
    return parse_item({
        "resource_code": f"339900-T-{name}", "name": name, "title": title, "summary": extra.pop("summary", title),
        "department": department, "theme": theme, "category": theme, "format": "CSV",
        "sharing": "无条件共享" if opening == "无条件开放" else "有条件共享", "opening": opening,
        "update_cycle": "daily", "license": "CC-BY-4.0", "keywords": extra.pop("keywords", [theme]),
        "source_table": f"gold/{extra.pop('table', name)}", "fields": fields, **extra})


def _public(name: str, kind: str, title: str) -> dict[str, Any]:
    return {"name": name, "type": kind, "classification": "public", "title": title}


ITEMS = {
    "dim_district": _item("dim_district", "区县边界", "地理", "市自然资源和规划局", "无条件开放", [
        _public("district_code", "string", "区县代码"), _public("district_name", "string", "区县名称"),
        _public("geometry_geojson", "string", "边界（GeoJSON）"), _public("area_km2", "decimal", "面积（平方公里）")],
        key_figure={"column": "area_km2", "label_column": "district_name", "title": "面积", "unit": "平方公里"}),
    "city_portrait_district": _item("city_portrait_district", "城市画像（分区县）", "城市画像", "市大数据局",
                                    "无条件开放", [
        _public("district_code", "string", "区县代码"), _public("district_name", "string", "区县名称"),
        _public("residents", "integer", "户籍人口（人）"), _public("households", "integer", "户数（户）"),
        _public("active_entities", "integer", "存续法人（户）"), _public("area_km2", "decimal", "面积（平方公里）"),
        _public("as_of_date", "date", "数据日期")],
        key_figure={"column": "residents", "label_column": "district_name", "title": "户籍人口", "unit": "人"}),
    "population_by_district": _item("population_by_district", "分区户籍人口", "人口", "市公安局", "无条件开放", [
        _public("district_code", "string", "区县代码"), _public("district_name", "string", "区县名称"),
        _public("residents", "integer", "户籍人口"), _public("male", "integer", "男性"),
        _public("female", "integer", "女性")], summary=HOSTILE, suppress=["residents", "male", "female"],
        keywords=["人口", "户籍"]),
    "resident_extract": _item("resident_extract", "户籍人口脱敏样例", "人口", "市公安局", "有条件开放", [
        {"name": "name", "type": "string", "classification": "sensitive", "mask": "name", "title": "姓名"},
        _public("district_code", "string", "区县代码"),
        {"name": "household_id", "type": "string", "classification": "internal", "title": "户号"}],
        table="dim_resident"),
}
RECORDS = {"dim_district": DISTRICTS, "city_portrait_district": PORTRAIT, "population_by_district": POPULATION}
RELEASES = {1: ("2026-12-06T06:00:00+00:00", "2025-01-01", ["population_by_district", "dim_district"]),
            2: ("2026-12-07T06:00:00+00:00", "2025-01-31", list(ITEMS))}


@dataclass
class TinyCity:
    paths: Paths
    items: dict[str, CatalogItem]


def _manifest(number: int, released_at: str, as_of: str, names: list[str]) -> dict[str, Any]:
    datasets = {}
    for name in names:
        item = ITEMS[name]
        datasets[item.source_table] = {
            "layer": "gold", "table": item.table, "path": f"/lakehouse/{item.source_table}",
            "delta_version": number + 2, "rows": len(RECORDS.get(name, [1, 2, 3])) + number - 2,
            "catalog_item": item.metadata(),
            "validation": {"success": True, "evaluated_expectations": 9, "successful_expectations": 9,
                           "failed_expectations": []}}
    return {"release": number, "released_at": released_at.replace("+00:00", "Z"), "as_of": as_of,
            "catalog": "示范市公共数据资源目录", "datasets": datasets, "inputs": {}, "gate": {"success": True}}


def write_city(home: Path, current: int | None = 2) -> TinyCity:
    paths = Paths(home=home, lakehouse=str(home / "lakehouse"), landing=home / "landing", exports=home / "exports",
                  releases=home / "data" / "releases")
    paths.releases.mkdir(parents=True)
    for number, (released_at, as_of, names) in RELEASES.items():
        manifest = _manifest(number, released_at, as_of, names)
        (paths.releases / f"release-{number:04d}.json").write_text(
            json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
        folder = paths.exports / f"release-{number:04d}"
        for name in names:
            item = ITEMS[name]
            if item.opening != "无条件开放":
                continue
            export_records(RECORDS[name], item.fields, folder, item=item,
                           published_at=datetime.fromisoformat(released_at),
                           provenance={"release": number, "table": item.source_table,
                                       "delta_version": number + 2})
        write_release_documents(folder, number, released_at, base_url=BASE_URL)
    if current is not None:
        (paths.releases / "CURRENT").write_text(f"{current}\n", encoding="utf-8")
    return TinyCity(paths, ITEMS)
