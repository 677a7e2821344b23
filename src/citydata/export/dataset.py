"""Export one dataset for the open-data portal: CSV (UTF-8 with BOM), JSON and Parquet, plus its metadata.

What leaves is decided field by field from the catalog item: `public` as is, `sensitive` masked by
citydata.standards.masking, `internal` and `core` dropped; columns the item does not declare never
leave. Published counts under 5 are suppressed (citydata.standards.suppression, with complementary
cells). Rows are sorted on every exported column, so the same data gives the same bytes, and the
metadata carries each file's SHA-256 and byte size. Files are written atomically, data before metadata.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from citydata.catalog.contracts import Classification
from citydata.catalog.items import CatalogItem
from citydata.export.formats import (
    CSV,
    FORMATS,
    JSON,
    PARQUET,
    Column,
    Format,
    Hidden,
    csv_bytes,
    json_bytes,
    parquet_bytes,
    write_atomic,
)
from citydata.standards import masking
from citydata.standards.suppression import DEFAULT_THRESHOLD, SUPPRESSED, suppression_plan

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql import DataFrame

log = logging.getLogger(__name__)


class ExportField(Protocol):
    name: str
    classification: Classification
    mask: str | None


class ExportPolicyError(ValueError):
    """The export would let something leave that must not (or the data lacks a declared field)."""


@dataclass(frozen=True)
class ExportFile:
    """One written file of a dataset: where, which format, its SHA-256 and size."""

    path: Path
    format: str  # csv | json | parquet
    media_type: str
    sha256: str
    byte_size: int


@dataclass(frozen=True)
class ExportResult:
    """What export_dataset wrote for one dataset."""

    dataset: str
    metadata_path: Path
    rows: int
    columns: tuple[str, ...]
    suppressed_cells: int
    files: tuple[ExportFile, ...]

    def file(self, fmt: str) -> ExportFile:
        return next(f for f in self.files if f.format == fmt)

    @property
    def csv_path(self) -> Path:
        return self.file("csv").path

    @property
    def json_path(self) -> Path:
        return self.file("json").path

    @property
    def parquet_path(self) -> Path:
        return self.file("parquet").path


def suppression_note(threshold: int = DEFAULT_THRESHOLD) -> str:
    return (f"counts under {threshold} and their complementary cells are suppressed: "
            f"'{SUPPRESSED}' in the CSV, null in JSON and Parquet")


def _outgoing(fields: Sequence[ExportField], columns: Sequence[str]) -> list[ExportField]:
    out = []
    for spec in fields:
        classification = Classification(spec.classification)
        if classification in (Classification.INTERNAL, Classification.CORE):
            continue
        if classification is Classification.SENSITIVE and not spec.mask:
            raise ExportPolicyError(f"field '{spec.name}' is sensitive and has no mask: it cannot leave. "
                                    "Fix: give it a mask in its catalog item or classify it internal")
        if spec.name not in columns:
            raise ExportPolicyError(f"field '{spec.name}' is declared for export but the data has no such column "
                                    f"(columns: {list(columns)}). Fix: correct the catalog item or the model")
        out.append(spec)
    return out


def _masked(spec: ExportField) -> bool:
    return Classification(spec.classification) is Classification.SENSITIVE


def _column(spec: ExportField) -> Column:
    # a masked value is text whatever the field held (a birth date leaves as its year, '1968')
    return Column(spec.name, "string" if _masked(spec) else getattr(spec, "type", "string"),
                  getattr(spec, "title", "") or spec.name, getattr(spec, "description", "") or "")


def _suppressed(rows: list[dict[str, Any]], measures: Sequence[str], key: Sequence[str] = ()) -> Hidden:
    """The (row, measure) cells to suppress. Each count is a cell of a table whose dimensions are the dataset's
    key columns and the measure: the measures of one row form one line, and along each key column the cells
    that share the other key values form one (e.g. every section of a district: the district's total). Without
    a key, each measure's column is one line."""
    dims = list(key) or ["_row"]
    cells = [{**{k: row[k] for k in key}, "_row": i, "_measure": m, "count": int(row[m])}
             for i, row in enumerate(rows) for m in measures if row[m] is not None]
    try:
        plan = suppression_plan(cells, "count", [*dims, "_measure"])
    except ValueError as exc:
        raise ExportPolicyError(f"key {list(key)} does not identify one row ({exc}): suppressed cells cannot be "
                                "placed. Fix: correct `key` in the catalog item or the model's duplicates") from exc
    return frozenset((cells[s.index]["_row"], cells[s.index]["_measure"]) for s in plan)


def _sort_key(row: Mapping[str, Any], columns: Sequence[str]) -> tuple[Any, ...]:
    # nulls first, as Spark orders them ascending; values of one column share a type
    return tuple((0,) if row[c] is None else (1, row[c]) for c in columns)


def _iso(moment: datetime | date | str) -> str:
    """`2026-12-07T06:00:00Z` (UTC, seconds) from a datetime, a date or an ISO string."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if not isinstance(moment, datetime):
        moment = datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def export_dataset(
    df: DataFrame,
    fields: Sequence[ExportField],
    out_dir: str | Path,
    *,
    item: CatalogItem | None = None,
    name: str | None = None,
    suppress: Sequence[str] | None = None,
    provenance: dict[str, Any] | None = None,
    published_at: datetime | None = None,
    issued: datetime | str | None = None,
) -> ExportResult:
    """Write `<name>.csv`, `.json`, `.parquet` and `<name>.metadata.json` into out_dir; returns what was written.

    Only the exported columns are read from `df` (to the driver, through Arrow); decimals keep the table's
    precision and scale in the Parquet file.
    """
    columns = [f.name for f in _outgoing(fields, df.columns)]
    table = df.select(*columns).toArrow()
    types = {f.name: f.type for f in table.schema if _is_decimal(f.type)}
    return export_records(table.to_pylist(), fields, out_dir, item=item, name=name, suppress=suppress,
                          provenance=provenance, published_at=published_at, issued=issued, columns=df.columns,
                          column_types=types)


def _is_decimal(arrow_type: pa.DataType) -> bool:
    import pyarrow.types as pat

    return bool(pat.is_decimal(arrow_type))


def export_records(
    records: Sequence[Mapping[str, Any]],
    fields: Sequence[ExportField],
    out_dir: str | Path,
    *,
    item: CatalogItem | None = None,
    name: str | None = None,
    suppress: Sequence[str] | None = None,
    provenance: dict[str, Any] | None = None,
    published_at: datetime | None = None,
    issued: datetime | str | None = None,
    columns: Sequence[str] | None = None,
    column_types: Mapping[str, pa.DataType] | None = None,
    key: Sequence[str] | None = None,
) -> ExportResult:
    """export_dataset on rows already in memory (no Spark): the rows are sorted on the exported columns.

    `published_at` is the release time (`modified`, default now), `issued` when the dataset was first
    published (default `published_at`); `column_types` pins Arrow types (e.g. the table's decimals); `key`
    names the columns that identify a row (default the item's `key`): the dimensions along which suppressed
    counts get their complements.
    """
    name = name or (item.name if item else None)
    if not name:
        raise ExportPolicyError("export_dataset needs a name (or a catalog item that has one)")
    suppress = tuple(suppress if suppress is not None else (item.suppress if item else ()))
    available = list(columns) if columns is not None else (list(records[0]) if records else [f.name for f in fields])
    outgoing = _outgoing(fields, available)
    names = [f.name for f in outgoing]
    for measure in suppress:
        if measure not in names:
            raise ExportPolicyError(f"suppressed column '{measure}' is not an exported public field of {name}. "
                                    "Fix: declare it public in the catalog item or remove it from `suppress`")

    rows = [{spec.name: (masking.mask_value(spec.mask, record[spec.name])  # type: ignore[arg-type]
                         if _masked(spec) and record[spec.name] is not None else record[spec.name])
             for spec in outgoing}
            for record in sorted(records, key=lambda r: _sort_key(r, names))]
    key = tuple(key if key is not None else (getattr(item, "key", ()) if item else ()))
    if any(k not in names for k in key):
        key = ()  # a key that does not leave whole cannot name cells: each row is its own
    hidden = _suppressed(rows, suppress, key) if suppress else frozenset()
    out_columns = [_column(spec) for spec in outgoing]
    release = (provenance or {}).get("release")
    note = suppression_note() if suppress else None

    out = Path(out_dir)
    encoded: dict[Format, bytes] = {
        CSV: csv_bytes(out_columns, rows, hidden),
        JSON: json_bytes(name, release, out_columns, rows, hidden, note),
        PARQUET: parquet_bytes(out_columns, rows, hidden, column_types),
    }
    files = []
    for fmt in FORMATS:  # every data file complete before the metadata that describes it
        data = encoded[fmt]
        path = out / f"{name}{fmt.suffix}"
        write_atomic(path, data)
        files.append(ExportFile(path, fmt.key, fmt.media_type, hashlib.sha256(data).hexdigest(), len(data)))

    published = published_at or datetime.now(UTC)
    metadata: dict[str, Any] = dict(item.metadata()) if item else {"dataset": name}
    metadata.pop("drift", None)  # the release gate's tolerance, not a fact about the published data
    metadata.update({
        "dataset": name,
        "release": release,
        "publish_date": datetime.fromisoformat(_iso(published)).date().isoformat(),
        "issued": _iso(issued or published),
        "modified": _iso(published),
        "rows": len(rows),
        "fields": [
            {"name": c.name, "type": c.type, "title": c.title,
             **({"description": c.description} if c.description else {}),
             "classification": Classification(spec.classification).value,
             **({"masked_with": spec.mask} if _masked(spec) else {}),
             **({"suppression": suppression_note()} if spec.name in suppress else {})}
            for spec, c in zip(outgoing, out_columns, strict=True)
        ],
        "withheld_fields": sorted(f.name for f in fields if f not in outgoing),
        "suppressed_cells": len(hidden),
        "distributions": [
            {"file": f.path.name, "format": fmt.label, "media_type": f.media_type, "byte_size": f.byte_size,
             "checksum": {"algorithm": "SHA-256", "value": f.sha256}}
            for f, fmt in zip(files, FORMATS, strict=True)
        ],
    })
    if provenance:
        metadata["provenance"] = provenance
    meta_path = out / f"{name}.metadata.json"
    write_atomic(meta_path, (json.dumps(metadata, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))
    log.info("exported %s: %d rows, %d columns, %d suppressed cells, %s bytes -> %s", name, len(rows),
             len(out_columns), len(hidden), "/".join(str(f.byte_size) for f in files), out)
    return ExportResult(name, meta_path, len(rows), tuple(names), len(hidden), tuple(files))
