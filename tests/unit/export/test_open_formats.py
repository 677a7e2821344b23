"""The three open formats of one dataset: CSV opens in Excel (BOM), JSON and Parquet hold the same rows with
their types, a suppressed count is '*' in the CSV and null elsewhere, and the bytes depend only on the data."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from citydata.catalog.items import CatalogItem
from citydata.export.dataset import ExportResult, export_records

PUBLISHED = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)
ROWS = [
    # 东湖区: large counts, a Chinese name (the BOM matters), 3 decimal places kept in the CSV
    {"district_code": "339901", "district_name": "东湖区", "residents": 1200, "male": 610, "female": 590,
     "area_km2": Decimal("35.125"), "as_of_date": date(2025, 3, 2)},
    # 西山区: female 3 < 5 is suppressed, and male as its complement in the row; in the female column the
    # smallest other count (南江区's 410) is the complement, and then 南江区's male count in its row
    {"district_code": "339902", "district_name": "西山区", "residents": 9, "male": 6, "female": 3,
     "area_km2": Decimal("8.500"), "as_of_date": date(2025, 3, 2)},
    # 南江区: a name with a comma and a quote (CSV quoting), and no area (null stays null everywhere)
    {"district_code": "339903", "district_name": '南江区,"新区"', "residents": 800, "male": 390, "female": 410,
     "area_km2": None, "as_of_date": date(2025, 3, 2)},
]


@pytest.fixture
def exported(tmp_path: Path, population_item: CatalogItem) -> ExportResult:
    return export_records(ROWS, population_item.fields, tmp_path, item=population_item, published_at=PUBLISHED,
                          provenance={"release": 4, "table": "gold/population_by_district", "delta_version": 2})


def _csv_rows(result: ExportResult) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(result.csv_path.read_bytes().decode("utf-8-sig"), newline="")))


def test_csv_is_utf8_with_bom_crlf_and_a_header_of_field_names(exported: ExportResult) -> None:
    data = exported.csv_path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and data.count(b"\xef\xbb\xbf") == 1
    lines = data[3:].decode("utf-8").split("\r\n")
    assert lines[0] == "district_code,district_name,residents,male,female,area_km2,as_of_date"
    assert lines[1] == "339901,东湖区,1200,610,590,35.125,2025-03-02"
    assert lines[3] == '339903,"南江区,""新区""",800,*,*,,2025-03-02'
    assert lines[-1] == ""  # every row ends with CRLF


def test_suppressed_counts_are_a_star_in_csv_and_null_in_json_and_parquet(exported: ExportResult) -> None:
    west = next(r for r in _csv_rows(exported) if r["district_code"] == "339902")
    assert (west["residents"], west["male"], west["female"]) == ("9", "*", "*")
    document = json.loads(exported.json_path.read_text(encoding="utf-8"))
    json_west = next(r for r in document["rows"] if r["district_code"] == "339902")
    assert (json_west["residents"], json_west["male"], json_west["female"]) == (9, None, None)
    assert "null" in document["suppression"]
    table = pq.read_table(exported.parquet_path)
    west_row = next(r for r in table.to_pylist() if r["district_code"] == "339902")
    assert (west_row["residents"], west_row["male"], west_row["female"]) == (9, None, None)
    assert exported.suppressed_cells == 4


def test_parquet_columns_are_typed_by_the_fields(exported: ExportResult) -> None:
    schema = pq.read_schema(exported.parquet_path)
    assert {f.name: f.type for f in schema} == {
        "district_code": pa.string(), "district_name": pa.string(), "residents": pa.int64(), "male": pa.int64(),
        "female": pa.int64(), "area_km2": pa.decimal128(38, 3), "as_of_date": pa.date32()}
    assert schema.field("district_name").metadata[b"title"].decode("utf-8") == "区县名称"
    rows = pq.read_table(exported.parquet_path).to_pylist()
    assert rows[0]["area_km2"] == Decimal("35.125") and rows[2]["area_km2"] is None
    assert rows[0]["as_of_date"] == date(2025, 3, 2)


def test_a_tables_decimal_type_is_kept(tmp_path: Path, population_item: CatalogItem) -> None:
    result = export_records(ROWS, population_item.fields, tmp_path, item=population_item, published_at=PUBLISHED,
                            column_types={"area_km2": pa.decimal128(18, 6)})
    assert pq.read_schema(result.parquet_path).field("area_km2").type == pa.decimal128(18, 6)


def test_json_holds_the_csv_content(exported: ExportResult) -> None:
    document = json.loads(exported.json_path.read_text(encoding="utf-8"))
    assert (document["dataset"], document["release"]) == ("population_by_district", 4)
    assert document["fields"][5] == {"name": "area_km2", "type": "decimal", "title": "面积（平方公里）"}
    csv_rows = _csv_rows(exported)
    assert len(document["rows"]) == len(csv_rows) == 3
    for from_json, from_csv in zip(document["rows"], csv_rows, strict=True):
        assert list(from_json) == list(from_csv)
        for name, value in from_json.items():
            shown = from_csv[name]
            if value is None:
                assert shown in ("", "*"), name
            elif isinstance(value, (int, float)):
                assert Decimal(str(value)) == Decimal(shown), name
            else:
                assert value == shown, name


def test_the_same_data_gives_the_same_bytes_in_every_format(tmp_path: Path, population_item: CatalogItem) -> None:
    first = export_records(ROWS, population_item.fields, tmp_path / "a", item=population_item,
                           published_at=PUBLISHED)
    second = export_records(list(reversed(ROWS)), population_item.fields, tmp_path / "b", item=population_item,
                            published_at=PUBLISHED)
    for one, two in zip(first.files, second.files, strict=True):
        assert one.path.read_bytes() == two.path.read_bytes(), one.format
        assert one.sha256 == two.sha256
    assert first.metadata_path.read_bytes() == second.metadata_path.read_bytes()


def test_no_temporary_file_is_left(exported: ExportResult) -> None:
    assert sorted(p.name for p in exported.csv_path.parent.iterdir()) == [
        "population_by_district.csv", "population_by_district.json", "population_by_district.metadata.json",
        "population_by_district.parquet"]


def test_a_value_that_does_not_fit_its_type_is_named_by_column_not_by_value(
        tmp_path: Path, population_item: CatalogItem) -> None:
    wrong = [dict(ROWS[0], as_of_date="339901196804120110")]  # a text where the item declares a date
    with pytest.raises(ValueError, match=r"column 'as_of_date' holds \['str'\] values .* date32") as caught:
        export_records(wrong, population_item.fields, tmp_path, item=population_item, published_at=PUBLISHED)
    assert "339901196804120110" not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
