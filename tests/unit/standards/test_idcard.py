"""Citizen identity numbers (GB 11643-1999)."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from citydata.standards import idcard
from citydata.standards.divisions import load_divisions

TODAY = date(2026, 1, 1)
PUBLIC_EXAMPLE = "11010519491231002X"  # the example number printed in GB 11643 material


def test_public_example_validates_and_derives_birth_and_gender():
    result = idcard.validate(PUBLIC_EXAMPLE, today=TODAY)
    assert (result.ok, result.value, result.reason) == (True, PUBLIC_EXAMPLE, None)
    assert idcard.check_char(PUBLIC_EXAMPLE[:17]) == "X"
    assert idcard.birth_date(PUBLIC_EXAMPLE) == date(1949, 12, 31)
    assert idcard.gender(PUBLIC_EXAMPLE) == "F"  # sequence 002: even


@pytest.mark.parametrize(
    "raw",
    ["11010519491231002x", "  11010519491231002X ", "１１０１０５１９４９１２３１００２Ｘ",
     "110105 19491231 002X", "\u3000１１０１０５１９４９１２３１００２ｘ"],
)
def test_lowercase_x_full_width_and_spaces_are_normalized(raw):
    assert idcard.validate(raw, today=TODAY).value == PUBLIC_EXAMPLE


def test_legacy_15_digit_number_is_upgraded():
    assert idcard.upgrade_15("110105491231002") == PUBLIC_EXAMPLE
    result = idcard.validate("110105491231002", today=TODAY)
    assert (result.ok, result.value) == (True, PUBLIC_EXAMPLE)
    assert idcard.birth_date("110105491231002") == date(1949, 12, 31)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("1101051949123100", "ID_LENGTH"),
        ("11010519491231002XX", "ID_LENGTH"),
        ("", "ID_LENGTH"),
        (None, "ID_LENGTH"),
        ("11010519491231002Y", "ID_CHARSET"),
        ("1101051949123100AX", "ID_CHARSET"),
        ("11010549123100A", "ID_CHARSET"),
        ("110105194912310021", "ID_CHECKSUM"),
        ("110105194912310020", "ID_CHECKSUM"),
    ],
)
def test_reasons(raw, reason):
    result = idcard.validate(raw, today=TODAY)
    assert (result.ok, result.reason) == (False, reason)


def _with_check(first17: str) -> str:
    return first17 + idcard.check_char(first17)


def test_impossible_future_and_too_old_birth_dates():
    assert idcard.validate(_with_check("11010519490231002"), today=TODAY).reason == "ID_BIRTHDATE"  # Feb 31
    assert idcard.validate(_with_check("11010520260102002"), today=TODAY).reason == "ID_BIRTHDATE"  # future
    assert idcard.validate(_with_check("11010520251231002"), today=TODAY).ok
    assert idcard.validate(_with_check("11010518791231002"), today=TODAY).reason == "ID_BIRTHDATE"
    assert idcard.validate(_with_check("11010520000229002"), today=TODAY).ok  # leap day


def test_division_rule():
    # unknown province prefix
    assert idcard.validate(idcard.make("991234", date(1990, 1, 1), 1), today=TODAY).reason == "ID_DIVISION"
    assert idcard.validate(idcard.make("181234", date(1990, 1, 1), 1), today=TODAY).reason == "ID_DIVISION"
    # other real provinces are accepted without a table (71 Taiwan, 81 Hong Kong, 82 Macao included)
    for division in ("110105", "330106", "650102", "710000", "810000", "820000"):
        assert idcard.validate(idcard.make(division, date(1990, 1, 1), 1), today=TODAY).ok, division
    # the simulated city: the code must exist in its table, history included
    assert idcard.validate(idcard.make("339901", date(1990, 1, 1), 1), today=TODAY).ok
    assert idcard.validate(idcard.make("339906", date(1990, 1, 1), 1), today=TODAY).ok  # merged 2021
    assert idcard.validate(idcard.make("339900", date(1990, 1, 1), 1), today=TODAY).ok
    assert idcard.validate(idcard.make("339907", date(1990, 1, 1), 1), today=TODAY).reason == "ID_DIVISION"
    assert idcard.validate(idcard.make("339999", date(1990, 1, 1), 1), today=TODAY).reason == "ID_DIVISION"


def test_make_sequence_parity_sets_gender():
    assert idcard.gender(idcard.make("339901", date(1980, 5, 6), 1)) == "M"
    assert idcard.gender(idcard.make("339901", date(1980, 5, 6), 998)) == "F"
    assert idcard.make("339901", date(1980, 5, 6), 7)[:17] == "33990119800506007"
    with pytest.raises(ValueError):
        idcard.make("339901", date(1980, 5, 6), 1000)
    with pytest.raises(ValueError):
        idcard.make("33990", date(1980, 5, 6), 1)


def test_derivations_refuse_invalid_numbers_without_quoting_them():
    with pytest.raises(ValueError) as raised:
        idcard.birth_date("110105194912310021")
    assert "110105194912310021" not in str(raised.value)
    assert "110105********0021" in str(raised.value)


def test_declared_values_are_compared_not_overwritten():
    assert idcard.compare_declared(PUBLIC_EXAMPLE, "女", "1949-12-31") == []
    assert idcard.compare_declared(PUBLIC_EXAMPLE, "F", date(1949, 12, 31)) == []
    findings = idcard.compare_declared(PUBLIC_EXAMPLE, "男", "1950年1月1日")
    assert [(f.reason, f.field, f.declared, f.derived) for f in findings] == [
        ("ID_GENDER_MISMATCH", "gender", "M", "F"),
        ("ID_BIRTHDATE_MISMATCH", "birth_date", "1950-01-01", "1949-12-31"),
    ]
    # unreadable declared values are not compared
    assert idcard.compare_declared(PUBLIC_EXAMPLE, "未知", "not a date") == []
    assert idcard.normalize_gender("2") == "F" and idcard.normalize_gender("male") == "M"


DIVISIONS = sorted({row.code for row in load_divisions().rows if len(row.code) == 6 and row.code != "330000"}
                   | {"110105", "440305", "510107"})
ids = st.builds(
    idcard.make,
    st.sampled_from(DIVISIONS),
    st.dates(min_value=date(1900, 1, 1), max_value=TODAY),
    st.integers(min_value=0, max_value=999),
)


@given(ids)
def test_every_generated_number_validates(number):
    result = idcard.validate(number, today=TODAY)
    assert (result.ok, result.value) == (True, number)
    assert idcard.gender(number) == ("M" if int(number[16]) % 2 else "F")


@given(ids, st.sampled_from("0123456789X"))
def test_every_wrong_check_character_is_caught(number, replacement):
    if replacement != number[17]:
        assert idcard.validate(number[:17] + replacement, today=TODAY).reason == "ID_CHECKSUM"


@given(ids, st.integers(min_value=0, max_value=16), st.integers(min_value=1, max_value=9))
def test_every_single_digit_change_is_caught(number, position, delta):
    changed = number[:position] + str((int(number[position]) + delta) % 10) + number[position + 1:]
    assert idcard.validate(changed, today=TODAY).reason == "ID_CHECKSUM"


@given(st.sampled_from(DIVISIONS), st.dates(min_value=date(1900, 1, 1), max_value=date(1999, 12, 31)),
       st.integers(min_value=0, max_value=999))
def test_legacy_numbers_upgrade_to_the_generated_number(division, born, sequence):
    legacy = f"{division}{born:%y%m%d}{sequence:03d}"
    assert idcard.validate(legacy, today=TODAY).value == idcard.make(division, born, sequence)


@given(ids, st.integers(min_value=0, max_value=17))
def test_failure_details_never_quote_the_number(number, position):
    # corrupt one character so validation fails; the detail (which goes to rejects) stays generic
    corrupted = number[:position] + ("1" if number[position] != "1" else "2") + number[position + 1:]
    result = idcard.validate(corrupted, today=TODAY)
    if not result.ok:
        assert corrupted not in result.detail and corrupted[6:14] not in result.detail
