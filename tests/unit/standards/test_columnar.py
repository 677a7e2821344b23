"""The column-wise forms accept only what the scalar rules accept, with the same meaning.

Soundness is checked on hand-picked vectors (every shape the scalar rules normalize or refuse) and on
100,000 random values per rule drawn around the plain shapes (valid values, then one mutation: a digit
changed, full-width digits, a lowercase x, spaces, another date form, an impossible day, ...). Coverage:
the plain shapes themselves are accepted, so the column-wise path carries the common case.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

import numpy as np
import pyarrow as pa
import pytest

from citydata.standards import columnar, idcard, industry, money, phone, text, uscc
from citydata.standards.divisions import load_divisions

SAMPLE = 100_000
TODAY = date(2026, 12, 7)
FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


def _mutate(value: str, rng: random.Random) -> str:
    """One change of the kind deliveries carry, or none."""
    kind = rng.randrange(12)
    if kind == 0 and value:
        position = rng.randrange(len(value))
        return value[:position] + rng.choice("0123456789X") + value[position + 1:]
    if kind == 1:
        return value.translate(FULL_WIDTH)
    if kind == 2:
        return value.lower()
    if kind == 3:
        return f" {value}"
    if kind == 4:
        return f"{value}\u3000"
    if kind == 5 and value:
        return value[:-1]
    if kind == 6:
        return value + rng.choice("0X-")
    if kind == 7 and len(value) > 4:
        return value[:4] + " " + value[4:]
    if kind == 8:
        return ""
    return value


def _ids(rng: random.Random, count: int) -> list[str]:
    divisions = ["339901", "339905", "110101", "500103", "630102", "339999", "990101", "339900"]
    out = []
    for _ in range(count):
        born = date(1870, 1, 1) + timedelta(days=rng.randrange(365 * 160))
        number = idcard.make(rng.choice(divisions), born, rng.randrange(1000)) if born <= date(9999, 1, 1) else ""
        out.append(_mutate(number, rng))
    return out


def test_id_numbers_accepted_only_where_the_scalar_rule_accepts_them_unchanged():
    rng = random.Random(11)
    values = _ids(rng, SAMPLE) + ["11010519491231002X", "11010519491231002x", "110105194912310021",
                                  "１１０１０５１９４９１２３１００２Ｘ", "110105491231002", "", "X" * 18]
    found = columnar.id_numbers(pa.array(values), TODAY)
    assert found.accepted.sum() > SAMPLE // 5  # the plain numbers take the column-wise path
    for value, accepted, born, male in zip(values, found.accepted, found.birth_days, found.male):
        scalar = idcard.validate(value, today=TODAY)
        if accepted:
            assert scalar.ok and scalar.value == value
            assert born == columnar.day_number(idcard.birth_date(value))
            assert bool(male) == (idcard.gender(value) == "M")
        elif scalar.ok and scalar.value == value:
            # a plain, valid number refused column-wise would only cost time; none should be
            pytest.fail(f"a plain valid number was not accepted: {idcard.mask(value)}")


def _dates(rng: random.Random, count: int) -> list[str]:
    out = []
    for _ in range(count):
        year, month, day = rng.randrange(0, 10000), rng.randrange(0, 14), rng.randrange(0, 33)
        form = rng.randrange(5)
        value = (f"{year:04d}-{month:02d}-{day:02d}", f"{year:04d}/{month}/{day}", f"{year:04d}{month:02d}{day:02d}",
                 f"{year:04d}年{month}月{day}日", f"{year:04d}-{month}-{day}")[form]
        out.append(_mutate(value, rng) if rng.random() < 0.3 else value)
    return out


def test_dates_accepted_only_where_parse_date_gives_the_same_day():
    rng = random.Random(12)
    values = _dates(rng, SAMPLE) + ["2019-02-29", "2020-02-29", "2019年3月5", "2019年 3月5日", "0000-01-01",
                                    "2019-3-5", "20190305", "2019/03/05"]
    found = columnar.dates(pa.array(values))
    assert found.accepted.sum() > SAMPLE // 2
    for value, accepted, days in zip(values, found.accepted, found.days):
        scalar = text.parse_date(value)
        if accepted:
            assert scalar.ok and columnar.day_number(scalar.value) == days, value
        elif scalar.ok and value == value.strip() and value.isascii() and "年" not in value:
            pytest.fail(f"a plain date was not accepted: {value}")


def test_mobiles_and_genders_accepted_only_where_the_scalar_rules_accept_them():
    rng = random.Random(13)
    numbers = [_mutate(f"1{rng.randrange(10)}{rng.randrange(10**9):09d}", rng) for _ in range(SAMPLE)]
    accepted = columnar.mobiles(pa.array(numbers))
    assert accepted.sum() > SAMPLE // 5
    for value, ok in zip(numbers, accepted):
        scalar = phone.validate_mobile(value)
        assert ok == (scalar.ok and scalar.value == value), value
    words = ["男", "女", "M", "F", "1", "2", "MALE", "FEMALE", "m", " 男", "未知", "", "3", "Ｍ"]
    genders = columnar.genders(pa.array(words))
    for value, ok, male in zip(words, genders.accepted, genders.male):
        said = idcard.normalize_gender(value)
        assert not ok or said is not None, value
        assert not ok or bool(male) == (said == "M"), value
    assert genders.accepted[:8].all()


def test_division_codes_accepted_only_where_the_table_accepts_them_at_that_date():
    table = load_divisions()
    rng = random.Random(14)
    codes = sorted({row.code for row in table.rows})
    values, at = [], []
    for _ in range(SAMPLE // 10):
        values.append(_mutate(rng.choice(codes), rng) if rng.random() < 0.3 else rng.choice(codes))
        at.append(date(1980, 1, 1) + timedelta(days=rng.randrange(365 * 50)))
    at_days = np.array([columnar.day_number(d) for d in at])
    for digits in (6, 9):
        accepted = columnar.division_codes(pa.array(values), digits, at_days)
        for value, day, ok in zip(values, at, accepted):
            scalar = table.validate(value, day)
            if ok:
                assert len(value) == digits and scalar.ok and scalar.value == value, value
            elif scalar.ok and len(value) == digits and value.isdigit() and value.isascii():
                pytest.fail(f"a valid {digits}-digit code was not accepted: {value} on {day}")
        undated = columnar.division_codes(pa.array(values), digits)
        for value, ok in zip(values, undated):
            assert not ok or table.validate(value).ok


def test_streets_in_districts_follows_district_of():
    table = load_divisions()
    streets = sorted({row.code for row in table.rows if row.level == "street"})
    districts = sorted({row.code for row in table.rows if row.level == "district"})
    pairs = [(s, d) for s in streets for d in districts] + [("", "339901"), ("999999999", "339901")]
    same = columnar.streets_in_districts(pa.array([s for s, _ in pairs]), pa.array([d for _, d in pairs]))
    assert [bool(x) for x in same] == [table.district_of(s) == d for s, d in pairs]


def test_non_blank_never_accepts_what_strips_to_nothing():
    values = ["李松", "a", " ", "\u3000", "\u3000\u3000", "", "\t\n", "１", "  路 ", "\u00a0"]
    accepted = columnar.non_blank(pa.array(values))
    for value, ok in zip(values, accepted):
        assert not ok or text.normalize_fullwidth(value).strip() != ""
    assert list(accepted[:2]) == [True, True]


def test_credit_codes_accepted_only_where_uscc_validate_accepts_them_unchanged():
    rng = random.Random(15)
    values = []
    for _ in range(SAMPLE):
        base = "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(8))
        code = uscc.make(rng.choice("159"), "1", "339901", base)
        values.append(_mutate(code, rng) if rng.random() < 0.6 else code)
    values += ["91339901MA2XYZ123", "9133990100000000O0", ""]
    accepted = columnar.credit_codes(pa.array(values))
    assert accepted.sum() > SAMPLE // 3
    for value, ok in zip(values, accepted):
        scalar = uscc.validate(value)
        assert ok == (scalar.ok and scalar.value == value), value


def test_taxpayer_numbers_accepted_only_where_validate_taxpayer_number_accepts_them_unchanged():
    rng = random.Random(17)
    values = []
    for _ in range(SAMPLE // 10):
        base = "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(8))
        code = uscc.make(rng.choice("159"), "2", "339902", base)
        number = code if rng.random() < 0.8 else code[2:8] + code[8:17]  # a legacy 15-character number
        values.append(_mutate(number, rng) if rng.random() < 0.5 else number)
    values += ["339901" + "MA2XYZ12" + "3", "91339901MA2XYZ123", ""]
    accepted = columnar.taxpayer_numbers(pa.array(values))
    assert accepted.sum() > len(values) // 4
    for value, ok in zip(values, accepted):
        scalar = uscc.validate_taxpayer_number(value)
        assert ok == (scalar.ok and scalar.value == value and len(value) == 18), value


def test_industry_codes_accepted_only_where_industry_validate_accepts_them_unchanged():
    rng = random.Random(18)
    table = industry.load_industries()
    divisions = sorted(table.divisions)
    values = []
    for _ in range(SAMPLE // 10):
        code = rng.choice(divisions + ["00", "99", "5"]) + "".join(rng.choice("0123456789") for _ in range(
            rng.randrange(3)))
        letter = rng.random() < 0.2
        if letter and code[:2] in table.divisions:
            code = rng.choice([table.divisions[code[:2]][1], "A", "z"]) + code
        values.append(_mutate(code, rng))
    values += ["13", "C13", "c13", "１３", " 13", "13 ", "12345", "1", ""]
    accepted = columnar.industry_codes(pa.array(values))
    assert accepted.sum() > len(values) // 3
    for value, ok in zip(values, accepted):
        scalar = industry.validate(value)
        assert not ok or (scalar.ok and scalar.value == value), value
    plain = [v for v in values if v.isascii() and v.isdigit() and 2 <= len(v) <= 4 and v[:2] in table.divisions]
    assert columnar.industry_codes(pa.array(plain)).all()


def test_money_amounts_are_read_by_parse_money_with_their_unit():
    rng = random.Random(19)
    values = [_mutate(f"{rng.choice(['', '-'])}{rng.randrange(10**7)}{rng.choice(['', '.5', '.25', '.125'])}"
                      f"{rng.choice(['', '元', '万元', '亿元', '万', '圆'])}", rng) for _ in range(SAMPLE // 10)]
    values += ["50万元", "500000元", "1.5亿元", "12万", "万元", "元", "1,234元", "¥12元", "12 万元", ""]
    accepted = columnar.money_amounts(pa.array(values))
    assert accepted.sum() > len(values) // 4
    for value, ok in zip(values, accepted):
        assert not ok or money.parse_money(value).ok, value
    assert list(columnar.money_amounts(pa.array(["50万元", "500000元", "1.5亿元", "万元", "12 万元"]))) == [
        True, True, True, False, False]


def test_plain_amounts_are_read_by_parse_money():
    rng = random.Random(16)
    values = [_mutate(f"{rng.choice(['', '-'])}{rng.randrange(10**7)}{rng.choice(['', '.5', '.25', '.125'])}", rng)
              for _ in range(SAMPLE // 10)] + ["1,234.50", "¥12", "12.5万元", ".5", "5.", "-", ""]
    accepted = columnar.plain_amounts(pa.array(values))
    assert accepted.sum() > len(values) // 3
    for value, ok in zip(values, accepted):
        assert not ok or money.parse_money(value).ok, value
