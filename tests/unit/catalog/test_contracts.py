"""Contracts and catalog items load, and bad ones fail naming file, field and fix."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from citydata.catalog.contracts import Classification, ContractError, load_contract, load_contracts
from citydata.catalog.items import load_item, parse_item

SCHEMAS = Path(__file__).resolve().parents[3] / "schemas"


def _raw() -> dict:
    return yaml.safe_load((SCHEMAS / "household_register.yml").read_text(encoding="utf-8"))


def _write(tmp_path: Path, raw: dict) -> Path:
    path = tmp_path / "household_register.yml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def test_household_register_contract_declares_source_and_every_field() -> None:
    contract = load_contract("household_register")
    assert contract.department == "市公安局"
    assert contract.delivery.encoding == "GBK"
    assert contract.key == ("id_number",)
    assert contract.update_cycle == "daily"
    assert contract.columns[0] == "公民身份号码"
    assert contract.field("id_number").standard == "GB 11643-1999"
    assert contract.field("district_code").classification is Classification.PUBLIC
    assert contract.field("household_id").classification is Classification.INTERNAL
    sensitive = [f.name for f in contract.fields if f.classification is Classification.SENSITIVE]
    assert sensitive == ["id_number", "name", "birth_date", "address", "phone"]
    assert all(f.mask for f in contract.fields if f.classification is Classification.SENSITIVE)
    assert (contract.tables.bronze, contract.tables.rejects, contract.tables.silver) == (
        "household_register", "household_register_rejects", "household_registration")


def test_load_contracts_finds_every_yaml_by_source() -> None:
    assert "household_register" in load_contracts(SCHEMAS)


def test_unknown_classification_names_file_field_and_fix(tmp_path: Path) -> None:
    raw = _raw()
    raw["fields"][1]["classification"] = "secret"
    path = _write(tmp_path, raw)
    with pytest.raises(ContractError) as err:
        load_contract(path)
    assert err.value.field == "name"
    assert str(path) in str(err.value)
    assert "'secret' is not one of public, internal, sensitive, core" in str(err.value)
    assert "Fix:" in str(err.value)


def test_sensitive_field_without_mask_is_refused(tmp_path: Path) -> None:
    raw = _raw()
    del raw["fields"][9]["mask"]  # phone
    with pytest.raises(ContractError, match="field 'phone': a sensitive field needs a mask"):
        load_contract(_write(tmp_path, raw))


def test_key_must_be_a_declared_field(tmp_path: Path) -> None:
    raw = _raw()
    raw["key"] = ["person_id"]
    with pytest.raises(ContractError, match="key field 'person_id' is not declared"):
        load_contract(_write(tmp_path, raw))


def test_missing_encoding_and_unknown_check_are_refused(tmp_path: Path) -> None:
    raw = _raw()
    raw["delivery"]["encoding"] = "KLINGON-8"
    with pytest.raises(ContractError, match="unknown encoding 'KLINGON-8'"):
        load_contract(_write(tmp_path, raw))
    raw = _raw()
    raw["fields"][0]["check"] = "telepathy"
    with pytest.raises(ContractError, match="field 'id_number': check 'telepathy' is unknown"):
        load_contract(_write(tmp_path, raw))


def test_duplicate_column_is_refused(tmp_path: Path) -> None:
    raw = _raw()
    raw["fields"][1]["column"] = raw["fields"][0]["column"]
    with pytest.raises(ContractError, match="duplicate column '公民身份号码'"):
        load_contract(_write(tmp_path, raw))


def test_full_list_is_declared_by_social_insurance_and_off_by_default() -> None:
    assert load_contract("social_insurance_employment").full_list is True
    assert load_contract("tax_payments").full_list is False  # vouchers arrive as new rows, not a whole list


def test_full_list_must_be_true_or_false(tmp_path: Path) -> None:
    raw = _raw()
    raw["full_list"] = "yes please"
    with pytest.raises(ContractError, match="full_list 'yes please' is not true or false.*Fix: write `full_list"):
        load_contract(_write(tmp_path, raw))


def test_missing_contract_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(ContractError, match="no such contract file"):
        load_contract(tmp_path / "nothing.yml")


def test_catalog_items_load_with_sharing_and_opening_attributes() -> None:
    pop = load_item("population_by_district")
    assert (pop.sharing, pop.opening) == ("无条件共享", "无条件开放")
    assert pop.suppress == ("residents", "male", "female")
    extract = load_item("resident_extract")
    masks = {f.name: f.mask for f in extract.fields if f.classification is Classification.SENSITIVE}
    assert masks == {"id_number": "id_number", "name": "name", "birth_date": "birth_date", "address": "address",
                     "phone": "mobile"}


def test_catalog_item_refuses_unknown_opening_attribute() -> None:
    raw = yaml.safe_load((Path(load_item("population_by_district").file)).read_text(encoding="utf-8"))
    raw["opening"] = "随便开放"
    with pytest.raises(ContractError, match="opening '随便开放'"):
        parse_item(raw, "x.yml")


def test_every_check_a_contract_may_name_is_implemented_by_ingest() -> None:
    from citydata.catalog.contracts import CHECKS, ROW_CHECKS
    from citydata.ingest.validate import FIELD_CHECKS
    from citydata.ingest.validate import ROW_CHECKS as INGEST_ROW_CHECKS

    assert set(FIELD_CHECKS) == set(CHECKS)
    assert set(INGEST_ROW_CHECKS) == set(ROW_CHECKS)


@pytest.mark.parametrize(("check", "raw", "extra", "ok", "value_or_reason"), [
    ("money", "12.5万元", {"unit": "元"}, True, "125000.0"),
    ("money", "一百", {"unit": "元"}, False, "MONEY_FORMAT"),
    ("decimal", "１,234.5", {}, True, "1234.5"),
    ("decimal", "n/a", {}, False, "NUMBER_FORMAT"),
    ("lonlat", "120.123456,30.123456", {"coord_system": "wgs84"}, True, "120.123456,30.123456"),
    ("lonlat", "120.1", {"coord_system": "wgs84"}, False, "COORD_FORMAT"),
    ("lonlat", "500,30", {"coord_system": "gcj02"}, False, "COORD_RANGE"),
    ("lonlat", "120.6,30.2", {"coord_system": "wgs84"}, False, "GEO_OUTSIDE_CITY"),  # east of the city
    ("geometry", '{"type": "Point", "coordinates": [120.2, 30.2]}', {"coord_system": "wgs84"}, True,
     '{"type":"Point","coordinates":[120.2,30.2]}'),  # inside the city (GEOMETRY_OUTSIDE_CITY otherwise)
    ("geometry", '{"type": "Circle"}', {"coord_system": "wgs84"}, False, "GEOMETRY_FORMAT"),
    ("mobile", "138 0571 0001", {}, True, "13805710001"),
    ("mobile", "1380571", {}, False, "MOBILE_FORMAT"),
    ("gender", "女", {}, True, "F"),
    ("gender", "未知", {}, False, "GENDER_CODE"),
    ("district_code", "339999", {}, False, "DIVISION_UNKNOWN"),
    ("street_code", "339901", {}, False, "DIVISION_LEVEL"),
])
def test_field_checks(check: str, raw: str, extra: dict, ok: bool, value_or_reason: str) -> None:
    from citydata.catalog.contracts import FieldSpec
    from citydata.ingest.validate import FIELD_CHECKS

    spec = FieldSpec(name="f", column="f", type="string", classification=Classification.PUBLIC, standard="-",
                     check=check, **extra)
    result = FIELD_CHECKS[check](raw, spec, None)
    assert result.ok is ok
    assert (str(result.value) if ok else result.reason) == value_or_reason
