"""Which numbers a dataset's chart and map show: counts summed by label, other figures one series at a time."""

from __future__ import annotations

from citydata.portal.content import Dataset, Field, draw_figures


def _dataset(fields: list[tuple[str, str, str]], rows: list[dict[str, str]], key_figure: dict[str, str]) -> Dataset:
    specs = [Field(name=n, type=t, type_label=t, title=title, description="", classification="public", note="")
             for n, t, title in fields]
    return Dataset(key="gold/x", name="x", item={"key_figure": key_figure}, pin={}, exported=True, fields=specs,
                   columns=[f.name for f in specs], rows=rows)


def test_counts_are_summed_by_label_and_suppressed_cells_left_out() -> None:
    rows = [{"district_code": "339901", "section_name": "制造业", "active": "7"},
            {"district_code": "339902", "section_name": "制造业", "active": "*"},
            {"district_code": "339902", "section_name": "批发和零售业", "active": "12"}]
    dataset = _dataset([("district_code", "string", "区县代码"), ("section_name", "string", "门类"),
                        ("active", "integer", "存续法人数")], rows,
                       {"column": "active", "label_column": "section_name", "title": "存续法人数", "unit": "户"})
    districts = [{"district_code": c, "district_name": c, "geometry_geojson":
                  {"type": "Polygon", "coordinates": [[[i, 0], [i + 1, 0], [i + 1, 1], [i, 1], [i, 0]]]}}
                 for i, c in enumerate(("339901", "339902"))]
    draw_figures(dataset, districts)
    assert dataset.chart is not None
    assert [(b.label, b.value) for b in dataset.chart.bars] == [("制造业", 7.0), ("批发和零售业", 12.0)]
    assert dataset.chart.note == "按门类汇总；1 个单元格按小样本规则隐藏（*），未计入"
    assert dataset.map is not None and [a.value for a in dataset.map.areas] == [7.0, 12.0]


def test_an_indicator_in_mixed_units_is_drawn_for_one_series() -> None:
    rows = [{"period": p, "division_name": d, "indicator": i, "unit": u, "value": v}
            for p, d, i, u, v in [("2023", "东湖区", "地区生产总值", "亿元", "10"),
                                  ("2024", "东湖区", "地区生产总值", "亿元", "11"),
                                  ("2024", "西山区", "地区生产总值", "亿元", "9"),
                                  ("2024", "东湖区", "常住人口", "万人", "50"),
                                  ("2024", "西山区", "常住人口", "万人", "40")]]
    dataset = _dataset([("period", "string", "统计期"), ("division_name", "string", "区划名称"),
                        ("indicator", "string", "指标"), ("unit", "string", "计量单位"),
                        ("value", "decimal", "指标值")], rows,
                       {"column": "value", "label_column": "division_name", "title": "指标值", "unit": "见计量单位"})
    draw_figures(dataset, [])
    assert dataset.chart is not None
    # the latest period, the first indicator of it; never 地区生产总值 + 常住人口 added up
    assert [(b.label, b.value) for b in dataset.chart.bars] == [("东湖区", 11.0), ("西山区", 9.0)]
    assert (dataset.chart.title, dataset.chart.unit) == ("指标值：2024 · 地区生产总值", "亿元")


def test_a_time_series_keeps_its_order_and_latest_periods() -> None:
    rows = [{"month": f"{2023 + m // 12}-{m % 12 + 1:02d}", "entity_type": t, "registrations": "2"}
            for m in range(24) for t in ("企业", "个体")]
    dataset = _dataset([("month", "string", "月份"), ("entity_type", "string", "类型"),
                        ("registrations", "integer", "设立登记数")], list(reversed(rows)),
                       {"column": "registrations", "label_column": "month", "title": "设立登记数", "unit": "户"})
    draw_figures(dataset, [])
    assert dataset.chart is not None and dataset.chart.hidden == 4
    assert [b.label for b in dataset.chart.bars] == [f"{2023 + m // 12}-{m % 12 + 1:02d}" for m in range(4, 24)]
    assert {b.value for b in dataset.chart.bars} == {4.0} and dataset.chart_note == "仅显示最近的 20 期"


def test_a_figure_whose_every_cell_is_suppressed_says_so() -> None:
    rows = [{"age_band": "0-4", "residents": "*"}, {"age_band": "5-9", "residents": "*"}]
    dataset = _dataset([("age_band", "string", "年龄组"), ("residents", "integer", "户籍人口")], rows,
                       {"column": "residents", "label_column": "age_band", "title": "户籍人口", "unit": "人"})
    draw_figures(dataset, [])
    assert dataset.chart is None and dataset.chart_note == "关键指标“户籍人口”的数值均已按小样本规则隐藏（*），不作图。"
