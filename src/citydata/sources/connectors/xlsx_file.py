"""XLSX deliveries, read with python-calamine (the Rust calamine reader: ~10x openpyxl on a registry).

The contract's delivery says which sheet, how many title rows sit above the header (their text can be
kept as a column, e.g. the period of a statistics table) and how many header rows there are. Merged
multi-row headers are joined: a group cell merged across its columns (地区生产总值 over 绝对值（亿元）
and 同比增长（%）) gives `地区生产总值/绝对值（亿元）` and `地区生产总值/同比增长（%）`; a cell merged
down the header rows (地区) keeps its own name. A group cell is recognised by what the merge leaves behind
(empty cells to its right with a sub-header below them), whatever reader is used. Cell values become
strings: Excel dates as ISO dates, numbers in their shortest form, except in a contract `date` column,
where a whole number in Excel's date-serial range (a date cell formatted "General") becomes its ISO date
too. Row numbers are the sheet's: an empty row is skipped but counted.

calamine reads a formula's error result (#N/A, #DIV/0!) as an empty cell, which would land a value the
department never delivered as "not delivered" — silently. So a sheet holding an error cell is read with
openpyxl instead, which hands on the error text (a field check then rejects the row, visibly).

A file that is no readable workbook is rejected whole: FILE_TRUNCATED when it is a zip cut short (it
starts as one but its central directory, which a zip keeps at its end, is missing), else FILE_FORMAT.
"""

from __future__ import annotations

import logging
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException
from python_calamine import CalamineError, CalamineWorkbook, SheetTypeEnum

from citydata.catalog.contracts import SourceContract
from citydata.sources.connectors.base import (
    Item,
    Lineage,
    RawRecord,
    Rejection,
    file_hash,
    header_problem,
    masked_row,
    warn_extra_columns,
)

log = logging.getLogger(__name__)
ENCODING = "xlsx"  # the lineage's encoding of a workbook (its XML parts are UTF-8 by definition)
# What calamine, openpyxl and the zip/XML layers under them raise on a damaged workbook (a random byte flipped,
# a part missing): the file is refused with the error's name; nothing else is caught.
UNREADABLE = (CalamineError, InvalidFileException, zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, KeyError,
              OSError, ValueError, EOFError, NotImplementedError, SyntaxError, TypeError, IndexError, AttributeError)
ZIP_START, ZIP_END = b"PK\x03\x04", b"PK\x05\x06"  # local file header; end of central directory record
ERROR_CELL = b't="e"'  # the type attribute of a cell holding a formula's error result (ECMA-376 ST_CellType)
SHEET_PART = re.compile(r"xl/worksheets/[^/]+\.xml")


def cell_text(value: Any) -> str:
    """A cell as bronze stores it: '' for empty, ISO for dates, numbers via their shortest repr."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


EXCEL_EPOCH = date(1899, 12, 30)  # serial 1 = 1900-01-01 past Excel's phantom 1900-02-29
SERIAL_RANGE = (3000, 2_958_465)   # 1908-03-18 .. 9999-12-31; below, a bare year (2019) is no date of 1905


def date_cell_text(value: Any) -> str:
    """A cell of a contract `date` column: an Excel date serial stored as a plain number (a column
    formatted "General", e.g. 40878) becomes its ISO date; anything else is as cell_text gives it."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and float(value).is_integer() \
            and SERIAL_RANGE[0] <= value <= SERIAL_RANGE[1]:
        return (EXCEL_EPOCH + timedelta(days=int(value))).isoformat()
    return cell_text(value)


def join_header(rows: Sequence[Sequence[Any]], joiner: str = "/") -> list[str]:
    """Column names from one or more header rows, filling merged group cells across their sub-columns."""
    width = max((len(r) for r in rows), default=0)
    levels = [[cell_text(v).strip() for v in r] + [""] * (width - len(r)) for r in rows]
    for depth in range(len(levels) - 1):
        level = levels[depth]
        for col in range(1, width):
            below = any(levels[d][col] for d in range(depth + 1, len(levels)))
            if not level[col] and below and any(levels[d][col - 1] for d in range(depth + 1, len(levels))):
                level[col] = level[col - 1]  # inside a merged group cell: the group's name
    names = [joiner.join(level[col] for level in levels if level[col]) for col in range(width)]
    while names and not names[-1]:
        names.pop()
    return names


class XlsxConnector:
    """Read one sheet of a workbook named by the contract's `delivery` (format xlsx)."""

    def read(self, contract: SourceContract, delivery: str | Path) -> Iterator[Item]:
        path = Path(delivery)
        content_hash = file_hash(path)
        spec = contract.delivery

        def reject(reason: str, detail: str, fix: str) -> Rejection:
            return Rejection(contract.source, str(path), reason, detail, fix=fix, encoding=ENCODING,
                             content_hash=content_hash)

        def unreadable(error: BaseException) -> Rejection:
            if zip_cut(path):
                return reject("FILE_TRUNCATED", "the workbook is a zip cut short (its central directory, at the "
                              "end of a whole file, is missing)", f"ask {contract.department} to redeliver the "
                              "whole workbook")
            said = " ".join(str(error).split())[:200]  # one line: a library's message may span several
            return reject("FILE_FORMAT", f"not a readable XLSX workbook ({type(error).__name__}: {said})",
                          f"ask {contract.department} to redeliver the workbook as .xlsx")

        try:
            sheet = open_sheet(path, spec.sheet)
        except UNREADABLE as error:
            yield unreadable(error)
            return
        try:
            if sheet.rows is None:
                yield reject("SHEET_MISSING", f"no sheet {spec.sheet!r}; the workbook has {sheet.names}",
                             f"fix the delivery or the sheet name in {contract.file}")
                return
            yield from self._rows(contract, path, sheet.rows, content_hash, reject)
        except WorkbookDamaged as damaged:
            # a part damaged past the zip directory that shows only while openpyxl streams its rows: the
            # records already handed on are void, the whole-file rejection refuses the delivery
            yield unreadable(damaged.__cause__ or damaged)
        finally:
            sheet.close()

    @staticmethod
    def _rows(contract: SourceContract, path: Path, rows: Iterator[Sequence[Any]], content_hash: str,
              reject: Any) -> Iterator[Item]:
        spec = contract.delivery
        try:
            title_rows = [next(rows) for _ in range(spec.skip_rows)]
            header_rows = [next(rows) for _ in range(spec.header_rows)]
        except StopIteration:
            yield reject("HEADER_MISSING", f"the sheet ends before its {spec.skip_rows} title and "
                         f"{spec.header_rows} header rows", "redeliver with the header rows")
            return
        title = " ".join(cell_text(v).strip() for r in title_rows for v in r if cell_text(v).strip())
        header = join_header(header_rows, spec.header_join)
        if spec.title_column:
            header_for_check = header + [spec.title_column]
        else:
            header_for_check = header
        problem = header_problem(contract, header_for_check)
        if problem:
            yield reject("HEADER_MISMATCH", problem, f"fix the delivery or update {contract.file}")
            return
        warn_extra_columns(contract, str(path), header)
        wanted = [(header.index(c), c) for c in contract.columns if c != spec.title_column]
        width = len(header)
        dated = {header.index(f.column) for f in contract.fields if f.type == "date" and f.column in header}
        for row, cells in enumerate(rows, start=1):
            texts = [date_cell_text(v) if i in dated else cell_text(v) for i, v in enumerate(cells)]
            if not any(t.strip() for t in texts):
                continue  # an empty row (formatting left behind); the row numbers keep counting
            if any(t.strip() for t in texts[width:]):
                present = {c: texts[i] for i, c in wanted if i < len(texts)}
                yield Rejection(contract.source, str(path), "COLUMN_COUNT",
                                f"values beyond the header's {width} columns", row=row,
                                fix="check the sheet for cells outside the table", encoding=ENCODING,
                                content_hash=content_hash, raw_masked=masked_row(contract, present))
                continue
            found = {c: (texts[i] if i < len(texts) else "") for i, c in wanted}
            values = {c: title if c == spec.title_column else found[c] for c in contract.columns}
            yield RawRecord(values, Lineage(contract.source, str(path), row, ENCODING, content_hash))


@dataclass
class OpenSheet:
    """A sheet's rows from its first row on (None: the workbook has no such sheet), and the workbook's sheets."""

    names: list[str]
    rows: Iterator[Sequence[Any]] | None
    close: Callable[[], None] = lambda: None


def open_sheet(path: Path, name: str | None) -> OpenSheet:
    """The rows of sheet `name` (None: the first worksheet), read by calamine, or by openpyxl when a sheet holds
    an error cell (calamine would read it as empty). Raises one of UNREADABLE for a damaged workbook."""
    if error_cells(path):
        log.info("%s: a sheet holds formula error cells (#N/A …): read with openpyxl, which keeps their text",
                 path.name)
        return _openpyxl_sheet(path, name)
    with CalamineWorkbook.from_path(str(path)) as workbook:
        names = list(workbook.sheet_names)
        if name is None:
            worksheets = [m.name for m in workbook.sheets_metadata if m.typ == SheetTypeEnum.WorkSheet]
            if not worksheets:
                raise IndexError("the workbook has no worksheet")  # as openpyxl's worksheets[0]
            name = worksheets[0]
        if name not in names:
            return OpenSheet(names, None)
        sheet = workbook.get_sheet_by_name(name)  # the whole sheet is parsed here: damage shows now
    return OpenSheet(names, _calamine_rows(sheet))


def _calamine_rows(sheet: Any) -> Iterator[Sequence[Any]]:
    """The sheet's rows from row 1 and column A, as openpyxl numbers them: calamine's iterator starts at the
    first row holding a value (it yields empty rows above) but at the first column holding one."""
    if sheet.start is None:  # no cell holds a value (calamine's iterator needs one)
        return iter(())
    pad = [""] * sheet.start[1]
    rows = sheet.iter_rows()
    return ([*pad, *row] for row in rows) if pad else iter(rows)


def _openpyxl_sheet(path: Path, name: str | None) -> OpenSheet:
    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        if name is not None and name not in workbook.sheetnames:
            workbook.close()
            return OpenSheet(list(workbook.sheetnames), None)
        sheet = workbook[name] if name is not None else workbook.worksheets[0]
        rows = _guarded(sheet.iter_rows(values_only=True))
    except BaseException:
        workbook.close()
        raise
    return OpenSheet(list(workbook.sheetnames), rows, workbook.close)


def error_cells(path: Path) -> bool:
    """Whether a worksheet part holds a cell typed as an error (`t="e"`). Also reads every worksheet part whole,
    so a part whose bytes fail the zip's CRC or inflate refuses the workbook (zipfile raises), as openpyxl did.
    Measured on the 1,000,000-resident registry (120 MB of sheet XML, 17 MB zipped): 0.5-0.8 s, next to 3.1 s
    for calamine's parse of it and 53 s for openpyxl's read of the whole delivery."""
    with zipfile.ZipFile(path) as package:
        for info in package.infolist():
            if not SHEET_PART.fullmatch(info.filename):
                continue
            with package.open(info) as part:
                tail = b""
                while chunk := part.read(1 << 22):
                    if ERROR_CELL in tail + chunk[:16] or ERROR_CELL in chunk:
                        return True
                    tail = chunk[-8:]
    return False


class WorkbookDamaged(Exception):
    """openpyxl failed on the workbook's content while it was streamed (the cause is the library's error)."""


def _guarded(rows: Iterator[tuple]) -> Iterator[tuple]:
    """The sheet's rows; what openpyxl raises on damaged content becomes WorkbookDamaged, errors of this
    module's own code between rows are not caught."""
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except UNREADABLE as error:
            raise WorkbookDamaged(str(error)) from error
        yield row


def zip_cut(path: Path) -> bool:
    """A file that starts as a zip but does not end with a whole end-of-central-directory record (22 bytes
    plus its comment), which a whole zip ends with."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        if handle.read(4) != ZIP_START:
            return False
        tail_from = max(0, size - 65_557)  # the record (22 bytes) plus the longest comment a zip allows
        handle.seek(tail_from)
        tail = handle.read()
    end = tail.rfind(ZIP_END)
    if end < 0 or end + 22 > len(tail):
        return True
    comment = int.from_bytes(tail[end + 20:end + 22], "little")
    return end + 22 + comment > len(tail)
