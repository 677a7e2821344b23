"""The XLSX connector reads workbooks with calamine and hands on what it handed on with openpyxl: the same
records (values, row numbers, lineage) and rejections, on the simulated city's workbooks and on a
hand-made workbook whose every cell is there for one way a value can be stored. openpyxl is the oracle
here (forced by saying every workbook holds an error cell, the one case the connector still reads with it).
"""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime, time
from pathlib import Path

import pytest
from openpyxl import Workbook

from citydata.catalog.contracts import load_contracts
from citydata.sources.connectors import RawRecord, Rejection, read_all, xlsx_file
from citydata.sources.connectors.xlsx_file import XlsxConnector, cell_text, error_cells, open_sheet
from citydata.sources.simulate import simulate

CONTRACTS = load_contracts()
REGISTRY = CONTRACTS["legal_entities"]


def _by_openpyxl(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(xlsx_file, "error_cells", lambda _path: True)


def _items(contract, path: Path) -> list[tuple]:
    out = []
    for item in XlsxConnector().read(contract, path):
        out.append((item.values, item.lineage) if isinstance(item, RawRecord) else item)
    return out


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("xlsx-city")
    simulate(out, [1, 2], persons=3000, seed=13, period_days=30)
    return out


@pytest.mark.parametrize(("source", "file", "day"), [
    ("legal_entities", "market_regulation/legal_entities.xlsx", "day-001"),   # the full registry
    ("legal_entities", "market_regulation/legal_entities.xlsx", "day-002"),   # its changes
    ("statistics_indicators", "statistics/indicators.xlsx", "day-001"),       # title row, merged headers
])
def test_the_simulated_workbooks_read_the_same_with_calamine_and_openpyxl(
        city: Path, monkeypatch: pytest.MonkeyPatch, source: str, file: str, day: str) -> None:
    path = city / day / "delivery" / file
    assert not error_cells(path)  # so the connector reads it with calamine
    by_calamine = _items(CONTRACTS[source], path)
    _by_openpyxl(monkeypatch)
    by_openpyxl = _items(CONTRACTS[source], path)
    assert by_calamine == by_openpyxl
    assert len(by_calamine) > (100 if source == "legal_entities" and day == "day-001" else 0)


def _cells_workbook(path: Path) -> None:
    """One sheet whose table starts at B3 (an empty row and column before it), with a row left empty."""
    book = Workbook()
    sheet = book.active
    sheet.title = "cells"
    rows = [
        ["text", "number", "date"],
        [" 前后空格 ", 7, datetime(2019, 3, 5)],           # text kept as is; an int; a date cell
        ["007", 0.1, datetime(2019, 3, 5, 10, 30)],        # digits as text; a float; a date with a time of day
        ["TRUE", True, time(10, 30)],                       # text TRUE; a boolean; a time cell
        ["", 123456789012345, 40878],                        # an empty cell; 15 digits; a date serial as a number
        ["=1+1", -2.5e-7, date(2000, 2, 29)],              # a formula without cached value; an exponent; leap day
    ]
    for r, row in enumerate(rows, start=3):
        for c, value in enumerate(row, start=2):
            if value != "":
                sheet.cell(row=r, column=c, value=value)
    sheet.cell(row=10, column=3, value=1.5)  # after two empty rows (8, 9): row numbers keep counting
    book.save(path)


def _texts(rows) -> list[list[str]]:
    return [[cell_text(v) for v in row] for row in rows]


def test_every_kind_of_cell_gives_the_text_openpyxl_gave_at_the_same_row_and_column(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "cells.xlsx"
    _cells_workbook(path)
    by_calamine = _texts(open_sheet(path, "cells").rows)
    _by_openpyxl(monkeypatch)
    by_openpyxl = _texts(open_sheet(path, "cells").rows)

    def trimmed(rows: list[list[str]]) -> list[list[str]]:  # calamine pads rows to the table's width
        out = []
        for row in rows:
            while row and row[-1] == "":
                row = row[:-1]
            out.append(row)
        return out

    assert trimmed(by_calamine) == trimmed(by_openpyxl)
    assert trimmed(by_calamine)[2:5] == [
        ["", "text", "number", "date"],
        ["", " 前后空格 ", "7", "2019-03-05"],
        ["", "007", "0.1", "2019-03-05 10:30:00"],
    ]
    assert trimmed(by_calamine)[5][1:] == ["TRUE", "TRUE", "10:30:00"]
    assert trimmed(by_calamine)[9] == ["", "", "1.5"]


def test_a_formula_error_cell_is_read_with_openpyxl_and_keeps_its_text(tmp_path: Path) -> None:
    header = list(REGISTRY.columns)
    book = Workbook()
    book.active.title = REGISTRY.delivery.sheet
    book.active.append(header)
    row = ["x"] * len(header)
    row[header.index("注销日期")] = "#N/A"  # openpyxl stores an error code as an error cell (t="e")
    book.active.append(row)
    path = tmp_path / "legal_entities.xlsx"
    book.save(path)
    assert error_cells(path)
    [record] = read_all(REGISTRY, path).records
    assert record.values["注销日期"] == "#N/A"  # calamine alone would have read it as empty: not delivered


def _registry_bytes(rows: list[list]) -> bytes:
    book = Workbook()
    book.active.title = REGISTRY.delivery.sheet
    book.active.append(list(REGISTRY.columns))
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _refusal(path: Path) -> str:
    [item] = list(XlsxConnector().read(REGISTRY, path))
    assert isinstance(item, Rejection) and item.whole_file
    return item.reason_code


def test_bad_workbooks_are_refused_with_the_reason_codes_they_had(tmp_path: Path) -> None:
    path = tmp_path / "legal_entities.xlsx"
    data = _registry_bytes([["x"] * len(REGISTRY.columns)] * 50)
    path.write_bytes(b"\xd0\xcf\x11\xe0 an old .xls (OLE2) renamed .xlsx")
    assert _refusal(path) == "FILE_FORMAT"
    path.write_bytes(data[: len(data) // 2])
    assert _refusal(path) == "FILE_TRUNCATED"
    path.write_bytes(b"")
    assert _refusal(path) == "FILE_FORMAT"
    with zipfile.ZipFile(path, "w") as fake:  # a whole zip, but no workbook in it
        fake.writestr("readme.txt", "not a workbook")
    assert _refusal(path) == "FILE_FORMAT"
    # the sheet part's deflated bytes damaged: its CRC (checked by the error-cell scan) refuses it
    with zipfile.ZipFile(io.BytesIO(data)) as whole:
        info = whole.getinfo("xl/worksheets/sheet1.xml")
    at = info.header_offset + 30 + len(info.filename) + len(info.extra) + info.compress_size // 2
    damaged = bytearray(data)
    damaged[at] ^= 0x55
    path.write_bytes(bytes(damaged))
    assert _refusal(path) == "FILE_FORMAT"


def test_an_empty_sheet_has_no_header_and_data_from_column_b_keeps_its_columns(tmp_path: Path) -> None:
    book = Workbook()
    book.active.title = REGISTRY.delivery.sheet  # no cell at all: calamine's row iterator needs one
    path = tmp_path / "legal_entities.xlsx"
    book.save(path)
    assert _refusal(path) == "HEADER_MISSING"
    book = Workbook()
    sheet = book.active
    sheet.title = REGISTRY.delivery.sheet
    values = [f"v{i}" for i in range(len(REGISTRY.columns))]
    for c, (name, value) in enumerate(zip(REGISTRY.columns, values), start=2):
        sheet.cell(row=1, column=c, value=name)
        sheet.cell(row=2, column=c, value=value)
    book.save(path)
    [record] = read_all(REGISTRY, path).records
    assert list(record.values.values()) == values and record.lineage.row == 1
