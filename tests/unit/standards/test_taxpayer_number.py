"""Taxpayer numbers: a credit code, or the legacy 15-character tax number (division + organization code)."""

import pytest

from citydata.standards import uscc

CODE = uscc.make("9", "1", "339906", "MA2B3C4D")  # registered in 新港区 before the merge


def test_a_credit_code_passes_as_itself_and_its_legacy_number_is_division_plus_org_code():
    assert uscc.validate_taxpayer_number(CODE).value == CODE
    legacy = uscc.legacy_tax_number(CODE)
    assert legacy == "339906" + uscc.org_code(CODE) and len(legacy) == 15
    assert uscc.validate_taxpayer_number(legacy).value == legacy
    assert uscc.validate_taxpayer_number("３３９９０６ma2b3c4d-" + legacy[-1]).value == legacy  # full-width, hyphen


@pytest.mark.parametrize("raw, reason", [
    (None, "TAXNO_LENGTH"),
    ("33990612345678", "TAXNO_LENGTH"),
    ("A39906MA2B3C4D" + CODE[16], "TAXNO_DIVISION"),
    ("339906MA2B3C4D" + ("0" if CODE[16] != "0" else "1"), "ORGCODE_CHECKSUM"),
    ("339906MA2B3C4_" + CODE[16], "ORGCODE_CHARSET"),
    (CODE[:17] + ("0" if CODE[17] != "0" else "1"), "USCC_CHECKSUM"),
])
def test_wrong_numbers_name_their_reason(raw, reason):
    result = uscc.validate_taxpayer_number(raw)
    assert (result.ok, result.reason) == (False, reason)
