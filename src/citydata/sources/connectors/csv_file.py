"""CSV deliveries: GBK, GB18030 or UTF-8 (with or without BOM), detected by citydata.standards.encoding.

An undecodable file is rejected whole (FILE_ENCODING); a header without a contract column is
rejected whole (HEADER_MISMATCH), unless the file ends inside that header line without a final line
break: then it was cut, and it is rejected whole as FILE_TRUNCATED; a last row cut short without a
final line break is FILE_TRUNCATED;
any other row with the wrong number of cells is COLUMN_COUNT. Blank lines are skipped and not counted.
"""

from __future__ import annotations

import csv
import io
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
        expected = contract.delivery.encoding.lower().replace("_", "-")
        if encoding.replace("-sig", "") not in (expected, "utf-8"):
            log.warning("%s: %s decoded as %s, the contract says %s", contract.source, path, encoding,
                        contract.delivery.encoding)
        lines = (cells for cells in csv.reader(io.StringIO(text, newline=""), delimiter=contract.delivery.delimiter)
                 if cells)
        if contract.delivery.header:
            header = [c.strip() for c in next(lines, [])]
            if not header:
                yield Rejection(contract.source, str(path), "HEADER_MISSING", "the file is empty",
                                fix="redeliver with the header line", encoding=encoding, content_hash=content_hash)
                return
            problem = header_problem(contract, header)
            if problem and next(lines, None) is None and not text.endswith(("\n", "\r")):
                # the file ends, without a line break, inside its header line: cut, not a wrong header
                yield Rejection(contract.source, str(path), "FILE_TRUNCATED",
                                f"the file ends inside its header line after {len(header)} columns, "
                                "without a final line break", fix=f"ask {contract.department} to redeliver "
                                "the whole file", encoding=encoding, content_hash=content_hash)
                return
            if problem:
                yield Rejection(contract.source, str(path), "HEADER_MISMATCH", problem,
                                fix=f"fix the delivery or update {contract.file}", encoding=encoding,
                                content_hash=content_hash)
                return
            warn_extra_columns(contract, str(path), header)
        else:
            header = list(contract.columns)
        ends_mid_row = not text.endswith(("\n", "\r"))
        width = len(header)
        wanted = [(header.index(c), c) for c in contract.columns]
        row = 0
        previous: list[str] | None = None
        # one row of look-ahead: only the last row can be the truncated one
        for cells in lines:
            if previous is not None:
                row += 1
                yield self._item(contract, path, row, previous, width, wanted, encoding, content_hash, last=False)
            previous = cells
        if previous is not None:
            row += 1
            yield self._item(contract, path, row, previous, width, wanted, encoding, content_hash,
                             last=ends_mid_row)

    @staticmethod
    def _item(contract: SourceContract, path: Path, row: int, cells: list[str], width: int,
              wanted: list[tuple[int, str]], encoding: str, content_hash: str, *, last: bool) -> Item:
        if len(cells) == width:
            values = {column: cells[index] for index, column in wanted}
            return RawRecord(values, Lineage(contract.source, str(path), row, encoding, content_hash))
        present = {column: cells[index] for index, column in wanted if index < len(cells)}
        if last and len(cells) < width:
            return Rejection(contract.source, str(path), "FILE_TRUNCATED",
                             f"the file ends inside row {row} after {len(cells)} of {width} columns, "
                             "without a final line break", row=row,
                             fix=f"ask {contract.department} to redeliver the whole file", encoding=encoding,
                             content_hash=content_hash, raw_masked=masked_row(contract, present))
        return Rejection(contract.source, str(path), "COLUMN_COUNT", f"{len(cells)} columns, expected {width}",
                         row=row, fix="check the delimiter and quoting of that line", encoding=encoding,
                         content_hash=content_hash, raw_masked=masked_row(contract, present))
