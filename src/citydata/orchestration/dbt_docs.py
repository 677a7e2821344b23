"""dbt docs of a build: the site `dbt docs generate` writes, made from the build's own manifest and the Delta
tables, and copied where the release keeps it.

What `dbt docs generate` adds to a build is (1) its manifest with every node compiled — the build's own
`manifest.json` already is: the build compiled every model and test it ran, at the same vars; (2) dbt's
`index.html`, a static file shipped with dbt-core; (3) `catalog.json`, which dbt-spark builds from the Spark
catalog (`show table extended`) — that does not see the platform's tables (temporary views over Delta folders),
so dbt wrote it empty and the platform filled it from each Delta table's schema and row count anyway. So the
site is written here from those three without running dbt again (a second parse, compiling ~400 nodes and
the catalog queries: ~7 s of every build). `static_index.html` (the site with manifest and catalog inlined,
which opens from the file system) is written from `index.html` the way dbt's `--static` does; `index.html`
itself loads `manifest.json` and `catalog.json` from beside it and needs an HTTP server
(`python -m http.server -d <folder>`).
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pyspark.sql.types import StructType

    from citydata.lakehouse import Lakehouse

log = logging.getLogger(__name__)

SITE_FILES = ("index.html", "static_index.html", "manifest.json", "catalog.json")
MANIFEST_PLACEHOLDER = '"MANIFEST.JSON INLINE DATA"'
CATALOG_PLACEHOLDER = '"CATALOG.JSON INLINE DATA"'
LAYERS = ("bronze", "silver", "gold")


def _entry(unique_id: str, layer: str, table: str, schema: Any, rows: int) -> dict[str, Any]:
    """One catalog entry (dbt catalog v1) of a Delta table."""
    return {
        "unique_id": unique_id,
        "metadata": {"type": "table", "schema": layer, "name": table, "database": None, "comment": None,
                     "owner": None},
        "columns": {f.name: {"type": f.dataType.simpleString(), "index": i, "name": f.name, "comment": None}
                    for i, f in enumerate(schema.fields, start=1)},
        "stats": {"num_rows": {"id": "num_rows", "label": "# Rows", "value": rows, "include": True,
                               "description": "rows of the current Delta version"},
                  "has_stats": {"id": "has_stats", "label": "Has Stats?", "value": True, "include": False,
                                "description": "Indicates whether there are statistics for this table"}},
    }


def _schema(lakehouse: Lakehouse, layer: str, table: str) -> StructType:
    """A table's schema as Spark reads it, from its Delta log (no Spark)."""
    from citydata.lakehouse.storage import open_table
    from pyspark_delta.log import spark_schema

    return spark_schema(open_table(lakehouse.path(layer, table), lakehouse.storage_options, without_files=True))


def lakehouse_catalog(lakehouse: Lakehouse, dbt_manifest: Mapping[str, Any],
                      base: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A dbt catalog of the manifest's models and sources that are lakehouse tables (schema `gold` for models,
    the source's layer for sources): column names and types from the Delta schema, the row count (both from the
    Delta log: no Spark)."""
    from datetime import UTC, datetime

    catalog = dict(base or {})
    metadata = dbt_manifest.get("metadata", {})
    catalog.setdefault("metadata", {
        "dbt_schema_version": "https://schemas.getdbt.com/dbt/catalog/v1.json",
        "dbt_version": metadata.get("dbt_version"), "invocation_id": metadata.get("invocation_id"),
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "env": {}})
    nodes: dict[str, Any] = {}
    sources: dict[str, Any] = {}
    for uid, node in dbt_manifest.get("nodes", {}).items():
        materialized = node.get("config", {}).get("materialized")
        if node.get("resource_type") != "model" or materialized == "ephemeral":
            continue
        table = node.get("alias") or node["name"]
        if lakehouse.exists("gold", table):
            nodes[uid] = _entry(uid, "gold", table, _schema(lakehouse, "gold", table), lakehouse.count("gold", table))
    for uid, source in dbt_manifest.get("sources", {}).items():
        layer, table = source.get("source_name"), source.get("identifier") or source["name"]
        if layer in LAYERS and lakehouse.exists(layer, table):
            sources[uid] = _entry(uid, layer, table, _schema(lakehouse, layer, table), lakehouse.count(layer, table))
    catalog.update({"nodes": nodes, "sources": sources, "errors": None})
    return catalog


def write_static_index(folder: Path) -> Path:
    """`static_index.html` from `index.html` with manifest.json and catalog.json inlined (what dbt's --static
    writes), so the site, lineage graph included, opens from the file system without a server."""
    index = (folder / "index.html").read_text(encoding="utf-8")
    if MANIFEST_PLACEHOLDER not in index or CATALOG_PLACEHOLDER not in index:
        raise ValueError(f"{folder / 'index.html'}: not dbt's docs page (no inline-data placeholders)")
    page = index.replace(MANIFEST_PLACEHOLDER, (folder / "manifest.json").read_text(encoding="utf-8"))
    page = page.replace(CATALOG_PLACEHOLDER, (folder / "catalog.json").read_text(encoding="utf-8"))
    out = folder / "static_index.html"
    out.write_text(page, encoding="utf-8")
    return out


def generate_docs(lakehouse: Lakehouse, target: Path, out: Path) -> Path:
    """The dbt docs site of the build whose target folder is `target` (its `manifest.json`), with dbt's
    `index.html`, the catalog made from the lakehouse and `static_index.html`, written to `out` (replaced whole);
    returns `out`. Runs neither dbt nor Spark."""
    from dbt.task.docs import DOCS_INDEX_FILE_PATH

    manifest_path = target / "manifest.json"
    if not manifest_path.is_file():
        raise FileNotFoundError(f"{manifest_path}: no dbt manifest to make the docs of; run the dbt build first")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    shutil.copyfile(DOCS_INDEX_FILE_PATH, target / "index.html")
    catalog = lakehouse_catalog(lakehouse, manifest)
    (target / "catalog.json").write_text(json.dumps(catalog, ensure_ascii=False), encoding="utf-8")
    write_static_index(target)
    copy_site(target, out)
    log.info("dbt docs: %d models and %d sources in the catalog -> %s", len(catalog["nodes"]),
             len(catalog["sources"]), out)
    return out


def copy_site(source: Path, out: Path) -> list[str]:
    """Copy the docs site files found in `source` into `out`, replacing `out` whole (never half-written)."""
    staging = out.with_name(out.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    copied = [name for name in SITE_FILES if (source / name).is_file()]
    for name in copied:
        shutil.copy2(source / name, staging / name)
    shutil.rmtree(out, ignore_errors=True)
    staging.rename(out)
    return copied
