"""Landing a plain CSV delivery in Spark tasks: the driver plans, the executors read and validate.

The CSV connector (citydata.sources.connectors.csv_file) reads a file whole on the driver and hands every
row to Spark; at a city's register (a million rows and more) that is the platform's bottleneck. Most
deliveries are plain: one encoding, a header that matches the contract, no quotes, no blank lines,
every line ended. For those, `plan_csv` scans the file once on the driver in blocks (SHA-256, line
ends, a 64-bit hash per line: the rows that repeat an earlier row, whose lines are then compared exactly)
and cuts it into byte ranges at line ends; `read_range`, run by a Spark task per range (citydata.ingest.bronze),
decodes a range, splits lines and cells column-wise (pyarrow), and validates the rows
(citydata.ingest.columnar for the rows that certainly pass, validate_record for the rest) — the same
rows, row numbers, verdicts and reason codes the connector path gives. Anything not plain (a quote, a
blank line, a cut last line, an encoding other than the declared one, a header problem, an undecodable
or binary byte found by a task) returns the delivery to the connector path, whose rules decide it.
"""

from __future__ import annotations

import codecs
import hashlib
import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from citydata.catalog.contracts import SourceContract
from citydata.ingest.columnar import certainly_valid
from citydata.ingest.validate import masked_record, validate_record
from citydata.sources.connectors.base import header_problem, masked_row, warn_extra_columns
from citydata.standards.encoding import BINARY_CONTROL, encoding_note

log = logging.getLogger(__name__)

BLOCK = 16 << 20  # bytes read at a time by the driver's scan
CHUNK = 8 << 20  # at least this many bytes per task (a small file is one task)
OUTPUT_ROWS = 65_536  # rows per Arrow batch a task hands back
# A task that finds its range is not plain says so in reason_code; the driver then lands the delivery the
# connector's way. Never written to a table.
NOT_PLAIN = "_NOT_PLAIN"


class NotPlainError(Exception):
    """A task found a byte range it cannot read plainly: land the delivery the connector's way."""


@dataclass(frozen=True)
class CsvPlan:
    """How the tasks read a plain CSV delivery: its byte ranges and each range's first row number."""

    path: str
    label: str
    codec: str  # the Python codec the tasks decode with
    encoding: str  # the encoding name lineage records (as the connector names it)
    content_hash: str
    delimiter: str
    width: int
    wanted: tuple[tuple[int, str], ...]  # (header position, field name) of every contract field
    ranges: tuple[tuple[int, int, int], ...]  # (start byte, end byte, first row number)
    rows: int
    repeats: dict[int, int]  # row number -> the earlier row it repeats (the same contract cells), for each repeat


def _header_encoding(header: bytes) -> tuple[str, str] | None:
    """(codec, name) the connector's detection would settle on, judged from a non-ASCII header: UTF-8 when it
    decodes so (the connector tries UTF-8 first), else GBK; None when the header cannot tell (ASCII only) or
    decodes as neither (GB18030 and worse are the connector's to judge)."""
    if header.startswith(codecs.BOM_UTF8):
        return ("utf-8", "utf-8-sig")
    if header.isascii():
        return None
    for codec in ("utf-8", "gbk"):
        try:
            header.decode(codec)
        except UnicodeDecodeError:
            continue
        return (codec, codec)
    return None


def plan_csv(contract: SourceContract, path: Path, parallelism: int, min_range_bytes: int = CHUNK) -> CsvPlan | None:
    """A plan for reading a CSV delivery in tasks (ranges of at least `min_range_bytes`, up to two per core), or
    None when it is not plain (the connector's path)."""
    delimiter = contract.delivery.delimiter
    # an ASCII delimiter: its byte never occurs inside a GBK or UTF-8 character, so the scan may split bytes on it
    if contract.delivery.format != "csv" or not contract.delivery.header or len(delimiter) != 1 \
            or not delimiter.isascii():
        return None
    size = path.stat().st_size
    with path.open("rb") as handle:
        head = handle.read(min(size, 1 << 20))
        header_end = head.find(b"\n")
        if header_end <= 0 or head[:1] in (b"\r", b"\n"):
            return None
        header_bytes = head[:header_end].rstrip(b"\r")
        if b'"' in header_bytes or b"\r" in header_bytes:
            return None
        found = _header_encoding(header_bytes)
        if found is None:
            return None
        codec, encoding = found
        try:
            header_text = header_bytes.decode("utf-8-sig" if encoding == "utf-8-sig" else codec)
        except UnicodeDecodeError:
            return None
        if encoding_note(contract.delivery.encoding, encoding, header_text) or BINARY_CONTROL.search(header_text):
            return None
        header = [cell.strip() for cell in header_text.split(contract.delivery.delimiter)]
        if header_problem(contract, header):
            return None
        starts = _range_starts(handle, header_end + 1, size, parallelism, min_range_bytes)
        wanted = tuple((header.index(spec.column), spec.name) for spec in contract.fields)
        repeats = _Repeats(delimiter.encode(), len(header), [index for index, _ in wanted])
        scan = _scan(handle, size, starts, repeats)
        if scan is None:
            return None
        digest, lines = scan
        repeated = repeats.found(handle, starts[0])
    rows = sum(lines)
    if rows == 0:
        return None
    warn_extra_columns(contract, str(path), header)
    firsts = np.cumsum([1, *lines[:-1]]).tolist()
    bounds = [*starts, size]
    ranges = tuple((bounds[i], bounds[i + 1], int(firsts[i])) for i in range(len(starts)) if lines[i])
    return CsvPlan(str(path), path.name, codec, encoding, digest, contract.delivery.delimiter, len(header), wanted,
                   ranges, rows, repeated)


def _range_starts(handle, first: int, size: int, parallelism: int, min_bytes: int) -> list[int]:  # noqa: ANN001
    """Where each task's byte range starts: just after a line end, about evenly spaced."""
    count = max(1, min(max(1, parallelism) * 2, math.ceil((size - first) / min_bytes)))
    starts = [first]
    for index in range(1, count):
        handle.seek(first + (size - first) * index // count)
        handle.readline()  # to the end of the line the cut falls in
        position = handle.tell()
        if position >= size or position <= starts[-1]:
            continue
        starts.append(position)
    return starts


class _Repeats:
    """The rows of a file that repeat an earlier row (the same cells in every contract column; the landing rejects
    them as DUPLICATE_ROW), found from the driver's scan: each line's key (the line itself when every column is a
    contract column, else its contract cells) is hashed to 64 bits as the blocks go by, and the lines of the hashes
    seen more than once are then read again and compared exactly. A line of the wrong width repeats nothing (the
    landing rejects it as COLUMN_COUNT)."""

    def __init__(self, delimiter: bytes, width: int, wanted: list[int]) -> None:
        self.delimiter, self.width, self.wanted = delimiter, width, wanted
        self.whole_line = sorted(wanted) == list(range(width))
        self.hashes: list[np.ndarray] = []
        self.ends: list[np.ndarray] = []  # the file offset of each line's line feed
        self.tail = b""  # the start of a line a block cut

    def key(self, line: bytes) -> bytes | None:
        """What two lines share when they hold the same row (a line without its line end)."""
        cells = line.split(self.delimiter)
        if len(cells) != self.width:
            return None
        return line if self.whole_line else self.delimiter.join(cells[index] for index in self.wanted)

    def add(self, block: bytes, position: int) -> None:
        """The next block of data lines, starting at file offset `position`."""
        ends = np.flatnonzero(np.frombuffer(block, np.uint8) == 10)
        self.ends.append(ends + position)
        joined = self.tail + block
        returns = joined.count(b"\r")  # a plain file has one only before a line feed (or at the block's end)
        if not returns:
            lines = joined.split(b"\n")
        elif returns == len(ends) + joined.endswith(b"\r"):  # every line ends in CR LF: split without copying
            lines = joined.split(b"\r\n")
        else:
            lines = joined.replace(b"\r\n", b"\n").split(b"\n")
        self.tail = lines.pop()
        keys = lines if self.whole_line else map(self.key, lines)
        self.hashes.append(np.fromiter(map(hash, keys), np.int64, count=len(lines)))

    def found(self, handle, first: int) -> dict[int, int]:  # noqa: ANN001 - the binary file, `first`: row 1's offset
        """Row number -> the earlier row it repeats, for every repeat (rows numbered from 1)."""
        hashes = np.concatenate(self.hashes) if self.hashes else np.zeros(0, np.int64)
        order = np.argsort(hashes, kind="stable")
        same = hashes[order][1:] == hashes[order][:-1]
        candidates = np.union1d(order[1:][same], order[:-1][same])
        if not candidates.size:
            return {}
        ends = np.concatenate(self.ends)
        starts = np.concatenate([[first], ends[:-1] + 1])
        seen: dict[bytes, int] = {}
        repeats: dict[int, int] = {}
        for index in candidates.tolist():  # in file order: the first of equal lines is seen first
            handle.seek(int(starts[index]))
            key = self.key(handle.read(int(ends[index] - starts[index])).removesuffix(b"\r"))
            if key is None:
                continue
            if key in seen:
                repeats[index + 1] = seen[key]
            else:
                seen[key] = index + 1
        return repeats


def _scan(handle, size: int, starts: list[int], repeats: _Repeats) -> tuple[str, list[int]] | None:  # noqa: ANN001
    """(SHA-256 of the file, data lines per range) in one pass of fixed-size blocks, each handed to `repeats`; None
    when the file is not plain: a quote character, a blank line, a carriage return not before a line feed, no final
    line feed."""
    digest = hashlib.sha256()
    handle.seek(0)
    bounds = [*starts, size]
    lines = [0] * len(starts)
    position, previous = 0, b""
    for index, (start, end) in enumerate(zip(bounds[:-1], bounds[1:])):
        if index == 0:  # the header: hashed, not counted
            header = handle.read(start)
            digest.update(header)
            previous = header[-1:]
            position = start
        while position < end:
            block = handle.read(min(BLOCK, end - position))
            if not block:
                return None
            digest.update(block)
            joined = previous + block
            if b'"' in block or b"\n\n" in joined or b"\n\r\n" in joined or joined.count(b"\r") != joined.count(
                    b"\r\n") + (1 if joined.endswith(b"\r") else 0):
                return None
            lines[index] += block.count(b"\n")
            repeats.add(block, position)
            position += len(block)
            previous = block[-1:]
    if previous != b"\n":
        return None
    return digest.hexdigest(), lines


# --- in the tasks ------------------------------------------------------------------------------------

def _not_plain(plan: CsvPlan, names: list[str], why: str) -> pa.RecordBatch:
    row = {"_file": [plan.label], "_row_number": [0], "_encoding": [plan.encoding],
           "_content_hash": [plan.content_hash],
           **{name: [None] for name in names}, "ok": [False], "reason_code": [NOT_PLAIN],
           "reason_detail": [why], "raw_masked": [None]}
    return pa.RecordBatch.from_pydict(row, schema=read_schema(names))


def read_schema(names: list[str]) -> pa.Schema:
    """The Arrow schema of a range's rows as `read_range` gives them (the landing's validated rows, before
    repeats are marked): the contract's cells null in a row of the wrong width."""
    return pa.schema([("_file", pa.string()), ("_row_number", pa.int32()), ("_encoding", pa.string()),
                      ("_content_hash", pa.string()), *[(name, pa.string()) for name in names],
                      ("ok", pa.bool_()), ("reason_code", pa.string()),
                      ("reason_detail", pa.string()), ("raw_masked", pa.string())])


def read_range(contract: SourceContract, plan: CsvPlan, start: int, end: int, first_row: int,
               today: date) -> Iterator[pa.RecordBatch]:
    """One planned byte range's rows, read and validated as a task does (the driver calls it too, for a small
    delivery: citydata.ingest.bronze); a range that is not plain yields one NOT_PLAIN row."""
    names = [spec.name for spec in contract.fields]
    with open(plan.path, "rb") as handle:
        handle.seek(start)
        data = handle.read(end - start)
    try:
        text = data.decode(plan.codec)
    except UnicodeDecodeError as error:
        yield _not_plain(plan, names, f"bytes {start + error.start}: {error.reason}")
        return
    del data
    if BINARY_CONTROL.search(text):
        yield _not_plain(plan, names, "a control character")
        return
    lines = pa.array(text.replace("\r\n", "\n").split("\n")[:-1], pa.string())
    del text
    cells = pc.split_pattern(lines, pattern=plan.delimiter)
    widths = pc.list_value_length(cells).to_numpy(zero_copy_only=False)
    numbers = np.arange(first_row, first_row + len(lines), dtype=np.int32)
    for offset in range(0, len(lines), OUTPUT_ROWS):
        part = slice(offset, offset + OUTPUT_ROWS)
        yield _validated(contract, plan, names, cells[part], widths[part], numbers[part], lines[part], today)


def _validated(contract: SourceContract, plan: CsvPlan, names: list[str], cells: pa.ListArray, widths: np.ndarray,
               numbers: np.ndarray, lines: pa.Array, today: date) -> pa.RecordBatch:
    """One slice of a range's rows as the landing's validated rows: the rows certainly valid column-wise,
    the others through validate_record, and rows of the wrong width as COLUMN_COUNT (as the connector)."""
    n = len(numbers)
    whole = widths == plan.width
    columns: dict[str, pa.Array] = {}
    if whole.all():
        for index, name in plan.wanted:
            columns[name] = pc.list_element(cells, index)
    else:
        # rows of another width borrow a whole row's cells here, and are nulled below
        take = pa.array(np.where(whole, np.arange(n), int(np.argmax(whole))))
        full = cells.take(take) if whole.any() else None
        for index, name in plan.wanted:
            values = pc.list_element(full, index) if full is not None else pa.nulls(n, pa.string())
            columns[name] = pc.if_else(pa.array(whole), values, pa.nulls(n, pa.string()))
    table = pa.RecordBatch.from_pydict(
        columns if whole.all() else {name: pc.fill_null(column, "") for name, column in columns.items()})
    accepted = certainly_valid(contract, table, today) & whole
    ok = accepted.copy()
    reason: list[str | None] = [None] * n
    detail: list[str | None] = [None] * n
    masked: list[str | None] = [None] * n
    for row in np.nonzero(~accepted)[0].tolist():
        if not whole[row]:
            line = lines[row].as_py()
            row_cells = line.split(plan.delimiter)
            header_cells = {name: index for index, name in plan.wanted}
            present = {spec.column: row_cells[header_cells[spec.name]] for spec in contract.fields
                       if header_cells[spec.name] < len(row_cells)}
            reason[row] = "COLUMN_COUNT"
            detail[row] = f"_line: COLUMN_COUNT ({len(row_cells)} columns, expected {plan.width})"
            masked[row] = masked_row(contract, present, aligned=False)
            continue
        raw = {name: table.column(name)[row].as_py() for name in names}
        result = validate_record(contract, raw)
        ok[row] = result.ok
        if not result.ok:
            reason[row], detail[row] = result.reason_code, result.reason_detail or None
            masked[row] = masked_record(contract, raw)
    batch = {
        "_file": pa.array([plan.label] * n, pa.string()),
        "_row_number": pa.array(numbers, pa.int32()),
        "_encoding": pa.array([plan.encoding] * n, pa.string()),
        "_content_hash": pa.array([plan.content_hash] * n, pa.string()),
        **{name: table.column(name) if whole.all() else
           pc.if_else(pa.array(whole), table.column(name), pa.nulls(n, pa.string())) for name in names},
        "ok": pa.array(ok), "reason_code": pa.array(reason, pa.string()),
        "reason_detail": pa.array(detail, pa.string()), "raw_masked": pa.array(masked, pa.string()),
    }
    return pa.RecordBatch.from_pydict(batch, schema=read_schema(names))
