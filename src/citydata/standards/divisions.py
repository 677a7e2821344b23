"""The simulated city's administrative divisions (GB/T 2260 + 9-digit statistical street codes).

A shipped, versioned seed table (`data/divisions.csv`): one row per code and validity period.
Divisions are merged and renamed over time; history must still resolve, so every code that ever
existed stays in the table with its validity dates and, when retired, its successor.

The city: 示范市 (339900, a fictional prefecture of 浙江省 33), districts 339901–339906; 新港区
(339906) merged into 中和区 (339905) on 2021-07-01, its streets renumbered under 339905; street
339902003 renamed 钱塘街道 → 文澜街道 on 2019-01-01.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from importlib import resources

from citydata.standards.result import ValidationResult, failed, passed

LEVELS = ("province", "prefecture", "district", "street")
DATA_FILE = "divisions.csv"


@dataclass(frozen=True)
class Division:
    """One version of a division: its name and level during [valid_from, valid_to] (inclusive)."""

    code: str
    name: str
    level: str
    parent: str | None
    valid_from: date
    valid_to: date | None  # None: still valid
    successor: str | None  # the code that replaced this one when it was retired

    def valid_at(self, at: date) -> bool:
        return self.valid_from <= at and (self.valid_to is None or at <= self.valid_to)

    @property
    def current(self) -> bool:
        return self.valid_to is None


class DivisionTable:
    """Lookup over every version of every division code of the city."""

    def __init__(self, rows: tuple[Division, ...], city_code: str) -> None:
        self.rows = rows
        self.city_code = city_code
        by_code: dict[str, list[Division]] = {}
        for row in rows:
            by_code.setdefault(row.code, []).append(row)
        self._by_code = {code: tuple(sorted(v, key=lambda r: r.valid_from)) for code, v in by_code.items()}

    @property
    def city_name(self) -> str:
        return self.name(self.city_code)

    def versions(self, code: str) -> tuple[Division, ...]:
        """Every version of a code, oldest first (empty when the code never existed)."""
        return self._by_code.get(str(code).strip(), ())

    def get(self, code: str, at: date | None = None) -> Division | None:
        """The version valid at `at`; with at=None, the latest version (current or last before retiring)."""
        versions = self.versions(code)
        if at is None:
            return versions[-1] if versions else None
        return next((row for row in versions if row.valid_at(at)), None)

    def exists(self, code: str) -> bool:
        """The code existed at some time (history included)."""
        return bool(self.versions(code))

    def is_valid(self, code: str, at: date | None = None) -> bool:
        """With a date: valid on that date. Without: existed at any time (history resolves)."""
        return self.exists(code) if at is None else self.get(code, at) is not None

    def name(self, code: str, at: date | None = None) -> str | None:
        """Name at a date; without one, the latest name. None for an unknown code or date."""
        row = self.get(code, at)
        return row.name if row else None

    def successor(self, code: str) -> str | None:
        """The current code for any code (itself if still valid); None if the code never existed."""
        seen: set[str] = set()
        row = self.get(code)
        while row is not None and row.successor and row.code not in seen:
            seen.add(row.code)
            row = self.get(row.successor)
        return row.code if row else None

    def _at_level(self, level: str, at: date | None, parent: str | None = None) -> list[Division]:
        day = at or date.today()
        return [
            row for row in self.rows
            if row.level == level and row.valid_at(day) and (parent is None or row.parent == parent)
        ]

    def districts(self, at: date | None = None) -> list[Division]:
        """Districts valid at `at` (default today), by code."""
        return self._at_level("district", at)

    def streets(self, district_code: str | None = None, at: date | None = None) -> list[Division]:
        """Streets/towns valid at `at` (default today), optionally of one district, by code."""
        return self._at_level("street", at, district_code)

    def district_of(self, street_code: str) -> str | None:
        """The 6-digit parent of a street code (None if unknown)."""
        row = self.get(street_code)
        return row.parent if row and row.level == "street" else None

    def validate(self, code: str | None, at: date | None = None) -> ValidationResult:
        """DIVISION_UNKNOWN if the code never existed; DIVISION_EXPIRED if `at` is given and the
        code is not valid then (detail names the successor). Value is the stripped code."""
        text = "" if code is None else str(code).strip()
        if not self.exists(text):
            return failed("DIVISION_UNKNOWN", text, "not in the city's division table at any time")
        if at is not None and self.get(text, at) is None:
            detail = f"not valid on {at.isoformat()}"
            current = self.successor(text)
            if current and current != text:
                detail += f"; successor {current}"
            return failed("DIVISION_EXPIRED", text, detail)
        return passed(text)


def _parse(text: str) -> tuple[Division, ...]:
    rows = []
    for number, record in enumerate(csv.DictReader(io.StringIO(text)), start=2):
        if record["level"] not in LEVELS:
            raise ValueError(f"{DATA_FILE} line {number}: level {record['level']!r} is not one of {LEVELS}")
        rows.append(
            Division(
                code=record["code"],
                name=record["name"],
                level=record["level"],
                parent=record["parent"] or None,
                valid_from=date.fromisoformat(record["valid_from"]),
                valid_to=date.fromisoformat(record["valid_to"]) if record["valid_to"] else None,
                successor=record["successor"] or None,
            )
        )
    return tuple(rows)


@lru_cache(maxsize=1)
def load_divisions() -> DivisionTable:
    """The shipped division table of the simulated city (read once, immutable)."""
    text = resources.files("citydata.standards").joinpath("data", DATA_FILE).read_text(encoding="utf-8")
    rows = _parse(text)
    city = next(row.code for row in rows if row.level == "prefecture")
    return DivisionTable(rows, city)


def validate_division(code: str | None, at: date | None = None) -> ValidationResult:
    """Shortcut for load_divisions().validate(code, at)."""
    return load_divisions().validate(code, at)
