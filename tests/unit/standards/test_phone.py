"""Mobile numbers: the forms departments deliver normalize to 11 digits; anything else is MOBILE_FORMAT."""

from __future__ import annotations

import pytest

from citydata.standards.phone import validate_mobile


@pytest.mark.parametrize("raw", ["13912345678", "139 1234 5678", "139-1234-5678", "+8613912345678",
                                 "１３９１２３４５６７８", " 13912345678 "])
def test_delivered_forms_normalize_to_eleven_digits(raw: str) -> None:
    result = validate_mobile(raw)
    assert (result.ok, result.value) == (True, "13912345678")


@pytest.mark.parametrize("raw", ["1234567", "12912345678", "139123456789", "0571-8888888", ""])
def test_other_numbers_are_mobile_format(raw: str) -> None:
    result = validate_mobile(raw)
    assert (result.ok, result.reason) == (False, "MOBILE_FORMAT")
    assert result.detail.endswith("characters, expected 11 digits 1[3-9]…")  # a length, never the digits
