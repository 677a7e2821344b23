"""File connectors (CSV, XLSX, GeoJSON, API pages on disk) against a real simulated day, and tiny
hand-written files for what the simulator does not break."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook

from citydata.catalog.contracts import load_contract, load_contracts
from citydata.sources.connectors import (
    CsvConnector,
    GeoJsonConnector,
    RawRecord,
    Rejection,
    XlsxConnector,
    read_all,
    read_delivery,
)
from citydata.standards.geo import load_city_geometry

from connector_helpers import manifest, truth_rejects

CONTRACTS = load_contracts()
FILE_FORMATS = ("csv", "xlsx", "geojson")


def _path(contract) -> str:  # noqa: ANN001
    return contract.delivery.path or "police/household_register.csv"


@pytest.mark.parametrize("day", ["day-001", "day-002"])
def test_every_delivered_row_is_read_once_in_order_with_lineage(city: Path, day: str) -> None:
    files = manifest(city / day)
    for contract in CONTRACTS.values():
        rel = _path(contract)
        if contract.delivery.format not in FILE_FORMATS or rel not in files:
            continue
        delivered = read_all(contract, city / day / "delivery" / rel)
        if delivered.rejected_whole:
            continue  # asserted below
        rows = [r.lineage.row for r in delivered.records] + [r.row for r in delivered.rejections]
        assert sorted(rows) == list(range(1, files[rel]["rows"] + 1)), rel
        for record in delivered.records:
            assert list(record.values) == list(contract.columns)
            assert record.lineage.content_hash == files[rel]["sha256"]
            assert record.lineage.location.endswith(rel) and record.lineage.source == contract.source
        assert {r.lineage.encoding for r in delivered.records} <= {files[rel]["encoding"]}, rel


def test_the_connectors_reject_exactly_what_the_truth_says_is_unreadable(city: Path) -> None:
    day = city / "day-001"
    expected = {k: v for k, v in truth_rejects(day).items() if v in ("FILE_ENCODING", "FILE_TRUNCATED")}
    assert set(expected.values()) == {"FILE_ENCODING", "FILE_TRUNCATED"} and len(expected) == 3
    found = {}
    for contract in CONTRACTS.values():
        if contract.delivery.format in FILE_FORMATS and (day / "delivery" / _path(contract)).exists():
            for rejection in read_all(contract, day / "delivery" / _path(contract)).rejections:
                found[(_path(contract), rejection.row)] = rejection.reason_code
    assert found == expected
    day2 = city / "day-002"
    for contract in CONTRACTS.values():
        if contract.delivery.format in FILE_FORMATS and (day2 / "delivery" / _path(contract)).exists():
            assert read_all(contract, day2 / "delivery" / _path(contract)).rejections == []


def test_undecodable_file_is_rejected_whole_naming_file_and_reason(city: Path) -> None:
    path = city / "day-001" / "delivery" / "civil_affairs" / "marriages.csv"
    items = list(read_delivery(CONTRACTS["marriages"], path))
    assert len(items) == 1 and isinstance(items[0], Rejection)
    rejection = items[0]
    assert (rejection.reason_code, rejection.row, rejection.whole_file, rejection.file) == (
        "FILE_ENCODING", 0, True, str(path))
    assert "utf-8: invalid byte" in rejection.detail and "市民政局" in rejection.fix
    assert str(rejection).startswith(f"{path}: FILE_ENCODING: ")


def test_truncated_file_rejects_its_cut_row_masked_and_keeps_the_rows_before(city: Path) -> None:
    path = city / "day-001" / "delivery" / "credit" / "licences.csv"
    delivered = read_all(CONTRACTS["credit_licences"], path)
    [cut] = delivered.rejections
    rows = manifest(city / "day-001")["credit/licences.csv"]["rows"]
    assert rows > 10 and (cut.reason_code, cut.row) == ("FILE_TRUNCATED", rows)
    assert len(delivered.records) == rows - 1 and delivered.records[-1].lineage.row == rows - 1
    # the simulator cuts just after the second comma: two cells and an empty third
    assert "after 3 of 12 columns, without a final line break" in cut.detail
    assert json.loads(cut.raw_masked).keys() <= {f.name for f in CONTRACTS["credit_licences"].fields}
    assert delivered.records[0].lineage.encoding == "utf-8-sig"  # BOM detected, not in the first column
    assert delivered.records[0].values["行政相对人名称"] and "\ufeff" not in "".join(delivered.records[0].values)
    deaths = read_all(CONTRACTS["deaths"], city / "day-001" / "delivery" / "health" / "deaths.csv")
    [cut] = deaths.rejections
    raw = (city / "day-001" / "delivery" / "health" / "deaths.csv").read_text(encoding="utf-8")
    id_number = raw.splitlines()[cut.row].split(",")[1]
    assert cut.reason_code == "FILE_TRUNCATED" and id_number not in str(cut) + cut.raw_masked
    assert json.loads(cut.raw_masked)["id_number"] == id_number[:6] + "********" + id_number[-4:]


def test_gbk_register_reads_every_resident_with_its_encoding(city: Path) -> None:
    path = city / "day-001" / "delivery" / "police" / "household_register.csv"
    records = [r for r in read_delivery(CONTRACTS["household_register"], path) if isinstance(r, RawRecord)]
    assert records[0].lineage.encoding == "gbk" and records[0].values["姓名"]
    assert len({r.values["公民身份号码"] for r in records}) >= len(records) - 20  # duplicates are few
    text = path.read_bytes().decode("gbk")
    assert [r.values["住址"] for r in records] == [row["住址"] for row in csv.DictReader(io.StringIO(text))]


def test_registry_workbook_reads_excel_dates_as_iso_and_every_entity(city: Path) -> None:
    path = city / "day-001" / "delivery" / "market_regulation" / "legal_entities.xlsx"
    records = read_all(CONTRACTS["legal_entities"], path).records
    assert len(records) == manifest(city / "day-001")["market_regulation/legal_entities.xlsx"]["rows"]
    dates = [r.values["成立日期"] for r in records]
    assert sum(len(d) == 10 and d[4] == "-" for d in dates) > len(dates) * 0.8
    capital = [r.values["注册资本"] for r in records]  # delivered as written: 50万元 or 500000元
    assert all(c.endswith("元") for c in capital) and any(c.endswith("万元") for c in capital)
    assert any(c[-2].isdigit() for c in capital)


def test_statistics_workbook_merged_headers_and_title_give_the_truths_figures(city: Path) -> None:
    path = city / "day-001" / "delivery" / "statistics" / "indicators.xlsx"
    records = read_all(CONTRACTS["statistics_indicators"], path).records
    truth = list(csv.DictReader(io.StringIO((city / "day-001" / "truth" / "statistics_indicators.csv")
                                            .read_text(encoding="utf-8"))))
    period = truth[0]["period"]
    assert all(period in r.values["表题"] for r in records)
    got = {(r.values["区划代码"], indicator): Decimal(r.values[column]) for r in records
           for indicator, column in (("地区生产总值", "地区生产总值/绝对值（亿元）"),
                                     ("地区生产总值同比增长", "地区生产总值/同比增长（%）"),
                                     ("社会消费品零售总额", "社会消费品零售总额/绝对值（亿元）"),
                                     ("社会消费品零售总额同比增长", "社会消费品零售总额/同比增长（%）"),
                                     ("常住人口", "常住人口（万人）"))}
    assert got == {(t["division_code"], t["indicator"]): Decimal(t["value"]) for t in truth}


def test_geojson_features_give_properties_and_the_geometry_as_text(city: Path) -> None:
    features = {f["properties"]["code"]: f for f in load_city_geometry().geojson["features"]}
    for source, count in (("geo_districts", 6), ("geo_streets", 26)):
        contract = CONTRACTS[source]
        records = read_all(contract, city / "day-001" / "delivery" / contract.delivery.path).records
        assert len(records) == count
        for record in records:
            assert json.loads(record.values["geometry"]) == features[record.values["code"]]["geometry"]
            assert record.values["parent"] == features[record.values["code"]]["properties"]["parent"]


def test_api_pages_on_disk_give_every_record_with_page_and_row(city: Path) -> None:
    for source, folder in (("tax_payments", "tax"), ("internet_poi", "internet_poi")):
        files = manifest(city / "day-001")
        delivered = read_all(CONTRACTS[source], city / "day-001" / "delivery" / folder)
        pages = sorted(p for p in files if p.startswith(f"{folder}/pages/"))
        assert len(pages) > 1 and not delivered.rejections
        assert len(delivered.records) == sum(files[p]["rows"] for p in pages)
        first = delivered.records[0].lineage
        assert (first.page, first.row, first.content_hash) == (1, 1, files[pages[0]]["sha256"])
    poi = read_all(CONTRACTS["internet_poi"], city / "day-001" / "delivery" / "internet_poi").records
    outside = {(Path(r.lineage.location).name, r.lineage.row) for r in poi if r.values["adname"] == ""}
    truth = {(Path(f).name, row) for (f, row), reason in truth_rejects(city / "day-001").items()
             if reason == "GEO_OUTSIDE_CITY"}
    assert outside == truth  # the row numbers of the lineage are the truth's


# --- tiny hand-written files: each row is there for the reason named beside it ------------------------

def test_csv_header_without_a_contract_column_is_rejected_whole(tmp_path: Path) -> None:
    contract = CONTRACTS["credit_red_list"]
    path = tmp_path / "red_list.csv"
    path.write_text("主体名称,统一社会信用代码,名单类型,列入日期,认定部门\r\n"  # 有效期至 is missing
                    "示范市甲公司,91339901QGDU6JN420,守合同重信用企业,2022-03-23,示范市信用办\r\n", encoding="utf-8")
    [rejection] = list(read_delivery(contract, path))
    assert rejection.reason_code == "HEADER_MISMATCH" and "['有效期至']" in rejection.detail


def test_csv_cut_inside_its_header_line_is_truncated_not_a_header_mismatch(tmp_path: Path) -> None:
    contract = CONTRACTS["credit_red_list"]
    path = tmp_path / "red_list.csv"
    path.write_text("主体名称,统一社会信用代码,", encoding="utf-8")  # the header, cut: no line break, no rows
    [rejection] = list(read_delivery(contract, path))
    assert (rejection.reason_code, rejection.row) == ("FILE_TRUNCATED", 0) and "header line" in rejection.detail
    path.write_text("主体名称,统一社会信用代码,\r\n", encoding="utf-8")  # a complete, short header line
    [rejection] = list(read_delivery(contract, path))
    assert rejection.reason_code == "HEADER_MISMATCH"


def test_csv_short_row_in_the_middle_is_column_count_and_complete_last_row_without_newline_is_kept(
        tmp_path: Path) -> None:
    # a department that does not promise a final line break (the simulated ones do: see the cut tests)
    promised = CONTRACTS["credit_red_list"]
    contract = replace(promised, delivery=replace(promised.delivery, final_line_break=False))
    path = tmp_path / "red_list.csv"
    path.write_text("主体名称,统一社会信用代码,名单类型,列入日期,有效期至,认定部门\r\n"
                    "示范市甲公司,91339901QGDU6JN420\r\n"  # row 1: short, but the file goes on -> COLUMN_COUNT
                    "\r\n"  # a blank line: skipped, not counted
                    # row 2: no final newline, complete
                    "示范市乙公司,91339901QGDU6JN420,守合同重信用企业,2022-03-23,,示范市信用办",
                    encoding="utf-8")
    items = list(read_delivery(contract, path))
    assert [(type(i).__name__, getattr(i, "reason_code", None)) for i in items] == [
        ("Rejection", "COLUMN_COUNT"), ("RawRecord", None)]
    assert items[1].lineage.row == 2 and items[1].values["有效期至"] == ""
    items = list(read_delivery(promised, path))  # its contract says every row ends with a line break
    assert [(type(i).__name__, getattr(i, "reason_code", None), getattr(i, "row", None)) for i in items] == [
        ("Rejection", "COLUMN_COUNT", 1), ("Rejection", "FILE_TRUNCATED", 2)]


def test_gb18030_only_text_is_decoded_and_recorded(tmp_path: Path) -> None:
    contract = CONTRACTS["credit_red_list"]
    path = tmp_path / "red_list.csv"
    text = ("主体名称,统一社会信用代码,名单类型,列入日期,有效期至,认定部门\r\n"
            "𠮷祥公司,91339901QGDU6JN420,守合同重信用企业,2022-03-23,,示范市信用办\r\n")
    path.write_bytes(text.encode("gb18030"))  # 𠮷 is outside GBK: only GB18030 decodes it
    [record] = list(read_delivery(contract, path))
    assert (record.values["主体名称"], record.lineage.encoding) == ("𠮷祥公司", "gb18030")


def test_xlsx_that_is_not_a_workbook_or_lacks_the_sheet_is_rejected_whole(tmp_path: Path) -> None:
    contract = CONTRACTS["legal_entities"]
    broken = tmp_path / "legal_entities.xlsx"
    broken.write_bytes(b"Name,Code\r\nthis is a CSV, not a zip archive\r\n")
    [rejection] = list(XlsxConnector().read(contract, broken))
    assert rejection.reason_code == "FILE_FORMAT" and rejection.file == str(broken)
    broken.write_bytes(b"PK\x03\x04 a zip's first bytes, then nothing: no central directory at the end")
    [rejection] = list(XlsxConnector().read(contract, broken))
    assert rejection.reason_code == "FILE_TRUNCATED" and rejection.file == str(broken)
    workbook = Workbook()
    workbook.active.title = "Sheet1"
    other = tmp_path / "other.xlsx"
    workbook.save(other)
    [rejection] = list(XlsxConnector().read(contract, other))
    assert rejection.reason_code == "SHEET_MISSING" and "市场主体登记信息" in rejection.detail


def test_xlsx_date_serials_in_a_date_column_become_iso_dates(tmp_path: Path) -> None:
    contract = CONTRACTS["legal_entities"]
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = contract.delivery.sheet
    sheet.append(list(contract.columns))
    at, name = contract.columns.index("成立日期"), contract.columns.index("企业名称")
    for founded, company in [
        (40878, 40878),              # a date cell formatted "General": serial of 2011-12-01 (not a date column: kept)
        (40878.0, "乙"),             # the same serial as a float
        (20190305, "丙"),            # 20190305 typed as a number: beyond the serial range, parse_date's form
        (2019, "丁"),                # a bare year: not read as a day of 1905, left for DATE_FORMAT
        (40878.5, "戊"),             # a serial with a time of day: no date, left as it is
        ("2011-12-01", "己"),        # text: as delivered
    ]:
        row = ["x"] * len(contract.columns)
        row[at], row[name] = founded, company
        sheet.append(row)
    path = tmp_path / "legal_entities.xlsx"
    workbook.save(path)
    records = list(XlsxConnector().read(contract, path))
    assert [r.values["成立日期"] for r in records] == [
        "2011-12-01", "2011-12-01", "20190305", "2019", "40878.5", "2011-12-01"]
    assert records[0].values["企业名称"] == "40878"


def test_geojson_in_another_crs_or_not_a_collection_is_rejected_whole(tmp_path: Path) -> None:
    contract = CONTRACTS["geo_districts"]
    mercator = tmp_path / "districts.geojson"
    mercator.write_text(json.dumps({"type": "FeatureCollection", "crs": {"type": "name", "properties": {
        "name": "urn:ogc:def:crs:EPSG::3857"}}, "features": []}), encoding="utf-8")
    [rejection] = list(GeoJsonConnector().read(contract, mercator))
    assert rejection.reason_code == "COORD_SYSTEM" and "EPSG::3857" in rejection.detail
    feature = tmp_path / "feature.geojson"
    feature.write_text('{"type": "Feature", "properties": {}}', encoding="utf-8")
    [rejection] = list(GeoJsonConnector().read(contract, feature))
    assert rejection.reason_code == "FILE_FORMAT"


def test_unknown_reason_code_cannot_be_used() -> None:
    with pytest.raises(KeyError, match="register it in citydata.standards.result.REASON_CODES"):
        Rejection("s", "f", "MADE_UP", "detail")


def test_a_contract_loaded_by_path_reads_the_same(city: Path) -> None:
    contract = load_contract(CONTRACTS["births"].file)
    path = city / "day-002" / "delivery" / "health" / "births.csv"
    assert [r.values for r in read_all(contract, path).records] == [
        r.values for r in CsvConnector().read(CONTRACTS["births"], path)]
