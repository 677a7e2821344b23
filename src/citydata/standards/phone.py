"""Mainland mobile numbers: 11 digits starting 1[3-9]; +86, spaces, hyphens and full-width digits tolerated."""

from __future__ import annotations

import re

from citydata.standards.result import ValidationResult, failed, passed
from citydata.standards.text import normalize_fullwidth

_MOBILE = re.compile(r"1[3-9]\d{9}")
_SEPARATORS = re.compile(r"[\s\-]+")


def validate_mobile(raw: str) -> ValidationResult:
    """Normalize to the bare 11 digits; MOBILE_FORMAT otherwise (the detail quotes only the length)."""
    number = _SEPARATORS.sub("", normalize_fullwidth(str(raw)).strip())
    if number.startswith("+86"):
        number = number[3:]
    if not _MOBILE.fullmatch(number):
        return failed("MOBILE_FORMAT", number, f"{len(number)} characters, expected 11 digits 1[3-9]…")
    return passed(number)
