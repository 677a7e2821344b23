"""Capacity planning from measured runs: fit each stage's time and the peak memory of a day as fixed + per-row
in the number of residents, extrapolate to a target city, and render the table and plot of docs/scale.md.

Why linear (fixed + per-row): a day's work is per-row (every delivered row is parsed, validated, keyed and
written; each mart aggregates its inputs once) plus a fixed part that does not follow the rows (starting
Python workers, ~400 dbt nodes of per-query latency, the gate's few queries per dataset: docs/benchmarks.md
measured dbt's build at ~80 s for 500 residents and for a million). Sorts and shuffles are n log n, but
within partitions whose count grows with the data, so they stay near-linear over one order of magnitude; a
term that is not linear shows as a residual when three sizes are fitted (`LinearFit.max_residual_pct`), which
is why `make bench-scale` measures three. Pure functions: benchmarks/bench_scale.py measures and writes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from html import escape

MILLION = 1_000_000
TABLE_BEGIN = "<!-- bench-scale:begin (written by `make bench-scale`; edits between the markers are replaced) -->"
TABLE_END = "<!-- bench-scale:end -->"


class MarkerError(ValueError):
    """The document lacks the markers the generated part goes between."""


@dataclass(frozen=True)
class LinearFit:
    """y = fixed + per_million * residents / 1e6, fitted on `points` sizes.

    One size cannot separate the two terms: the fit is then all per-row (fixed 0), an upper bound for
    anything larger (`upper_bound` True)."""

    fixed: float
    per_million: float
    points: int
    max_residual_pct: float | None = None

    @property
    def upper_bound(self) -> bool:
        return self.points == 1

    def at(self, residents: float) -> float:
        return self.fixed + self.per_million * residents / MILLION


def fit_linear(points: Sequence[tuple[float, float]]) -> LinearFit:
    """Least-squares fit of (residents, value) points; one point: all per-row (an upper bound). A falling line
    is read as a constant (its mean): a day's time or memory does not shrink as the city grows, so a negative
    slope is the noise of a part too small to measure per row (the release's 0.1-0.5 s).

    Raises ValueError for no points, or for several points at a single size (nothing to fit a slope on)."""
    if not points:
        raise ValueError("fit_linear needs at least one (residents, value) point")
    xs = [x / MILLION for x, _ in points]
    ys = [y for _, y in points]
    if len(points) == 1:
        return LinearFit(fixed=0.0, per_million=ys[0] / xs[0], points=1)
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((x - mean_x) ** 2 for x in xs)
    if sxx == 0:
        raise ValueError(f"fit_linear needs points at two sizes at least, got {len(points)} at {points[0][0]:,.0f}")
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / sxx
    if slope < 0:
        slope = 0.0
    fixed = mean_y - slope * mean_x
    sizes = len(set(xs))
    # with two sizes the line passes through both: a residual says something only from three on
    residuals = [abs(fixed + slope * x - y) / y * 100 for x, y in zip(xs, ys, strict=True) if y]
    return LinearFit(fixed=fixed, per_million=slope, points=sizes,
                     max_residual_pct=max(residuals) if sizes > 2 and residuals else None)


def sum_fits(fits: Iterable[LinearFit]) -> LinearFit:
    """The fit of a sum of quantities (a day's total from its stages): linear terms add; an upper bound if any
    part is one."""
    fits = list(fits)
    return LinearFit(fixed=sum(f.fixed for f in fits), per_million=sum(f.per_million for f in fits),
                     points=min(f.points for f in fits) if fits else 0)


@dataclass(frozen=True)
class Row:
    """One line of the table: a quantity measured at some sizes and its fit."""

    label: str
    measured: Mapping[int, float]  # residents -> value
    fit: LinearFit
    unit: str  # "s" or "MB"


def _value(value: float, unit: str) -> str:
    if unit == "s" and value >= 3600:
        return f"{value:,.0f} s ({value / 3600:.1f} h)"
    if unit == "MB" and value >= 10_000:
        return f"{value:,.0f} MB ({value / 1024:.0f} GB)"
    return f"{value:,.1f} {unit}" if value < 100 else f"{value:,.0f} {unit}"


def render_table(rows: Sequence[Row], sizes: Sequence[int], target: int) -> str:
    """Markdown: one column per measured size ('—' where not measured), the fit and the value at `target`."""
    head = ["", *[f"{s / MILLION:g} M measured" for s in sizes], "fixed", "per million residents",
            f"expected at {target / MILLION:g} M"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" + "---:|" * (len(head) - 1)]
    for row in rows:
        measured = [_value(row.measured[s], row.unit) if s in row.measured else "—" for s in sizes]
        fit = row.fit
        expected = _value(fit.at(target), row.unit)
        if fit.upper_bound:
            expected += " (upper bound: measured at one size)"
        if fit.max_residual_pct is not None:
            expected += f" (fit within {fit.max_residual_pct:.0f} %)"
        cells = [row.label, *measured, _value(fit.fixed, row.unit), _value(fit.per_million, row.unit), expected]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


@dataclass(frozen=True)
class Series:
    """A line of the plot: measured points and the fit drawn from 0 to the target."""

    label: str
    points: Sequence[tuple[int, float]]
    fit: LinearFit
    color: str


def _nice_ceiling(value: float) -> float:
    """The next 1, 2 or 5 times a power of ten at or above `value` (axis maximum)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= value)


# Written by hand rather than with matplotlib: matplotlib is not in the lock, and it would bring six packages
# (matplotlib, fonttools, pillow, kiwisolver, contourpy, cycler: 25.6 MB of wheels for Python 3.11, measured with
# `pip download matplotlib` on 2026-12-07) into every install of the platform for two plots of straight lines.
def render_svg(series: Sequence[Series], target: int, title: str, y_label: str, y_scale: float = 1.0,
               width: int = 640, height: int = 360) -> str:
    """A line plot as SVG text: residents (millions) across, the value (divided by `y_scale`) up; measured
    points as dots, each fit as a line (dashed beyond the largest measured size)."""
    left, right, top, bottom = 70, 20, 40, 50
    plot_w, plot_h = width - left - right, height - top - bottom
    x_max = target / MILLION
    y_max = _nice_ceiling(max([s.fit.at(target) / y_scale for s in series]
                              + [y / y_scale for s in series for _, y in s.points] + [0.0]))

    def px(x: float) -> float:
        return left + x / x_max * plot_w

    def py(y: float) -> float:
        return top + plot_h - y / y_max * plot_h

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="{width / 2:.0f}" y="22" text-anchor="middle" font-size="14">{escape(title)}</text>']
    for i in range(6):  # grid and y ticks
        y = y_max * i / 5
        out.append(f'<line x1="{left}" y1="{py(y):.1f}" x2="{left + plot_w}" y2="{py(y):.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{left - 6}" y="{py(y) + 4:.1f}" text-anchor="end">{y:g}</text>')
    for i in range(5):  # x ticks
        x = x_max * i / 4
        out.append(f'<text x="{px(x):.1f}" y="{top + plot_h + 18}" text-anchor="middle">{x:g}</text>')
    out.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="black"/>')
    out.append(f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="black"/>')
    out.append(f'<text x="{left + plot_w / 2:.0f}" y="{height - 10}" text-anchor="middle">'
               "residents (millions)</text>")
    out.append(f'<text x="16" y="{top + plot_h / 2:.0f}" text-anchor="middle" '
               f'transform="rotate(-90 16 {top + plot_h / 2:.0f})">{escape(y_label)}</text>')
    for n, s in enumerate(series):
        measured_max = max((x for x, _ in s.points), default=0) / MILLION
        solid = [(0.0, s.fit.at(0)), (measured_max, s.fit.at(measured_max * MILLION))]
        dashed = [solid[1], (x_max, s.fit.at(target))]
        for (x1, y1), (x2, y2), dash in ((*solid, ""), (*dashed, ' stroke-dasharray="6 4"')):
            out.append(f'<line x1="{px(x1):.1f}" y1="{py(y1 / y_scale):.1f}" x2="{px(x2):.1f}" '
                       f'y2="{py(y2 / y_scale):.1f}" stroke="{s.color}" stroke-width="2"{dash}/>')
        for x, y in s.points:
            out.append(f'<circle cx="{px(x / MILLION):.1f}" cy="{py(y / y_scale):.1f}" r="4" fill="{s.color}"/>')
        legend_y = top + 14 + 16 * n
        out.append(f'<line x1="{left + 12}" y1="{legend_y - 4}" x2="{left + 32}" y2="{legend_y - 4}" '
                   f'stroke="{s.color}" stroke-width="2"/>')
        out.append(f'<text x="{left + 38}" y="{legend_y}">{escape(s.label)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def replace_between_markers(document: str, generated: str, begin: str = TABLE_BEGIN, end: str = TABLE_END) -> str:
    """`document` with the text between the markers replaced by `generated` (the markers kept)."""
    start, stop = document.find(begin), document.find(end)
    if start < 0 or stop < start:
        raise MarkerError(f"the document has no {begin!r} ... {end!r} pair to write the generated part between; "
                          "add both markers on lines of their own where the table belongs")
    return document[: start + len(begin)] + "\n" + generated.strip("\n") + "\n" + document[stop:]
