"""Writers: the fast XLSX path writes openpyxl's exact bytes; CSV quoting round-trips."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from pathlib import Path

import openpyxl

from citydata.sources.simulate.writers import columns_csv_text, write_xlsx, write_xlsx_merged

ROWS = [
    ("91339901X8ADMGGR67", "a&b<c> 公司", "", None, date(2020, 1, 2), " leading space", "张\u3000三", "2019年3月5日"),
    ("９１３３９９", 'say "hi"', "x", "y", date(1999, 12, 31), "", "50万元", "500000元"),
] * 5
HEADER = [f"列{i}" for i in range(8)]


def test_fast_xlsx_equals_openpyxl_write_only(tmp_path: Path) -> None:
    fast = write_xlsx(tmp_path / "fast.xlsx", "登记", HEADER, ROWS)
    slow = write_xlsx(tmp_path / "slow.xlsx", "登记", HEADER, ROWS, fast=False)
    assert fast == slow
    values = list(openpyxl.load_workbook(tmp_path / "fast.xlsx", read_only=True).active.values)
    assert values[0] == tuple(HEADER) and len(values) == len(ROWS) + 1
    assert values[1][4].date() == date(2020, 1, 2) and values[2][1] == 'say "hi"'


def test_fast_xlsx_keeps_dates_when_the_first_row_writes_its_date_as_text(tmp_path: Path) -> None:
    rows = [("甲", "2019年3月5日"), ("乙", None), ("丙", date(2020, 1, 2)), ("丁", date(2011, 11, 2))]
    fast = write_xlsx(tmp_path / "fast.xlsx", "登记", ["名称", "成立日期"], rows)
    assert fast == write_xlsx(tmp_path / "slow.xlsx", "登记", ["名称", "成立日期"], rows, fast=False)
    values = list(openpyxl.load_workbook(tmp_path / "fast.xlsx", read_only=True).active.values)
    assert [v[1] if len(v) > 1 else None for v in values[1:]] == [
        "2019年3月5日", None, datetime(2020, 1, 2), datetime(2011, 11, 2)]


def test_merged_header_workbook(tmp_path: Path) -> None:
    write_xlsx_merged(tmp_path / "s.xlsx", "指标", "标题", [("地区", []), ("GDP", ["亿元", "%"])],
                      [("东湖区", 1.5, 2.0)])
    sheet = openpyxl.load_workbook(tmp_path / "s.xlsx").active
    assert {str(r) for r in sheet.merged_cells.ranges} == {"A1:C1", "A2:A3", "B2:C2"}
    assert list(sheet.values)[3] == ("东湖区", 1.5, 2.0)


def test_csv_quoting_round_trips() -> None:
    columns = [["a,b", "plain"], ['q"x', "y"], ["line\nbreak", "z"]]
    text = columns_csv_text(["c1", "c2", "c3"], columns)
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows == [["c1", "c2", "c3"], ["a,b", 'q"x', "line\nbreak"], ["plain", "y", "z"]]
