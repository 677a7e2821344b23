"""Export a release for the open-data portal: every catalog item that is 无条件开放 and whose table the
release pins, read at the pinned Delta version, to `<exports>/release-NNNN/`:

    <item>.csv / .json / .parquet   the data (see citydata.export.dataset)
    <item>.metadata.json            catalog item metadata, fields, distributions (SHA-256, bytes), provenance
    catalog.jsonld                  DCAT v3 / DCAT-AP catalog (citydata.export.dcat)
    api/3/action/package_list.json, package_show/<item>.json, package_search.json   CKAN documents
    SHA256SUMS                      `sha256sum -c` format, every data file

The folder is built beside its final place and renamed into it when complete, so a reader never sees
half an export. The same release (same data, `released_at` and `issued`) gives the same bytes.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from citydata.catalog.items import OPENING, CatalogItem, load_items
from citydata.export import ckan, dcat
from citydata.export.dataset import ExportFile, ExportResult, export_dataset
from citydata.export.formats import write_atomic
from citydata.release.manifest import CATALOG, split_dataset

log = logging.getLogger(__name__)

OPEN = OPENING[0]  # 无条件开放: the only opening attribute whose datasets are exported
DEFAULT_BASE_URL = "http://127.0.0.1:8090"
CATALOG_TITLE = CATALOG
CATALOG_FILE = "catalog.jsonld"
CHECKSUMS_FILE = "SHA256SUMS"
API_DIR = Path("api/3/action")


class ExportError(RuntimeError):
    """An export folder is missing or incomplete, or a release cannot be exported."""


def resolve_base_url(base_url: str | None = None) -> str:
    """The portal's public URL: the argument, else env CITYDATA_PORTAL_URL, else http://127.0.0.1:8090."""
    return (base_url or os.environ.get("CITYDATA_PORTAL_URL") or DEFAULT_BASE_URL).rstrip("/")


def release_export_dir(exports_root: str | Path, release: int) -> Path:
    """`<exports>/release-NNNN`."""
    return Path(exports_root) / f"release-{int(release):04d}"


def items_of_release(manifest: Mapping[str, Any], items: Iterable[CatalogItem] | None = None) -> list[CatalogItem]:
    """The catalog items (default: every shipped one) that are 无条件开放 and whose table the release pins,
    sorted by name. Any other item is left out: it never leaves the platform through the open-data export."""
    pinned = {"/".join(split_dataset(name)) for name in manifest["datasets"]}
    chosen = []
    for item in (load_items() if items is None else items):
        if "/".join(split_dataset(item.source_table)) not in pinned:
            continue
        if item.opening != OPEN:
            log.info("catalog item %s is %s, not %s: not exported", item.name, item.opening, OPEN)
            continue
        chosen.append(item)
    return sorted(chosen, key=lambda i: i.name)


@dataclass(frozen=True)
class ReleaseExport:
    """The open-data export of one release, as written (or read back by load_release_export)."""

    release: int
    folder: Path
    datasets: tuple[ExportResult, ...]

    @property
    def catalog(self) -> Path:
        return self.folder / CATALOG_FILE

    @property
    def checksums(self) -> Path:
        return self.folder / CHECKSUMS_FILE

    @property
    def package_list(self) -> Path:
        return self.folder / API_DIR / "package_list.json"

    def package_show(self, name: str) -> Path:
        return self.folder / API_DIR / "package_show" / f"{name}.json"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready summary: per dataset rows, suppressed cells and files (sha256, bytes); the catalog."""
        return {
            "release": self.release,
            "dir": str(self.folder),
            "catalog": str(self.catalog),
            "sha256sums": str(self.checksums),
            "package_list": str(self.package_list),
            "rows": sum(d.rows for d in self.datasets),
            "bytes": sum(f.byte_size for d in self.datasets for f in d.files),
            "suppressed_cells": sum(d.suppressed_cells for d in self.datasets),
            "datasets": {
                d.dataset: {
                    "rows": d.rows,
                    "suppressed_cells": d.suppressed_cells,
                    "metadata": str(d.metadata_path),
                    "package_show": str(self.package_show(d.dataset)),
                    "files": {f.format: {"path": str(f.path), "media_type": f.media_type, "sha256": f.sha256,
                                         "bytes": f.byte_size} for f in d.files},
                }
                for d in self.datasets
            },
        }


def _json(document: Any) -> bytes:
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _iso_utc(value: str) -> str:
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ExportError(f"time '{value}' has no time zone. Fix: write it in UTC, e.g. 2026-12-07T06:00:00Z")
    return moment.isoformat()


def export_release(lakehouse: Any, manifest: Mapping[str, Any], exports_root: str | Path,
                   items: Iterable[CatalogItem] | None = None, *, base_url: str | None = None,
                   issued: Mapping[str, str] | None = None) -> ReleaseExport:
    """Write the open-data export of the release (its 无条件开放 items, each read at its pinned version).

    `issued`: dataset name -> ISO time of the first release that had it (default: this release's
    `released_at`). Replaces an earlier export of the same release as a whole.
    """
    number = int(manifest["release"])
    released_at = datetime.fromisoformat(_iso_utc(str(manifest["released_at"])))
    base = resolve_base_url(base_url)
    chosen = items_of_release(manifest, items)
    final = release_export_dir(exports_root, number)
    final.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{final.name}.partial-", dir=final.parent))
    started = time.monotonic()
    try:
        for item in chosen:
            layer, table = split_dataset(item.source_table)
            pin = manifest["datasets"][f"{layer}/{table}"]
            df = lakehouse.read(layer, table, version=int(pin["delta_version"]))
            result = export_dataset(df, item.fields, work, item=item, published_at=released_at,
                                    issued=(issued or {}).get(item.name), provenance={
                                        "release": number, "table": f"{layer}/{table}",
                                        "delta_version": int(pin["delta_version"])})
            log.info("%s: %d rows from %s/%s at version %s", result.dataset, result.rows, layer, table,
                     pin["delta_version"])
        write_release_documents(work, number, released_at.isoformat(), base_url=base,
                                title=str(manifest.get("catalog") or CATALOG_TITLE))
        os.chmod(work, 0o755)
        _swap_in(work, final)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    export = load_release_export(final)
    log.info("release %d: %d open dataset(s), %d files, %d bytes in %.1f s -> %s", number, len(export.datasets),
             sum(len(d.files) for d in export.datasets), export.as_dict()["bytes"], time.monotonic() - started,
             final)
    return export


def write_release_documents(folder: str | Path, release: int, released_at: str, *, base_url: str | None = None,
                            title: str = CATALOG_TITLE) -> None:
    """The release-wide documents of an export folder whose datasets are written (`<item>.metadata.json` and
    their files, e.g. by export_records): the DCAT catalog, the CKAN documents, then SHA256SUMS."""
    folder = Path(folder)
    base_url = resolve_base_url(base_url)
    metadatas = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.metadata.json"))]
    modified = _iso_utc(released_at).replace("+00:00", "Z")
    write_atomic(folder / CATALOG_FILE, _json(dcat.catalog(metadatas, release=release, released_at=modified,
                                                           base_url=base_url, title=title)))
    for meta in metadatas:
        write_atomic(folder / API_DIR / "package_show" / f"{meta['dataset']}.json",
                     _json(ckan.package_show(meta, base_url=base_url, release=release)))
    write_atomic(folder / API_DIR / "package_search.json",
                 _json(ckan.package_search(metadatas, base_url=base_url, release=release)))
    write_atomic(folder / API_DIR / "package_list.json",
                 _json(ckan.package_list([m["dataset"] for m in metadatas], base_url=base_url)))
    sums = sorted((d["file"], d["checksum"]["value"]) for m in metadatas for d in m["distributions"])
    write_atomic(folder / CHECKSUMS_FILE, "".join(f"{value}  {file}\n" for file, value in sums).encode("ascii"))


def _swap_in(work: Path, final: Path) -> None:
    """Rename the finished folder into place (an earlier export of the release is moved aside, then removed)."""
    if not final.exists():
        work.rename(final)
        return
    old = final.with_name(f".{final.name}.old-{uuid.uuid4().hex[:8]}")
    final.rename(old)
    work.rename(final)
    shutil.rmtree(old)


def load_release_export(folder: str | Path) -> ReleaseExport:
    """What an earlier export wrote, read from its files (metadata, SHA256SUMS). Raises ExportError naming
    what is missing when the folder is not a complete export."""
    folder = Path(folder)
    for required in (folder / CATALOG_FILE, folder / CHECKSUMS_FILE, folder / API_DIR / "package_list.json"):
        if not required.is_file():
            raise ExportError(f"{folder} is not a complete open-data export: {required.name} is missing. "
                              "Fix: export the release again (citydata.export.release.export_release)")
    datasets = []
    number = None
    for meta_path in sorted(folder.glob("*.metadata.json")):
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        number = meta.get("release", number)
        files = tuple(ExportFile(folder / d["file"], d["file"].rsplit(".", 1)[-1], d["media_type"],
                                 d["checksum"]["value"], int(d["byte_size"])) for d in meta["distributions"])
        datasets.append(ExportResult(meta["dataset"], meta_path, int(meta["rows"]),
                                     tuple(f["name"] for f in meta["fields"]), int(meta["suppressed_cells"]), files))
    if number is None:
        number = int(folder.name.removeprefix("release-"))
    return ReleaseExport(int(number), folder, tuple(datasets))


def is_exported(manifest: Mapping[str, Any], exports_root: str | Path,
                items: Iterable[CatalogItem] | None = None) -> bool:
    """Whether the release's export is complete: every open item's metadata, at the pinned version, and every
    file it lists with its size, plus the catalog, the CKAN documents and SHA256SUMS (a rerun exports nothing)."""
    folder = release_export_dir(exports_root, manifest["release"])
    try:
        export = load_release_export(folder)
    except ExportError:
        return False
    written = {d.dataset: d for d in export.datasets}
    for item in items_of_release(manifest, items):
        done = written.get(item.name)
        if done is None or not export.package_show(item.name).is_file():
            return False
        meta = json.loads(done.metadata_path.read_text(encoding="utf-8"))
        pin = manifest["datasets"]["/".join(split_dataset(item.source_table))]["delta_version"]
        if (meta.get("provenance") or {}).get("delta_version") != int(pin):
            return False
        if not all(f.path.is_file() and f.path.stat().st_size == f.byte_size for f in done.files):
            return False
    return True
