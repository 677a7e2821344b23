"""Validity of a delivered GeoJSON geometry (WGS-84), checked with shapely: well formed, rings closed,
no self-intersection, valid by the OGC simple-features rules, inside the city boundary.

Each failure has its own reason code, so a rejects table says what is wrong with a boundary:
GEOMETRY_FORMAT (not a GeoJSON geometry object), COORD_RANGE (a position that is no finite
longitude/latitude), GEOMETRY_RING_OPEN, GEOMETRY_SELF_INTERSECTION, GEOMETRY_INVALID,
GEOMETRY_OUTSIDE_CITY. The city is the boundary polygon of `citydata.standards.geo` (the same one
that flags points GEO_OUTSIDE_CITY), widened by `EDGE_TOLERANCE_DEG` because delivered coordinates
are rounded to 6 decimals: a district that shares the city's edge must not fall outside by rounding.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from citydata.standards.geo import load_city_geometry
from citydata.standards.result import ValidationResult, failed, passed

GEOMETRY_TYPES = ("Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon")
# How deep each type nests its positions: Point 0 (a position), LineString 1, Polygon 2, MultiPolygon 3
_DEPTH = {"Point": 0, "MultiPoint": 1, "LineString": 1, "MultiLineString": 2, "Polygon": 2, "MultiPolygon": 3}
EDGE_TOLERANCE_DEG = 1e-6  # half a unit of the 6th decimal is ~0.05 m; 1e-6 deg ~ 0.1 m
_SELF_INTERSECTION = ("Self-intersection", "Ring Self-intersection")


@lru_cache(maxsize=1)
def city_area() -> BaseGeometry:
    """The city boundary as a (prepared) shapely geometry, widened by EDGE_TOLERANCE_DEG."""
    boundary = load_city_geometry().boundary
    polygons = [shapely.Polygon(polygon[0], polygon[1:]) for polygon in boundary.polygons]
    area = shapely.MultiPolygon(polygons).buffer(EDGE_TOLERANCE_DEG, join_style="mitre")
    shapely.prepare(area)
    return area


def _positions(coordinates: Any, depth: int, path: str) -> tuple[str, str] | None:
    """(reason, detail) of the first malformed or out-of-range position, else None."""
    if depth == 0:
        where = f"position {path}" if path else "the position"
        if not isinstance(coordinates, list) or len(coordinates) < 2 or not all(
                isinstance(c, (int, float)) and not isinstance(c, bool) for c in coordinates):
            return "GEOMETRY_FORMAT", f"{where} is not [longitude, latitude]"
        lon, lat = float(coordinates[0]), float(coordinates[1])
        if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
            return "COORD_RANGE", f"{where} is outside -180..180 / -90..90"
        return None
    if not isinstance(coordinates, list):
        return "GEOMETRY_FORMAT", f"coordinates {path or '[]'} is not a list"
    for index, inner in enumerate(coordinates):
        problem = _positions(inner, depth - 1, f"{path}[{index}]")
        if problem:
            return problem
    return None


def _rings(geometry: dict[str, Any]) -> list[tuple[str, list]]:
    """Every ring of a Polygon or MultiPolygon with its path in the coordinates."""
    if geometry["type"] == "Polygon":
        return [(f"[{r}]", ring) for r, ring in enumerate(geometry["coordinates"])]
    if geometry["type"] == "MultiPolygon":
        return [(f"[{p}][{r}]", ring) for p, polygon in enumerate(geometry["coordinates"])
                for r, ring in enumerate(polygon)]
    return []


def validate_geometry(geometry: Any, *, inside_city: bool = True) -> ValidationResult:
    """value=the shapely geometry of a GeoJSON geometry object that is well formed, has closed rings of 4+
    positions, is valid (no self-intersection) and, with `inside_city`, lies within the city boundary."""
    if not isinstance(geometry, dict) or geometry.get("type") not in GEOMETRY_TYPES \
            or not isinstance(geometry.get("coordinates"), list):
        return failed("GEOMETRY_FORMAT", None, f"expected a GeoJSON geometry ({', '.join(GEOMETRY_TYPES)})")
    kind = geometry["type"]
    problem = _positions(geometry["coordinates"], _DEPTH[kind], "")
    if problem:
        return failed(problem[0], None, f"{kind}: {problem[1]}")
    for path, ring in _rings(geometry):
        if len(ring) < 4 or ring[0][:2] != ring[-1][:2]:
            shape_of = "is not closed" if ring and ring[0][:2] != ring[-1][:2] else "has fewer than 4 positions"
            return failed("GEOMETRY_RING_OPEN", None, f"{kind}: ring {path} {shape_of} ({len(ring)} positions)")
    try:
        parsed = shape(geometry)
    except (ValueError, TypeError, shapely.errors.ShapelyError) as error:
        return failed("GEOMETRY_INVALID", None, f"{kind}: {error}")
    if parsed.is_empty:
        return failed("GEOMETRY_INVALID", None, f"{kind} without coordinates")
    reason = shapely.is_valid_reason(parsed)
    if reason.startswith(_SELF_INTERSECTION):
        return failed("GEOMETRY_SELF_INTERSECTION", None, f"{kind}: {reason}")
    if reason != "Valid Geometry":
        return failed("GEOMETRY_INVALID", None, f"{kind}: {reason}")
    if inside_city and not city_area().covers(parsed):
        return failed("GEOMETRY_OUTSIDE_CITY", None, f"{kind} is not inside the city boundary polygon")
    return passed(parsed)
