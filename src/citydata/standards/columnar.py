"""Column-wise forms of the standards' checks over Arrow arrays: which values certainly pass.

The scalar validators (idcard.validate, text.parse_date, phone.validate_mobile, DivisionTable.validate,
idcard.normalize_gender, uscc.validate and validate_taxpayer_number, industry.validate, money.parse_money)
are the rule. A column-wise form answers one narrower question for a whole
column at once: does this value certainly pass, and what does it mean (a date's day number, an ID
number's birth day and sex)? It accepts only the plain shapes almost every delivered value has — 18
ASCII characters with the right check character, the four date forms in ASCII digits, a known gender
word — and leaves everything else (full-width digits, a lowercase x, spaces, a wrong check character, a
division code with several versions) to the scalar rule, which then gives the verdict and its reason
code. So the rule is written once, in the scalar validators; a value accepted here is one they accept
with the same normalized value (tests/unit/standards/test_columnar.py checks that on the standards'
vectors and on random samples), and the common case costs a few vectorized passes instead of a Python
call per value (measured in `make bench-ingest`).

Arrays here are pyarrow string arrays without nulls (a delivered value is '' when empty); results are
numpy arrays of the array's length.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from citydata.standards import idcard, uscc
from citydata.standards.divisions import DivisionTable, load_divisions
from citydata.standards.industry import load_industries

_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def day_number(day: date) -> int:
    """Days since 1970-01-01 (the unit of the day arrays here)."""
    return day.toordinal() - _EPOCH_ORDINAL


def _days_from_civil(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of (valid) proleptic Gregorian dates, vectorized (H. Hinnant's algorithm)."""
    y = year - (month <= 2)
    era = np.floor_divide(y, 400)
    yoe = y - era * 400
    mp = (month + 9) % 12
    doy = (153 * mp + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


_MONTH_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)


def _calendar_day(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Which (year, month, day) triples are dates Python's `date` accepts (year 1-9999)."""
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    month_ok = (month >= 1) & (month <= 12)
    days_in_month = _MONTH_DAYS[np.where(month_ok, month, 0)] + ((month == 2) & leap)
    return (year >= 1) & (year <= 9999) & month_ok & (day >= 1) & (day <= days_in_month)


def _digits(matrix: np.ndarray, start: int, stop: int) -> np.ndarray:
    """The number written by ASCII digit columns [start, stop) of a byte matrix."""
    number = np.zeros(matrix.shape[0], dtype=np.int64)
    for column in range(start, stop):
        number = number * 10 + (matrix[:, column].astype(np.int64) - 48)
    return number


def _fixed_width_bytes(values: pa.Array, width: int) -> np.ndarray:
    """The bytes of ASCII strings that all have `width` characters, as an (n, width) uint8 matrix."""
    values = pc.cast(values, pa.string())
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if len(values) == 0:
        return np.zeros((0, width), dtype=np.uint8)
    offsets = np.frombuffer(values.buffers()[1], dtype=np.int32)[values.offset:values.offset + len(values) + 1]
    data = np.frombuffer(values.buffers()[2], dtype=np.uint8)[offsets[0]:offsets[-1]]
    return data.reshape(len(values), width)


def _width_matrix(values: pa.Array, width: int) -> tuple[np.ndarray, np.ndarray]:
    """(which values have exactly `width` bytes, their bytes as an (k, width) matrix): a byte-level look at
    fixed-width codes without a regular expression per value."""
    sized = pc.equal(pc.binary_length(values), width).fill_null(False).to_numpy(zero_copy_only=False)
    if not sized.any():
        return sized, np.zeros((0, width), dtype=np.uint8)
    return sized, _fixed_width_bytes(values.filter(pa.array(sized)), width)


def _all_digits(matrix: np.ndarray) -> np.ndarray:
    """Rows of a byte matrix that are ASCII digits only."""
    return ((matrix >= 48) & (matrix <= 57)).all(axis=1)


# --- dates (text.parse_date) -----------------------------------------------------------------------

# The four forms of text.parse_date, in ASCII digits with nothing around them; a form's groups are
# y, m, d. (Full-width digits, spaces after 年/月 and surrounding blanks go to the scalar rule.)
_DATE_FORMS = (
    r"^(?P<y>[0-9]{4})-(?P<m>[0-9]{1,2})-(?P<d>[0-9]{1,2})$",
    r"^(?P<y>[0-9]{4})/(?P<m>[0-9]{1,2})/(?P<d>[0-9]{1,2})$",
    r"^(?P<y>[0-9]{4})(?P<m>[0-9]{2})(?P<d>[0-9]{2})$",
    r"^(?P<y>[0-9]{4})年(?P<m>[0-9]{1,2})月(?P<d>[0-9]{1,2})日?$",
)


@dataclass(frozen=True)
class Dates:
    """`accepted`: parse_date passes; `days`: its date as days since 1970-01-01 (0 where not accepted)."""

    accepted: np.ndarray
    days: np.ndarray


def dates(values: pa.Array) -> Dates:
    """The values text.parse_date certainly accepts, and their dates."""
    n = len(values)
    year, month, day = (np.zeros(n, dtype=np.int64) for _ in range(3))
    found = np.zeros(n, dtype=bool)
    # the ISO form, which nearly every value has, read from the bytes
    sized, matrix = _width_matrix(values, 10)
    if len(matrix):
        digits = np.delete(matrix, (4, 7), axis=1)
        iso = _all_digits(digits) & (matrix[:, 4] == 45) & (matrix[:, 7] == 45)
        found[sized] = iso
        year[sized], month[sized], day[sized] = _digits(matrix, 0, 4), _digits(matrix, 5, 7), _digits(matrix, 8, 10)
    rest = ~found
    if rest.any():
        others = values.filter(pa.array(rest))
        o_year, o_month, o_day = (np.zeros(len(others), dtype=np.int64) for _ in range(3))
        o_found = np.zeros(len(others), dtype=bool)
        for form in _DATE_FORMS:
            parts = pc.extract_regex(others, pattern=form)
            matched = parts.is_valid().to_numpy(zero_copy_only=False) & ~o_found
            if not matched.any():
                continue
            for target, child in zip((o_year, o_month, o_day), ("y", "m", "d")):
                numbers = pc.cast(pc.if_else(parts.is_valid(), pc.struct_field(parts, child), "0"), pa.int64())
                target[matched] = numbers.to_numpy(zero_copy_only=False)[matched]
            o_found |= matched
        found[rest], year[rest], month[rest], day[rest] = o_found, o_year, o_month, o_day
    accepted = found & _calendar_day(year, month, day)
    days = np.where(accepted, _days_from_civil(np.where(accepted, year, 1970), np.where(accepted, month, 1),
                                               np.where(accepted, day, 1)), 0)
    return Dates(accepted, days)


# --- identity numbers (idcard.validate) ------------------------------------------------------------

@dataclass(frozen=True)
class IdNumbers:
    """`accepted`: idcard.validate passes with the value unchanged; `birth_days` and `male` of those."""

    accepted: np.ndarray
    birth_days: np.ndarray
    male: np.ndarray


_WEIGHTS = np.array(idcard.WEIGHTS, dtype=np.int64)
_CHECK_BYTES = np.frombuffer(idcard.CHECK_CHARS.encode("ascii"), dtype=np.uint8)
_PROVINCES = np.array(sorted(idcard.PROVINCE_CODES), dtype=np.int64)


@lru_cache(maxsize=4)
def _division_numbers(table: DivisionTable) -> np.ndarray:
    """Every 6-digit code of the city's table, at any time, as sorted integers."""
    return np.array(sorted({int(row.code) for row in table.rows if len(row.code) == 6}), dtype=np.int64)


def id_numbers(values: pa.Array, today: date | None = None) -> IdNumbers:
    """The 18-character numbers idcard.validate certainly accepts as they are (17 ASCII digits and a
    digit or upper-case X, the right check character, a calendar birth date between 1880-01-01 and today,
    a known division), with their birth day and sex."""
    n = len(values)
    accepted = np.zeros(n, dtype=bool)
    birth_days = np.zeros(n, dtype=np.int64)
    male = np.zeros(n, dtype=bool)
    sized, matrix = _width_matrix(values, 18)
    shape_ok = _all_digits(matrix[:, :17]) & ((matrix[:, 17] == 88) | ((matrix[:, 17] >= 48) & (matrix[:, 17] <= 57)))
    shaped = np.zeros(n, dtype=bool)
    shaped[sized] = shape_ok
    if not shaped.any():
        return IdNumbers(accepted, birth_days, male)
    matrix = matrix[shape_ok]
    digits = matrix[:, :17].astype(np.int64) - 48
    check_ok = _CHECK_BYTES[(digits @ _WEIGHTS) % 11] == matrix[:, 17]
    year, month, day = _digits(matrix, 6, 10), _digits(matrix, 10, 12), _digits(matrix, 12, 14)
    calendar = _calendar_day(year, month, day)
    born = np.where(calendar, _days_from_civil(np.where(calendar, year, 1970), np.where(calendar, month, 1),
                                               np.where(calendar, day, 1)), 0)
    in_range = calendar & (born >= day_number(idcard.EARLIEST_BIRTH)) & (born <= day_number(today or date.today()))
    table = load_divisions()
    division = _digits(matrix, 0, 6)
    in_city = (division // 100) == int(table.city_code[:4])
    division_ok = np.isin(division // 10_000, _PROVINCES) & (~in_city | np.isin(division, _division_numbers(table)))
    ok = check_ok & in_range & division_ok
    accepted[shaped] = ok
    birth_days[shaped] = np.where(ok, born, 0)
    male[shaped] = (matrix[:, 16] - 48) % 2 == 1
    return IdNumbers(accepted, birth_days, male & accepted)


# --- credit codes (uscc.validate) ------------------------------------------------------------------

def _byte_values(alphabet: str) -> np.ndarray:
    """A 256-entry table: a byte's position in `alphabet` (ASCII), -1 for any other byte."""
    table = np.full(256, -1, dtype=np.int64)
    for position, char in enumerate(alphabet):
        table[ord(char)] = position
    return table


_USCC_VALUES = _byte_values(uscc.CHARSET)
_USCC_CHECK = np.frombuffer(uscc.CHARSET.encode("ascii"), dtype=np.uint8)
_ORG_VALUES = _byte_values(uscc.ORG_BODY_CHARS)
_ORG_CHECK = np.frombuffer(b"0123456789X0", dtype=np.uint8)  # indexed by 11 - sum % 11 (10 -> X, 11 -> 0)


def credit_codes(values: pa.Array) -> np.ndarray:
    """The 18-character credit codes uscc.validate certainly accepts as they are (upper-case, from the
    31-character set, both check characters right)."""
    accepted = np.zeros(len(values), dtype=bool)
    sized, matrix = _width_matrix(values, 18)
    if not len(matrix):
        return accepted
    numbers = _USCC_VALUES[matrix]
    in_set = (numbers >= 0).all(axis=1)
    check = _USCC_CHECK[(31 - (np.where(in_set[:, None], numbers[:, :17], 0) @ np.array(uscc.WEIGHTS)) % 31) % 31]
    org = _ORG_VALUES[matrix[:, 8:16]]
    org_check = _ORG_CHECK[11 - (np.where(in_set[:, None], org, 0) @ np.array(uscc.ORG_WEIGHTS)) % 11]
    accepted[sized] = in_set & (check == matrix[:, 17]) & (org_check == matrix[:, 16])
    return accepted


def taxpayer_numbers(values: pa.Array) -> np.ndarray:
    """The taxpayer numbers uscc.validate_taxpayer_number certainly accepts as they are: 18-character credit
    codes `credit_codes` accepts (a legacy 15-character number takes the scalar rule)."""
    return credit_codes(values)


# --- industry codes (industry.validate) ------------------------------------------------------------

def industry_codes(values: pa.Array) -> np.ndarray:
    """The codes industry.validate certainly accepts as they are: 2 to 4 ASCII digits whose first two are a
    GB/T 4754-2017 division of the shipped table (a section letter, full-width digits or spaces take the
    scalar rule)."""
    digits = pc.match_substring_regex(values, r"^[0-9]{2,4}$").fill_null(False).to_numpy(zero_copy_only=False)
    divisions = pa.array(sorted(load_industries().divisions), pa.string())
    known = pc.is_in(pc.utf8_slice_codeunits(values, 0, 2), value_set=divisions).fill_null(False).to_numpy(
        zero_copy_only=False)
    return digits & known


# --- amounts (money.parse_money) -------------------------------------------------------------------

def plain_amounts(values: pa.Array) -> np.ndarray:
    """Bare decimal numbers in ASCII (an optional minus, digits, an optional fraction), which
    money.parse_money and a decimal check both read."""
    return pc.match_substring_regex(values, r"^-?[0-9]+(\.[0-9]+)?$").fill_null(False).to_numpy(
        zero_copy_only=False)


def money_amounts(values: pa.Array) -> np.ndarray:
    """Amounts money.parse_money certainly reads: a bare decimal number in ASCII, or one with its unit written
    right after it (元, 万元, 亿元), as registries write capital (50万元, 500000元)."""
    return pc.match_substring_regex(values, r"^-?[0-9]+(\.[0-9]+)?(元|万元|亿元)?$").fill_null(False).to_numpy(
        zero_copy_only=False)


# --- genders (idcard.normalize_gender) -------------------------------------------------------------

@dataclass(frozen=True)
class Genders:
    """`accepted`: normalize_gender knows the word as written; `male` of those."""

    accepted: np.ndarray
    male: np.ndarray


def genders(values: pa.Array) -> Genders:
    """The gender words normalize_gender reads exactly as written (男, 女, M, F, 1, 2, MALE, FEMALE)."""
    words = idcard.GENDER_WORDS
    accepted = pc.is_in(values, pa.array(list(words))).fill_null(False).to_numpy(zero_copy_only=False)
    male = pc.is_in(values, pa.array([w for w, g in words.items() if g == "M"])).fill_null(False)
    return Genders(accepted, male.to_numpy(zero_copy_only=False))


# --- mobiles (phone.validate_mobile) ---------------------------------------------------------------

def mobiles(values: pa.Array) -> np.ndarray:
    """The bare 11-digit mobile numbers (1[3-9] + 9 ASCII digits) phone.validate_mobile accepts as they are."""
    sized, matrix = _width_matrix(values, 11)
    accepted = np.zeros(len(values), dtype=bool)
    accepted[sized] = _all_digits(matrix) & (matrix[:, 0] == 49) & (matrix[:, 1] >= 51)
    return accepted


# --- division codes (DivisionTable.validate) -------------------------------------------------------

@lru_cache(maxsize=8)
def _code_versions(table: DivisionTable, digits: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(code, first day, last day) of every version of every code of `digits` digits, sorted by code."""
    rows = sorted((int(row.code), day_number(row.valid_from),
                   day_number(row.valid_to) if row.valid_to else np.iinfo(np.int64).max)
                  for row in table.rows if len(row.code) == digits)
    codes, first, last = (np.array(column, dtype=np.int64) for column in zip(*rows)) if rows else (
        np.zeros(0, dtype=np.int64),) * 3
    return codes, first, last


def division_codes(values: pa.Array, digits: int, at_days: np.ndarray | None = None) -> np.ndarray:
    """The codes of `digits` ASCII digits that DivisionTable.validate certainly accepts: codes of the city's
    table (any version) and, when `at_days` (days since 1970-01-01) are given, with a version valid then."""
    sized, matrix = _width_matrix(values, digits)
    digit_rows = _all_digits(matrix)
    shaped = np.zeros(len(values), dtype=bool)
    shaped[sized] = digit_rows
    accepted = np.zeros(len(values), dtype=bool)
    codes, first, last = _code_versions(load_divisions(), digits)
    if not shaped.any() or not len(codes):
        return accepted
    numbers = _digits(matrix[digit_rows], 0, digits)
    at = at_days[shaped] if at_days is not None else None
    start, stop = np.searchsorted(codes, numbers, "left"), np.searchsorted(codes, numbers, "right")
    found = np.zeros(len(numbers), dtype=bool)
    for version in range(int((stop - start).max(initial=0))):
        position = np.minimum(start + version, len(codes) - 1)
        exists = start + version < stop
        found |= exists if at is None else exists & (first[position] <= at) & (at <= last[position])
    accepted[shaped] = found
    return accepted


@lru_cache(maxsize=4)
def _street_parents(table: DivisionTable) -> Mapping[str, str]:
    """Street code -> the district DivisionTable.district_of names (its latest version's parent)."""
    return {code: parent for code in {row.code for row in table.rows}
            if (parent := table.district_of(code)) is not None}


def streets_in_districts(streets: pa.Array, districts: pa.Array) -> np.ndarray:
    """Where DivisionTable.district_of(street) is the district given beside it."""
    parents = _street_parents(load_divisions())
    known = pa.array(list(parents))
    position = pc.index_in(streets, value_set=known)
    parent_of = pc.take(pa.array(list(parents.values())), position)
    return pc.equal(parent_of, districts).fill_null(False).to_numpy(zero_copy_only=False)


# --- text (ingest's text check: any non-blank value) ------------------------------------------------

def non_blank(values: pa.Array) -> np.ndarray:
    """Values that hold a character no whitespace rule removes (an ASCII letter or digit, or a CJK ideograph):
    certainly not blank after full-width normalization and strip."""
    return pc.match_substring_regex(values, r"[0-9A-Za-z\x{4e00}-\x{9fff}]").fill_null(False).to_numpy(
        zero_copy_only=False)


def lengths(values: pa.Array) -> np.ndarray:
    """Each value's length in characters (code points, as Python's len)."""
    return pc.utf8_length(values).fill_null(0).to_numpy(zero_copy_only=False)
