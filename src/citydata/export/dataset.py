"""Export one dataset for the open-data portal: a UTF-8 CSV plus its catalog metadata JSON.

What leaves is decided field by field from the catalog item: `public` as is, `sensitive` masked by
citydata.standards.masking, `internal` and `core` dropped; columns the item does not declare never
leave. Published counts under 5 are suppressed (citydata.standards.suppression, with complementary
cells). Rows are sorted so the same data gives the same bytes, and the metadata carries the file's
SHA-256 and byte size.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from pyspark.sql import DataFrame

from citydata.catalog.contracts import Classification
from citydata.catalog.items import CatalogItem
from citydata.standards import masking
from citydata.standards.suppression import SUPPRESSED, suppression_plan

log = logging.getLogger(__name__)


class ExportField(Protocol):
    name: str
    classification: Classification
    mask: str | None


class ExportPolicyError(ValueError):
    """The export would let something leave that must not (or the data lacks a declared field)."""


@dataclass(frozen=True)
class ExportResult:
    dataset: str
    csv_path: Path
    metadata_path: Path
    rows: int
    columns: tuple[str, ...]
    sha256: str
    byte_size: int
    suppressed_cells: int


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


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


def _suppress(rows: list[dict[str, Any]], measures: Sequence[str]) -> int:
    """Suppress small counts in place; measures of one row form one line, each measure a column line."""
    cells = [{"_row": i, "_measure": m, "count": int(row[m])} for i, row in enumerate(rows) for m in measures
             if row[m] is not None]
    plan = suppression_plan(cells, "count", ["_row", "_measure"])
    for item in plan:
        cell = cells[item.index]
        rows[cell["_row"]][cell["_measure"]] = SUPPRESSED
    return len(plan)


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
) -> ExportResult:
    """Write `<name>.csv` (UTF-8) and `<name>.metadata.json` into out_dir; returns what was written.

    Only the exported columns are read from `df`, sorted on all of them (same data, same bytes).
    """
    columns = [f.name for f in _outgoing(fields, df.columns)]
    records = [row.asDict() for row in df.select(*columns).orderBy(*columns).toLocalIterator()]
    return export_records(records, fields, out_dir, item=item, name=name, suppress=suppress,
                          provenance=provenance, published_at=published_at, columns=df.columns)


def export_records(
    records: Sequence[dict[str, Any]],
    fields: Sequence[ExportField],
    out_dir: str | Path,
    *,
    item: CatalogItem | None = None,
    name: str | None = None,
    suppress: Sequence[str] | None = None,
    provenance: dict[str, Any] | None = None,
    published_at: datetime | None = None,
    columns: Sequence[str] | None = None,
) -> ExportResult:
    """export_dataset on rows already in memory (in the order given)."""
    name = name or (item.name if item else None)
    if not name:
        raise ExportPolicyError("export_dataset needs a name (or a catalog item that has one)")
    suppress = tuple(suppress if suppress is not None else (item.suppress if item else ()))
    available = list(columns) if columns is not None else (list(records[0]) if records else [f.name for f in fields])
    outgoing = _outgoing(fields, available)
    columns = [f.name for f in outgoing]
    for measure in suppress:
        if measure not in columns:
            raise ExportPolicyError(f"suppressed column '{measure}' is not an exported public field of {name}")

    rows: list[dict[str, Any]] = []
    for record in records:
        rows.append({
            spec.name: (masking.mask_value(spec.mask, record[spec.name])
                        if Classification(spec.classification) is Classification.SENSITIVE
                        and record[spec.name] is not None else record[spec.name])
            for spec in outgoing
        })
    suppressed = _suppress(rows, suppress) if suppress else 0

    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row[c]) for c in columns])
    data = buffer.getvalue().encode("utf-8")

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    csv_path, meta_path = out / f"{name}.csv", out / f"{name}.metadata.json"
    digest = hashlib.sha256(data).hexdigest()
    published = (published_at or datetime.now(UTC)).replace(microsecond=0)
    metadata: dict[str, Any] = dict(item.metadata()) if item else {"dataset": name}
    metadata.update({
        "publish_date": published.date().isoformat(),
        "fields": [
            {"name": spec.name, "title": getattr(spec, "title", spec.name), "type": getattr(spec, "type", "string"),
             "classification": Classification(spec.classification).value,
             **({"masked_with": spec.mask} if Classification(spec.classification) is Classification.SENSITIVE
                else {}),
             **({"suppression": f"counts under 5 replaced by '{SUPPRESSED}'"} if spec.name in suppress else {})}
            for spec in outgoing
        ],
        "withheld_fields": sorted(f.name for f in fields if f not in outgoing),
        "distribution": {
            "file": csv_path.name, "media_type": "text/csv", "encoding": "UTF-8", "rows": len(rows),
            "byte_size": len(data), "checksum": {"algorithm": "SHA-256", "value": digest},
        },
        "suppressed_cells": suppressed,
    })
    if provenance:
        metadata["provenance"] = provenance
    # Write the data file completely before its metadata: a reader never sees metadata of a partial file.
    tmp = csv_path.with_suffix(".csv.tmp")
    tmp.write_bytes(data)
    tmp.replace(csv_path)
    meta_path.write_text(json.dumps(metadata, ensure_ascii=False, indent=2, sort_keys=False) + "\n",
                         encoding="utf-8")
    log.info("exported %s: %d rows, %d columns, %d suppressed cells, %d bytes -> %s",
             name, len(rows), len(columns), suppressed, len(data), csv_path)
    return ExportResult(name, csv_path, meta_path, len(rows), tuple(columns), digest, len(data), suppressed)
