"""Geometry of the portal's SVG figures: district maps from GeoJSON and bar charts of a key figure.

Only numbers and SVG path data are computed here; the markup is in the templates (`_figures.html`).
The map projection is a local equirectangular one (longitude scaled by the cosine of the mid latitude):
at a city's extent its distortion is far below a pixel, and it needs no projection library. Labels sit
at the area centroid of a district's largest ring (the shoelace formula): shapely, which would offer a
point guaranteed inside, is not in the platform's locked environment, and the districts are compact.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# Sequential blues (ColorBrewer "Blues", 5 classes); NO_DATA for a district without a value.
PALETTE = ("#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c")
NO_DATA = "#d9d9d9"
MAP_WIDTH = 400.0
MAP_PADDING = 8.0


class FigureError(ValueError):
    """A geometry or value the portal cannot draw (names the district or column and the fix)."""


Ring = list[tuple[float, float]]


@dataclass(frozen=True)
class MapArea:
    code: str
    name: str
    path: str  # SVG path data, every ring closed
    label_x: float
    label_y: float
    value: float | None
    value_text: str
    fill: str
    text_dark: bool  # label colour: dark on light fills


@dataclass(frozen=True)
class LegendStep:
    fill: str
    text: str


@dataclass(frozen=True)
class DistrictMap:
    title: str
    unit: str
    width: float
    height: float
    areas: tuple[MapArea, ...]
    legend: tuple[LegendStep, ...]


@dataclass(frozen=True)
class Bar:
    label: str
    short: str  # the label as drawn: long labels cut with an ellipsis (the full one is the bar's tooltip)
    value: float
    value_text: str
    y: float
    width: float


@dataclass(frozen=True)
class BarChart:
    title: str
    unit: str
    width: float
    height: float
    label_width: float
    bar_height: float
    bars: tuple[Bar, ...]
    hidden: int  # labels left out (only the largest are drawn)
    note: str


def polygons_of(geometry: str | Mapping[str, Any], where: str = "") -> list[list[Ring]]:
    """The polygons (each a list of rings of (lon, lat)) of a GeoJSON Polygon or MultiPolygon."""
    geo = json.loads(geometry) if isinstance(geometry, str) else geometry
    kind = geo.get("type") if isinstance(geo, Mapping) else None
    if kind == "Polygon":
        polygons = [geo["coordinates"]]
    elif kind == "MultiPolygon":
        polygons = list(geo["coordinates"])
    else:
        raise FigureError(f"{where or 'geometry'}: a district boundary must be a GeoJSON Polygon or MultiPolygon, "
                          f"not {kind!r}. Fix: check dim_district.geometry_geojson")
    return [[[(float(p[0]), float(p[1])) for p in ring] for ring in polygon] for polygon in polygons]


def ring_area_centroid(ring: Ring) -> tuple[float, float, float]:
    """(signed area, centroid x, centroid y) of a closed or open ring (shoelace formula)."""
    area = cx = cy = 0.0
    points = ring if ring[0] != ring[-1] else ring[:-1]
    for (x0, y0), (x1, y1) in zip(points, points[1:] + points[:1]):
        cross = x0 * y1 - x1 * y0
        area += cross
        cx += (x0 + x1) * cross
        cy += (y0 + y1) * cross
    area /= 2.0
    if area == 0:
        xs, ys = zip(*points)
        return 0.0, sum(xs) / len(xs), sum(ys) / len(ys)
    return area, cx / (6 * area), cy / (6 * area)


def format_number(value: float | int | None, decimals: int | None = None) -> str:
    """12345 -> '12,345'; 3.14159 -> '3.14'; None -> '—'."""
    if value is None:
        return "—"
    if decimals is None:
        decimals = 0 if float(value).is_integer() else 2
    return f"{value:,.{decimals}f}"


def class_breaks(values: Sequence[float], classes: int = len(PALETTE)) -> list[float]:
    """Upper bounds of `classes` equal intervals between the smallest and largest value."""
    low, high = min(values), max(values)
    if high == low:
        return [high] * classes
    step = (high - low) / classes
    return [low + step * (i + 1) for i in range(classes)]


def fill_for(value: float | None, breaks: Sequence[float]) -> str:
    if value is None:
        return NO_DATA
    for i, upper in enumerate(breaks):
        if value <= upper + 1e-9:
            return PALETTE[i]
    return PALETTE[-1]


def district_map(
    districts: Iterable[Mapping[str, Any]],
    values: Mapping[str, float | None],
    *,
    title: str,
    unit: str = "",
) -> DistrictMap | None:
    """A choropleth of the districts (rows with district_code, district_name, geometry_geojson) coloured by
    `values` (district_code -> value); None when no district has a geometry."""
    shapes = []
    for row in districts:
        geometry = row.get("geometry_geojson")
        if not geometry:
            continue
        code = str(row.get("district_code", ""))
        shapes.append((code, str(row.get("district_name") or code),
                       polygons_of(geometry, f"district {code}")))
    if not shapes:
        return None
    points = [p for _, _, polygons in shapes for polygon in polygons for ring in polygon for p in ring]
    lon_min, lon_max = min(p[0] for p in points), max(p[0] for p in points)
    lat_min, lat_max = min(p[1] for p in points), max(p[1] for p in points)
    x_scale = math.cos(math.radians((lat_min + lat_max) / 2))
    extent_x = max((lon_max - lon_min) * x_scale, 1e-9)
    extent_y = max(lat_max - lat_min, 1e-9)
    scale = (MAP_WIDTH - 2 * MAP_PADDING) / extent_x
    height = extent_y * scale + 2 * MAP_PADDING

    def project(lon: float, lat: float) -> tuple[float, float]:
        return (MAP_PADDING + (lon - lon_min) * x_scale * scale, MAP_PADDING + (lat_max - lat) * scale)

    known = [v for v in values.values() if v is not None]
    breaks = class_breaks(known) if known else []
    areas = []
    for code, name, polygons in shapes:
        commands = []
        largest = (0.0, 0.0, 0.0)
        for polygon in polygons:
            for index, ring in enumerate(polygon):
                projected = [project(lon, lat) for lon, lat in ring]
                commands.append("M" + " L".join(f"{x:.1f} {y:.1f}" for x, y in projected) + " Z")
                if index == 0:
                    area, cx, cy = ring_area_centroid(projected)
                    if abs(area) >= abs(largest[0]):
                        largest = (area, cx, cy)
        value = values.get(code)
        fill = fill_for(value, breaks) if breaks else NO_DATA
        areas.append(MapArea(code=code, name=name, path=" ".join(commands), label_x=round(largest[1], 1),
                             label_y=round(largest[2], 1), value=value, value_text=format_number(value), fill=fill,
                             text_dark=fill in (PALETTE[0], PALETTE[1], PALETTE[2], NO_DATA)))
    legend = []
    if known:
        lower = min(known)
        for fill, upper in zip(PALETTE, breaks):
            legend.append(LegendStep(fill, f"{format_number(lower)} – {format_number(upper)}"))
            lower = upper
            if min(known) == max(known):
                break
    if any(v is None for v in (values.get(code) for code, _, _ in shapes)):
        legend.append(LegendStep(NO_DATA, "无数据或已隐藏"))
    return DistrictMap(title=title, unit=unit, width=MAP_WIDTH, height=round(height, 1), areas=tuple(areas),
                       legend=tuple(legend))


def bar_chart(
    pairs: Sequence[tuple[str, float]],
    *,
    title: str,
    unit: str = "",
    note: str = "",
    max_bars: int = 20,
    keep: str = "largest",
    width: float = 400.0,
    bar_height: float = 22.0,
) -> BarChart | None:
    """A horizontal bar chart of (label, value) pairs in their given order: of more than `max_bars`, the largest
    (`keep="largest"`) or the last ones (`keep="last"`, a time series); None when there is nothing to draw."""
    if not pairs:
        return None
    shown = list(pairs)
    if len(shown) > max_bars and keep == "last":
        shown = shown[-max_bars:]
    elif len(shown) > max_bars:
        kept = {id(p) for p in sorted(shown, key=lambda p: p[1], reverse=True)[:max_bars]}
        shown = [p for p in shown if id(p) in kept]
    max_chars = int(width * 0.4 // 13)
    shorts = [label if len(label) <= max_chars else label[: max_chars - 1] + "…" for label, _ in shown]
    label_width = max(max(len(short) for short in shorts) * 13.0 + 8, 48.0)
    value_room = 64.0
    top = max((v for _, v in shown), default=0.0)
    span = width - label_width - value_room
    bars = []
    for index, ((label, value), short) in enumerate(zip(shown, shorts)):
        length = 0.0 if top <= 0 or value <= 0 else span * value / top
        bars.append(Bar(label=label, short=short, value=value, value_text=format_number(value),
                        y=index * (bar_height + 6), width=round(max(length, 0.0), 1)))
    height = len(bars) * (bar_height + 6)
    return BarChart(title=title, unit=unit, width=width, height=height, label_width=label_width,
                    bar_height=bar_height, bars=tuple(bars), hidden=len(pairs) - len(shown), note=note)
