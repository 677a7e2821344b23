"""The dbt docs site of a build, made from its manifest and the Delta tables without running dbt or Spark:
dbt's index.html, a catalog with each gold model's and lakehouse source's columns and row count, and the static
page with both inlined. Tables are real Delta tables written by delta-rs."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import write_deltalake

from citydata.lakehouse import Lakehouse
from citydata.orchestration.dbt_docs import generate_docs

MANIFEST = {
    "metadata": {"dbt_version": "1.11.16", "invocation_id": "build-1"},
    "nodes": {
        # a gold mart with its table: in the catalog
        "model.citydata.population_by_district": {
            "resource_type": "model", "name": "population_by_district", "config": {"materialized": "delta_table"}},
        # an ephemeral staging model: no table, not in the catalog
        "model.citydata.stg_person": {
            "resource_type": "model", "name": "stg_person", "config": {"materialized": "ephemeral"}},
        # a mart not built yet (no table): left out, not an error
        "model.citydata.credit_status": {
            "resource_type": "model", "name": "credit_status", "config": {"materialized": "delta_table"}},
        # a test: never in the catalog
        "test.citydata.not_null_x": {"resource_type": "test", "name": "not_null_x", "config": {}},
    },
    "sources": {
        "source.citydata.silver.person": {"source_name": "silver", "name": "person", "identifier": "person"},
        # reference data shipped as CSV: not a lakehouse table
        "source.citydata.standards.divisions": {"source_name": "standards", "name": "divisions"},
    },
}


@pytest.fixture
def build(tmp_path: Path) -> tuple[Lakehouse, Path]:
    root = tmp_path / "lakehouse"
    write_deltalake(str(root / "gold" / "population_by_district"),
                    pa.table({"district_code": ["339901", "339902"], "residents": pa.array([456, 405], pa.int64())}))
    write_deltalake(str(root / "silver" / "person"), pa.table({"id_number": ["a", "b", "c"]}))
    target = tmp_path / "target"
    target.mkdir()
    (target / "manifest.json").write_text(json.dumps(MANIFEST), encoding="utf-8")
    return Lakehouse(None, root), target  # no SparkSession: the docs must not need one


def test_the_site_is_written_from_the_builds_manifest_and_the_delta_tables(build: tuple[Lakehouse, Path],
                                                                           tmp_path: Path) -> None:
    lakehouse, target = build
    out = generate_docs(lakehouse, target, tmp_path / "dbt-docs")
    assert sorted(p.name for p in out.iterdir()) == ["catalog.json", "index.html", "manifest.json",
                                                     "static_index.html"]
    catalog = json.loads((out / "catalog.json").read_text(encoding="utf-8"))
    assert list(catalog["nodes"]) == ["model.citydata.population_by_district"]
    mart = catalog["nodes"]["model.citydata.population_by_district"]
    assert mart["columns"]["district_code"] == {"type": "string", "index": 1, "name": "district_code",
                                                "comment": None}
    assert mart["columns"]["residents"]["type"] == "bigint"
    assert mart["stats"]["num_rows"]["value"] == 2
    assert mart["metadata"]["schema"] == "gold"
    assert list(catalog["sources"]) == ["source.citydata.silver.person"]
    assert catalog["sources"]["source.citydata.silver.person"]["stats"]["num_rows"]["value"] == 3
    assert catalog["metadata"]["invocation_id"] == "build-1"
    static = (out / "static_index.html").read_text(encoding="utf-8")
    assert '"MANIFEST.JSON INLINE DATA"' not in static and '"CATALOG.JSON INLINE DATA"' not in static
    assert '"model.citydata.population_by_district"' in static and '"num_rows"' in static
    # index.html is dbt's own page, which fetches the two files from beside it
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "manifest.json" in index and "catalog.json" in index


def test_no_manifest_is_refused_naming_the_file(build: tuple[Lakehouse, Path], tmp_path: Path) -> None:
    lakehouse, target = build
    (target / "manifest.json").unlink()
    with pytest.raises(FileNotFoundError, match="manifest.json: no dbt manifest"):
        generate_docs(lakehouse, target, tmp_path / "dbt-docs")
    assert not (tmp_path / "dbt-docs").exists()
