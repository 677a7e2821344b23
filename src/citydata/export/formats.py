"""The bytes of an exported dataset in each open format (CSV, JSON, Parquet) and atomic file writes.

Each encoder is a pure function of the exported rows: the same rows give the same bytes. A suppressed
count is `*` in the CSV and null in JSON and Parquet (the metadata says so). Decimals keep their scale in
the CSV and the Parquet (decimal128); in JSON they are numbers when a double holds them exactly, else
strings (said in the JSON's `fields`).
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from citydata.standards.suppression import SUPPRESSED

BOM = "\ufeff"  # Excel opens a UTF-8 CSV as UTF-8 (Chinese text readable) only when it starts with it


@dataclass(frozen=True)
class Format:
    """One open format: file suffix, IANA media type, EU file-type authority code and CKAN's format label."""

    key: str
    suffix: str
    media_type: str
    eu_file_type: str
    label: str


CSV = Format("csv", ".csv", "text/csv", "CSV", "CSV")
JSON = Format("json", ".json", "application/json", "JSON", "JSON")
PARQUET = Format("parquet", ".parquet", "application/vnd.apache.parquet", "PARQUET", "Parquet")
FORMATS: tuple[Format, ...] = (CSV, JSON, PARQUET)

# Arrow type of each catalog field type (citydata.catalog.contracts.TYPES); decimals get their precision and
# scale from the table (or from the values when only rows are given).
ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(), "integer": pa.int64(), "date": pa.date32(), "timestamp": pa.timestamp("us", tz="UTC"),
    "boolean": pa.bool_(),
}
_MAX_DECIMAL_PRECISION = 38
_DOUBLE_EXACT_DIGITS = 15  # a decimal of up to 15 significant digits round-trips through a double exactly


@dataclass(frozen=True)
class Column:
    """An exported column: its name, exported type (a masked value is a string), title and description."""

    name: str
    type: str
    title: str
    description: str = ""


Hidden = frozenset[tuple[int, str]]  # (row index, column name) of every suppressed count


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def csv_bytes(columns: Sequence[Column], rows: Sequence[Mapping[str, Any]], hidden: Hidden) -> bytes:
    """UTF-8 with BOM, RFC 4180 (CRLF, minimal quoting), header = column names; a suppressed count is `*`."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([c.name for c in columns])
    for i, row in enumerate(rows):
        writer.writerow([SUPPRESSED if (i, c.name) in hidden else _text(row[c.name]) for c in columns])
    return (BOM + buffer.getvalue()).encode("utf-8")


def _json_value(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        if len(value.as_tuple().digits) <= _DOUBLE_EXACT_DIGITS:
            return int(value) if value == value.to_integral_value() and value.as_tuple().exponent >= 0 \
                else float(value)
        return format(value, "f")
    return value


def json_bytes(dataset: str, release: int | None, columns: Sequence[Column], rows: Sequence[Mapping[str, Any]],
               hidden: Hidden, suppression: str | None) -> bytes:
    """`{"dataset", "release", "fields": [{name, type, title}], "rows": [{field: value}]}`, UTF-8, keys in
    column order; a suppressed count is null (and `suppression` says why, when the dataset has any)."""
    document: dict[str, Any] = {
        "dataset": dataset,
        "release": release,
        "fields": [{"name": c.name, "type": c.type, "title": c.title} for c in columns],
    }
    if suppression:
        document["suppression"] = suppression
    document["rows"] = [{c.name: None if (i, c.name) in hidden else _json_value(row[c.name]) for c in columns}
                        for i, row in enumerate(rows)]
    return (json.dumps(document, ensure_ascii=False, indent=1, allow_nan=False) + "\n").encode("utf-8")


def _decimal_type(values: Sequence[Any]) -> pa.DataType:
    scale = max((-v.as_tuple().exponent for v in values if isinstance(v, Decimal) and v.is_finite()), default=0)
    return pa.decimal128(_MAX_DECIMAL_PRECISION, max(scale, 0))


def arrow_schema(columns: Sequence[Column], rows: Sequence[Mapping[str, Any]],
                 types: Mapping[str, pa.DataType] | None = None) -> pa.Schema:
    """Arrow schema of the exported columns: `types` where given (the table's own), else by field type."""
    fields = []
    for c in columns:
        if types and c.name in types:
            arrow_type = types[c.name]
        elif c.type == "decimal":
            arrow_type = _decimal_type([row[c.name] for row in rows])
        elif c.type in ARROW_TYPES:
            arrow_type = ARROW_TYPES[c.type]
        else:
            raise ValueError(f"column '{c.name}' has type '{c.type}', which has no Parquet type: "
                             f"use one of {sorted([*ARROW_TYPES, 'decimal'])} in its catalog item")
        meta = {b"title": c.title.encode("utf-8")}
        if c.description:
            meta[b"description"] = c.description.encode("utf-8")
        fields.append(pa.field(c.name, arrow_type, nullable=True, metadata=meta))
    return pa.schema(fields)


def parquet_bytes(columns: Sequence[Column], rows: Sequence[Mapping[str, Any]], hidden: Hidden,
                  types: Mapping[str, pa.DataType] | None = None) -> bytes:
    """One Parquet file (snappy, one row group), typed columns; a suppressed count is null."""
    schema = arrow_schema(columns, rows, types)
    arrays = []
    for field in schema:
        values = [None if (i, field.name) in hidden else row[field.name] for i, row in enumerate(rows)]
        try:
            arrays.append(pa.array(values, type=field.type))
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
            # named by column and the Python types found, never by value (it may be personal): Arrow's own
            # message quotes the value, so it is not chained into the traceback a log would print
            found = sorted({type(v).__name__ for v in values if v is not None})
            raise ValueError(f"column '{field.name}' holds {found} values that do not fit Parquet type "
                             f"{field.type}. Fix: correct the field's type in its catalog item or the model's "
                             "column type") from None
    table = pa.Table.from_arrays(arrays, schema=schema)
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="snappy", row_group_size=max(len(rows), 1))
    return sink.getvalue().to_pybytes()


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to a temporary file beside `path`, flush it to disk, then rename it into place: a reader
    sees the old file or the whole new one, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
