"""Money as Decimal yuan."""

from decimal import Decimal

import pytest

from citydata.standards.money import parse_money


@pytest.mark.parametrize(
    ("raw", "unit", "yuan"),
    [
        ("1,234.50", "元", Decimal("1234.50")),
        ("¥12", "元", Decimal("12")),
        ("￥12.00元", "元", Decimal("12.00")),
        ("１２３", "元", Decimal("123")),
        ("-3.2", "元", Decimal("-3.2")),
        ("12.3", "万元", Decimal("123000")),
        ("12.5万元", "元", Decimal("125000")),  # a unit written in the value wins
        ("12.5万", "元", Decimal("125000")),
        ("1.5亿元", "元", Decimal("150000000")),
        ("0.0001", "万元", Decimal("1")),
        (".5", "元", Decimal("0.5")),
        (1.1, "元", Decimal("1.1")),  # floats read through their shortest repr, not 1.100000000000000088…
        (7, "万元", Decimal("70000")),
        (Decimal("2.25"), "元", Decimal("2.25")),
    ],
)
def test_parses_to_decimal_yuan(raw, unit, yuan):
    result = parse_money(raw, unit=unit)
    assert result.ok and isinstance(result.value, Decimal) and result.value == yuan


@pytest.mark.parametrize("raw", ["abc", "12,34", "1.2.3", "", None, "万元", "12美元", float("nan"), "1e5", True])
def test_rejects(raw):
    result = parse_money(raw)
    assert (result.ok, result.reason) == (False, "MONEY_FORMAT")


def test_unknown_declared_unit_is_a_programming_error():
    with pytest.raises(ValueError):
        parse_money("1", unit="美元")
