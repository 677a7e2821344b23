"""Catalog items written here for the export tests (not the shipped ones, which the gate's work changes):
every field is there for a reason named beside it."""

from __future__ import annotations

from typing import Any

import pytest

from citydata.catalog.items import CatalogItem, parse_item

_COMMON: dict[str, Any] = {"department": "市公安局", "theme": "人口", "category": "人口基础库 / 户籍人口",
                           "format": "CSV", "sharing": "无条件共享", "update_cycle": "daily", "license": "CC-BY-4.0"}


@pytest.fixture
def resident_item() -> CatalogItem:
    """A row per person: sensitive fields of every mask kind, internal and core fields, one public date."""
    return parse_item({
        **_COMMON, "resource_code": "339900-GA-OD-0002", "name": "resident_extract", "title": "示范市户籍人口脱敏样例",
        "summary": "One row per resident, personal fields masked.", "sharing": "有条件共享", "opening": "有条件开放",
        "license": "CC-BY-NC-4.0", "keywords": ["人口", "脱敏"], "source_table": "gold/dim_resident",
        "fields": [
            {"name": "id_number", "type": "string", "classification": "sensitive", "mask": "id_number",
             "title": "公民身份号码"},
            {"name": "name", "type": "string", "classification": "sensitive", "mask": "name", "title": "姓名"},
            {"name": "gender", "type": "string", "classification": "public", "title": "性别"},
            {"name": "birth_date", "type": "date", "classification": "sensitive", "mask": "birth_date",
             "title": "出生日期"},  # a date that leaves as a string: its year
            {"name": "age", "type": "integer", "classification": "public", "title": "年龄"},
            {"name": "district_code", "type": "string", "classification": "public", "title": "区县代码"},
            {"name": "street_code", "type": "string", "classification": "public", "title": "街道代码"},
            {"name": "address", "type": "string", "classification": "sensitive", "mask": "address",
             "title": "户籍地址"},
            {"name": "phone", "type": "string", "classification": "sensitive", "mask": "mobile", "title": "联系电话"},
            {"name": "household_id", "type": "string", "classification": "internal", "title": "户号"},
            {"name": "relation_to_head", "type": "string", "classification": "core", "title": "与户主关系"},
        ],
    }, "resident_extract.yml")


@pytest.fixture
def population_item() -> CatalogItem:
    """An open aggregate with suppressed counts, a decimal with two places and a date."""
    return parse_item({
        **_COMMON, "resource_code": "339900-GA-OD-0001", "name": "population_by_district",
        "title": "示范市分区户籍人口统计", "summary": "Registered residents of 示范市 by district.",
        "opening": "无条件开放", "keywords": ["人口", "户籍", "population"],
        "source_table": "gold/population_by_district", "suppress": ["residents", "male", "female"],
        "fields": [
            {"name": "district_code", "type": "string", "classification": "public", "title": "区县代码"},
            {"name": "district_name", "type": "string", "classification": "public", "title": "区县名称"},
            {"name": "residents", "type": "integer", "classification": "public", "title": "户籍人口"},
            {"name": "male", "type": "integer", "classification": "public", "title": "男性"},
            {"name": "female", "type": "integer", "classification": "public", "title": "女性"},
            {"name": "area_km2", "type": "decimal", "classification": "public", "title": "面积（平方公里）"},
            {"name": "as_of_date", "type": "date", "classification": "public", "title": "数据日期"},
        ],
    }, "population_by_district.yml")


@pytest.fixture
def district_item() -> CatalogItem:
    """A second open item, of another department, theme and update cycle (monthly, geo)."""
    return parse_item({
        **_COMMON, "resource_code": "339900-ZR-OD-0003", "name": "dim_district", "title": "示范市区县边界",
        "summary": "District boundaries as GeoJSON.", "department": "市自然资源和规划局", "theme": "自然资源和空间地理",
        "update_cycle": "monthly", "opening": "无条件开放", "keywords": ["区县", "边界"],
        "source_table": "gold/dim_district",
        "fields": [
            {"name": "district_code", "type": "string", "classification": "public", "title": "区县代码"},
            {"name": "district_name", "type": "string", "classification": "public", "title": "区县名称"},
            {"name": "geometry_geojson", "type": "string", "classification": "public", "title": "边界"},
        ],
    }, "dim_district.yml")
