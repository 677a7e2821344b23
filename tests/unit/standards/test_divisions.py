"""The simulated city's division table: structure, history, lookups, validation."""

from datetime import date, timedelta

from citydata.standards.divisions import load_divisions, validate_division

BEFORE_MERGE, AFTER_MERGE = date(2021, 6, 30), date(2021, 7, 1)


def test_city_and_current_districts():
    table = load_divisions()
    assert (table.city_code, table.city_name) == ("339900", "示范市")
    assert table.name("330000") == "浙江省"
    assert [(d.code, d.name) for d in table.districts(at=AFTER_MERGE)] == [
        ("339901", "东湖区"), ("339902", "西山区"), ("339903", "南江区"), ("339904", "北塘区"), ("339905", "中和区"),
    ]
    assert [d.code for d in table.districts(at=BEFORE_MERGE)][-1] == "339906"


def test_every_district_had_four_to_six_streets_before_the_merge():
    table = load_divisions()
    for district in table.districts(at=BEFORE_MERGE):
        streets = table.streets(district.code, at=BEFORE_MERGE)
        assert 4 <= len(streets) <= 6, district.code
        assert all(len(s.code) == 9 and s.code.startswith(district.code) for s in streets)


def test_merge_of_339906_into_339905():
    table = load_divisions()
    old = [s.code for s in table.streets("339906", at=BEFORE_MERGE)]
    assert old == ["339906001", "339906002", "339906003", "339906101"]
    assert table.streets("339906", at=AFTER_MERGE) == []
    assert [table.successor(code) for code in old] == ["339905005", "339905006", "339905007", "339905101"]
    assert table.successor("339906") == "339905"
    assert [table.name(code) for code in old] == [table.name(table.successor(code)) for code in old]
    assert len(table.streets("339905", at=AFTER_MERGE)) == 8
    assert table.is_valid("339906001") and table.is_valid("339906001", BEFORE_MERGE)
    assert not table.is_valid("339906001", AFTER_MERGE)
    assert not table.is_valid("339905005", BEFORE_MERGE)


def test_rename_keeps_the_code_and_resolves_history():
    table = load_divisions()
    assert table.name("339902003", at=date(2018, 12, 31)) == "钱塘街道"
    assert table.name("339902003", at=date(2019, 1, 1)) == "文澜街道"
    assert table.name("339902003") == "文澜街道"
    assert table.successor("339902003") == "339902003"
    assert len(table.versions("339902003")) == 2


def test_validate_unknown_and_expired():
    assert validate_division("339901001").ok
    assert validate_division(" 339901001 ").value == "339901001"
    assert validate_division("339907").reason == "DIVISION_UNKNOWN"
    assert validate_division(None).reason == "DIVISION_UNKNOWN"
    assert validate_division("339906001").ok  # history resolves without a date
    expired = validate_division("339906001", at=AFTER_MERGE)
    assert (expired.reason, expired.detail) == ("DIVISION_EXPIRED", "not valid on 2021-07-01; successor 339905005")
    assert load_divisions().successor("123456") is None
    assert load_divisions().district_of("339903101") == "339903"


def test_table_is_internally_consistent():
    table = load_divisions()
    for row in table.rows:
        if row.parent:
            assert table.exists(row.parent), row.code
        if row.successor:
            assert row.valid_to is not None and table.get(row.successor).current, row.code
            assert table.is_valid(row.successor, row.valid_to + timedelta(days=1)), row.code
        assert row.valid_to is None or row.valid_from <= row.valid_to
    for code in {row.code for row in table.rows}:  # versions of one code never overlap
        versions = table.versions(code)
        for earlier, later in zip(versions, versions[1:]):
            assert earlier.valid_to is not None and earlier.valid_to < later.valid_from
