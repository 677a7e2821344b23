"""Industry classification GB/T 4754-2017 (国民经济行业分类): sections A–T and the 97 divisions.

Shipped as `data/industry.csv`. Records may carry a division (2 digits), a group (3) or a class (4),
optionally prefixed by the section letter (C13, C1310); the division must exist.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from citydata.standards.result import ValidationResult, failed, passed
from citydata.standards.text import normalize_fullwidth

DATA_FILE = "industry.csv"
_CODE = re.compile(r"([A-T])?(\d{2,4})")


@dataclass(frozen=True)
class IndustryTable:
    sections: dict[str, str]  # letter -> name
    divisions: dict[str, tuple[str, str]]  # 2-digit code -> (name, section letter)

    def section_of(self, code: str) -> str:
        """Section letter of a division/group/class code; KeyError for an unknown division."""
        return self.divisions[str(code).strip()[:2]][1]

    def name(self, code: str) -> str:
        """Name of a section letter or a 2-digit division; KeyError if unknown."""
        code = str(code).strip()
        return self.sections[code] if code in self.sections else self.divisions[code][0]

    def validate(self, raw: str | None) -> ValidationResult:
        """Value is the digits (2–4) of a code whose division exists; INDUSTRY_UNKNOWN otherwise.

        A section-letter prefix is accepted when it is the division's own section (C13, not A13).
        """
        text = "" if raw is None else normalize_fullwidth(str(raw)).strip().upper()
        match = _CODE.fullmatch(text)
        if not match:
            return failed("INDUSTRY_UNKNOWN", text,
                          "expected a 2-digit division (or 3-4 digits), optional section letter")
        letter, digits = match.groups()
        if digits[:2] not in self.divisions:
            return failed("INDUSTRY_UNKNOWN", text, f"no GB/T 4754-2017 division {digits[:2]}")
        section = self.divisions[digits[:2]][1]
        if letter and letter != section:
            return failed("INDUSTRY_UNKNOWN", text, f"division {digits[:2]} belongs to section {section}")
        return passed(digits)


@lru_cache(maxsize=1)
def load_industries() -> IndustryTable:
    """The shipped GB/T 4754-2017 section and division table (read once)."""
    text = resources.files("citydata.standards").joinpath("data", DATA_FILE).read_text(encoding="utf-8")
    sections: dict[str, str] = {}
    divisions: dict[str, tuple[str, str]] = {}
    for record in csv.DictReader(io.StringIO(text)):
        if record["level"] == "section":
            sections[record["code"]] = record["name"]
        else:
            divisions[record["code"]] = (record["name"], record["section"])
    return IndustryTable(sections, divisions)


def validate(raw: str | None) -> ValidationResult:
    return load_industries().validate(raw)


def section_of(code: str) -> str:
    return load_industries().section_of(code)
