"""Coordinate systems: WGS-84 (stored), GCJ-02 (Chinese national obfuscation), BD-09 (Baidu).

The forward transforms are the standard published ones (Krasovsky ellipsoid offsets for GCJ-02,
the x_pi rotation for BD-09). GCJ-02 applies only inside mainland China's bounding area; outside it
is the identity. Inverses are solved iteratively so a round trip stays well under 1 m.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal

from citydata.standards.result import ValidationResult, failed, passed

SYSTEMS = ("wgs84", "gcj02", "bd09")

_A = 6378245.0  # Krasovsky 1940 semi-major axis used by GCJ-02
_EE = 0.00669342162296594323  # its eccentricity squared
_X_PI = math.pi * 3000.0 / 180.0
EARTH_RADIUS_M = 6371008.8  # mean Earth radius (IUGG)
_MICRO = Decimal("0.000001")

Point = tuple[float, float]


def in_mainland_china_box(lon: float, lat: float) -> bool:
    """The rectangle in which GCJ-02 offsets apply (the bounds the published transforms use)."""
    return 72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271


def _offset_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _offset_lon(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


def wgs84_to_gcj02(lon: float, lat: float) -> Point:
    if not in_mainland_china_box(lon, lat):
        return lon, lat
    d_lat = _offset_lat(lon - 105.0, lat - 35.0)
    d_lon = _offset_lon(lon - 105.0, lat - 35.0)
    rad_lat = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(rad_lat) ** 2
    sqrt_magic = math.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * math.pi)
    d_lon = (d_lon * 180.0) / (_A / sqrt_magic * math.cos(rad_lat) * math.pi)
    return lon + d_lon, lat + d_lat


def gcj02_to_bd09(lon: float, lat: float) -> Point:
    z = math.sqrt(lon * lon + lat * lat) + 0.00002 * math.sin(lat * _X_PI)
    theta = math.atan2(lat, lon) + 0.000003 * math.cos(lon * _X_PI)
    return z * math.cos(theta) + 0.0065, z * math.sin(theta) + 0.006


def _bd09_to_gcj02_approx(lon: float, lat: float) -> Point:
    x, y = lon - 0.0065, lat - 0.006
    z = math.sqrt(x * x + y * y) - 0.00002 * math.sin(y * _X_PI)
    theta = math.atan2(y, x) - 0.000003 * math.cos(x * _X_PI)
    return z * math.cos(theta), z * math.sin(theta)


def _invert(forward: Callable[[float, float], Point], lon: float, lat: float, start: Point) -> Point:
    """Solve forward(x) = (lon, lat) by fixed-point iteration (the offsets vary slowly)."""
    x, y = start
    for _ in range(50):
        fx, fy = forward(x, y)
        dx, dy = fx - lon, fy - lat
        x, y = x - dx, y - dy
        if abs(dx) < 1e-11 and abs(dy) < 1e-11:
            break
    return x, y


def gcj02_to_wgs84(lon: float, lat: float) -> Point:
    if not in_mainland_china_box(lon, lat):
        return lon, lat
    return _invert(wgs84_to_gcj02, lon, lat, (lon, lat))


def bd09_to_gcj02(lon: float, lat: float) -> Point:
    return _invert(gcj02_to_bd09, lon, lat, _bd09_to_gcj02_approx(lon, lat))


def wgs84_to_bd09(lon: float, lat: float) -> Point:
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: float, lat: float) -> Point:
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


_ALIASES = {"wgs84": "wgs84", "gcj02": "gcj02", "bd09": "bd09", "bd09ll": "bd09", "baidu": "bd09",
            "gps": "wgs84", "epsg4326": "wgs84", "mars": "gcj02"}


def normalize_system(system: str) -> str:
    """'wgs84' | 'gcj02' | 'bd09' from common spellings (WGS-84, GCJ_02, bd09ll …); ValueError otherwise."""
    key = "".join(char for char in str(system).lower() if char.isalnum())
    if key not in _ALIASES:
        raise ValueError(f"unknown coordinate system {system!r}: expected one of {SYSTEMS}")
    return _ALIASES[key]


_TO_WGS84 = {"wgs84": lambda lon, lat: (lon, lat), "gcj02": gcj02_to_wgs84, "bd09": bd09_to_wgs84}
_FROM_WGS84 = {"wgs84": lambda lon, lat: (lon, lat), "gcj02": wgs84_to_gcj02, "bd09": wgs84_to_bd09}


def to_wgs84(lon: float, lat: float, system: str) -> Point:
    """Convert a point from `system` (wgs84/gcj02/bd09) to WGS-84 (unrounded)."""
    return _TO_WGS84[normalize_system(system)](lon, lat)


def from_wgs84(lon: float, lat: float, system: str) -> Point:
    """Convert a WGS-84 point into `system` (what a map source would deliver)."""
    return _FROM_WGS84[normalize_system(system)](lon, lat)


def convert(lon: float, lat: float, source: str, target: str) -> Point:
    return from_wgs84(*to_wgs84(lon, lat, source), target)


def round6(value: float) -> float:
    """Six decimal places (~0.1 m), the stored precision; half-up on the decimal written form, so
    30.1234565 -> 30.123457 (plain round() works on the binary value and may go down)."""
    return float(Decimal(repr(float(value))).quantize(_MICRO, rounding=ROUND_HALF_UP))


def round_point(lon: float, lat: float) -> Point:
    return round6(lon), round6(lat)


def haversine_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres on the mean-radius sphere."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def validate_point(lon: float | str | None, lat: float | str | None, system: str = "wgs84") -> ValidationResult:
    """Parse, range-check and convert a point; value is the WGS-84 (lon, lat) rounded to 6 places.

    Reasons: COORD_SYSTEM, COORD_RANGE. (Whether it lies in the city is geo.locate's job.)
    """
    try:
        source = normalize_system(system)
    except ValueError as error:
        return failed("COORD_SYSTEM", None, str(error))
    try:
        x, y = float(lon), float(lat)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return failed("COORD_RANGE", None, "longitude/latitude are not numbers")
    if not (math.isfinite(x) and math.isfinite(y) and -180 <= x <= 180 and -90 <= y <= 90):
        return failed("COORD_RANGE", (x, y), "longitude must be -180..180 and latitude -90..90")
    return passed(round_point(*_TO_WGS84[source](x, y)))
