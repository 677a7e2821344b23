"""The release-wide documents of an export folder: catalog.jsonld parses as JSON-LD (rdflib) and every
dcat:Dataset and dcat:Distribution carries the DCAT-AP properties; the CKAN documents carry CKAN's field
names; SHA256SUMS matches the files; load_release_export and is_exported read the folder back."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from rdflib import Graph, Literal, Namespace, URIRef

from citydata.catalog.items import CatalogItem
from citydata.export.dataset import export_records
from citydata.export.release import (
    ReleaseExport,
    is_exported,
    items_of_release,
    load_release_export,
    release_export_dir,
    write_release_documents,
)

# plain Namespaces (rdflib's closed ones warn when pytest probes module attributes)
DCAT = Namespace("http://www.w3.org/ns/dcat#")
DCTERMS = Namespace("http://purl.org/dc/terms/")
FOAF = Namespace("http://xmlns.com/foaf/0.1/")
RDF = Namespace("http://www.w3.org/1999/02/22-rdf-syntax-ns#")
XSD = Namespace("http://www.w3.org/2001/XMLSchema#")
SPDX = Namespace("http://spdx.org/rdf/terms#")
BASE = "https://data.example.gov.cn"
RELEASED_AT = "2026-12-07T06:00:00Z"
FIRST_ISSUED = "2026-12-01T06:00:00Z"
EU = "http://publications.europa.eu/resource/authority"
POPULATION = [
    {"district_code": "339901", "district_name": "东湖区", "residents": 1200, "male": 610, "female": 590,
     "area_km2": Decimal("35.125"), "as_of_date": date(2025, 3, 2)},
    {"district_code": "339902", "district_name": "西山区", "residents": 9, "male": 6, "female": 3,  # suppressed
     "area_km2": Decimal("8.500"), "as_of_date": date(2025, 3, 2)},
]
DISTRICTS = [{"district_code": "339901", "district_name": "东湖区", "geometry_geojson": '{"type":"Polygon"}'}]
MANIFEST: dict[str, Any] = {
    "release": 4, "released_at": RELEASED_AT, "catalog": "示范市公共数据资源目录",
    "datasets": {"gold/population_by_district": {"delta_version": 2}, "gold/dim_district": {"delta_version": 0},
                 "gold/dim_resident": {"delta_version": 5}},
}


@pytest.fixture
def folder(tmp_path: Path, population_item: CatalogItem, district_item: CatalogItem) -> Path:
    out = release_export_dir(tmp_path, 4)
    published = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)
    export_records(POPULATION, population_item.fields, out, item=population_item, published_at=published,
                   issued=FIRST_ISSUED,
                   provenance={"release": 4, "table": "gold/population_by_district", "delta_version": 2})
    export_records(DISTRICTS, district_item.fields, out, item=district_item, published_at=published,
                   provenance={"release": 4, "table": "gold/dim_district", "delta_version": 0})
    write_release_documents(out, 4, RELEASED_AT, base_url=BASE + "/", title=MANIFEST["catalog"])
    return out


@pytest.fixture
def graph(folder: Path) -> Graph:
    return Graph().parse(folder / "catalog.jsonld", format="json-ld")


def test_only_open_items_whose_table_the_release_pins_are_exported(
        population_item: CatalogItem, district_item: CatalogItem, resident_item: CatalogItem) -> None:
    unpinned = district_item.__class__(**{**district_item.__dict__, "name": "dim_street",
                                          "source_table": "gold/dim_street"})
    chosen = items_of_release(MANIFEST, [resident_item, unpinned, population_item, district_item])
    assert [i.name for i in chosen] == ["dim_district", "population_by_district"]  # 有条件开放 and unpinned left out


def test_catalog_is_one_dcat_catalog_with_a_dataset_per_export(graph: Graph) -> None:
    catalogs = list(graph.subjects(RDF.type, DCAT.Catalog))
    assert catalogs == [URIRef(f"{BASE}/catalog")]
    datasets = set(graph.objects(catalogs[0], DCAT.dataset))
    assert datasets == {URIRef(f"{BASE}/dataset/population_by_district"), URIRef(f"{BASE}/dataset/dim_district")}
    assert set(graph.subjects(RDF.type, DCAT.Dataset)) == datasets
    assert Literal("示范市公共数据资源目录", lang="zh") in set(graph.objects(catalogs[0], DCTERMS["title"]))


DATASET_PROPERTIES = (DCTERMS.identifier, DCTERMS["title"], DCTERMS.description, DCTERMS.publisher, DCTERMS.issued,
                      DCTERMS.modified, DCTERMS.accrualPeriodicity, DCAT.keyword, DCAT.theme, DCTERMS.license,
                      DCAT.distribution)
DISTRIBUTION_PROPERTIES = (DCAT.downloadURL, DCAT.accessURL, DCAT.mediaType, DCTERMS["format"], DCAT.byteSize,
                           SPDX.checksum, DCTERMS.issued, DCTERMS.modified, DCTERMS.license, DCTERMS["title"])


def test_every_dataset_and_distribution_carries_the_dcat_properties(graph: Graph) -> None:
    datasets = list(graph.subjects(RDF.type, DCAT.Dataset))
    for ds in datasets:
        for prop in DATASET_PROPERTIES:
            assert list(graph.objects(ds, prop)), (ds, prop)
        publisher = graph.value(ds, DCTERMS.publisher)
        assert (publisher, RDF.type, FOAF.Agent) in graph and graph.value(publisher, FOAF.name)
        assert len(list(graph.objects(ds, DCAT.distribution))) == 3
    distributions = list(graph.subjects(RDF.type, DCAT.Distribution))
    assert len(distributions) == 3 * len(datasets)
    for dist in distributions:
        for prop in DISTRIBUTION_PROPERTIES:
            assert list(graph.objects(dist, prop)), (dist, prop)
        checksum = graph.value(dist, SPDX.checksum)
        assert (checksum, RDF.type, SPDX.Checksum) in graph
        assert graph.value(checksum, SPDX.algorithm) == SPDX.checksumAlgorithm_sha256
        assert graph.value(checksum, SPDX.checksumValue).datatype == XSD.hexBinary
        assert graph.value(dist, DCAT.byteSize).datatype == XSD.nonNegativeInteger
        assert graph.value(dist, DCTERMS.issued).datatype == XSD.dateTime


def test_dcat_values_come_from_the_controlled_vocabularies(graph: Graph, folder: Path) -> None:
    ds = URIRef(f"{BASE}/dataset/population_by_district")
    assert graph.value(ds, DCTERMS.identifier) == Literal("339900-GA-OD-0001")
    assert graph.value(ds, DCTERMS["title"]) == Literal("示范市分区户籍人口统计", lang="zh")
    assert graph.value(ds, DCTERMS.accrualPeriodicity) == URIRef(f"{EU}/frequency/DAILY")
    assert graph.value(ds, DCAT.theme) == URIRef(f"{EU}/data-theme/SOCI")
    assert graph.value(ds, DCTERMS.license) == URIRef(f"{EU}/licence/CC_BY_4_0")
    assert graph.value(ds, DCTERMS.issued) == Literal(FIRST_ISSUED.replace("Z", "+00:00"), datatype=XSD.dateTime)
    assert graph.value(ds, DCTERMS.modified) == Literal(RELEASED_AT.replace("Z", "+00:00"), datatype=XSD.dateTime)
    assert Literal("population") in set(graph.objects(ds, DCAT.keyword))
    assert Literal("户籍", lang="zh") in set(graph.objects(ds, DCAT.keyword))
    district = URIRef(f"{BASE}/dataset/dim_district")
    assert graph.value(district, DCTERMS.accrualPeriodicity) == URIRef(f"{EU}/frequency/MONTHLY")
    assert graph.value(district, DCAT.theme) == URIRef(f"{EU}/data-theme/REGI")
    assert graph.value(graph.value(district, DCTERMS.publisher), FOAF.name) == Literal("市自然资源和规划局", lang="zh")

    by_url = {str(graph.value(d, DCAT.downloadURL)): d for d in graph.subjects(RDF.type, DCAT.Distribution)}
    csv = by_url[f"{BASE}/download/release-0004/population_by_district.csv"]
    data = (folder / "population_by_district.csv").read_bytes()
    assert graph.value(csv, DCAT.accessURL) == graph.value(csv, DCAT.downloadURL)
    assert graph.value(csv, DCAT.mediaType) == URIRef("https://www.iana.org/assignments/media-types/text/csv")
    assert graph.value(csv, DCTERMS["format"]) == URIRef(f"{EU}/file-type/CSV")
    assert int(graph.value(csv, DCAT.byteSize)) == len(data)
    assert str(graph.value(graph.value(csv, SPDX.checksum), SPDX.checksumValue)) == hashlib.sha256(data).hexdigest()
    parquet = by_url[f"{BASE}/download/release-0004/population_by_district.parquet"]
    assert graph.value(parquet, DCAT.mediaType) == URIRef(
        "https://www.iana.org/assignments/media-types/application/vnd.apache.parquet")
    assert graph.value(parquet, DCTERMS["format"]) == URIRef(f"{EU}/file-type/PARQUET")


PACKAGE_FIELDS = {"id", "name", "title", "notes", "type", "state", "private", "url", "version", "author",
                  "author_email", "maintainer", "maintainer_email", "license_id", "license_title", "license_url",
                  "isopen", "metadata_created", "metadata_modified", "owner_org", "organization", "groups", "tags",
                  "num_tags", "resources", "num_resources", "extras"}
RESOURCE_FIELDS = {"id", "package_id", "name", "description", "url", "format", "mimetype", "size", "hash",
                   "created", "last_modified", "position", "state"}


def test_ckan_documents_carry_ckans_field_names(folder: Path) -> None:
    listing = json.loads((folder / "api/3/action/package_list.json").read_text(encoding="utf-8"))
    assert listing == {"help": f"{BASE}/api/3/action/help_show?name=package_list", "success": True,
                       "result": ["dim_district", "population_by_district"]}
    shown = json.loads((folder / "api/3/action/package_show/population_by_district.json").read_text(encoding="utf-8"))
    assert shown["success"] is True and shown["help"].endswith("help_show?name=package_show")
    package = shown["result"]
    assert PACKAGE_FIELDS <= set(package)
    assert (package["name"], package["title"], package["license_id"], package["isopen"]) == (
        "population_by_district", "示范市分区户籍人口统计", "cc-by", True)
    assert (package["metadata_created"], package["metadata_modified"]) == ("2026-12-01T06:00:00",
                                                                           "2026-12-07T06:00:00")
    assert {"id", "name", "title", "type", "is_organization"} <= set(package["organization"])
    assert package["organization"]["title"] == "市公安局" and package["owner_org"] == package["organization"]["id"]
    assert [t["name"] for t in package["tags"]] == ["人口", "户籍", "population"]
    assert package["num_resources"] == len(package["resources"]) == 3
    extras = {e["key"]: e["value"] for e in package["extras"]}
    assert extras["frequency"] == f"{EU}/frequency/DAILY" and extras["identifier"] == "339900-GA-OD-0001"
    for resource in package["resources"]:
        assert RESOURCE_FIELDS <= set(resource)
        data = (folder / resource["url"].rsplit("/", 1)[1]).read_bytes()
        assert resource["size"] == len(data) and resource["hash"] == hashlib.sha256(data).hexdigest()
        assert resource["package_id"] == package["id"]
    assert [r["format"] for r in package["resources"]] == ["CSV", "JSON", "Parquet"]
    search = json.loads((folder / "api/3/action/package_search.json").read_text(encoding="utf-8"))
    assert search["success"] is True and search["result"]["count"] == 2
    assert [p["name"] for p in search["result"]["results"]] == ["dim_district", "population_by_district"]
    assert search["result"]["results"][1] == package


def test_sha256sums_lists_every_data_file_with_its_hash(folder: Path) -> None:
    lines = (folder / "SHA256SUMS").read_text(encoding="ascii").splitlines()
    names = [line.split("  ", 1)[1] for line in lines]
    assert names == sorted(p.name for p in folder.iterdir()
                           if p.suffix in (".csv", ".json", ".parquet") and not p.name.endswith(".metadata.json"))
    for line in lines:
        value, name = line.split("  ", 1)
        assert value == hashlib.sha256((folder / name).read_bytes()).hexdigest()


def test_load_release_export_reads_back_what_was_written(folder: Path) -> None:
    export = load_release_export(folder)
    assert isinstance(export, ReleaseExport) and export.release == 4
    summary = export.as_dict()
    assert summary["catalog"] == str(folder / "catalog.jsonld")
    population = summary["datasets"]["population_by_district"]
    assert (population["rows"], population["suppressed_cells"]) == (2, 4)
    csv = population["files"]["csv"]
    assert csv["sha256"] == hashlib.sha256(Path(csv["path"]).read_bytes()).hexdigest()
    assert summary["bytes"] == sum(f["bytes"] for d in summary["datasets"].values() for f in d["files"].values())
    json.dumps(summary)  # JSON-ready


def test_is_exported_until_a_file_is_missing_or_the_pin_differs(
        folder: Path, population_item: CatalogItem, district_item: CatalogItem) -> None:
    items = [population_item, district_item]
    root = folder.parent
    assert is_exported(MANIFEST, root, items)
    repinned = {**MANIFEST, "datasets": {**MANIFEST["datasets"], "gold/dim_district": {"delta_version": 1}}}
    assert not is_exported(repinned, root, items)
    (folder / "dim_district.parquet").unlink()
    assert not is_exported(MANIFEST, root, items)
    assert not is_exported({**MANIFEST, "release": 5}, root, items)


def test_the_same_release_documents_have_the_same_bytes(folder: Path) -> None:
    before = {p.name: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    write_release_documents(folder, 4, RELEASED_AT, base_url=BASE, title=MANIFEST["catalog"])
    assert {p.name: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == before
