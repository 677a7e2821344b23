"""Row validation of the contract's enumerations, fixed lengths and geometries (citydata.ingest.validate)."""

from __future__ import annotations

import json

import pytest

from citydata.catalog.contracts import load_contract
from citydata.ingest.validate import validate_record
from citydata.standards.geo import load_city_geometry

EMPLOYMENT = load_contract("social_insurance_employment")
ORGANIZATIONS = load_contract("social_organizations")
STREETS = load_contract("geo_streets")

EMPLOYEE = {"id_number": "11010519491231002X", "name": "张三", "employer_credit_code": "91339901QGDU6JN420",
            "employer_name": "示范市甲公司", "insurance_type": "城镇职工基本养老保险", "insured_on": "2020-01-01",
            "contribution_base": "6000", "status": "正常参保"}


def test_a_value_the_contract_does_not_list_is_rejected_wherever_the_row_is() -> None:
    assert validate_record(EMPLOYMENT, EMPLOYEE).ok
    assert validate_record(EMPLOYMENT, {**EMPLOYEE, "status": " 正常参保 "}).values["status"] == "正常参保"
    result = validate_record(EMPLOYMENT, {**EMPLOYEE, "status": "正常参"})
    assert result.reason_code == "VALUE_NOT_LISTED"
    assert result.reason_detail == "status: VALUE_NOT_LISTED (正常参: not one of 3 values the contract lists)"


def test_a_code_of_another_length_than_the_contract_fixes_is_rejected() -> None:
    spec = ORGANIZATIONS.field("authority_district_code")
    assert spec.length == 6
    row = {f.name: "" for f in ORGANIZATIONS.fields}
    result = validate_record(ORGANIZATIONS, {**row, "authority_district_code": "3399"})
    assert [(p.field, p.reason) for p in result.problems if p.field == spec.name] == [
        ("authority_district_code", "VALUE_LENGTH")]


def _street(geometry: dict) -> dict[str, str]:
    street = next(f for f in load_city_geometry().geojson["features"] if f["properties"]["level"] == "street")
    props = street["properties"]
    return {"code": props["code"], "name": props["name"], "level": "street", "parent_code": props["parent"],
            "geometry": json.dumps(geometry)}


@pytest.mark.parametrize(("geometry", "reason"), [
    ({"type": "Polygon", "coordinates": [[[120.05, 30.30], [120.10, 30.35]]]}, "GEOMETRY_RING_OPEN"),
    ({"type": "Polygon", "coordinates": [[[120.05, 30.30], [120.10, 30.35], [120.10, 30.30], [120.05, 30.35],
                                          [120.05, 30.30]]]}, "GEOMETRY_SELF_INTERSECTION"),
    ({"type": "Polygon", "coordinates": [[[121.05, 30.30], [121.10, 30.30], [121.10, 30.35], [121.05, 30.30]]]},
     "GEOMETRY_OUTSIDE_CITY"),
])
def test_an_invalid_street_boundary_is_a_reject_with_its_own_code(geometry: dict, reason: str) -> None:
    shipped = next(f for f in load_city_geometry().geojson["features"] if f["properties"]["level"] == "street")
    assert validate_record(STREETS, _street(shipped["geometry"])).ok
    result = validate_record(STREETS, _street(geometry))
    assert (result.ok, result.reason_code) == (False, reason)
    assert result.values["geometry"] is None
