"""Citizen identity numbers (公民身份号码, GB 11643-1999): check character, validation, generation.

18 characters: 6-digit division of first registration + YYYYMMDD + 3-digit sequence (odd = male)
+ a mod-11 check character. Legacy 15-digit numbers (6 + YYMMDD + 3) are upgraded to 18.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from citydata.standards.divisions import load_divisions
from citydata.standards.result import ValidationResult, failed, passed
from citydata.standards.text import normalize_fullwidth, parse_date

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"  # indexed by sum mod 11

#: The real provincial-level codes of GB/T 2260 (first two digits of any mainland ID number).
PROVINCE_CODES = frozenset(
    {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46,
     50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82}
)
EARLIEST_BIRTH = date(1880, 1, 1)

_WHITESPACE = re.compile(r"\s+")


def check_char(first17: str) -> str:
    """The GB 11643 check character ('0'–'9' or 'X') of 17 digits."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError(f"check_char needs exactly 17 ASCII digits, got {len(first17)} characters")
    total = sum(int(digit) * weight for digit, weight in zip(first17, WEIGHTS))
    return CHECK_CHARS[total % 11]


def normalize(raw: str) -> str:
    """Full-width to half-width, drop all whitespace, upper-case x."""
    return _WHITESPACE.sub("", normalize_fullwidth(str(raw))).upper()


def upgrade_15(number15: str) -> str:
    """Legacy 15-digit number -> 18: insert '19' before the 2-digit year, append the check character."""
    number15 = normalize(number15)
    if len(number15) != 15 or not number15.isascii() or not number15.isdigit():
        raise ValueError("a legacy identity number is exactly 15 digits")
    first17 = number15[:6] + "19" + number15[6:]
    return first17 + check_char(first17)


def _birth(number: str) -> date | None:
    try:
        return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None


def _division_ok(division: str) -> bool:
    if int(division[:2]) not in PROVINCE_CODES:
        return False
    table = load_divisions()
    if division[:4] == table.city_code[:4]:
        return table.exists(division)
    return True


def validate(raw: str | None, today: date | None = None) -> ValidationResult:
    """Normalize and check an identity number; value is the 18-character upper-case number.

    Reasons, in the order checked: ID_LENGTH, ID_CHARSET, ID_CHECKSUM, ID_BIRTHDATE, ID_DIVISION.
    """
    if raw is None:
        return failed("ID_LENGTH", None, "empty identity number")
    number = normalize(raw)
    if len(number) not in (15, 18):
        return failed("ID_LENGTH", number, f"{len(number)} characters, expected 18 (or legacy 15)")
    if len(number) == 15:
        if not (number.isascii() and number.isdigit()):
            return failed("ID_CHARSET", number, "a legacy 15-character number is all digits")
        number = upgrade_15(number)
    elif not (number[:17].isascii() and number[:17].isdigit() and number[17] in "0123456789X"):
        return failed("ID_CHARSET", number, "expected 17 digits and a digit or X")
    expected = check_char(number[:17])
    if number[17] != expected:
        return failed("ID_CHECKSUM", number, "check character does not match the first 17 digits")
    born = _birth(number)
    if born is None:
        return failed("ID_BIRTHDATE", number, "birth date is not a calendar date")
    if born > (today or date.today()):
        return failed("ID_BIRTHDATE", number, "birth date is in the future")
    if born < EARLIEST_BIRTH:
        return failed("ID_BIRTHDATE", number, f"birth date is before {EARLIEST_BIRTH.isoformat()}")
    if not _division_ok(number[:6]):
        return failed("ID_DIVISION", number, "division code is not a known province or city division")
    return passed(number)


def make(division: str, birth: date, sequence: int) -> str:
    """A valid 18-character number; sequence 0–999, odd = male, even = female."""
    if len(division) != 6 or not division.isdigit():
        raise ValueError("division must be a 6-digit code")
    if not 0 <= sequence <= 999:
        raise ValueError(f"sequence must be 0..999, got {sequence}")
    first17 = f"{division}{birth:%Y%m%d}{sequence:03d}"
    return first17 + check_char(first17)


def _valid_or_raise(number: str) -> str:
    result = validate(number, today=date.max)
    if not result.ok:
        raise ValueError(f"not a valid identity number ({result.reason}): {mask(number)}")
    return result.value


def birth_date(number: str) -> date:
    """Birth date encoded in a valid (15- or 18-character) number; ValueError if invalid."""
    valid = _valid_or_raise(number)
    return date(int(valid[6:10]), int(valid[10:12]), int(valid[12:14]))


def gender(number: str) -> str:
    """'M' (odd sequence digit) or 'F' (even) of a valid number; ValueError if invalid."""
    return "M" if int(_valid_or_raise(number)[16]) % 2 else "F"


def mask(number: str) -> str:
    """First 6 + ******** + last 4 (the masking rule, repeated here to keep imports one-way)."""
    text = normalize(number) if number else ""
    return text[:6] + "********" + text[-4:] if len(text) >= 15 else "********"


GENDER_WORDS = {"M": "M", "MALE": "M", "男": "M", "1": "M", "F": "F", "FEMALE": "F", "女": "F", "2": "F"}


def normalize_gender(declared: str | None) -> str | None:
    """'M' / 'F' from M/F/male/female/男/女/1/2 (GB/T 2261.1); None when unknown or unstated."""
    if declared is None:
        return None
    return GENDER_WORDS.get(normalize_fullwidth(str(declared)).strip().upper())


@dataclass(frozen=True)
class Finding:
    """A data-quality finding: the declared value disagrees with the one derived from the number."""

    reason: str
    field: str
    declared: str
    derived: str


def compare_declared(
    number: str, declared_gender: str | None = None, declared_birth: date | str | None = None
) -> list[Finding]:
    """Findings (ID_GENDER_MISMATCH, ID_BIRTHDATE_MISMATCH) where declared values disagree.

    Nothing is overwritten: the caller records the findings and keeps both values. Declared values
    that cannot be read (unknown gender word, unparseable date) are not compared. ValueError if the
    number itself is invalid.
    """
    findings: list[Finding] = []
    derived_gender, derived_birth = gender(number), birth_date(number)
    said = normalize_gender(declared_gender)
    if said is not None and said != derived_gender:
        findings.append(Finding("ID_GENDER_MISMATCH", "gender", said, derived_gender))
    if declared_birth is not None:
        parsed = parse_date(declared_birth)
        if parsed.ok and parsed.value != derived_birth:
            findings.append(
                Finding("ID_BIRTHDATE_MISMATCH", "birth_date", parsed.value.isoformat(), derived_birth.isoformat())
            )
    return findings
