"""Contract options for the transports beyond CSV (xlsx, json_api, geojson), units and coordinate systems."""

from __future__ import annotations

import pytest

from citydata.catalog.contracts import ContractError, parse_contract


def _contract(delivery: dict, *fields: dict) -> dict:
    base = {"source": "s", "title": "t", "department": "d", "update_cycle": "daily", "key": ["code"],
            "tables": {"bronze": "s", "rejects": "s_rejects", "silver": "s"}, "delivery": delivery}
    code = {"name": "code", "column": "编码", "type": "string", "classification": "public",
            "standard": "x", "check": "text"}
    return {**base, "fields": [code, *fields]}


def test_xlsx_delivery_reads_sheet_title_and_header_rows_with_utf8_default() -> None:
    c = parse_contract(_contract({"format": "xlsx", "sheet": "主要指标", "skip_rows": 1, "header_rows": 2,
                                  "title_column": "表题", "path": "statistics/indicators.xlsx"}))
    d = c.delivery
    assert (d.format, d.encoding, d.sheet, d.skip_rows, d.header_rows, d.header_join, d.title_column, d.path) == (
        "xlsx", "UTF-8", "主要指标", 1, 2, "/", "表题", "statistics/indicators.xlsx")


def test_json_api_delivery_needs_an_endpoint_and_a_positive_page_size() -> None:
    c = parse_contract(_contract({"format": "json_api", "endpoint": "/api/tax", "page_size": 500}))
    assert (c.delivery.endpoint, c.delivery.page_size, c.delivery.records_key, c.delivery.page_param) == (
        "/api/tax", 500, "records", "page")
    with pytest.raises(ContractError, match="needs `endpoint:`"):
        parse_contract(_contract({"format": "json_api"}))
    with pytest.raises(ContractError, match="page_size '0' is not a whole number >= 1"):
        parse_contract(_contract({"format": "json_api", "endpoint": "/api/tax", "page_size": 0}))


def test_money_needs_a_unit_and_coordinates_a_system() -> None:
    money = {"name": "capital", "column": "注册资本", "type": "decimal", "classification": "public",
             "standard": "元", "check": "money"}
    with pytest.raises(ContractError, match="field 'capital': a money field needs the unit"):
        parse_contract(_contract({"format": "csv", "encoding": "UTF-8"}, money))
    assert parse_contract(_contract({"format": "csv", "encoding": "UTF-8"}, {**money, "unit": "万元"})
                          ).field("capital").unit == "万元"
    point = {"name": "location", "column": "location", "type": "string", "classification": "public",
             "standard": "GCJ-02", "check": "lonlat"}
    with pytest.raises(ContractError, match="field 'location': a lonlat field needs its coordinate system"):
        parse_contract(_contract({"format": "json_api", "endpoint": "/api/poi"}, point))
    assert parse_contract(_contract({"format": "json_api", "endpoint": "/api/poi"}, {**point, "coord_system": "gcj02"})
                          ).field("location").coord_system == "gcj02"


def test_geojson_delivery_needs_a_geometry_field() -> None:
    with pytest.raises(ContractError, match="needs a field with `check: geometry`"):
        parse_contract(_contract({"format": "geojson"}))
    geometry = {"name": "geometry", "column": "geometry", "type": "string", "classification": "public",
                "standard": "RFC 7946", "check": "geometry", "coord_system": "wgs84"}
    assert parse_contract(_contract({"format": "geojson"}, geometry)).delivery.encoding == "UTF-8"


def test_csv_delivery_still_needs_an_encoding() -> None:
    with pytest.raises(ContractError, match="delivery encoding is missing"):
        parse_contract(_contract({"format": "csv"}))
