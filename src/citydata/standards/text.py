"""Text and date normalization: full-width ASCII to half-width, the accepted date forms to ISO."""

from __future__ import annotations

import re
from datetime import date

from citydata.standards.result import ValidationResult, failed, passed

_FULLWIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_FULLWIDTH[0x3000] = 0x20  # ideographic space


def normalize_fullwidth(text: str) -> str:
    """Map full-width ASCII (U+FF01–U+FF5E) and the ideographic space (U+3000) to half-width."""
    return text.translate(_FULLWIDTH)


_DATE_FORMS = (
    re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})"),
    re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2})"),
    re.compile(r"(\d{4})(\d{2})(\d{2})"),
    re.compile(r"(\d{4})年\s*(\d{1,2})月\s*(\d{1,2})日?"),
)


def parse_date(raw: str | date | None) -> ValidationResult:
    """Parse 2019-03-05, 2019/3/5, 20190305 or 2019年3月5日 (full-width digits allowed) to a date.

    Reasons: DATE_FORMAT (none of the forms), DATE_IMPOSSIBLE (e.g. 2019-02-30).
    """
    if isinstance(raw, date):
        return passed(raw.date() if hasattr(raw, "hour") else raw)
    if raw is None:
        return failed("DATE_FORMAT", None, "empty date")
    text = normalize_fullwidth(str(raw)).strip()
    for form in _DATE_FORMS:
        match = form.fullmatch(text)
        if match:
            year, month, day = (int(part) for part in match.groups())
            try:
                return passed(date(year, month, day))
            except ValueError as error:
                return failed("DATE_IMPOSSIBLE", text, str(error))
    return failed("DATE_FORMAT", text, "expected 2019-03-05, 2019/3/5, 20190305 or 2019年3月5日")
