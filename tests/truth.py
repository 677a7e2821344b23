"""Compare a gold mart with a truth file of the simulated city: a plain multiset equality of rows.

The truth CSV's header names the columns and their order; the mart is read at its current Delta
version with exactly those columns. Values compare as text, except that a value that is a number on
both sides compares as a decimal (`3.5` equals `3.50`: the same number, not a tolerance) and a null
equals the truth's empty field.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def _value(raw: Any) -> Any:
    text = "" if raw is None else str(raw)
    return Decimal(text) if NUMBER.match(text) else text


def truth_rows(path: Path) -> tuple[list[str], Counter]:
    """The truth file's header and its rows as a multiset of normalized tuples."""
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        return header, Counter(tuple(_value(v) for v in row) for row in reader)


def mart_rows(lakehouse: Any, mart: str, columns: list[str]) -> Counter:
    """The gold mart's rows, projected on `columns`, as a multiset of normalized tuples."""
    rows = lakehouse.read("gold", mart).select(*columns).collect()
    return Counter(tuple(_value(v) for v in row) for row in rows)


def mart_differences(lakehouse: Any, mart: str, truth_file: Path, limit: int = 10) -> list[str]:
    """Lines describing how the mart differs from the truth file (empty when equal)."""
    header, expected = truth_rows(truth_file)
    actual = mart_rows(lakehouse, mart, header)
    missing = sorted((expected - actual).elements(), key=str)
    extra = sorted((actual - expected).elements(), key=str)
    if not missing and not extra:
        return []
    lines = [f"gold.{mart} != {truth_file.name} ({header}): {len(missing)} truth rows missing, "
             f"{len(extra)} extra mart rows"]
    lines += [f"  missing {row}" for row in missing[:limit]]
    lines += [f"  extra   {row}" for row in extra[:limit]]
    return lines
