"""CKAN-compatible static API documents, so existing harvesters (ckanext-harvest's CKAN harvester, ckanapi,
ckanr) read the open-data export as if it were a CKAN site:

- `api/3/action/package_list.json`: `{"help", "success": true, "result": [dataset names]}`
- `api/3/action/package_show/<name>.json`: `{"help", "success": true, "result": {CKAN package}}`
- `api/3/action/package_search.json`: `{"help", "success": true, "result": {"count", "results": [packages]}}`

Field names are CKAN's package and resource fields (CKAN 2.10/2.11 `package_show`); DCAT properties
without a core CKAN field go to `extras`, under the keys ckanext-dcat uses (issued, modified, frequency,
theme, identifier, publisher_name, publisher_uri, language). Pure functions: nothing is written here.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from citydata.export import dcat
from citydata.export import vocabularies as vocab


def help_url(base_url: str, action: str) -> str:
    return f"{base_url.rstrip('/')}/api/3/action/help_show?name={action}"


def _response(base_url: str, action: str, result: Any) -> dict[str, Any]:
    return {"help": help_url(base_url, action), "success": True, "result": result}


def _id(*parts: str) -> str:
    """A stable UUID (CKAN ids are UUIDs): the same dataset or file has the same id in every release."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(parts)))


def _ckan_time(iso: str) -> str:
    """CKAN's timestamps are UTC without a zone: `2026-12-07T06:00:00`."""
    return iso.removesuffix("Z").removesuffix("+00:00")


def package_list(names: Sequence[str], *, base_url: str) -> dict[str, Any]:
    return _response(base_url, "package_list", sorted(names))


def package(meta: Mapping[str, Any], *, base_url: str, release: int) -> dict[str, Any]:
    """The CKAN package of one exported dataset's metadata (`<item>.metadata.json`)."""
    base = base_url.rstrip("/")
    name = meta["dataset"]
    package_id = _id("citydata", "dataset", meta["resource_code"])
    lic = vocab.licence(meta["license"])
    department = meta["providing_department"]
    org_name = dcat.organization_name(department, meta["resource_code"])
    org_id = _id("citydata", "organization", org_name)
    created, modified = _ckan_time(meta["issued"]), _ckan_time(meta["modified"])
    theme = vocab.theme_uri(meta["theme"])
    keywords = list(dict.fromkeys([*meta.get("keywords", []), meta["theme"]]))
    resources = [
        {
            "id": _id("citydata", "resource", meta["resource_code"], d["file"]),
            "package_id": package_id,
            "name": f"{meta['resource_name']}（{d['format']}）",
            "description": f"{d['format']}，{meta['rows']} 行，发布版本 {release}",
            "url": dcat.download_url(base, release, d["file"]),
            "format": d["format"],
            "mimetype": d["media_type"],
            "mimetype_inner": None,
            "size": int(d["byte_size"]),
            "hash": d["checksum"]["value"],
            "hash_algorithm": vocab.SPDX_SHA256,
            "created": modified,
            "last_modified": modified,
            "metadata_modified": modified,
            "position": position,
            "state": "active",
            "url_type": None,
            "resource_type": "file",
            "cache_url": None,
            "datastore_active": False,
        }
        for position, d in enumerate(meta["distributions"])
    ]
    extras = {
        "identifier": meta["resource_code"],
        "uri": dcat.dataset_iri(base, name),
        "issued": meta["issued"],
        "modified": meta["modified"],
        "frequency": vocab.frequency_uri(meta["update_cycle"]),
        "theme": theme,
        "language": vocab.LANGUAGE_ZH,
        "publisher_name": department,
        "publisher_uri": dcat.publisher_iri(base, department, meta["resource_code"]),
        "license_uri": lic.uri,
        "release": str(release),
        "category": meta.get("category", ""),
        "sharing_attribute": meta.get("sharing_attribute", ""),
        "opening_attribute": meta.get("opening_attribute", ""),
        "update_cycle": meta["update_cycle"],
    }
    return {
        "id": package_id,
        "name": name,
        "title": meta["resource_name"],
        "notes": meta["summary"],
        "type": "dataset",
        "state": "active",
        "private": False,
        "url": dcat.dataset_iri(base, name),
        "version": str(release),
        "author": department,
        "author_email": None,
        "maintainer": department,
        "maintainer_email": None,
        "license_id": lic.ckan_id,
        "license_title": lic.title,
        "license_url": lic.url,
        "isopen": lic.open,
        "metadata_created": created,
        "metadata_modified": modified,
        "creator_user_id": None,
        "owner_org": org_id,
        "organization": {
            "id": org_id, "name": org_name, "title": department, "type": "organization",
            "description": department, "image_url": "", "created": created, "is_organization": True,
            "approval_status": "approved", "state": "active",
        },
        "groups": [{"id": _id("citydata", "group", theme), "name": theme.rsplit("/", 1)[-1].lower(),
                    "title": meta["theme"], "display_name": meta["theme"], "description": theme,
                    "image_display_url": ""}],
        "tags": [{"id": _id("citydata", "tag", k), "name": k, "display_name": k, "state": "active",
                  "vocabulary_id": None} for k in keywords],
        "num_tags": len(keywords),
        "resources": resources,
        "num_resources": len(resources),
        "extras": [{"key": k, "value": v} for k, v in extras.items()],
        "relationships_as_object": [],
        "relationships_as_subject": [],
    }


def package_show(meta: Mapping[str, Any], *, base_url: str, release: int) -> dict[str, Any]:
    return _response(base_url, "package_show", package(meta, base_url=base_url, release=release))


def package_search(metas: Sequence[Mapping[str, Any]], *, base_url: str, release: int) -> dict[str, Any]:
    """Every package in one search result. ckanext-harvest's CKAN harvester pages through `package_search`
    (rows=100, start=0, 100, ...) and stops at a page that adds no new package id: served for any query, this
    one document gives it every package on the first page and nothing new on the second."""
    packages = [package(m, base_url=base_url, release=release) for m in sorted(metas, key=lambda m: m["dataset"])]
    return _response(base_url, "package_search", {"count": len(packages), "results": packages,
                                                   "sort": "name asc", "facets": {}, "search_facets": {}})
