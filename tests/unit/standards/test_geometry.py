"""Geometry validity (citydata.standards.geometry, shapely): each fault its own reason code."""

import math

import pytest

from citydata.standards.geo import load_city_geometry
from citydata.standards.geometry import validate_geometry


def polygon(*rings: list) -> dict:
    return {"type": "Polygon", "coordinates": [list(r) for r in rings]}


INSIDE = [[120.05, 30.30], [120.10, 30.30], [120.10, 30.35], [120.05, 30.35], [120.05, 30.30]]


def test_every_shipped_district_and_street_is_valid_and_inside_the_city() -> None:
    city = load_city_geometry().geojson
    for feature in city["features"]:
        result = validate_geometry(feature["geometry"])
        assert result.ok, (feature["properties"]["code"], result.reason, result.detail)
    assert validate_geometry(polygon(INSIDE)).value.area == pytest.approx(0.05 * 0.05)


@pytest.mark.parametrize(("geometry", "reason", "detail"), [
    # the unclosed 2-point ring
    (polygon([[120.05, 30.30], [120.10, 30.35]]), "GEOMETRY_RING_OPEN", "ring [0] is not closed (2 positions)"),
    # four positions, last is not first: shapely would close it without a word
    (polygon(INSIDE[:4]), "GEOMETRY_RING_OPEN", "ring [0] is not closed (4 positions)"),
    (polygon([[120.05, 30.30], [120.10, 30.30], [120.05, 30.30]]), "GEOMETRY_RING_OPEN", "fewer than 4 positions"),
    # a bow tie: the edges cross at (120.075, 30.325)
    (polygon([[120.05, 30.30], [120.10, 30.35], [120.10, 30.30], [120.05, 30.35], [120.05, 30.30]]),
     "GEOMETRY_SELF_INTERSECTION", "Self-intersection[120.075 30.325]"),
    # a hole that lies outside its shell
    (polygon(INSIDE, [[120.20, 30.20], [120.21, 30.20], [120.21, 30.21], [120.20, 30.20]]),
     "GEOMETRY_INVALID", "Hole lies outside shell"),
    ({"type": "LineString", "coordinates": [[120.1, 30.2], [120.1, 30.2]]}, "GEOMETRY_INVALID", "Too few points"),
    # east of the city's box (120.00-120.40), and one straddling its edge
    (polygon([[p[0] + 0.5, p[1]] for p in INSIDE]), "GEOMETRY_OUTSIDE_CITY", "not inside the city"),
    (polygon([[p[0] - 0.07, p[1]] for p in INSIDE]), "GEOMETRY_OUTSIDE_CITY", "not inside the city"),
    ({"type": "Point", "coordinates": [500, 30.2]}, "COORD_RANGE", "Point: the position is outside"),
    ({"type": "Point", "coordinates": [math.nan, 30.2]}, "COORD_RANGE", "outside -180..180"),
    (polygon([[120.05, "30.30"], *INSIDE[1:]]), "GEOMETRY_FORMAT", "position [0][0] is not [longitude, latitude]"),
    ({"type": "Circle", "coordinates": []}, "GEOMETRY_FORMAT", "expected a GeoJSON geometry"),
    ({"type": "MultiPolygon", "coordinates": [[INSIDE], [[[120.2, 30.2], [120.3, 30.3]]]]}, "GEOMETRY_RING_OPEN",
     "ring [1][0]"),
])
def test_each_fault_has_its_reason_code_and_says_where(geometry: dict, reason: str, detail: str) -> None:
    result = validate_geometry(geometry)
    assert (result.ok, result.reason) == (False, reason)
    assert detail in result.detail


def test_a_district_on_the_city_edge_passes_within_the_rounding_tolerance() -> None:
    # the city box's south-west corner, with coordinates rounded half a micro-degree outwards
    edge = [[119.9999995, 30.0999995], [120.05, 30.1], [120.05, 30.15], [120.0, 30.15], [119.9999995, 30.0999995]]
    assert validate_geometry(polygon(edge)).ok
    assert validate_geometry(polygon(edge), inside_city=False).ok
    far = [[p[0] + 1, p[1]] for p in edge]
    assert validate_geometry(polygon(far)).reason == "GEOMETRY_OUTSIDE_CITY"
    assert validate_geometry(polygon(far), inside_city=False).ok
