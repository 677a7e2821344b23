"""The open-data catalog as DCAT v3 / DCAT-AP 3 in JSON-LD (`catalog.jsonld`), built from the datasets'
metadata files: one dcat:Dataset per exported dataset, one dcat:Distribution per file.

The JSON-LD context is inline (no network fetch to read it). Values come from controlled vocabularies
(citydata.export.vocabularies): EU frequency, data-theme, file-type and licence URIs, IANA media types,
SPDX checksums. Chinese text carries `@language: zh`. Pure functions: no file is read or written here.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from citydata.export import vocabularies as vocab

CATALOG_PUBLISHER = "示范市人民政府"  # the city government publishes its catalog; departments publish datasets
XSD = "http://www.w3.org/2001/XMLSchema#"
CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "spdx": vocab.SPDX,
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "xsd": XSD,
}
_CJK = re.compile(r"[\u3400-\u9fff]")
_RESOURCE_CODE = re.compile(r"^(\d{6})-([A-Za-z]+)-")


def text(value: str) -> dict[str, str] | str:
    """A literal, tagged `zh` when it holds Chinese characters."""
    return {"@value": value, "@language": "zh"} if _CJK.search(value) else value


def _datetime(value: str) -> dict[str, str]:
    return {"@value": value, "@type": "xsd:dateTime"}


def download_url(base_url: str, release: int, file: str) -> str:
    """`<base_url>/download/release-NNNN/<file>`."""
    return f"{base_url.rstrip('/')}/download/release-{int(release):04d}/{quote(file)}"


def dataset_iri(base_url: str, name: str) -> str:
    return f"{base_url.rstrip('/')}/dataset/{quote(name)}"


def organization_name(department: str, resource_code: str = "") -> str:
    """A department's stable ASCII name (CKAN organization `name`, publisher IRI): division + department
    code of the resource code (`339900-GA-OD-0001` -> `339900-ga`), else a hash of the department's name."""
    match = _RESOURCE_CODE.match(resource_code)
    if match:
        return f"{match.group(1)}-{match.group(2).lower()}"
    return "org-" + hashlib.sha256(department.encode("utf-8")).hexdigest()[:12]


def publisher_iri(base_url: str, department: str, resource_code: str = "") -> str:
    return f"{base_url.rstrip('/')}/organization/{organization_name(department, resource_code)}"


def _agent(iri: str, name: str) -> dict[str, Any]:
    return {"@id": iri, "@type": "foaf:Agent", "foaf:name": text(name)}


def distribution(meta: Mapping[str, Any], dist: Mapping[str, Any], *, base_url: str, release: int) -> dict[str, Any]:
    """The dcat:Distribution of one file of a dataset (`dist`: an entry of the metadata's `distributions`)."""
    url = download_url(base_url, release, dist["file"])
    lic = vocab.licence(meta["license"])
    return {
        "@id": f"{dataset_iri(base_url, meta['dataset'])}/release-{int(release):04d}/{quote(dist['file'])}",
        "@type": "dcat:Distribution",
        "dct:title": text(f"{meta['resource_name']}（{dist['format']}）"),
        "dct:description": text(f"{meta['resource_name']}，{dist['format']} 格式，发布版本 {release}"),
        "dcat:downloadURL": {"@id": url},
        "dcat:accessURL": {"@id": url},  # DCAT-AP: a direct download repeats its URL as the access URL
        "dcat:mediaType": {"@id": vocab.media_type_uri(dist["media_type"])},
        "dct:format": {"@id": vocab.file_type_uri(_file_type(dist["format"]))},
        "dcat:byteSize": {"@value": str(int(dist["byte_size"])), "@type": "xsd:nonNegativeInteger"},
        "spdx:checksum": {
            "@type": "spdx:Checksum",
            "spdx:algorithm": {"@id": vocab.SPDX_SHA256},
            "spdx:checksumValue": {"@value": dist["checksum"]["value"], "@type": "xsd:hexBinary"},
        },
        "dct:issued": _datetime(meta["modified"]),  # this file was first published with this release
        "dct:modified": _datetime(meta["modified"]),
        "dct:license": {"@id": lic.uri},
    }


def _file_type(label: str) -> str:
    return {"CSV": "CSV", "JSON": "JSON", "PARQUET": "PARQUET"}[label.upper()]


def dataset(meta: Mapping[str, Any], *, base_url: str, release: int) -> dict[str, Any]:
    """The dcat:Dataset of one exported dataset's metadata (`<item>.metadata.json`)."""
    lic = vocab.licence(meta["license"])
    themes = [{"@id": vocab.theme_uri(meta["theme"])}]
    keywords = list(dict.fromkeys([*meta.get("keywords", []), meta["theme"]]))
    return {
        "@id": dataset_iri(base_url, meta["dataset"]),
        "@type": "dcat:Dataset",
        "dct:identifier": meta["resource_code"],
        "dct:title": text(meta["resource_name"]),
        "dct:description": text(meta["summary"]),
        "dct:publisher": _agent(publisher_iri(base_url, meta["providing_department"], meta["resource_code"]),
                                meta["providing_department"]),
        "dct:issued": _datetime(meta["issued"]),
        "dct:modified": _datetime(meta["modified"]),
        "dct:accrualPeriodicity": {"@id": vocab.frequency_uri(meta["update_cycle"])},
        "dcat:keyword": [text(k) for k in keywords],
        "dcat:theme": themes,
        "dct:license": {"@id": lic.uri},
        "dct:language": {"@id": vocab.LANGUAGE_ZH},
        "dcat:version": str(release),
        "dcat:distribution": [distribution(meta, d, base_url=base_url, release=release)
                              for d in meta["distributions"]],
    }


def catalog(metadatas: Sequence[Mapping[str, Any]], *, release: int, released_at: str, base_url: str,
            title: str, publisher: str = CATALOG_PUBLISHER) -> dict[str, Any]:
    """`catalog.jsonld`: a dcat:Catalog of the datasets (sorted by name), with its inline context."""
    base = base_url.rstrip("/")
    issued = min((m["issued"] for m in metadatas), default=released_at)
    return {
        "@context": CONTEXT,
        "@id": f"{base}/catalog",
        "@type": "dcat:Catalog",
        "dct:title": text(title),
        "dct:description": text(f"{title}：无条件开放的数据集，发布版本 {release}"),
        "dct:publisher": _agent(f"{base}/organization/city", publisher),
        "dct:issued": _datetime(issued),
        "dct:modified": _datetime(released_at),
        "dct:language": {"@id": vocab.LANGUAGE_ZH},
        "foaf:homepage": {"@id": f"{base}/"},
        "dcat:themeTaxonomy": {"@id": f"{vocab.EU_AUTHORITY}/data-theme"},
        "dcat:dataset": [dataset(m, base_url=base, release=release)
                         for m in sorted(metadatas, key=lambda m: m["dataset"])],
    }
