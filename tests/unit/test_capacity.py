"""The capacity fit and its rendering (citydata.capacity): values computed by hand in each test."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from citydata.capacity import (
    TABLE_BEGIN,
    TABLE_END,
    LinearFit,
    MarkerError,
    Row,
    Series,
    fit_linear,
    render_svg,
    render_table,
    replace_between_markers,
    sum_fits,
)


def test_two_sizes_give_the_line_through_them() -> None:
    fit = fit_linear([(100_000, 128.8), (1_000_000, 443.0)])
    # slope (443.0 - 128.8) / 0.9 = 349.11 s per million; fixed 128.8 - 34.911 = 93.889 s
    assert fit.per_million == pytest.approx(349.111, abs=1e-3)
    assert fit.fixed == pytest.approx(93.889, abs=1e-3)
    assert fit.at(20_000_000) == pytest.approx(93.889 + 20 * 349.111, abs=1e-2)
    assert fit.points == 2 and fit.max_residual_pct is None and not fit.upper_bound


def test_three_sizes_are_least_squares_with_the_worst_residual() -> None:
    # y = 10 + 100 x exactly at 0.1 and 1, 5 s above the line at 0.5
    fit = fit_linear([(100_000, 20.0), (500_000, 65.0), (1_000_000, 110.0)])
    xs, ys = [0.1, 0.5, 1.0], [20.0, 65.0, 110.0]
    mx, my = sum(xs) / 3, sum(ys) / 3
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    assert fit.per_million == pytest.approx(slope) and fit.fixed == pytest.approx(my - slope * mx)
    worst = max(abs(fit.fixed + fit.per_million * x - y) / y * 100 for x, y in zip(xs, ys))
    assert fit.points == 3 and fit.max_residual_pct == pytest.approx(worst)
    assert fit_linear([(1e5, 11.0), (5e5, 15.0), (1e6, 20.0)]).max_residual_pct == pytest.approx(0.0, abs=1e-9)


def test_one_size_is_an_upper_bound_and_bad_input_is_refused() -> None:
    fit = fit_linear([(1_000_000, 842.4)])
    assert (fit.fixed, fit.per_million, fit.upper_bound) == (0.0, 842.4, True)
    assert fit.at(20_000_000) == pytest.approx(16_848.0)
    with pytest.raises(ValueError, match="at least one"):
        fit_linear([])
    with pytest.raises(ValueError, match="two sizes at least, got 2 at 1,000,000"):
        fit_linear([(1_000_000, 1.0), (1_000_000, 2.0)])


def test_a_days_fit_is_the_sum_of_its_stages() -> None:
    total = sum_fits([LinearFit(90.0, 350.0, 2), LinearFit(0.0, 95.0, 1)])
    assert (total.fixed, total.per_million, total.points, total.upper_bound) == (90.0, 445.0, 1, True)


def test_table_has_a_column_per_size_and_marks_what_was_not_measured() -> None:
    rows = [Row("day 1: ingest", {100_000: 128.8, 1_000_000: 443.0}, fit_linear([(1e5, 128.8), (1e6, 443.0)]), "s"),
            Row("day 1: gold", {1_000_000: 95.0}, fit_linear([(1e6, 95.0)]), "s"),
            Row("peak memory", {1_000_000: 2565.0}, fit_linear([(1e6, 2565.0)]), "MB")]
    table = render_table(rows, [100_000, 500_000, 1_000_000], 20_000_000).splitlines()
    assert table[0] == ("|  | 0.1 M measured | 0.5 M measured | 1 M measured | fixed | per million residents | "
                        "expected at 20 M |")
    assert table[1] == "|---|---:|---:|---:|---:|---:|---:|"
    assert table[2] == "| day 1: ingest | 129 s | — | 443 s | 93.9 s | 349 s | 7,076 s (2.0 h) |"
    assert table[3] == "| day 1: gold | — | — | 95.0 s | 0.0 s | 95.0 s | 1,900 s (upper bound: measured at one size) |"
    assert table[4] == ("| peak memory | — | — | 2,565 MB | 0.0 MB | 2,565 MB | 51,300 MB (50 GB) "
                        "(upper bound: measured at one size) |")


def test_svg_is_well_formed_with_points_lines_and_labels() -> None:
    fit = fit_linear([(100_000, 128.8), (1_000_000, 443.0)])
    svg = render_svg([Series("day 1 <all>", [(100_000, 128.8), (1_000_000, 443.0)], fit, "#1f77b4")],
                     20_000_000, "a day's time", "seconds / 1000", y_scale=1000)
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    circles = root.findall(f"{ns}circle")
    assert len(circles) == 2
    texts = [t.text for t in root.findall(f"{ns}text")]
    assert "day 1 &lt;all&gt;" not in texts and "day 1 <all>" in texts  # escaped in the file, text when parsed
    assert "residents (millions)" in texts and "20" in texts
    # the y axis ends at the next 1/2/5 step above 7.076 thousand seconds: 10
    assert "10" in texts
    dashed = [line for line in root.findall(f"{ns}line") if line.get("stroke-dasharray")]
    assert len(dashed) == 1
    # the dashed extrapolation ends at x = 20 M (the plot's right edge) and y = fit at 20 M
    plot_right, plot_top, plot_h = 640 - 20, 40, 360 - 40 - 50
    assert float(dashed[0].get("x2")) == pytest.approx(plot_right)
    assert float(dashed[0].get("y2")) == pytest.approx(plot_top + plot_h - fit.at(20e6) / 1000 / 10 * plot_h, abs=0.1)


def test_generated_part_goes_between_the_markers_and_is_replaced_on_the_next_run() -> None:
    doc = f"# Scale\n\nbefore\n{TABLE_BEGIN}\nold table\n{TABLE_END}\nafter\n"
    once = replace_between_markers(doc, "new table\n")
    assert once == f"# Scale\n\nbefore\n{TABLE_BEGIN}\nnew table\n{TABLE_END}\nafter\n"
    assert replace_between_markers(once, "newer") == once.replace("new table", "newer")
    with pytest.raises(MarkerError, match=re.escape("add both markers")):
        replace_between_markers("# no markers\n", "x")


def test_a_falling_line_is_read_as_a_constant_part() -> None:
    """The release's seconds at 0.1, 0.5 and 1 M residents (bench-scale, 2026-12-07): not a cost that shrinks."""
    fit = fit_linear([(100_000, 0.5), (500_000, 0.1), (1_000_000, 0.1)])
    assert fit.per_million == 0.0
    assert fit.fixed == pytest.approx(0.7 / 3)
    assert fit.at(20_000_000) == pytest.approx(0.7 / 3)
