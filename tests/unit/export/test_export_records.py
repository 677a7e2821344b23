"""What leaves in an open-data file: public as is, sensitive masked, internal/core dropped, small counts hidden;
the same rows in CSV (UTF-8 with BOM), JSON and Parquet, each with its SHA-256 and size in the metadata."""

from __future__ import annotations

import csv
import hashlib
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from citydata.catalog.contracts import Classification
from citydata.catalog.items import CatalogItem, ItemField
from citydata.export.dataset import ExportPolicyError, export_records

PUBLISHED = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
# personal values of RESIDENTS that must not leave unmasked (and internal fields that must not leave at all)
COUNTS = [
    {"district_code": "339901", "district_name": "东湖区", "residents": 10, "male": 5, "female": 5},
    {"district_code": "339902", "district_name": "西山区", "residents": 5, "male": 3, "female": 2},
    {"district_code": "339903", "district_name": "南江区", "residents": 2, "male": 1, "female": 1},
    {"district_code": "339904", "district_name": "北塘区", "residents": 1, "male": 1, "female": 0},
    {"district_code": "339905", "district_name": "中和区", "residents": 2, "male": 1, "female": 1},
]
RAW_VALUES = ("339901196804120110", "33990119821130049X", "陈建国", "欧阳明月", "13805710001", "人民路", "解放路",
              "3399010010001", "3399010020002", "户主", "配偶", "1968-04-12")
RESIDENTS = [
    {"id_number": "339901196804120110", "name": "陈建国", "gender": "M", "age": 58, "district_code": "339901",
     "street_code": "339901001", "address": "示范市东湖区湖滨街道人民路12号1单元101室", "phone": "13805710001",
     "household_id": "3399010010001", "relation_to_head": "户主", "birth_date": date(1968, 4, 12)},
    {"id_number": "33990119821130049X", "name": "欧阳明月", "gender": "F", "age": 44, "district_code": "339901",
     "street_code": "339901002", "address": "示范市东湖区清波街道解放路45号", "phone": None,
     "household_id": "3399010020002", "relation_to_head": "配偶", "birth_date": date(1982, 11, 30)},
]


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_resident_extract_masks_sensitive_and_drops_internal(tmp_path: Path, resident_item: CatalogItem) -> None:
    item = resident_item
    result = export_records(RESIDENTS, item.fields, tmp_path, item=item, published_at=PUBLISHED)
    rows = _read(result.csv_path)
    assert result.columns == ("id_number", "name", "gender", "birth_date", "age", "district_code", "street_code",
                              "address", "phone")
    assert rows[0] == {"id_number": "339901********0110", "name": "陈**", "gender": "M", "birth_date": "1968",
                       "age": "58",
                       "district_code": "339901", "street_code": "339901001", "address": "示范市东湖区湖滨街道",
                       "phone": "138****0001"}
    assert rows[1]["name"] == "欧阳**" and rows[1]["phone"] == "" and rows[1]["id_number"] == "339901********049X"
    parquet = pq.read_table(result.parquet_path).to_pylist()
    document = json.loads(result.json_path.read_text(encoding="utf-8"))
    assert parquet == document["rows"] == [dict(r, age=int(r["age"]), phone=r["phone"] or None) for r in rows]
    for path in (result.csv_path, result.json_path, result.metadata_path):
        data = path.read_text(encoding="utf-8-sig")
        for raw in RAW_VALUES:
            assert raw not in data, (path.name, raw)
    values = {str(v) for row in parquet for v in row.values()}
    assert not any(raw in v for raw in RAW_VALUES for v in values)


def test_metadata_carries_catalog_item_checksum_and_size(tmp_path: Path, resident_item: CatalogItem) -> None:
    item = resident_item
    result = export_records(RESIDENTS, item.fields, tmp_path, item=item, published_at=PUBLISHED,
                            provenance={"release": 3, "table": "gold/dim_resident", "delta_version": 7})
    meta = json.loads(result.metadata_path.read_text(encoding="utf-8"))
    assert [d["file"] for d in meta["distributions"]] == [
        "resident_extract.csv", "resident_extract.json", "resident_extract.parquet"]
    assert [d["media_type"] for d in meta["distributions"]] == [
        "text/csv", "application/json", "application/vnd.apache.parquet"]
    for dist, written in zip(meta["distributions"], result.files, strict=True):
        data = (tmp_path / dist["file"]).read_bytes()
        assert dist["byte_size"] == len(data) == written.byte_size
        assert dist["checksum"] == {"algorithm": "SHA-256", "value": hashlib.sha256(data).hexdigest()}
        assert written.sha256 == dist["checksum"]["value"]
    assert meta["resource_code"] == "339900-GA-OD-0002"
    assert meta["providing_department"] == "市公安局"
    assert (meta["sharing_attribute"], meta["opening_attribute"]) == ("有条件共享", "有条件开放")
    assert meta["publish_date"] == "2026-11-20"
    assert (meta["issued"], meta["modified"], meta["rows"], meta["release"]) == (
        "2026-11-20T08:00:00Z", "2026-11-20T08:00:00Z", 2, 3)
    assert meta["withheld_fields"] == ["household_id", "relation_to_head"]
    assert {f["name"]: f.get("masked_with") for f in meta["fields"]}["id_number"] == "id_number"
    assert meta["provenance"] == {"release": 3, "table": "gold/dim_resident", "delta_version": 7}


def test_same_rows_give_the_same_bytes(tmp_path: Path, resident_item: CatalogItem) -> None:
    item = resident_item
    first = export_records(RESIDENTS, item.fields, tmp_path / "a", item=item, published_at=PUBLISHED)
    # the same rows in another order: rows are sorted, so every file has the same bytes
    second = export_records(RESIDENTS[::-1], item.fields, tmp_path / "b", item=item, published_at=PUBLISHED)
    for one, two in zip(first.files, second.files, strict=True):
        assert one.path.read_bytes() == two.path.read_bytes(), one.format
    assert first.metadata_path.read_bytes() == second.metadata_path.read_bytes()


def test_population_counts_under_five_are_suppressed_with_complements(tmp_path: Path,
                                                                      population_item: CatalogItem) -> None:
    item = population_item
    counts = [dict(row, area_km2=Decimal("12.50"), as_of_date=date(2025, 3, 2)) for row in COUNTS]
    result = export_records(counts, item.fields, tmp_path, item=item, published_at=PUBLISHED)
    rows = {r["district_code"]: r for r in _read(result.csv_path)}
    # female counts of the other districts add up to 4 (< 5): 东湖区's 5 women are hidden as their
    # complement, and then its men too (a row cannot hide a single cell next to its published total).
    assert (rows["339901"]["residents"], rows["339901"]["male"], rows["339901"]["female"]) == ("10", "*", "*")
    assert rows["339902"]["residents"] == "5"
    assert (rows["339902"]["male"], rows["339902"]["female"]) == ("*", "*")
    for code in ("339903", "339904", "339905"):
        assert (rows[code]["residents"], rows[code]["male"], rows[code]["female"]) == ("*", "*", "*")
    assert result.suppressed_cells == 13


def test_sensitive_field_without_mask_cannot_leave(tmp_path: Path) -> None:
    fields = [ItemField("id_number", "string", Classification.SENSITIVE, mask=None)]
    with pytest.raises(ExportPolicyError, match="'id_number' is sensitive and has no mask"):
        export_records(RESIDENTS, fields, tmp_path, name="bad")


def test_core_fields_never_leave_and_undeclared_columns_are_dropped(tmp_path: Path) -> None:
    fields = [ItemField("district_code", "string", Classification.PUBLIC),
              ItemField("household_id", "string", Classification.CORE)]
    result = export_records(RESIDENTS, fields, tmp_path, name="districts")
    assert result.columns == ("district_code",)
    assert b"3399010010001" not in result.csv_path.read_bytes()


def test_declared_field_missing_from_data_is_an_error(tmp_path: Path) -> None:
    fields = [ItemField("street_name", "string", Classification.PUBLIC)]
    with pytest.raises(ExportPolicyError, match="'street_name' is declared for export but the data has no such"):
        export_records(RESIDENTS, fields, tmp_path, name="bad")


def test_counts_of_a_long_table_get_complements_along_each_key_column(tmp_path: Path) -> None:
    fields = [ItemField("section", "string", Classification.PUBLIC),
              ItemField("district_code", "string", Classification.PUBLIC),
              ItemField("insured", "integer", Classification.PUBLIC)]
    insured = {("A", "339901"): 3, ("A", "339902"): 20, ("B", "339901"): 30, ("B", "339902"): 40,
               ("C", "339901"): 50, ("C", "339902"): 60}
    rows = [{"section": s, "district_code": d, "insured": n} for (s, d), n in insured.items()]
    result = export_records(rows, fields, tmp_path, name="employment", suppress=["insured"],
                            key=["section", "district_code"])
    shown = {(r["section"], r["district_code"]): r["insured"] for r in _read(result.csv_path)}
    # A/339901 (3) is primary; 339901's total would reveal it: B/339901 (its smallest other cell) is hidden too,
    # then section A's and section B's totals need A/339902 and B/339902; section C stays published
    assert shown == {("A", "339901"): "*", ("A", "339902"): "*", ("B", "339901"): "*", ("B", "339902"): "*",
                     ("C", "339901"): "50", ("C", "339902"): "60"}
    duplicated = [*rows, rows[0]]
    with pytest.raises(ExportPolicyError, match=r"key \['section', 'district_code'\] does not identify one row"):
        export_records(duplicated, fields, tmp_path / "dup", name="employment", suppress=["insured"],
                       key=["section", "district_code"])
