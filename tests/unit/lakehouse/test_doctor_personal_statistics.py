"""The doctor reports Delta log files that hold min/max statistics of personal columns (an older lakehouse,
written before statistics on personal columns were turned off), naming the columns and never a value; a table
written as the platform writes now (statistics only on non-personal columns) is not reported. No Spark."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
from deltalake import DeltaTable, write_deltalake

from citydata.lakehouse.doctor import examine, find_personal_statistics

ID_NUMBER, NAME = "339901198406180264", "陈建国"


def _rows() -> pa.Table:
    return pa.table({"id_number": [ID_NUMBER, "339901196804120110"], "name": [NAME, "李娜"],
                     "district_code": ["339901", "339902"], "_batch_id": ["b1", "b1"]})


def test_old_log_files_with_personal_statistics_are_reported_by_column(tmp_path: Path) -> None:
    lake = tmp_path / "lakehouse"
    old = str(lake / "bronze" / "household_register")
    write_deltalake(old, _rows())  # delta-rs' default: statistics on every column, as before issue 15
    DeltaTable(old).create_checkpoint()
    # written as the platform writes now: statistics on the non-personal columns only
    write_deltalake(str(lake / "bronze" / "marriages"), _rows(),
                    configuration={"delta.dataSkippingStatsColumns": "district_code,_batch_id"})

    found = find_personal_statistics(str(lake), lambda layer, table: {"id_number", "name"})
    assert [(f.layer, f.table, f.log_file, f.columns) for f in found] == [
        ("bronze", "household_register", "_delta_log/00000000000000000000.checkpoint.parquet", ("id_number", "name")),
        ("bronze", "household_register", "_delta_log/00000000000000000000.json", ("id_number", "name")),
    ]
    # the default classification (the contracts) knows the register's personal columns; the report quotes none
    report = examine(str(lake))
    assert {(p.table, p.columns) for p in report.personal_statistics} == {
        ("household_register", ("id_number", "name"))}
    assert report.healthy  # reported, not a repair the doctor makes
    text = report.to_json()
    assert '"personal_statistics"' in text and ID_NUMBER not in text and NAME not in text
