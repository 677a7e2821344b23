"""Without Spark: what bronze.refused_files records of a file, and the encoding notes of a day's ingest."""

from __future__ import annotations

import hashlib
from pathlib import Path

from citydata.catalog.contracts import load_contract
from citydata.ingest.refused import RefusedFile
from citydata.ingest.runner import DayIngestResult, delivered_encoding_note


def test_a_refused_file_is_described_by_its_size_and_sha256(tmp_path: Path) -> None:
    path = tmp_path / "marriages.csv"
    data = "登记日期,登记类型\r\n".encode("utf-16")
    path.write_bytes(data)
    refused = RefusedFile.of("marriages", "day-001", path, "FILE_ENCODING", f"{path}: delivery refused (FILE_ENCODING)")
    assert (refused.size_bytes, refused.sha256) == (len(data), hashlib.sha256(data).hexdigest())
    assert (refused.source, refused.day, refused.file, refused.reason_code) == (
        "marriages", "day-001", str(path), "FILE_ENCODING")


def test_an_encoding_other_than_the_contracts_is_noted_and_a_workbook_never() -> None:
    register, births = load_contract("household_register"), load_contract("births")
    assert delivered_encoding_note(register, "utf-8") == "delivered as utf-8, the contract declares GBK"
    assert delivered_encoding_note(register, "gb18030") == "delivered as gb18030, the contract declares GBK"
    assert delivered_encoding_note(register, "gbk") is None
    assert delivered_encoding_note(births, "utf-8-sig") is None  # a BOM is still UTF-8
    assert delivered_encoding_note(births, "gbk") == "delivered as gbk, the contract declares UTF-8"
    assert delivered_encoding_note(load_contract("legal_entities"), "xlsx") is None


def test_the_run_day_summary_lists_the_encoding_notes(tmp_path: Path) -> None:
    from citydata.orchestration.stages import ingest_summary

    result = DayIngestResult(tmp_path, encoding_notes={"household_register": "delivered as utf-8, the contract "
                                                                              "declares GBK"})
    line, details = ingest_summary(result, {})
    assert "encoding other than declared: household_register (delivered as utf-8, the contract declares GBK)" in line
    assert details["encoding_notes"] == {"household_register": "delivered as utf-8, the contract declares GBK"}
