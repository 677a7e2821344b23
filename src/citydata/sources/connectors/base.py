"""What every connector yields: raw records with lineage, and rejections (of a row or of a whole file).

A connector turns one delivery of a source (a file, a folder of API pages, an API base URL) into
`RawRecord`s — every value a string, keyed by the contract's delivered column names — and, where
part of the delivery cannot be read, `Rejection`s with a reason code. Validation and standardization
are not done here (that is ingest's job, driven by the same contract).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from citydata.catalog.contracts import Classification, SourceContract
from citydata.standards import masking
from citydata.standards.encoding import decode_bytes, encoding_note
from citydata.standards.result import REASON_CODES

log = logging.getLogger(__name__)



@dataclass(frozen=True)
class Lineage:
    """Where a record came from: the bronze lineage columns are filled from this."""

    source: str
    location: str  # the file path, or the request URL of an API page
    row: int  # data row from 1 (CSV/XLSX: after the header; API page or GeoJSON: position in it)
    encoding: str  # detected text encoding ('xlsx' for a workbook)
    content_hash: str  # SHA-256 hex of the file's bytes, or of the API page's body
    page: int | None = None  # API page number


@dataclass(frozen=True)
class RawRecord:
    """One delivered record: every contract column as a string ('' when empty or absent)."""

    values: dict[str, str]
    lineage: Lineage


@dataclass(frozen=True)
class Rejection:
    """A row (row >= 1) or a whole file (row 0) that could not be read; detail never quotes a personal value."""

    source: str
    file: str
    reason_code: str
    detail: str
    row: int = 0
    fix: str = ""
    encoding: str = ""
    content_hash: str = ""
    page: int | None = None
    raw_masked: str = ""  # the row's cells as JSON {field: masked value}, for a row rejection

    def __post_init__(self) -> None:
        if self.reason_code not in REASON_CODES:
            raise KeyError(
                f"unknown reason code {self.reason_code!r}: register it in citydata.standards.result.REASON_CODES"
            )

    @property
    def whole_file(self) -> bool:
        return self.row == 0

    def __str__(self) -> str:
        where = self.file if self.whole_file else f"{self.file} row {self.row}"
        fix = f" Fix: {self.fix}" if self.fix else ""
        return f"{where}: {self.reason_code}: {self.detail}.{fix}"


Item = RawRecord | Rejection


class Connector(Protocol):
    """One transport: read a delivery of a source described by its contract."""

    def read(self, contract: SourceContract, delivery: str | Path) -> Iterator[Item]:
        """Yield the delivery's records in delivery order, and rejections where it cannot be read."""
        ...


@dataclass
class Delivered:
    """Everything one read produced, in memory (for small deliveries and tests)."""

    records: list[RawRecord] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)

    @property
    def rejected_whole(self) -> list[Rejection]:
        return [r for r in self.rejections if r.whole_file]


def collect(items: Iterable[Item]) -> Delivered:
    out = Delivered()
    for item in items:
        (out.records if isinstance(item, RawRecord) else out.rejections).append(item)
    return out


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class DecodedFile:
    """A text delivery read whole and decoded: its text, the encoding found and its SHA-256; `cut` when the
    file ends inside a multi-byte character (the text stops before it: its last row is incomplete)."""

    path: Path
    text: str
    encoding: str
    content_hash: str
    cut: bool = False
    encoding_note: str | None = None  # the detected encoding is not the contract's (read anyway)


def read_text_delivery(contract: SourceContract, delivery: str | Path, fix: str) -> DecodedFile | Rejection:
    """Read and decode a text delivery; an undecodable one is a whole-file FILE_ENCODING rejection with `fix`.
    A file cut inside a multi-byte character is decoded up to the cut (`cut=True`): the caller says where."""
    path = Path(delivery)
    data = path.read_bytes()
    content_hash = sha256_hex(data)
    decoded = decode_bytes(data)
    if not decoded.ok and decoded.reason != "FILE_TRUNCATED":
        return Rejection(contract.source, str(path), "FILE_ENCODING", str(decoded.detail), fix=fix,
                         content_hash=content_hash)
    text, encoding = decoded.value
    note = encoding_note(contract.delivery.encoding, encoding, text)
    if note:
        log.warning("%s: %s: %s (read anyway: the bytes decode as %s)", contract.source, path, note, encoding)
    return DecodedFile(path, text, encoding, content_hash, cut=not decoded.ok, encoding_note=note)


def file_hash(path: Path, chunk: int = 1 << 20) -> str:
    """SHA-256 of a file read in chunks (a workbook need not be held in memory twice)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def header_problem(contract: SourceContract, header: Sequence[str]) -> str | None:
    """Why a delivered header cannot serve the contract (a missing or repeated column), else None.

    Header cells that are no column of the contract are quoted masked: a file delivered without its header
    line has a data row there (an ID number, a name)."""
    repeated = sorted({h for h in header if h and list(header).count(h) > 1})
    if repeated:
        return f"columns {[quote_header(contract, h) for h in repeated]} appear more than once"
    missing = [c for c in contract.columns if c not in header]
    if missing:
        return (f"columns {missing} of the contract are not in the header "
                f"{[quote_header(contract, h) for h in header]}")
    return None


def quote_header(contract: SourceContract, cell: str) -> str:
    """A delivered header cell as a message may quote it: a contract column as is, anything else masked
    (keeping its length, which tells a shifted or misspelt header from a data row)."""
    if cell in contract.columns or not cell:
        return cell
    return f"{masking.FULL_MASK}({len(cell)} characters)"


def warn_extra_columns(contract: SourceContract, location: str, header: Iterable[str]) -> list[str]:
    """Delivered columns the contract does not declare: not read, but said (the contract may need them)."""
    extra = [h for h in header if h and h not in contract.columns]
    if extra:
        log.warning("%s: %s: columns %s are not in %s and are not read", contract.source, location, extra,
                    contract.file or "the contract")
    return extra


def quote(contract: SourceContract, column: str, value: str) -> str:
    """A delivered value as it may appear in a rejection: sensitive masked, core redacted, unknown masked."""
    spec = next((f for f in contract.fields if f.column == column), None)
    value = masking.shorten(value)
    if spec is None:
        return masking.FULL_MASK if value else ""
    if spec.classification in (Classification.PUBLIC, Classification.INTERNAL) or not value:
        return value
    if spec.classification is Classification.CORE:
        return "*" * len(value)
    return masking.mask_value(spec.mask or "full", value) or ""


def masked_row(contract: SourceContract, values: Mapping[str, str], *, aligned: bool = True) -> str:
    """The row as JSON {field name: quoted value}, the rejects' raw_masked shape of citydata.ingest.

    A row whose cells may have shifted against the header (`aligned=False`: a cell missing or added
    somewhere in it) cannot say which value is whose: a public column may hold an address. Every value
    of it is masked whole."""
    by_column = {f.column: f.name for f in contract.fields}
    return json.dumps({by_column[c]: quote(contract, c, v) if aligned else (masking.FULL_MASK if v else "")
                       for c, v in values.items() if c in by_column}, ensure_ascii=False)


# What may stand at the end of a JSON text cut inside a token: a literal or number begun, or a \u escape
_CUT_TOKEN = re.compile(r"-?\d*\.?\d*(?:[eE][+-]?\d*)?|\\?u[0-9A-Fa-f]{0,4}(?:\\(?:u[0-9A-Fa-f]{0,4})?)?")


def json_cut(text: str, error: json.JSONDecodeError) -> bool:
    """A JSON document that fails only because it ends early (cut), not because of a wrong character: the
    error is at its end, inside a string, or at a token the end of the text broke off (`tru`, `-12.`, `\\u4e`)."""
    if error.msg.startswith("Unterminated string") or error.pos >= len(text.rstrip()):
        return True
    rest = text[error.pos:]
    return any(word.startswith(rest) for word in ("true", "false", "null")) or bool(_CUT_TOKEN.fullmatch(rest))


def text_value(value: object) -> str:
    """A JSON value as the string bronze stores: null -> '', numbers as written, objects as JSON text."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
