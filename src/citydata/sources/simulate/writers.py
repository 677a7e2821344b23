"""Writers that give the same bytes for the same rows: CSV (GBK, UTF-8, UTF-8 with BOM), XLSX, JSON, GeoJSON.

Nothing here reads the clock. XLSX files are re-zipped with fixed entry dates and fixed document
properties, because openpyxl stamps both with the time of writing.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

FIXED_TIME = datetime(2000, 1, 1, 0, 0, 0)
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    if any(char in text for char in ',"\n\r'):
        return '"' + text.replace('"', '""') + '"'
    return text


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """CSV text with CRLF line ends (what the departments' Windows exports send)."""
    lines = [",".join(_cell(v) for v in header)]
    lines.extend(",".join(_cell(v) for v in row) for row in rows)
    return "\r\n".join(lines) + "\r\n"


def columns_csv_text(header: Sequence[str], columns: Sequence[Sequence[str]]) -> str:
    """CSV text from whole columns of strings (fast: quoting is decided once per column)."""
    quoted = []
    for column in columns:
        column = [str(value) for value in column]
        joined = "\x00".join(column)
        if any(char in joined for char in ',"\n\r'):
            column = [_cell(value) for value in column]
        quoted.append(column)
    lines = [",".join(_cell(v) for v in header)]
    lines.extend(map(",".join, zip(*quoted)))
    return "\r\n".join(lines) + "\r\n"


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]], encoding: str) -> bytes:
    """Write a CSV in `encoding` ('gbk', 'utf-8' or 'utf-8-sig'); returns the bytes written."""
    data = csv_text(header, rows).encode(encoding)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return data


def normalize_zip(data: bytes) -> bytes:
    """Re-zip with every entry dated 1980-01-01 (openpyxl stamps the time of writing)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o600 << 16
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl sets `modified` to now on save
                content = _MODIFIED.sub(rb"\g<1>2000-01-01T00:00:00Z\g<2>", content)
            target.writestr(fixed, content)
    return out.getvalue()


def _fix_properties(workbook: Workbook) -> None:
    workbook.properties.created = FIXED_TIME
    workbook.properties.modified = FIXED_TIME
    workbook.properties.creator = "citydata simulate"
    workbook.properties.lastModifiedBy = "citydata simulate"


def _save(workbook: Workbook, path: Path) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    data = normalize_zip(buffer.getvalue())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return data


def write_xlsx(path: Path, sheet: str, header: Sequence[str], rows: Iterable[Sequence[Any]], *,
               fast: bool = True) -> bytes:
    """A one-sheet workbook in openpyxl's write-only mode.

    fast=True: openpyxl writes the package with the header and the data rows up to the first one
    holding a date (styles, the date format), and the remaining rows are serialized here in openpyxl's
    own cell markup — the same bytes (a unit test compares both paths) at ~20x the speed: without lxml,
    openpyxl spends ~15 µs per cell in its pure-Python XML writer, half a minute for a 140,000-row registry.
    """
    rows = iter(rows)
    workbook = Workbook(write_only=True)
    _fix_properties(workbook)
    worksheet = workbook.create_sheet(sheet)
    worksheet.append(list(header))
    if not fast:
        for row in rows:
            worksheet.append(list(row))
        return _save(workbook, path)
    # openpyxl writes rows up to the first one holding a date, so the package has the date cell style
    # the spliced date cells refer to (when the first row's date was text, a serial spliced without
    # that style was read back as a plain number)
    written = 1
    for row in rows:
        worksheet.append(list(row))
        written += 1
        if any(isinstance(v, date) for v in row):
            break
    else:
        return _save(workbook, path)
    buffer = io.BytesIO()
    workbook.save(buffer)
    data = _splice_rows(buffer.getvalue(), rows, start_row=written + 1)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return data


_XML_ESCAPE = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_DATE_STYLE = re.compile(rb'<c r="[A-Z]+\d+" s="(\d+)" t="n">')
_EXCEL_EPOCH = date(1899, 12, 30).toordinal()


def _column_letters(count: int) -> list[str]:
    from openpyxl.utils import get_column_letter

    return [get_column_letter(i + 1) for i in range(count)]


def _splice_rows(package: bytes, rows: Iterable[Sequence[Any]], start_row: int) -> bytes:
    """Insert rows (str, date or None cells) before </sheetData> of the first sheet, as openpyxl writes them."""
    source = zipfile.ZipFile(io.BytesIO(package))
    sheet_name = next(n for n in source.namelist() if n.startswith("xl/worksheets/sheet"))
    sheet = source.read(sheet_name)
    style = _DATE_STYLE.search(sheet)
    if style is None:
        raise ValueError("fast XLSX: the package written by openpyxl holds no date cell to take the style of")
    date_style = style.group(1).decode()
    parts: list[str] = []
    letters: list[str] = []
    for number, row in enumerate(rows, start=start_row):
        if len(letters) < len(row):
            letters = _column_letters(len(row))
        cells = [f'<row r="{number}">']
        for letter, value in zip(letters, row):
            if value is None:
                continue
            if isinstance(value, str):
                space = ' xml:space="preserve"' if value != value.strip() else ""
                if value:
                    text = value.translate(_XML_ESCAPE)
                    cells.append(f'<c r="{letter}{number}" t="inlineStr"><is><t{space}>{text}</t></is></c>')
                else:
                    cells.append(f'<c r="{letter}{number}" t="inlineStr" />')
            elif isinstance(value, date):
                serial = value.toordinal() - _EXCEL_EPOCH
                cells.append(f'<c r="{letter}{number}" s="{date_style}" t="n"><v>{serial}</v></c>')
            else:
                raise TypeError(f"fast XLSX rows hold str, date or None, got {type(value).__name__} in row {number}")
        cells.append("</row>")
        parts.append("".join(cells))
    marker = b"</sheetData>"
    at = sheet.rindex(marker)
    sheet = sheet[:at] + "".join(parts).encode("utf-8") + sheet[at:]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = sheet if info.filename == sheet_name else source.read(info.filename)
            target.writestr(info, content)
    return normalize_zip(out.getvalue())


def write_xlsx_merged(path: Path, sheet: str, title: str, groups: Sequence[tuple[str, Sequence[str]]],
                      rows: Iterable[Sequence[Any]]) -> bytes:
    """A statistics-bureau table: a title row, a group header row with merged cells, a sub-header row.

    groups: (group name, sub-columns); a group with no sub-columns spans both header rows.
    """
    workbook = Workbook()
    _fix_properties(workbook)
    worksheet = workbook.active
    worksheet.title = sheet
    width = sum(max(1, len(subs)) for _, subs in groups)
    worksheet.cell(row=1, column=1, value=title).font = Font(bold=True)
    worksheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    column = 1
    for name, subs in groups:
        worksheet.cell(row=2, column=column, value=name).alignment = Alignment(horizontal="center")
        if subs:
            if len(subs) > 1:
                worksheet.merge_cells(start_row=2, start_column=column, end_row=2, end_column=column + len(subs) - 1)
            for offset, sub in enumerate(subs):
                worksheet.cell(row=3, column=column + offset, value=sub)
            column += len(subs)
        else:
            worksheet.merge_cells(start_row=2, start_column=column, end_row=3, end_column=column)
            column += 1
    for row in rows:
        worksheet.append(list(row))
    return _save(workbook, path)


def json_bytes(document: Any) -> bytes:
    """Sorted keys, UTF-8, one fixed layout."""
    text = json.dumps(document, ensure_ascii=False, sort_keys=True, indent=None, separators=(",", ":"))
    return (text + "\n").encode("utf-8")


def write_json(path: Path, document: Any) -> bytes:
    data = json_bytes(document)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return data
