"""Point in polygon and the city's geometry."""

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from citydata.standards.divisions import load_divisions
from citydata.standards.geo import load_city_geometry, locate, point_in_polygon

SQUARE_WITH_HOLE = [
    [(0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0), (0.0, 0.0)],
    [(4.0, 4.0), (6.0, 4.0), (6.0, 6.0), (4.0, 6.0), (4.0, 4.0)],
]


def test_point_in_polygon_with_hole():
    assert point_in_polygon(1, 1, SQUARE_WITH_HOLE)
    assert not point_in_polygon(5, 5, SQUARE_WITH_HOLE)  # in the hole
    assert not point_in_polygon(11, 5, SQUARE_WITH_HOLE)
    assert point_in_polygon(7, 5, SQUARE_WITH_HOLE)
    concave = [[(0, 0), (4, 0), (4, 4), (2, 1), (0, 4)]]  # a notch between x=1..3 above y=1
    assert point_in_polygon(2, 0.5, concave) and not point_in_polygon(2, 2, concave)


def test_geometry_matches_the_current_divisions():
    geometry, table = load_city_geometry(), load_divisions()
    assert geometry.city_code == table.city_code
    assert sorted(geometry.districts) == [d.code for d in table.districts()]
    assert sorted(geometry.streets) == sorted(s.code for s in table.streets())
    for code, area in geometry.streets.items():
        assert area.parent == table.district_of(code) and area.name == table.name(code)
    assert geometry.boundary.bbox == (120.0, 30.1, 120.4, 30.4)


def test_locate_known_points_and_outside():
    assert locate(120.2, 30.3).value == ("339902", "339902003")
    assert locate(120.05, 30.15).value[0] == "339904"
    assert locate(120.35, 30.15).value[0] == "339905"  # the former 新港区 area
    outside = locate(120.5, 30.3)
    assert (outside.ok, outside.reason) == (False, "GEO_OUTSIDE_CITY")
    assert locate(120.4, 30.2).reason == "GEO_OUTSIDE_CITY"  # east edge is outside, west edge inside
    assert locate(120.0, 30.2).ok


@settings(max_examples=200)
@given(st.floats(min_value=120.0, max_value=120.399999), st.floats(min_value=30.1, max_value=30.399999))
def test_every_point_in_the_box_gets_exactly_one_street(lon, lat):
    geometry = load_city_geometry()
    result = geometry.locate(lon, lat)
    assert result.ok
    district, street = result.value
    assert street.startswith(district)
    assert sum(area.contains(lon, lat) for area in geometry.streets.values()) == 1


def test_random_points_fall_in_the_requested_street():
    geometry, rng = load_city_geometry(), random.Random(7)
    for code in geometry.streets:
        for _ in range(20):
            lon, lat = geometry.random_point_in(code, rng)
            assert locate(lon, lat).value[1] == code
            assert (lon, lat) == (round(lon, 6), round(lat, 6))
    # a retired street samples inside its successor; the same seed gives the same points
    lon, lat = geometry.random_point_in("339906002", random.Random(1))
    assert locate(lon, lat).value == ("339905", "339905006")
    assert geometry.random_point_in("339906002", random.Random(1)) == (lon, lat)
    assert locate(*geometry.random_point(random.Random(3))).ok
