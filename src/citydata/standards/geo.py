"""Point-in-polygon and the simulated city's geometry (`data/city.geojson`, WGS-84).

The shipped geometry holds the city boundary, the current districts and their streets, consistent
with `data/divisions.csv`. `locate` gives any point its (district, street) codes; points outside
the boundary get GEO_OUTSIDE_CITY. A point on an edge shared by two streets belongs to exactly one
of them (ray casting treats the west and south edges of a cell as inside, east and north as outside).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from citydata.standards.coords import round6
from citydata.standards.divisions import load_divisions
from citydata.standards.result import ValidationResult, failed, passed

DATA_FILE = "city.geojson"

Ring = list[tuple[float, float]]
Polygon = list[Ring]  # exterior ring first, then holes


def point_in_ring(lon: float, lat: float, ring: Ring) -> bool:
    """Ray casting (crossing number) towards +longitude; the ring may be closed or open."""
    inside = False
    count = len(ring)
    j = count - 1
    for i in range(count):
        xi, yi = ring[i]
        xj, yj = ring[j]
        if (yi > lat) != (yj > lat):
            x_cross = xi + (lat - yi) * (xj - xi) / (yj - yi)
            if lon < x_cross:
                inside = not inside
        j = i
    return inside


def point_in_polygon(lon: float, lat: float, polygon: Polygon) -> bool:
    """Inside the exterior ring and inside none of the holes."""
    if not polygon or not point_in_ring(lon, lat, polygon[0]):
        return False
    return not any(point_in_ring(lon, lat, hole) for hole in polygon[1:])


def point_in_geometry(lon: float, lat: float, geometry: dict[str, Any]) -> bool:
    """A GeoJSON Polygon or MultiPolygon geometry."""
    return any(point_in_polygon(lon, lat, polygon) for polygon in _polygons(geometry))


def _polygons(geometry: dict[str, Any]) -> list[Polygon]:
    kind = geometry.get("type")
    if kind == "Polygon":
        return [[[(float(x), float(y)) for x, y, *_ in ring] for ring in geometry["coordinates"]]]
    if kind == "MultiPolygon":
        return [[[(float(x), float(y)) for x, y, *_ in ring] for ring in poly] for poly in geometry["coordinates"]]
    raise ValueError(f"{DATA_FILE}: geometry type {kind!r} is not Polygon or MultiPolygon")


@dataclass(frozen=True)
class Area:
    """One division's geometry: code, name, level, parent, polygons and bounding box."""

    code: str
    name: str
    level: str
    parent: str | None
    polygons: tuple[Polygon, ...]
    bbox: tuple[float, float, float, float]  # min lon, min lat, max lon, max lat

    def contains(self, lon: float, lat: float) -> bool:
        x0, y0, x1, y1 = self.bbox
        if not (x0 <= lon <= x1 and y0 <= lat <= y1):
            return False
        return any(point_in_polygon(lon, lat, polygon) for polygon in self.polygons)


def _area(feature: dict[str, Any]) -> Area:
    props = feature["properties"]
    polygons = tuple(_polygons(feature["geometry"]))
    xs = [x for poly in polygons for x, _ in poly[0]]
    ys = [y for poly in polygons for _, y in poly[0]]
    return Area(props["code"], props["name"], props["level"], props.get("parent"), polygons,
                (min(xs), min(ys), max(xs), max(ys)))


class CityGeometry:
    """The city boundary, districts and streets; locate points and sample points inside streets."""

    def __init__(self, geojson: dict[str, Any]) -> None:
        self._geojson = geojson
        areas = [_area(feature) for feature in geojson["features"]]
        boundaries = [area for area in areas if area.level == "prefecture"]
        if len(boundaries) != 1:
            raise ValueError(f"{DATA_FILE}: expected one prefecture feature (the city boundary), got {len(boundaries)}")
        self.boundary: Area = boundaries[0]
        self.city_code = self.boundary.code
        self.districts: dict[str, Area] = {a.code: a for a in areas if a.level == "district"}
        self.streets: dict[str, Area] = {a.code: a for a in areas if a.level == "street"}

    @property
    def geojson(self) -> dict[str, Any]:
        """The FeatureCollection as shipped (a fresh copy: callers may modify it)."""
        return json.loads(json.dumps(self._geojson))

    def locate(self, lon: float, lat: float) -> ValidationResult:
        """value=(district_code, street_code) of a WGS-84 point; GEO_OUTSIDE_CITY outside the boundary."""
        if not self.boundary.contains(lon, lat):
            return failed("GEO_OUTSIDE_CITY", (lon, lat), "outside the city boundary polygon")
        for street in self.streets.values():
            if street.contains(lon, lat):
                return passed((street.parent, street.code))
        # inside the boundary but in no street: the shipped geometry has a gap; name it, don't hide it
        district = next((d.code for d in self.districts.values() if d.contains(lon, lat)), None)
        return failed("GEO_OUTSIDE_CITY", (lon, lat),
                      f"inside the boundary but in no street polygon (district {district})")

    def random_point_in(self, street_code: str, rng: random.Random) -> tuple[float, float]:
        """A uniform random WGS-84 point (6 decimals) inside a street; retired codes use their successor."""
        code = load_divisions().successor(street_code) or street_code
        area = self.streets.get(code) or self.districts.get(code)
        if area is None:
            raise KeyError(f"no geometry for division {street_code!r} in {DATA_FILE}")
        x0, y0, x1, y1 = area.bbox
        for _ in range(10_000):
            lon, lat = round6(rng.uniform(x0, x1)), round6(rng.uniform(y0, y1))
            if area.contains(lon, lat):
                located = self.locate(lon, lat)
                if located.ok and code in located.value:
                    return lon, lat
        raise RuntimeError(f"could not sample a point inside {code} after 10000 tries: check {DATA_FILE}")

    def random_point(self, rng: random.Random) -> tuple[float, float]:
        """A uniform random WGS-84 point (6 decimals) inside the city boundary."""
        x0, y0, x1, y1 = self.boundary.bbox
        while True:
            lon, lat = round6(rng.uniform(x0, x1)), round6(rng.uniform(y0, y1))
            if self.locate(lon, lat).ok:
                return lon, lat


@lru_cache(maxsize=1)
def load_city_geometry() -> CityGeometry:
    """The shipped geometry of the simulated city (read once)."""
    text = resources.files("citydata.standards").joinpath("data", DATA_FILE).read_text(encoding="utf-8")
    return CityGeometry(json.loads(text))


def locate(lon: float, lat: float) -> ValidationResult:
    """Shortcut for load_city_geometry().locate(lon, lat)."""
    return load_city_geometry().locate(lon, lat)
