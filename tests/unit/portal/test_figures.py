"""The SVG geometry of the portal's maps and charts, on shapes whose projection is known by hand."""

from __future__ import annotations

import json
import math

import pytest

from citydata.portal.figures import (
    NO_DATA,
    PALETTE,
    FigureError,
    bar_chart,
    district_map,
    format_number,
    polygons_of,
    ring_area_centroid,
)


def test_map_of_a_geojson_polygon() -> None:
    # a 0.2° (lon) x 0.1° (lat) rectangle at the equator: the projection keeps its 2:1 shape
    rectangle = {"type": "Polygon", "coordinates": [[[0, 0], [0.2, 0], [0.2, 0.1], [0, 0.1], [0, 0]]]}
    drawn = district_map([{"district_code": "339901", "district_name": "东湖区",
                           "geometry_geojson": json.dumps(rectangle)}], {"339901": 7}, title="人口", unit="人")
    assert drawn is not None and drawn.width == 400
    area = drawn.areas[0]
    # 384 units for 0.2° across (400 - 2 x 8 padding), so 0.1° is 192 high; north is up
    assert area.path == "M8.0 200.0 L392.0 200.0 L392.0 8.0 L8.0 8.0 L8.0 200.0 Z"
    assert drawn.height == 208.0
    assert (area.label_x, area.label_y) == (200.0, 104.0)
    assert (area.name, area.value_text, area.fill) == ("东湖区", "7", PALETTE[0])


def test_longitude_is_scaled_by_latitude() -> None:
    # at 60° N a degree of longitude is half a degree of latitude: a 0.2° x 0.1° box draws square
    box = {"type": "Polygon", "coordinates": [[[10, 60], [10.2, 60], [10.2, 60.1], [10, 60.1], [10, 60]]]}
    drawn = district_map([{"district_code": "1", "district_name": "a", "geometry_geojson": box}], {}, title="t")
    assert drawn is not None
    assert math.isclose(drawn.height - 16, 384 * 0.1 / (0.2 * math.cos(math.radians(60.05))), rel_tol=1e-3)
    assert drawn.areas[0].fill == NO_DATA and drawn.legend[-1].text == "无数据或已隐藏"


def test_multipolygon_holes_and_classes() -> None:
    square = [[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]
    hole = [[0.4, 0.4], [0.6, 0.4], [0.6, 0.6], [0.4, 0.6], [0.4, 0.4]]
    far = [[2, 0], [2.5, 0], [2.5, 0.5], [2, 0.5], [2, 0]]
    rows = [{"district_code": "a", "district_name": "甲", "geometry_geojson":
             {"type": "MultiPolygon", "coordinates": [[square, hole], [far]]}},
            {"district_code": "b", "district_name": "乙", "geometry_geojson": {"type": "Polygon",
                                                                            "coordinates": [far]}},
            {"district_code": "c", "district_name": "丙", "geometry_geojson": None}]  # no boundary: not drawn
    drawn = district_map(rows, {"a": 10, "b": 60}, title="t")
    assert drawn is not None and [a.code for a in drawn.areas] == ["a", "b"]
    assert drawn.areas[0].path.count("M") == 3  # outer ring, hole (even-odd fill), second polygon
    assert (drawn.areas[0].fill, drawn.areas[1].fill) == (PALETTE[0], PALETTE[-1])
    assert [s.text for s in drawn.legend] == ["10 – 20", "20 – 30", "30 – 40", "40 – 50", "50 – 60"]
    # label of 甲 at the centre of its largest ring (the unit square), not of the whole MultiPolygon
    area_of_unit = drawn.areas[0]
    assert area_of_unit.label_x == pytest.approx(8 + 384 / 2.5 * 0.5, abs=0.1)


def test_no_geometry_and_bad_geometry() -> None:
    assert district_map([{"district_code": "a", "geometry_geojson": ""}], {}, title="t") is None
    with pytest.raises(FigureError, match="district 339901.*Polygon or MultiPolygon, not 'Point'"):
        polygons_of('{"type": "Point", "coordinates": [0, 0]}', "district 339901")


def test_ring_centroid() -> None:
    area, x, y = ring_area_centroid([(0, 0), (4, 0), (4, 2), (0, 2)])
    assert (abs(area), x, y) == (8.0, 2.0, 1.0)


def test_bar_chart_keeps_the_largest_in_order() -> None:
    pairs = [(f"第{i}街道很长很长很长的名字", float(i)) for i in range(25)]
    chart = bar_chart(pairs, title="人口", unit="人", max_bars=20)
    assert chart is not None and chart.hidden == 5
    assert [b.value for b in chart.bars] == [float(i) for i in range(5, 25)]
    longest = chart.bars[-1]
    assert longest.width == pytest.approx(chart.width - chart.label_width - 64)
    assert longest.short.endswith("…") and len(longest.short) <= 12 and longest.label == pairs[-1][0]
    assert bar_chart([], title="t") is None


def test_format_number() -> None:
    assert [format_number(v) for v in (None, 1234567, 3.14159, 2.0)] == ["—", "1,234,567", "3.14", "2"]
