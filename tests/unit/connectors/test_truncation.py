"""Cut files, told apart from bad ones by the contract: each transport's cut is FILE_TRUNCATED, never a
wrong value landed, never FILE_ENCODING for a cut character; a header without its line names no value."""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from citydata.catalog.contracts import SourceContract, load_contract
from citydata.sources.connectors import RawRecord, Rejection, read_all

EMPLOYMENT = load_contract("social_insurance_employment")
ORGANIZATIONS = load_contract("social_organizations")
CHANGES = load_contract("household_register_changes")
RED_LIST = load_contract("credit_red_list")
STREETS = load_contract("geo_streets")
TAX = load_contract("tax_payments")
ENTITIES = load_contract("legal_entities")
# a marriage recorded in the register's change log: its last value 已婚 is one of 婚姻状况's values
ROW = "33990119900101001X,张三,变更,婚姻状况变更,2024-01-05,,339901,339901001,,已婚"


def unpromised(contract: SourceContract) -> SourceContract:
    """The contract of a department that does not promise a final line break: only the values can tell."""
    return replace(contract, delivery=replace(contract.delivery, final_line_break=False))


def kinds(items: list) -> list[tuple[str, str | None, int]]:
    return [(type(i).__name__, getattr(i, "reason_code", None),
             i.lineage.row if isinstance(i, RawRecord) else i.row) for i in items]


def employment_rows(city: Path) -> bytes:
    return (city / "day-001" / "delivery" / "social_insurance" / "employment.csv").read_bytes()


def test_a_file_cut_inside_its_last_value_rejects_that_row_not_lands_the_cut_value(city: Path, tmp_path: Path) -> None:
    data = employment_rows(city)
    rows = data.decode("utf-8").count("\r\n") - 1
    cut = data[:-len("保\r\n".encode())]  # 正常参保 -> 正常参: complete UTF-8 characters, no line break
    path = tmp_path / "employment.csv"
    path.write_bytes(cut)
    for contract in (EMPLOYMENT, unpromised(EMPLOYMENT)):  # the line ending, or else 参保状态's values, tell
        delivered = read_all(contract, path)
        [rejection] = delivered.rejections
        assert (rejection.reason_code, rejection.row) == ("FILE_TRUNCATED", rows)
        assert len(delivered.records) == rows - 1
        assert all(r.values["参保状态"] == "正常参保" for r in delivered.records)
    assert "none of the values of status" in str(read_all(unpromised(EMPLOYMENT), path).rejections[0])
    path.write_bytes(data.rstrip(b"\r\n"))  # whole last value, only the line break missing
    assert read_all(EMPLOYMENT, path).rejections[0].reason_code == "FILE_TRUNCATED"  # promised, so cut
    assert [r.reason_code for r in read_all(unpromised(EMPLOYMENT), path).rejections] == []  # value is whole


def test_a_last_code_shorter_than_its_fixed_length_is_a_cut(city: Path, tmp_path: Path) -> None:
    data = (city / "day-001" / "delivery" / "civil_affairs" / "social_organizations.csv").read_bytes()
    path = tmp_path / "social_organizations.csv"
    path.write_bytes(data[:-4])  # 339901\r\n -> 3399
    [rejection] = read_all(unpromised(ORGANIZATIONS), path).rejections
    assert rejection.reason_code == "FILE_TRUNCATED" and "4 of the 6 characters" in rejection.detail


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_a_file_cut_inside_a_multibyte_character_is_truncated_not_an_encoding_fault(
        tmp_path: Path, encoding: str) -> None:
    header = ",".join(CHANGES.columns)
    data = f"{header}\r\n{ROW}\r\n{ROW.replace('001X', '002X')}\r\n".encode(encoding)
    path = tmp_path / "changes.csv"
    path.write_bytes(data[:-3])  # 已婚\r\n -> 已 + the first byte(s) of 婚
    items = list(read_all(unpromised(CHANGES), path).records) + read_all(unpromised(CHANGES), path).rejections
    assert kinds(items) == [("RawRecord", None, 1), ("Rejection", "FILE_TRUNCATED", 2)]
    assert "multi-byte character" in items[1].detail and "33990119900102002X" not in str(items[1])
    path.write_bytes(f"{header}\r\n".encode(encoding)[:8])  # cut inside the header's third character
    [rejection] = read_all(CHANGES, path).rejections
    assert (rejection.reason_code, rejection.row) == ("FILE_TRUNCATED", 0)


def test_a_header_only_file_without_its_promised_line_break_is_cut_whole(tmp_path: Path) -> None:
    path = tmp_path / "red_list.csv"
    path.write_text(",".join(RED_LIST.columns), encoding="utf-8")
    [rejection] = read_all(RED_LIST, path).rejections
    assert (rejection.reason_code, rejection.row) == ("FILE_TRUNCATED", 0)
    assert read_all(unpromised(RED_LIST), path).rejections == []  # a header-only delivery: no rows, no fault


def test_a_file_delivered_without_its_header_line_names_no_value_of_the_row_taken_for_it(tmp_path: Path) -> None:
    path = tmp_path / "changes.csv"
    path.write_text(f"{ROW}\r\n", encoding="gbk")
    [rejection] = read_all(CHANGES, path).rejections
    assert rejection.reason_code == "HEADER_MISMATCH"
    assert "33990119900101001X" not in str(rejection) and "张三" not in str(rejection)
    assert "****(18 characters)" in rejection.detail


def test_a_cut_geojson_is_truncated_and_a_damaged_one_is_not_json(city: Path, tmp_path: Path) -> None:
    data = (city / "day-001" / "delivery" / "geography" / "streets.geojson").read_bytes()
    path = tmp_path / "streets.geojson"
    for cut_at in (len(data) // 3, len(data) - 3, 1):
        path.write_bytes(data[:cut_at])
        [rejection] = read_all(STREETS, path).rejections
        assert (rejection.reason_code, rejection.row) == ("FILE_TRUNCATED", 0), cut_at
    path.write_bytes(data[:100] + b"#" + data[101:])  # a wrong character inside, the end intact
    assert [r.reason_code for r in read_all(STREETS, path).rejections] == ["FILE_FORMAT"]
    path.write_bytes(b"[" * 100_000)  # nested deeper than any reader recurses: refused, not a traceback
    assert [r.reason_code for r in read_all(STREETS, path).rejections] in (["FILE_FORMAT"], ["FILE_TRUNCATED"])


def test_a_cut_api_page_is_truncated_with_its_page_and_a_broken_index_is_refused(city: Path, tmp_path: Path) -> None:
    folder = tmp_path / "tax"
    shutil.copytree(city / "day-001" / "delivery" / "tax", folder)
    pages = json.loads((folder / "api.json").read_text(encoding="utf-8"))["pages"]
    page = folder / pages[1]
    body = page.read_bytes()
    page.write_bytes(body[:len(body) // 2])
    delivered = read_all(TAX, folder)
    [rejection] = delivered.rejected_whole
    assert (rejection.reason_code, rejection.page, rejection.file) == ("FILE_TRUNCATED", 2, str(page))
    first = body.index("税".encode())  # a page cut inside a character
    page.write_bytes(body[:first + 1])
    assert read_all(TAX, folder).rejected_whole[0].reason_code == "FILE_TRUNCATED"
    page.write_bytes(body)
    (folder / "api.json").write_text('{"pages": "page-00001.json"}', encoding="utf-8")
    [rejection] = read_all(TAX, folder).rejections
    assert (rejection.reason_code, Path(rejection.file).name) == ("FILE_FORMAT", "api.json")


def test_a_cut_workbook_is_truncated(city: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    data = (city / "day-001" / "delivery" / "market_regulation" / "legal_entities.xlsx").read_bytes()
    path = tmp_path / "legal_entities.xlsx"
    for cut_at in (len(data) // 2, len(data) - 10):
        path.write_bytes(data[:cut_at])
        assert [(r.reason_code, r.row) for r in read_all(ENTITIES, path).rejections] == [("FILE_TRUNCATED", 0)]


def test_an_encoding_other_than_declared_is_read_and_noted(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from citydata.sources.connectors.base import read_text_delivery

    header = ",".join(CHANGES.columns)
    path = tmp_path / "changes.csv"
    path.write_text(f"{header}\r\n{ROW}\r\n", encoding="utf-8")  # the contract declares GBK
    with caplog.at_level(logging.WARNING):
        [record] = read_all(CHANGES, path).records
    assert record.values["姓名"] == "张三" and record.lineage.encoding == "utf-8"
    assert "delivered as utf-8, the contract declares GBK" in caplog.text and "张三" not in caplog.text
    decoded = read_text_delivery(CHANGES, path, fix="")
    assert decoded.encoding_note == "delivered as utf-8, the contract declares GBK"
    path.write_bytes(path.read_text(encoding="utf-8").encode("gbk"))
    assert read_text_delivery(CHANGES, path, fix="").encoding_note is None
    assert not isinstance(decoded, Rejection)
