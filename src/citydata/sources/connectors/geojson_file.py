"""GeoJSON deliveries (RFC 7946 FeatureCollection): one record per feature.

A record holds the feature's properties (a top-level feature `id` fills a contract column `id` that
the properties lack) and, in the column of the contract's `check: geometry` field, the geometry as
compact GeoJSON text. A file that is not a FeatureCollection is rejected whole (FILE_FORMAT); so is a
file whose declared `crs` is not WGS-84 longitude/latitude when the contract says wgs84 (COORD_SYSTEM).
A file cut short (the JSON ends early, or inside a character) is unreadable as a whole: FILE_TRUNCATED.
Whether each geometry is valid and inside the city is validation's (citydata.standards.geometry).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from citydata.catalog.contracts import SourceContract
from citydata.sources.connectors.base import (
    Item,
    Lineage,
    RawRecord,
    Rejection,
    json_cut,
    read_text_delivery,
    text_value,
)

# Names a GeoJSON `crs` member gives WGS-84 longitude/latitude (RFC 7946's only system; 2008 GeoJSON spelled it)
WGS84_CRS_NAMES = frozenset({"urn:ogc:def:crs:OGC:1.3:CRS84", "urn:ogc:def:crs:OGC::CRS84", "CRS84",
                             "EPSG:4326", "urn:ogc:def:crs:EPSG::4326"})


class GeoJsonConnector:
    """Read a FeatureCollection named by the contract's `delivery` (format geojson)."""

    def read(self, contract: SourceContract, delivery: str | Path) -> Iterator[Item]:
        decoded = read_text_delivery(contract, delivery, fix="GeoJSON is UTF-8 (RFC 7946): ask for a UTF-8 export")
        if isinstance(decoded, Rejection):
            yield decoded
            return
        path, text, encoding, content_hash = decoded.path, decoded.text, decoded.encoding, decoded.content_hash

        def reject(reason: str, detail: str, fix: str) -> Rejection:
            return Rejection(contract.source, str(path), reason, detail, fix=fix, encoding=encoding,
                             content_hash=content_hash)

        redeliver = f"ask {contract.department} to redeliver the whole file"
        if decoded.cut:
            yield reject("FILE_TRUNCATED", "the file ends inside a multi-byte character: it was cut", redeliver)
            return
        try:
            document = json.loads(text)
        except json.JSONDecodeError as error:
            if json_cut(text, error):
                yield reject("FILE_TRUNCATED", f"the JSON ends early at line {error.lineno} column {error.colno} "
                             f"({error.msg}): the file was cut", redeliver)
            else:
                yield reject("FILE_FORMAT", f"not JSON ({error})", redeliver)
            return
        except RecursionError:
            yield reject("FILE_FORMAT", "not JSON a reader can take: nested too deeply", redeliver)
            return
        if not isinstance(document, dict) or document.get("type") != "FeatureCollection" \
                or not isinstance(document.get("features"), list):
            yield reject("FILE_FORMAT", "not a GeoJSON FeatureCollection with a list of features",
                         "export the layer as a GeoJSON FeatureCollection")
            return
        geometry = next(f for f in contract.fields if f.check == "geometry")
        crs = _crs_name(document.get("crs"))
        if crs is not None and geometry.coord_system == "wgs84" and not (isinstance(crs, str)
                                                                       and crs in WGS84_CRS_NAMES):
            yield reject("COORD_SYSTEM", f"the file declares crs {crs!r}, the contract expects WGS-84 (CRS84)",
                         "reproject to WGS-84 longitude/latitude before delivery, or fix coord_system in "
                         f"{contract.file}")
            return
        columns = [c for c in contract.columns if c != geometry.column]
        for row, feature in enumerate(document["features"], start=1):
            if not isinstance(feature, dict) or not isinstance(feature.get("properties") or {}, dict):
                yield Rejection(contract.source, str(path), "RECORD_FORMAT", "feature is not an object with "
                                "properties", row=row, encoding=encoding, content_hash=content_hash)
                continue
            properties = {**({"id": feature["id"]} if "id" in feature else {}), **(feature.get("properties") or {})}
            values = {c: text_value(properties.get(c)) for c in columns}
            values[geometry.column] = text_value(feature.get("geometry"))
            yield RawRecord(values, Lineage(contract.source, str(path), row, encoding, content_hash))


def _crs_name(crs: object) -> object:
    """The name a 2008-GeoJSON `crs` member gives (`{"type": "name", "properties": {"name": …}}`), else None."""
    properties = crs.get("properties") if isinstance(crs, dict) else None
    return properties.get("name") if isinstance(properties, dict) else None
