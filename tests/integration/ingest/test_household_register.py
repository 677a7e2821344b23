"""The household register through bronze and silver on real Spark + Delta: exact counts, reason codes,
idempotent reruns, failures that leave every table at its version, and no personal value in logs.

The sample's rows and why each is there: src/citydata/sources/samples/household_register/ROWS.md.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
from datetime import date
from pathlib import Path

import pyarrow as pa
import pytest
from pyspark.sql import functions as F

from citydata.catalog.contracts import load_contract
from citydata.ingest.bronze import DRIVER_ROWS, DeliveryRejectedError, land_delivery
from citydata.ingest.delivery_day import DELIVERY_DAY
from citydata.ingest.silver import SilverStandardizationError, build_silver
from citydata.lakehouse import Lakehouse, SchemaMismatchError
from citydata.sources.samples import sample_delivery
from citydata.standards import idcard

CONTRACT = load_contract("household_register")
SAMPLE = sample_delivery("household_register")
REGISTRATION = CONTRACT.tables.silver  # the register's own silver table (silver.person is the master)
EXPECTED_REASONS = {
    "COLUMN_COUNT": [37], "DATE_FORMAT": [31], "DATE_IMPOSSIBLE": [30], "DIVISION_EXPIRED": [35],
    "DIVISION_UNKNOWN": [28], "DUPLICATE_ROW": [14], "ID_BIRTHDATE": [11], "ID_BIRTHDATE_MISMATCH": [24],
    "ID_CHARSET": [21], "ID_CHECKSUM": [5], "ID_DIVISION": [19], "ID_GENDER_MISMATCH": [25], "ID_LENGTH": [20],
    "MOBILE_FORMAT": [32], "REQUIRED_MISSING": [26], "STREET_DISTRICT_MISMATCH": [29],
}


def personal_values() -> set[str]:
    """Every raw ID number, name, phone and address of the sample, as delivered and normalized."""
    lines = list(csv.reader(io.StringIO(SAMPLE.read_bytes().decode("gbk"))))[1:]
    values: set[str] = set()
    for cells in lines:
        for index in (0, 1, 8, 9):  # 公民身份号码, 姓名, 住址, 联系电话
            if index < len(cells) and cells[index].strip():
                values.add(cells[index].strip())
    values |= {"339901198406180264", "33990119821130049X", "339901199001150176", "13805710008",
               "339903196208151335"}  # normalized forms of the full-width / padded / legacy values
    return values


@pytest.fixture(scope="module")
def landed(spark, tmp_path_factory):
    lakehouse = Lakehouse(spark, tmp_path_factory.mktemp("ingest") / "lakehouse")
    result = land_delivery(spark, lakehouse, CONTRACT, SAMPLE)
    silver = build_silver(spark, lakehouse, CONTRACT)
    return lakehouse, result, silver


def test_every_delivered_line_is_in_bronze_or_rejects_exactly_once(landed) -> None:
    lakehouse, result, _ = landed
    assert (result.delivered, result.landed, result.rejected) == (37, 21, 16)
    bronze = lakehouse.read("bronze", "household_register")
    rejects = lakehouse.read("bronze", "household_register_rejects")
    assert bronze.count() == 21 and rejects.count() == 16
    numbers = [r[0] for r in bronze.select("_row_number").collect()] + \
              [r[0] for r in rejects.select("_row_number").collect()]
    assert sorted(numbers) == list(range(1, 38))


def test_rejects_carry_one_reason_code_per_bad_row(landed) -> None:
    lakehouse, result, _ = landed
    rows = lakehouse.read("bronze", "household_register_rejects").collect()
    by_reason: dict[str, list[int]] = {}
    for row in rows:
        by_reason.setdefault(row["reason_code"], []).append(row["_row_number"])
    assert by_reason == EXPECTED_REASONS
    assert result.rejects_by_reason == {code: 1 for code in EXPECTED_REASONS}
    detail = {r["_row_number"]: r["reason_detail"] for r in rows}
    assert detail[14] == "_line: DUPLICATE_ROW (repeats row 12)"
    assert detail[35].startswith("district_code: DIVISION_EXPIRED (339906: not valid on 2023-03-01; successor 339905)")
    assert detail[5].startswith("id_number: ID_CHECKSUM (339901********0150:")


def test_bronze_keeps_values_as_delivered_with_lineage(landed) -> None:
    lakehouse, result, _ = landed
    bronze = {r["_row_number"]: r for r in lakehouse.read("bronze", "household_register").collect()}
    assert bronze[7]["id_number"] == "３３９９０１１９８４０６１８０２６４"  # full-width, as received
    assert bronze[6]["id_number"].endswith("x")
    assert bronze[3]["birth_date"] == "19950721"
    row = bronze[1]
    assert row["_source"] == "household_register"
    assert row["_file"] == "household_register_20261120.csv"
    assert row["_encoding"] == "gbk"
    assert row["_content_hash"] == hashlib.sha256(SAMPLE.read_bytes()).hexdigest()
    assert row["_batch_id"] == result.batch_id == f"household_register-{row['_content_hash'][:16]}"
    assert row["_ingested_at"] is not None


def test_rejects_quote_no_personal_value(landed) -> None:
    lakehouse, _, _ = landed
    text = "\n".join(f"{r['reason_detail']}\t{r['raw_masked']}"
                     for r in lakehouse.read("bronze", "household_register_rejects").collect())
    leaked = sorted(v for v in personal_values() if v in text)
    assert leaked == []
    assert "钱**" in text and "139****0093" in text  # masked forms are there instead


def test_silver_has_one_standardized_row_per_person(landed) -> None:
    lakehouse, _, silver = landed
    assert (silver.rows, silver.inserted, silver.version) == (20, 20, 0)
    person = {r["id_number"]: r for r in lakehouse.read("silver", REGISTRATION).collect()}
    assert len(person) == 20
    assert "339903196208151335" in person  # legacy 15-digit number upgraded
    assert "33990119821130049X" in person  # lowercase x stored upper-case
    assert "339901198406180264" in person  # full-width digits normalized
    assert "339901199001150176" in person  # surrounding spaces removed
    moved = person["339902198610020571"]  # delivered twice: the later registration wins
    assert (moved["district_code"], moved["street_code"], str(moved["registered_on"])) == \
           ("339901", "339901004", "2023-08-15")
    assert str(person["339901197009030225"]["birth_date"]) == "1970-09-03"
    assert person["339901201209010287"]["phone"] is None
    assert person["339901199001150176"]["phone"] == "13805710008"
    assert {r["gender"] for r in person.values()} == {"M", "F"}
    counts: dict[str, int] = {}
    for r in person.values():
        counts[r["district_code"]] = counts.get(r["district_code"], 0) + 1
    assert counts == {"339901": 10, "339902": 5, "339903": 2, "339904": 1, "339905": 2}


def test_rerunning_landing_and_silver_changes_nothing(spark, landed, tmp_path: Path) -> None:
    lakehouse, first, _ = landed
    versions = {t: lakehouse.version(*t) for t in
                [("bronze", "household_register"), ("bronze", "household_register_rejects"), ("silver", REGISTRATION)]}
    again = land_delivery(spark, lakehouse, CONTRACT, SAMPLE)
    renamed = tmp_path / "household_register_copy.csv"  # same bytes under another name: same batch
    renamed.write_bytes(SAMPLE.read_bytes())
    third = land_delivery(spark, lakehouse, CONTRACT, renamed)
    silver = build_silver(spark, lakehouse, CONTRACT)
    assert again.already_landed and third.already_landed
    assert (again.landed, again.rejected, again.rejects_by_reason) == (21, 16, first.rejects_by_reason)
    assert (silver.inserted, silver.updated, silver.unchanged, silver.rows) == (0, 0, 20, 20)
    assert {t: lakehouse.version(*t) for t in versions} == versions
    assert lakehouse.read("bronze", "household_register").count() == 21


def test_a_new_delivery_merges_changes_into_silver(spark, tmp_path: Path) -> None:
    lakehouse = Lakehouse(spark, tmp_path / "lakehouse")
    land_delivery(spark, lakehouse, CONTRACT, SAMPLE)
    build_silver(spark, lakehouse, CONTRACT)
    header, *lines = SAMPLE.read_bytes().decode("gbk").splitlines()
    chen = lines[0].split(",")  # 陈建国 moves within 东湖区 in 2026
    chen[7], chen[8], chen[10] = "339901002", "示范市东湖区清波街道解放路99号", "2026-03-01"
    newborn = f"{idcard.make('339901', date(2026, 1, 1), 11)},陈小宝,男,2026-01-01,3399010010001,孙子,339901," \
              "339901001,示范市东湖区湖滨街道人民路12号1单元101室,,2026-01-15"
    delivery = tmp_path / "household_register_20261121.csv"
    delivery.write_bytes(("\r\n".join([header, ",".join(chen), newborn]) + "\r\n").encode("gbk"))
    landed = land_delivery(spark, lakehouse, CONTRACT, delivery)
    silver = build_silver(spark, lakehouse, CONTRACT)
    assert (landed.landed, landed.rejected) == (2, 0)
    assert (silver.inserted, silver.updated, silver.unchanged, silver.rows) == (1, 1, 19, 21)
    chen_now = lakehouse.read("silver", REGISTRATION).where(F.col("id_number") == "339901196804120110").first()
    assert (chen_now["street_code"], chen_now["_batch_id"]) == ("339901002", landed.batch_id)
    assert lakehouse.read("bronze", "household_register").count() == 23


def test_undecodable_or_misshapen_delivery_leaves_every_table_unchanged(spark, tmp_path: Path) -> None:
    lakehouse = Lakehouse(spark, tmp_path / "lakehouse")
    land_delivery(spark, lakehouse, CONTRACT, SAMPLE)
    tables = [("bronze", "household_register"), ("bronze", "household_register_rejects")]
    before = {t: lakehouse.version(*t) for t in tables}
    binary = tmp_path / "household_register_binary.csv"
    binary.write_bytes(SAMPLE.read_bytes()[:200] + b"\x00\x01\xff\xfe\x80" * 10)
    with pytest.raises(DeliveryRejectedError, match="FILE_ENCODING"):
        land_delivery(spark, lakehouse, CONTRACT, binary)
    renamed_header = tmp_path / "household_register_header.csv"
    renamed_header.write_bytes(SAMPLE.read_bytes().replace("联系电话".encode("gbk"), "手机".encode("gbk")))
    with pytest.raises(DeliveryRejectedError, match="HEADER_MISMATCH"):
        land_delivery(spark, lakehouse, CONTRACT, renamed_header)
    assert {t: lakehouse.version(*t) for t in tables} == before


@pytest.mark.parametrize("driver_rows", [0, DRIVER_ROWS])
def test_a_refused_commit_leaves_both_tables_unchanged_and_no_file_of_the_landing(
        spark, tmp_path: Path, driver_rows: int) -> None:
    """bronze.household_register exists with other columns: the landing's tasks write both tables' files, the
    bronze commit is refused; nothing is committed and every file they wrote is deleted (in Spark tasks and on the
    driver alike)."""
    lakehouse = Lakehouse(spark, tmp_path / "lakehouse")
    other = pa.schema([("_batch_id", pa.string()), (DELIVERY_DAY, pa.string()), ("other", pa.string())])
    lakehouse.write_arrow(pa.table({"_batch_id": ["x"], DELIVERY_DAY: [None], "other": ["y"]}, schema=other),
                          "bronze", "household_register")
    bronze, rejects = (Path(lakehouse.path("bronze", t)) for t in ("household_register", "household_register_rejects"))
    files = set(bronze.rglob("*.parquet"))
    with pytest.raises(SchemaMismatchError, match="household_register"):
        land_delivery(spark, lakehouse, CONTRACT, SAMPLE, driver_rows=driver_rows)
    assert lakehouse.version("bronze", "household_register") == 0
    assert set(bronze.rglob("*.parquet")) == files
    assert not lakehouse.exists("bronze", "household_register_rejects") and not list(rejects.rglob("*.parquet"))


def test_silver_fails_whole_and_keeps_its_version_on_a_bronze_row_that_no_longer_validates(
        spark, tmp_path: Path) -> None:
    lakehouse = Lakehouse(spark, tmp_path / "lakehouse")
    land_delivery(spark, lakehouse, CONTRACT, SAMPLE)
    build_silver(spark, lakehouse, CONTRACT)
    before = lakehouse.version("silver", REGISTRATION)
    # A row that bypassed validation (e.g. landed by an older, laxer contract): bad check digit.
    bronze = lakehouse.read("bronze", "household_register")
    bad = bronze.where(F.col("_row_number") == 1).withColumn("id_number", F.lit("339901196804120111")) \
        .withColumn("_row_number", F.lit(99)).withColumn("_batch_id", F.lit("household_register-legacy"))
    lakehouse.write(bad, "bronze", "household_register", mode="append")
    with pytest.raises(SilverStandardizationError, match=r"household_register-legacy row 99 \(ID_CHECKSUM\)"):
        build_silver(spark, lakehouse, CONTRACT)
    assert lakehouse.version("silver", REGISTRATION) == before
    assert lakehouse.read("silver", REGISTRATION).count() == 20


def test_no_personal_value_reaches_the_logs(spark, tmp_path: Path, caplog, capfd) -> None:
    lakehouse = Lakehouse(spark, tmp_path / "lakehouse")
    # The platform's own loggers at DEBUG, everything else at INFO (py4j's DEBUG echoes every JVM call).
    caplog.set_level(logging.INFO)
    with caplog.at_level(logging.DEBUG, logger="citydata"):
        land_delivery(spark, lakehouse, CONTRACT, SAMPLE)
        build_silver(spark, lakehouse, CONTRACT)
        with pytest.raises(SilverStandardizationError) as failure:
            # A batch of its own: silver standardizes only batches it has not applied yet.
            bad = lakehouse.read("bronze", "household_register").where(F.col("_row_number") == 2) \
                .withColumn("id_number", F.lit("339901197009030226")).withColumn("_row_number", F.lit(98)) \
                .withColumn("_batch_id", F.lit("household_register-legacy"))
            lakehouse.write(bad, "bronze", "household_register", mode="append")
            build_silver(spark, lakehouse, CONTRACT)
    captured = capfd.readouterr()
    text = "\n".join([caplog.text, captured.out, captured.err, str(failure.value)])
    assert f"silver.{REGISTRATION}" in caplog.text  # the logs were captured
    assert sorted(v for v in personal_values() | {"339901197009030226"} if v in text) == []


def test_a_file_cut_off_inside_a_row_rejects_that_row_as_truncated(spark, tmp_path: Path) -> None:
    lakehouse = Lakehouse(spark, tmp_path / "lakehouse")
    text = SAMPLE.read_bytes().decode("gbk")
    lines = text.split("\r\n")
    cut = tmp_path / "household_register_cut.csv"  # header, 3 rows, then the 4th stops after 4 columns
    cut.write_bytes(("\r\n".join(lines[:4]) + "\r\n" + ",".join(lines[4].split(",")[:4])).encode("gbk"))
    result = land_delivery(spark, lakehouse, CONTRACT, cut)
    assert (result.delivered, result.landed, result.rejected) == (4, 3, 1)
    assert result.rejects_by_reason == {"FILE_TRUNCATED": 1}
    row = lakehouse.read("bronze", "household_register_rejects").first()
    assert (row["_row_number"], row["reason_detail"]) == (
        4, "_line: FILE_TRUNCATED (the file ends inside row 4: after 4 of 11 columns, without a final line break)")
    assert "339901********" in row["raw_masked"] and "陈**" in row["raw_masked"]


def test_a_clean_delivery_still_creates_an_empty_rejects_table(spark, tmp_path: Path) -> None:
    lakehouse = Lakehouse(spark, tmp_path / "lakehouse")
    lines = SAMPLE.read_bytes().decode("gbk").split("\r\n")
    clean = tmp_path / "household_register_clean.csv"
    clean.write_bytes(("\r\n".join(lines[:3]) + "\r\n").encode("gbk"))  # header + two valid rows
    result = land_delivery(spark, lakehouse, CONTRACT, clean)
    assert (result.landed, result.rejected, result.rejects_version) == (2, 0, 0)
    assert lakehouse.read("bronze", "household_register_rejects").count() == 0
    again = land_delivery(spark, lakehouse, CONTRACT, clean)
    assert again.already_landed and lakehouse.version("bronze", "household_register_rejects") == 0


def test_a_delivery_without_rows_creates_both_tables_empty_and_a_later_one_appends_to_them(
        spark, tmp_path: Path) -> None:
    lakehouse = Lakehouse(spark, tmp_path / "lakehouse")
    lines = SAMPLE.read_bytes().decode("gbk").split("\r\n")
    header_only = tmp_path / "household_register_header.csv"
    header_only.write_bytes((lines[0] + "\r\n").encode("gbk"))
    result = land_delivery(spark, lakehouse, CONTRACT, header_only)
    assert (result.delivered, result.landed, result.rejected) == (0, 0, 0)
    assert (result.bronze_version, result.rejects_version) == (0, 0)
    for table in ("household_register", "household_register_rejects"):
        assert lakehouse.count("bronze", table) == 0
    again = land_delivery(spark, lakehouse, CONTRACT, header_only)  # nothing new: no new version
    assert (again.bronze_version, again.rejects_version) == (0, 0)
    landed = land_delivery(spark, lakehouse, CONTRACT, SAMPLE)  # the empty tables take a real landing's rows
    assert (landed.landed, landed.rejected) == (lakehouse.count("bronze", "household_register"),
                                                lakehouse.count("bronze", "household_register_rejects"))
    assert landed.landed > 0 and landed.bronze_version == 1


def test_a_field_of_a_million_characters_rejects_its_row_only(spark, tmp_path: Path) -> None:
    lakehouse = Lakehouse(spark, tmp_path / "lakehouse")
    rows = list(csv.reader(io.StringIO(SAMPLE.read_bytes().decode("gbk"), newline="")))
    header, first, *rest = rows[:4]
    first[header.index("住址")] = "示范市东湖区" + "长" * 1_000_000
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows([header, first, *rest])
    delivery = tmp_path / "household_register_long.csv"
    delivery.write_bytes(out.getvalue().encode("gbk"))
    result = land_delivery(spark, lakehouse, CONTRACT, delivery)
    assert result.rejects_by_reason.get("FIELD_TOO_LONG") == 1 and result.landed + result.rejected == 3
    reject = lakehouse.read("bronze", "household_register_rejects").where(
        F.col("reason_code") == "FIELD_TOO_LONG").first()
    assert reject["_row_number"] == 1 and "1,000,006 characters, at most 4,000" in reject["reason_detail"]
    assert len(reject["raw_masked"]) < 1_000
