"""Full-width normalization and date parsing."""

from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from citydata.standards.text import normalize_fullwidth, parse_date


def test_full_width_ascii_and_ideographic_space():
    assert normalize_fullwidth("０１２ＡＢ\u3000ｘｙｚ！～") == "012AB xyz!~"
    assert normalize_fullwidth("示范市，東湖区") == "示范市,東湖区"  # full-width comma is ASCII-range
    assert normalize_fullwidth("中文不变") == "中文不变"


@given(st.text())
def test_normalization_is_idempotent_and_leaves_no_full_width_ascii(text):
    once = normalize_fullwidth(text)
    assert normalize_fullwidth(once) == once
    assert not any(0xFF01 <= ord(char) <= 0xFF5E or char == "\u3000" for char in once)
    assert len(once) == len(text)


@pytest.mark.parametrize(
    "raw", ["2019-03-05", "2019/3/5", "20190305", "2019年3月5日", "２０１９年３月５日", " 2019-3-5 ", "2019/03/05"]
)
def test_accepted_forms(raw):
    result = parse_date(raw)
    assert (result.ok, result.value) == (True, date(2019, 3, 5))


@pytest.mark.parametrize(
    ("raw", "reason"),
    [("2019-02-30", "DATE_IMPOSSIBLE"), ("20191301", "DATE_IMPOSSIBLE"), ("2019年2月29日", "DATE_IMPOSSIBLE"),
     ("05/03/2019", "DATE_FORMAT"), ("2019.03.05", "DATE_FORMAT"), ("", "DATE_FORMAT"), (None, "DATE_FORMAT"),
     ("2019-03-05 10:00", "DATE_FORMAT"), ("190305", "DATE_FORMAT")],
)
def test_rejected_dates(raw, reason):
    result = parse_date(raw)
    assert (result.ok, result.reason) == (False, reason)


def test_dates_pass_through():
    assert parse_date(date(2020, 2, 29)).value == date(2020, 2, 29)
    assert parse_date(datetime(2020, 2, 29, 13, 0)).value == date(2020, 2, 29)
