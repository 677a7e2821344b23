"""FIELD_TOO_LONG: a value longer than its field allows is rejected (never quoted whole), the rest of the row
still checked; a CSV with a field of a million characters is read, not refused."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from citydata.catalog.contracts import DEFAULT_MAX_LENGTH, ContractError, load_contract
from citydata.ingest.validate import masked_record, validate_record
from citydata.sources.connectors import RawRecord, read_all

BLACK_LIST = load_contract("credit_black_list")
REGISTER = load_contract("household_register")


def _row(**values: str) -> dict[str, str]:
    row = {f.name: "x" for f in BLACK_LIST.fields}
    row.update({"subject_name": "示范市某某有限公司", "credit_code": "91339901MA0000001X", "list_type": "严重失信主体",
                "listed_on": "2024-03-01"})
    return {**row, **values}


def test_a_value_over_the_default_limit_is_rejected_with_its_length_and_not_its_text() -> None:
    long_name = "某" * (DEFAULT_MAX_LENGTH + 1)
    result = validate_record(BLACK_LIST, _row(subject_name=long_name))
    [problem] = [p for p in result.problems if p.field == "subject_name"]
    assert problem.reason == "FIELD_TOO_LONG"
    assert problem.detail == f"{DEFAULT_MAX_LENGTH + 1:,} characters, at most {DEFAULT_MAX_LENGTH:,}"
    assert result.values["subject_name"] is None
    at_limit = validate_record(BLACK_LIST, _row(subject_name="某" * DEFAULT_MAX_LENGTH))
    assert not [p for p in at_limit.problems if p.field == "subject_name"]
    assert at_limit.values["subject_name"] == "某" * DEFAULT_MAX_LENGTH


def test_a_field_sets_its_own_limit_and_geometry_has_none() -> None:
    short = replace(BLACK_LIST, fields=tuple(replace(f, max_length=5) if f.name == "list_type" else f
                                            for f in BLACK_LIST.fields))
    problems = validate_record(short, _row(list_type="严重失信主体名单")).problems
    assert [p.reason for p in problems if p.field == "list_type"] == ["FIELD_TOO_LONG"]
    geometry = next(f for f in load_contract("geo_districts").fields if f.check == "geometry")
    assert geometry.length_limit is None


def test_a_long_value_is_quoted_cut_in_the_rejects_and_masked_when_personal() -> None:
    address = "示范市东湖区" + "很长的地址" * 100_000
    quoted = json.loads(masked_record(REGISTER, {"address": address, "name": "张三"}))
    assert quoted["address"] == "示范市东湖区"  # the address mask keeps the district, nothing of the rest
    public = json.loads(masked_record(BLACK_LIST, _row(subject_name="某" * 10_000)))
    assert public["subject_name"] == "某" * 200 + "…(10,000 characters)"


def test_max_length_must_be_a_positive_number(tmp_path: Path) -> None:
    text = Path(BLACK_LIST.file).read_text(encoding="utf-8").replace(
        "    check: text\n", "    check: text\n    max_length: zero\n", 1)
    bad = tmp_path / "credit_black_list.yml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(ContractError, match="max_length must be a positive number"):
        load_contract(bad)


def test_a_csv_field_of_a_million_characters_is_read_and_the_next_rows_too(tmp_path: Path) -> None:
    header = ",".join(f.column for f in BLACK_LIST.fields)
    rows = [",".join(_row(subject_name=name).values()) for name in ("甲公司", "乙" * 1_000_000, "丙公司")]
    delivery = tmp_path / "black_list.csv"
    delivery.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    delivered = read_all(BLACK_LIST, delivery)
    assert delivered.rejections == []
    assert [len(r.values["主体名称"]) for r in delivered.records if isinstance(r, RawRecord)] == [3, 1_000_000, 3]
