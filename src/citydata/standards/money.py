"""Money: parse amounts to Decimal yuan (never float), converting 万元 / 亿元."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from citydata.standards.result import ValidationResult, failed, passed
from citydata.standards.text import normalize_fullwidth

UNITS = {"元": Decimal(1), "万元": Decimal(10_000), "亿元": Decimal(100_000_000)}
_AMOUNT = re.compile(r"([+-]?)[¥￥]?\s*(\d{1,3}(?:,\d{3})+|\d+)?(\.\d+)?\s*(元|万元|亿元|万|亿)?")


def parse_money(raw: str | int | float | Decimal | None, unit: str = "元") -> ValidationResult:
    """Decimal yuan from '1,234.50', '¥12', '12.5万元', full-width digits …; MONEY_FORMAT otherwise.

    `unit` is the unit the source declares for bare numbers ('元', '万元' or '亿元'); a unit written in
    the value itself (12.5万元) takes precedence. Floats are read through their shortest repr.
    """
    if unit not in UNITS:
        raise ValueError(f"unit must be one of {sorted(UNITS)}, got {unit!r}")
    if raw is None or isinstance(raw, bool):
        return failed("MONEY_FORMAT", None, "empty amount")
    if isinstance(raw, (int, float, Decimal)):
        try:
            amount = Decimal(repr(raw)) if isinstance(raw, float) else Decimal(raw)
        except InvalidOperation:
            return failed("MONEY_FORMAT", str(raw), "not a number")
        if not amount.is_finite():
            return failed("MONEY_FORMAT", str(raw), "not a finite number")
        return passed(amount * UNITS[unit])
    text = normalize_fullwidth(str(raw)).strip()
    match = _AMOUNT.fullmatch(text)
    if not match or not (match.group(2) or match.group(3)):
        return failed("MONEY_FORMAT", text, "expected a decimal number with an optional 元/万元/亿元 unit")
    sign, whole, fraction, written = match.groups()
    amount = Decimal(f"{sign}{(whole or '0').replace(',', '')}{fraction or ''}")
    if written:
        factor = UNITS[written if written.endswith("元") else written + "元"]
    else:
        factor = UNITS[unit]
    return passed(amount * factor)
