"""Small-cell suppression for published aggregates, with complementary suppression.

Every count under the threshold (default 5 persons) is replaced by SUPPRESSED. Then, along every
dimension, each line of cells (the cells that share all other group values, i.e. what one marginal
total adds up) that holds suppressed cells must hold at least two, whose true counts add up to at
least the threshold; otherwise the next-smallest published cell of that line is suppressed too.
Repeated until stable, so no published total minus published cells reveals a suppressed count.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

SUPPRESSED = "*"  # the marker published in place of a suppressed count
DEFAULT_THRESHOLD = 5


@dataclass(frozen=True)
class Suppression:
    """Why a row's count is suppressed: 'primary' (under the threshold) or 'complementary'."""

    index: int
    kind: str


def suppression_plan(
    rows: Sequence[Mapping[str, Any]], count_field: str, group_fields: Sequence[str],
    threshold: int = DEFAULT_THRESHOLD,
) -> list[Suppression]:
    """Which rows to suppress and why, in row order (rows are cells of one table, one per group)."""
    counts = [int(row[count_field]) for row in rows]
    keys = [tuple(row[field] for field in group_fields) for row in rows]
    if len(set(keys)) != len(keys):
        raise ValueError(f"rows must be one per group of {list(group_fields)}: duplicate groups found")
    kinds = {i: "primary" for i, count in enumerate(counts) if count < threshold}
    # lines along dimension d: cells equal on every other group field (all cells if one dimension)
    lines: list[list[int]] = []
    for d in range(len(group_fields) or 1):
        by_rest: dict[tuple[Any, ...], list[int]] = {}
        for i, key in enumerate(keys):
            by_rest.setdefault(key[:d] + key[d + 1:], []).append(i)
        lines.extend(by_rest.values())
    changed = True
    while changed:
        changed = False
        for line in lines:
            hidden = [i for i in line if i in kinds]
            if not hidden:
                continue
            shown = sorted((i for i in line if i not in kinds), key=lambda i: (counts[i], i))
            while shown and (len(hidden) < 2 or sum(counts[i] for i in hidden) < threshold):
                pick = shown.pop(0)
                kinds[pick] = "complementary"
                hidden.append(pick)
                changed = True
    return [Suppression(i, kinds[i]) for i in sorted(kinds)]


def suppress_small_cells(
    rows: Iterable[Mapping[str, Any]], count_field: str, group_fields: Sequence[str],
    threshold: int = DEFAULT_THRESHOLD, marker: Any = SUPPRESSED,
) -> list[dict[str, Any]]:
    """Copies of the rows with suppressed counts replaced by `marker` (inputs are not modified)."""
    materialized = [dict(row) for row in rows]
    for item in suppression_plan(materialized, count_field, group_fields, threshold):
        materialized[item.index][count_field] = marker
    return materialized


def suppress_wide_table(
    rows: Iterable[Mapping[str, Any]], key_fields: Sequence[str], count_fields: Sequence[str],
    total_field: str | None = None, threshold: int = DEFAULT_THRESHOLD, marker: Any = SUPPRESSED,
) -> list[dict[str, Any]]:
    """Suppression for a wide table (one row per key, one column per category, e.g. residents / male /
    female by district): the count columns are cells of a (key × column) table, protected along rows
    (whose sums are the totals) and along columns; the total column, if any, is protected as a
    one-dimensional table of its own."""
    materialized = [dict(row) for row in rows]
    long_cells = [
        {"_key": tuple(row[k] for k in key_fields), "_column": column, "_count": row[column]}
        for row in materialized for column in count_fields
    ]
    for item in suppression_plan(long_cells, "_count", ["_key", "_column"], threshold):
        materialized[item.index // len(count_fields)][count_fields[item.index % len(count_fields)]] = marker
    if total_field is not None:
        totals = [{"_key": tuple(row[k] for k in key_fields), "_count": row[total_field]} for row in materialized]
        for item in suppression_plan(totals, "_count", ["_key"], threshold):
            materialized[item.index][total_field] = marker
    return materialized
