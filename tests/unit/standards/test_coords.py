"""WGS-84 / GCJ-02 / BD-09 transforms."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from citydata.standards import coords


def test_forward_transforms_match_the_published_reference_values():
    # reference values published with the widely used coordTransform implementations
    lon, lat = coords.wgs84_to_gcj02(116.404, 39.915)
    assert lon == pytest.approx(116.41024449916938, abs=1e-12) and lat == pytest.approx(39.91640428150164, abs=1e-12)
    lon, lat = coords.gcj02_to_bd09(116.404, 39.915)
    assert lon == pytest.approx(116.41036949371029, abs=1e-12) and lat == pytest.approx(39.92133699351022, abs=1e-12)


def test_gcj02_is_the_identity_outside_mainland_china():
    assert coords.wgs84_to_gcj02(2.3522, 48.8566) == (2.3522, 48.8566)  # Paris
    assert coords.gcj02_to_wgs84(151.2093, -33.8688) == (151.2093, -33.8688)  # Sydney
    assert not coords.in_mainland_china_box(139.69, 35.69)  # Tokyo


def test_offset_inside_the_city_is_hundreds_of_metres():
    gcj = coords.wgs84_to_gcj02(120.2, 30.25)
    assert 300 < coords.haversine_m(120.2, 30.25, *gcj) < 800


def test_haversine_and_rounding():
    # one degree of latitude on the mean sphere
    assert coords.haversine_m(120.0, 30.0, 120.0, 31.0) == pytest.approx(111195.08, abs=0.05)
    assert coords.haversine_m(120.0, 30.0, 120.0, 30.0) == 0.0
    assert coords.round_point(120.12345649, 30.1234565) == (120.123456, 30.123457)


@pytest.mark.parametrize(("name", "system"),
                         [("WGS-84", "wgs84"), ("GCJ_02", "gcj02"), ("bd09ll", "bd09"), ("Baidu", "bd09")])
def test_system_names(name, system):
    assert coords.normalize_system(name) == system


def test_validate_point():
    assert coords.validate_point("120.2", "30.25").value == (120.2, 30.25)
    assert coords.validate_point(120.2, 30.25, "utm").reason == "COORD_SYSTEM"
    assert coords.validate_point(200, 30, "wgs84").reason == "COORD_RANGE"
    assert coords.validate_point("x", 30).reason == "COORD_RANGE"
    assert coords.validate_point(math.nan, 30).reason == "COORD_RANGE"
    gcj = coords.wgs84_to_gcj02(120.2, 30.25)
    assert coords.validate_point(*gcj, "gcj02").value == (120.2, 30.25)


china = st.tuples(st.floats(min_value=73.7, max_value=134.9), st.floats(min_value=18.0, max_value=53.5))


@given(china)
def test_gcj02_round_trip_under_one_metre(point):
    back = coords.gcj02_to_wgs84(*coords.wgs84_to_gcj02(*point))
    assert coords.haversine_m(*point, *back) < 1.0


@given(china)
def test_bd09_round_trip_under_one_metre(point):
    back = coords.to_wgs84(*coords.from_wgs84(*point, "bd09"), "bd09")
    assert coords.haversine_m(*point, *back) < 1.0
    assert coords.haversine_m(*point, *coords.convert(*coords.convert(*point, "wgs84", "bd09"), "bd09", "wgs84")) < 1.0
