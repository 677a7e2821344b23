"""CSV deliveries: GBK, GB18030 or UTF-8 (with or without BOM), detected by citydata.standards.encoding.

An undecodable file is rejected whole (FILE_ENCODING); a header without a contract column is
rejected whole (HEADER_MISMATCH), unless the file ends inside that header line without a final line
break: then it was cut, and it is rejected whole as FILE_TRUNCATED. A file that ends without a final
line break, or inside a multi-byte character, may have been cut inside its last row; the contract
decides (`cut_row`): that row is FILE_TRUNCATED when it is short of cells, when the file ends inside a
character, when the contract promises a final line break (`final_line_break`), or when its last value
is not one the contract lists (`values`) or is shorter than its fixed `length` (正常参 for 正常参保).
Any other row with the wrong number of cells is COLUMN_COUNT. Blank lines are skipped and not counted.
"""

from __future__ import annotations

import csv
import io
import itertools
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

from citydata.catalog.contracts import SourceContract
from citydata.sources.connectors.base import (
    Item,
    Lineage,
    RawRecord,
    Rejection,
    header_problem,
    masked_row,
    read_text_delivery,
    warn_extra_columns,
)
from citydata.standards.text import normalize_fullwidth

log = logging.getLogger(__name__)

# The csv module refuses a field over 131,072 characters with an error that would stop the whole file; the
# reader takes any field the file holds and validation rejects a value too long for its field (FIELD_TOO_LONG).
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


class CsvConnector:
    """Read a delimited text file named by the contract's `delivery` (format csv)."""

    def read(self, contract: SourceContract, delivery: str | Path) -> Iterator[Item]:
        decoded = read_text_delivery(
            contract, delivery, fix=f"ask {contract.department} to redeliver in {contract.delivery.encoding}")
        if isinstance(decoded, Rejection):
            yield decoded
            return
        path, text, encoding, content_hash = decoded.path, decoded.text, decoded.encoding, decoded.content_hash
        ends_mid_row = decoded.cut or (text != "" and not text.endswith(("\n", "\r")))
        lines = (cells for cells in csv.reader(io.StringIO(text, newline=""), delimiter=contract.delivery.delimiter)
                 if cells)
        if contract.delivery.header:
            header = [c.strip() for c in next(lines, [])]
            if not header and decoded.cut:
                yield Rejection(contract.source, str(path), "FILE_TRUNCATED", "the file ends inside the first "
                                "character of its header line", fix=f"ask {contract.department} to redeliver the "
                                "whole file", encoding=encoding, content_hash=content_hash)
                return
            if not header:
                yield Rejection(contract.source, str(path), "HEADER_MISSING", "the file is empty",
                                fix="redeliver with the header line", encoding=encoding, content_hash=content_hash)
                return
            problem = header_problem(contract, header)
            first = next(lines, None)
            if first is None and ends_mid_row and (problem or decoded.cut or contract.delivery.final_line_break):
                # the file ends, without a line break, inside its header line: cut, not a wrong header
                # (with a promised final line break, a complete header without it was cut right after it)
                yield Rejection(contract.source, str(path), "FILE_TRUNCATED",
                                f"the file ends inside its header line after {len(header)} columns, "
                                f"{'inside a character' if decoded.cut else 'without a final line break'}",
                                fix=f"ask {contract.department} to redeliver the whole file", encoding=encoding,
                                content_hash=content_hash)
                return
            if problem:
                yield Rejection(contract.source, str(path), "HEADER_MISMATCH", problem,
                                fix=f"fix the delivery or update {contract.file}", encoding=encoding,
                                content_hash=content_hash)
                return
            warn_extra_columns(contract, str(path), header)
            if first is not None:
                lines = itertools.chain([first], lines)
        else:
            header = list(contract.columns)
        width = len(header)
        wanted = [(header.index(c), c) for c in contract.columns]
        row = 0
        previous: list[str] | None = None
        # one row of look-ahead: only the last row can be the truncated one
        for cells in lines:
            if previous is not None:
                row += 1
                yield self._item(contract, path, row, previous, width, wanted, encoding, content_hash, cut=None)
            previous = cells
        if previous is not None:
            row += 1
            cut = cut_row(contract, header, previous, inside_character=decoded.cut) if ends_mid_row else None
            yield self._item(contract, path, row, previous, width, wanted, encoding, content_hash, cut=cut)

    @staticmethod
    def _item(contract: SourceContract, path: Path, row: int, cells: list[str], width: int,
              wanted: list[tuple[int, str]], encoding: str, content_hash: str, *, cut: str | None) -> Item:
        present = {column: cells[index] for index, column in wanted if index < len(cells)}
        if cut:
            return Rejection(contract.source, str(path), "FILE_TRUNCATED",
                             f"the file ends inside row {row}: {cut}", row=row,
                             fix=f"ask {contract.department} to redeliver the whole file", encoding=encoding,
                             content_hash=content_hash,
                             raw_masked=masked_row(contract, present, aligned=len(cells) <= width))
        if len(cells) == width:
            values = {column: cells[index] for index, column in wanted}
            return RawRecord(values, Lineage(contract.source, str(path), row, encoding, content_hash))
        return Rejection(contract.source, str(path), "COLUMN_COUNT", f"{len(cells)} columns, expected {width}",
                         row=row, fix="check the delimiter and quoting of that line", encoding=encoding,
                         content_hash=content_hash, raw_masked=masked_row(contract, present, aligned=False))


def cut_row(contract: SourceContract, header: list[str], cells: list[str], *, inside_character: bool) -> str | None:
    """Why the last row of a file that ends without a final line break (or inside a character) was cut, by the
    contract; None when nothing says so (the row is complete and read)."""
    if inside_character:
        return "the file ends inside a multi-byte character"
    if len(cells) < len(header):
        return f"after {len(cells)} of {len(header)} columns, without a final line break"
    if contract.delivery.final_line_break:
        return f"without the final line break {contract.file.name if contract.file else 'the contract'} promises"
    if len(cells) != len(header):
        return None  # too many cells: COLUMN_COUNT, not a cut
    spec = next((f for f in contract.fields if f.column == header[-1]), None)
    if spec is None:
        return None
    value = normalize_fullwidth(cells[-1]).strip()
    if spec.values is not None and value not in spec.values:
        return (f"its last value ({len(value)} characters) is none of the values of {spec.name}, "
                "without a final line break")
    if spec.length is not None and len(value) < spec.length:
        return (f"its last value has {len(value)} of the {spec.length} characters of {spec.name}, "
                "without a final line break")
    return None
