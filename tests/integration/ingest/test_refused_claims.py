"""bronze.refused_files under two runs at once, on real Spark + Delta: recording a refused file is a claimed
append conditioned on the version at which it was found missing, so a run that checked before another run
recorded the same file does not record it a second time (before: a check, then a plain append)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from citydata.ingest.concurrency import ABSENT
from citydata.ingest.refused import BRONZE, REFUSED_TABLE, RefusedFile, record_one, record_refused
from citydata.lakehouse import Lakehouse

AT = datetime(2026, 12, 7, 14, 0)


def _rows(lakehouse: Lakehouse) -> list[tuple]:
    table = lakehouse.arrow_dataset(BRONZE, REFUSED_TABLE).to_table(columns=["day", "source", "file", "sha256"])
    return sorted(zip(*(table.column(c).to_pylist() for c in table.column_names), strict=True))


def test_a_run_that_found_the_file_missing_before_another_recorded_it_records_nothing(spark, tmp_path: Path) -> None:
    lakehouse = Lakehouse(spark, tmp_path / "lakehouse")
    marriages = tmp_path / "day-002" / "marriages.csv"
    marriages.parent.mkdir()
    marriages.write_bytes("登记日期,登记类型\r\n".encode("utf-16"))  # refused whole (FILE_ENCODING)
    births = tmp_path / "day-002" / "births.csv"
    births.write_bytes(b"\x00" * 8)
    refusal = RefusedFile.of("marriages", "day-002", marriages, "FILE_ENCODING", "marriages.csv: refused")
    other = RefusedFile.of("births", "day-002", births, "FILE_ENCODING", "births.csv: refused")

    # run A finds no table (its check, at ABSENT); run B records the file first (creating the table)
    assert record_refused(spark, lakehouse, [refusal], recorded_at=AT) == 1
    assert record_one(spark, lakehouse, refusal, ABSENT, AT) is False  # A's append is refused: recorded once
    assert _rows(lakehouse) == [("day-002", "marriages", str(marriages), refusal.sha256)]
    version = lakehouse.version(BRONZE, REFUSED_TABLE)
    # run A found births (day 2) and marriages (day 3) missing at `version`; run B then records births:
    # A's births is refused, its day-3 marriages lands (a commit of another claim does not conflict)
    assert record_refused(spark, lakehouse, [other], recorded_at=AT) == 1
    assert record_one(spark, lakehouse, other, version, AT) is False  # ... and that one only once
    assert record_one(spark, lakehouse, RefusedFile.of("marriages", "day-003", marriages, "FILE_ENCODING",
                                                       "marriages.csv: refused"), version, AT) is True
    assert [r[:2] for r in _rows(lakehouse)] == [("day-002", "births"), ("day-002", "marriages"),
                                                 ("day-003", "marriages")]
    assert record_refused(spark, lakehouse, [refusal, other], recorded_at=AT) == 0  # a rerun adds nothing
