"""Unified social credit codes (GB 32100-2015), organization codes (GB 11714), registration numbers."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from citydata.standards import uscc

REAL = "91350100M000100Y43"  # a published, valid credit code


def test_real_code_validates():
    result = uscc.validate(REAL)
    assert (result.ok, result.value, result.reason) == (True, REAL, None)
    assert uscc.check_char(REAL[:17]) == "3"
    assert uscc.org_check_char("M000100Y") == "4"
    assert uscc.org_code(REAL) == "M000100Y4" and uscc.division(REAL) == "350100"


def test_charset_is_31_characters_without_i_o_z_s_v():
    assert len(uscc.CHARSET) == 31 and not set("IOZSV") & set(uscc.CHARSET)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("91350100M000100Y4", "USCC_LENGTH"),
        ("91350100M000100Y433", "USCC_LENGTH"),
        (None, "USCC_LENGTH"),
        ("91350100M000100I43", "USCC_CHARSET"),
        ("91350100O000100Y43", "USCC_CHARSET"),
        ("91350100M000100Y42", "USCC_CHECKSUM"),
        ("92350100M000100Y43", "USCC_CHECKSUM"),
    ],
)
def test_reasons(raw, reason):
    result = uscc.validate(raw)
    assert (result.ok, result.reason) == (False, reason)


def test_embedded_org_code_check_is_its_own_reason():
    # a correct mod-31 check over an organization code whose GB 11714 check is wrong
    first17 = "91350100M000100Y5"
    code = first17 + uscc.check_char(first17)
    assert uscc.validate(code).reason == "USCC_ORGCODE_CHECKSUM"


def test_normalization_lowercase_full_width_spaces():
    assert uscc.validate(" 91350100m000100y43 ").value == REAL
    assert uscc.validate("９１３５０１００Ｍ０００１００Ｙ４３").value == REAL


def test_make_builds_both_checks():
    code = uscc.make("9", "1", "339901", "MA2B3C4D")
    assert code == "91339901MA2B3C4D1H"
    assert uscc.validate(code).ok
    with pytest.raises(ValueError):
        uscc.make("9", "1", "339901", "MA2B3C4I")  # I is not in the set
    with pytest.raises(ValueError):
        uscc.make("9", "1", "33990", "MA2B3C4D")


def test_org_check_char_maps_10_to_x_and_11_to_0():
    assert uscc.org_check_char("00000000") == "0"  # sum 0: 11 - 0 = 11 -> '0'
    assert uscc.org_check_char("40000000") == "X"  # sum 4*3 = 12 = 1 mod 11: 11 - 1 = 10 -> 'X'
    assert uscc.org_check_char("A0000000") == "3"  # A = 10: sum 30 = 8 mod 11 -> 3


@pytest.mark.parametrize(
    ("raw", "ok", "reason", "value"),
    [
        ("M000100Y4", True, None, "M000100Y4"),
        ("M000100Y-4", True, None, "M000100Y4"),
        ("m000100y4", True, None, "M000100Y4"),
        ("M000100Y5", False, "ORGCODE_CHECKSUM", "M000100Y5"),
        ("M000100Y", False, "ORGCODE_LENGTH", "M000100Y"),
        ("M000100!4", False, "ORGCODE_CHARSET", "M000100!4"),
        ("M000100YA", False, "ORGCODE_CHARSET", "M000100YA"),
    ],
)
def test_legacy_org_codes(raw, ok, reason, value):
    result = uscc.validate_org_code(raw)
    assert (result.ok, result.reason, result.value) == (ok, reason, value)
    if ok:
        assert uscc.make_org_code(value[:8]) == value


@pytest.mark.parametrize(
    ("raw", "ok", "reason"),
    [("330106000123456", True, None), ("33010600012345", False, "REGNO_LENGTH"),
     ("33010600012345A", False, "REGNO_CHARSET"), (None, False, "REGNO_LENGTH")],
)
def test_registration_numbers_format_level(raw, ok, reason):
    assert (uscc.validate_registration_number(raw).ok, uscc.validate_registration_number(raw).reason) == (ok, reason)


ORG_SAFE = "0123456789ABCDEFGHJKLMNPQRTUWXY"
codes = st.builds(
    uscc.make,
    st.sampled_from("159NY"),
    st.sampled_from("123"),
    st.sampled_from(["339901", "339902", "339905", "350100", "110105"]),
    st.text(alphabet=ORG_SAFE, min_size=8, max_size=8),
)


@given(codes)
def test_every_generated_code_validates(code):
    assert uscc.validate(code).value == code
    assert uscc.validate_org_code(uscc.org_code(code)).ok


@given(codes, st.sampled_from(uscc.CHARSET))
def test_every_wrong_check_character_is_caught(code, replacement):
    if replacement != code[17]:
        assert uscc.validate(code[:17] + replacement).reason == "USCC_CHECKSUM"


@given(codes, st.integers(min_value=0, max_value=16), st.sampled_from(uscc.CHARSET))
def test_every_single_character_change_is_caught(code, position, replacement):
    if replacement != code[position]:
        changed = code[:position] + replacement + code[position + 1:]
        assert uscc.validate(changed).reason == "USCC_CHECKSUM"


@given(st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=8, max_size=8),
       st.integers(min_value=0, max_value=8), st.integers(min_value=1, max_value=9))
def test_org_code_single_digit_changes_are_caught(base, position, delta):
    code = uscc.make_org_code(base)
    assert uscc.validate_org_code(code).ok
    if code[position].isdigit():
        changed = code[:position] + str((int(code[position]) + delta) % 10) + code[position + 1:]
        assert not uscc.validate_org_code(changed).ok


@pytest.mark.parametrize("code", ["91350100M000100Y43", "914403001922038216", "91330100716105852F"])
def test_published_real_codes_validate(code):
    # codes printed on public business licences (the last two embed pre-2015 organization codes)
    assert uscc.validate(code).ok
    assert uscc.validate_org_code(uscc.org_code(code)).ok
