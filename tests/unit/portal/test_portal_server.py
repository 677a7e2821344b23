"""The portal's HTTP server: static files with their Content-Types, CKAN URLs mapped to the static documents."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from email.message import Message

from portal_city import BASE_URL, TinyCity

from citydata.portal import build_portal
from citydata.portal.server import PortalServer


def _get(url: str) -> tuple[int, Message, bytes]:
    """Status, headers (names case-insensitive) and body."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - our own local server
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def test_ckan_urls_and_content_types(tiny_city: TinyCity) -> None:
    site = build_portal(tiny_city.paths, base_url=BASE_URL).site
    with PortalServer(site, port=0) as server:
        status, headers, body = _get(f"{server.url}/api/3/action/package_list")
        assert status == 200 and headers["Content-Type"] == "application/json; charset=utf-8"
        assert json.loads(body)["result"] == ["city_portrait_district", "dim_district", "population_by_district"]
        status, headers, body = _get(f"{server.url}/api/3/action/package_show?id=population_by_district")
        document = json.loads(body)
        assert status == 200 and document["success"] and document["result"]["name"] == "population_by_district"
        assert body == (site / "api/3/action/package_show/population_by_district.json").read_bytes()
        status, _, body = _get(f"{server.url}/api/3/action/package_show?id=resident_extract")  # not open
        assert status == 404 and json.loads(body)["success"] is False
        status, _, body = _get(f"{server.url}/api/3/action/package_show?id=../../etc/passwd")
        assert status == 400 and "id" in json.loads(body)["error"]["message"]
        expected = {
            "/index.html": "text/html; charset=utf-8",
            "/catalog.jsonld": "application/ld+json; charset=utf-8",
            "/download/release-0002/population_by_district.csv": "text/csv; charset=utf-8",
            "/download/release-0002/population_by_district.json": "application/json; charset=utf-8",
            "/download/release-0002/population_by_district.parquet": "application/vnd.apache.parquet",
            "/download/release-0002/SHA256SUMS": "text/plain; charset=utf-8",
            "/static/portal.js": "text/javascript; charset=utf-8",
        }
        for path, content_type in expected.items():
            status, headers, body = _get(server.url + path)
            assert (status, headers["Content-Type"]) == (200, content_type), path
            assert body == (site / path.lstrip("/")).read_bytes()
        _, headers, _ = _get(f"{server.url}/download/release-0002/population_by_district.csv")
        assert headers["Content-Disposition"] == 'attachment; filename="population_by_district.csv"'
