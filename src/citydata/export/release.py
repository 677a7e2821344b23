"""Export a release: every catalog item whose table the release pins, read at the pinned Delta version.

Files go to `<exports>/release-NNNN/` (`<item>.csv` + `<item>.metadata.json`, see `export_dataset`), with
the release as provenance and its `released_at` as publish date, so the same release gives the same bytes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from citydata.catalog.items import CatalogItem, load_items
from citydata.export.dataset import ExportResult, export_dataset
from citydata.release.manifest import split_dataset

log = logging.getLogger(__name__)


def release_export_dir(exports_root: str | Path, release: int) -> Path:
    """`<exports>/release-NNNN`."""
    return Path(exports_root) / f"release-{int(release):04d}"


def items_of_release(manifest: Mapping[str, Any], items: Iterable[CatalogItem] | None = None) -> list[CatalogItem]:
    """The catalog items (default: every shipped one) whose source table the release pins."""
    pinned = {"/".join(split_dataset(name)) for name in manifest["datasets"]}
    return [item for item in (load_items() if items is None else items)
            if "/".join(split_dataset(item.source_table)) in pinned]


def is_exported(manifest: Mapping[str, Any], exports_root: str | Path,
                items: Iterable[CatalogItem] | None = None) -> bool:
    """Whether every item of the release already has its CSV and metadata (a rerun exports nothing again)."""
    out = release_export_dir(exports_root, manifest["release"])
    return all((out / f"{item.name}.csv").is_file() and (out / f"{item.name}.metadata.json").is_file()
               for item in items_of_release(manifest, items))


def export_release(lakehouse: Any, manifest: Mapping[str, Any], exports_root: str | Path,
                   items: Iterable[CatalogItem] | None = None) -> list[ExportResult]:
    """Write the open-data files of every item of the release; returns what was written, by item name order."""
    out = release_export_dir(exports_root, manifest["release"])
    published_at = datetime.fromisoformat(manifest["released_at"])
    results = []
    for item in items_of_release(manifest, items):
        layer, table = split_dataset(item.source_table)
        pin = manifest["datasets"][f"{layer}/{table}"]
        df = lakehouse.read(layer, table, version=pin["delta_version"])
        results.append(export_dataset(df, item.fields, out, item=item, published_at=published_at, provenance={
            "release": manifest["release"], "table": f"{layer}/{table}", "delta_version": pin["delta_version"]}))
    log.info("release %s: %d open-data file(s) in %s", manifest["release"], len(results), out)
    return results
