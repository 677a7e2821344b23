"""GB/T 4754-2017 sections and divisions."""

import pytest

from citydata.standards.industry import load_industries, section_of, validate


def test_table_has_20_sections_and_97_divisions():
    table = load_industries()
    assert list(table.sections) == list("ABCDEFGHIJKLMNOPQRST")
    assert list(table.divisions) == [f"{n:02d}" for n in range(1, 98)]
    assert table.name("C") == "制造业" and table.name("65") == "软件和信息技术服务业"


@pytest.mark.parametrize(
    ("code", "section"),
    [("01", "A"), ("05", "A"), ("06", "B"), ("13", "C"), ("43", "C"), ("44", "D"), ("50", "E"), ("52", "F"),
     ("60", "G"), ("62", "H"), ("65", "I"), ("69", "J"), ("70", "K"), ("72", "L"), ("75", "M"), ("79", "N"),
     ("82", "O"), ("83", "P"), ("85", "Q"), ("90", "R"), ("96", "S"), ("97", "T")],
)
def test_section_of_division(code, section):
    assert section_of(code) == section


@pytest.mark.parametrize(("raw", "value"),
                         [("13", "13"), ("C13", "13"), ("c1310", "1310"), ("６５", "65"), ("651", "651")])
def test_valid_codes(raw, value):
    assert validate(raw).value == value


@pytest.mark.parametrize("raw", ["00", "98", "A13", "1", "C", "13101", "", None, "ZZ"])
def test_unknown_codes(raw):
    assert validate(raw).reason == "INDUSTRY_UNKNOWN"
