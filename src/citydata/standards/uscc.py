"""Unified social credit codes (统一社会信用代码, GB 32100-2015) and the legacy identifiers they replace.

18 characters: registration authority (1) + entity type (1) + division (6) + organization code
(9, GB 11714, with its own check) + a mod-31 check character. Legacy records carry a 9-character
organization code or a 15-digit business registration number; both are checked here (format level
for the registration number) so the master record can link them.
"""

from __future__ import annotations

import re

from citydata.standards.result import ValidationResult, failed, passed
from citydata.standards.text import normalize_fullwidth

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 characters: no I, O, Z, S, V
_VALUE = {char: index for index, char in enumerate(CHARSET)}
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
ORG_BODY_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"  # digits as values, A=10 … Z=35

#: Registration authorities (first character) and the entity types each defines (second).
AUTHORITIES = {
    "1": ("机构编制", "139"), "2": ("外交", "19"), "3": ("司法行政", "12349"),
    "4": ("文化", "19"), "5": ("民政", "1239"), "6": ("旅游", "129"), "7": ("宗教", "129"),
    "8": ("工会", "19"), "9": ("工商", "123"), "A": ("中央军委改革和编制办公室", "19"),
    "N": ("农业", "1239"), "Y": ("其他", "1"),
}

_SEPARATORS = re.compile(r"[\s\-]+")


def _normalize(raw: str) -> str:
    return _SEPARATORS.sub("", normalize_fullwidth(str(raw))).upper()


def check_char(first17: str) -> str:
    """The GB 32100 check character of the first 17 characters (all from CHARSET)."""
    if len(first17) != 17 or any(char not in _VALUE for char in first17):
        raise ValueError("check_char needs 17 characters from the 31-character set")
    total = sum(_VALUE[char] * weight for char, weight in zip(first17, WEIGHTS))
    return CHARSET[(31 - total % 31) % 31]


def org_check_char(first8: str) -> str:
    """The GB 11714 check character ('0'–'9' or 'X') of an organization code's first 8 characters."""
    if len(first8) != 8 or any(char not in ORG_BODY_CHARS for char in first8):
        raise ValueError("org_check_char needs 8 characters from 0-9 and A-Z")
    total = sum(ORG_BODY_CHARS.index(char) * weight for char, weight in zip(first8, ORG_WEIGHTS))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def validate(raw: str | None) -> ValidationResult:
    """Normalize and check a credit code; value is the 18-character upper-case code.

    Reasons, in the order checked: USCC_LENGTH, USCC_CHARSET, USCC_CHECKSUM, USCC_ORGCODE_CHECKSUM.
    """
    if raw is None:
        return failed("USCC_LENGTH", None, "empty credit code")
    code = _normalize(raw)
    if len(code) != 18:
        return failed("USCC_LENGTH", code, f"{len(code)} characters, expected 18")
    bad = [char for char in code if char not in _VALUE]
    if bad:
        return failed("USCC_CHARSET", code, f"characters outside the 31-character set: {''.join(bad)}")
    if code[17] != check_char(code[:17]):
        return failed("USCC_CHECKSUM", code, "check character does not match the first 17 characters")
    if code[16] != org_check_char(code[8:16]):
        return failed("USCC_ORGCODE_CHECKSUM", code, "embedded organization code fails its GB 11714 check")
    return passed(code)


def make(authority: str, entity_type: str, division: str, org_base8: str) -> str:
    """A valid credit code from its parts; org_base8 uses the 31-character set (no I, O, Z, S, V)."""
    body = f"{authority}{entity_type}{division}{org_base8}"
    if len(authority) != 1 or len(entity_type) != 1 or len(division) != 6 or len(org_base8) != 8:
        raise ValueError("authority and entity_type are 1 character, division 6, org_base8 8")
    if any(char not in _VALUE for char in body):
        raise ValueError("every part must use the 31-character set 0-9 ABCDEFGHJKLMNPQRTUWXY")
    first17 = body + org_check_char(org_base8)
    return first17 + check_char(first17)


def org_code(code: str) -> str:
    """The 9-character organization code embedded in a credit code (positions 9–17)."""
    return _normalize(code)[8:17]


def division(code: str) -> str:
    """The 6-digit division code embedded in a credit code (positions 3–8)."""
    return _normalize(code)[2:8]


def make_org_code(base8: str) -> str:
    """A legacy 9-character organization code: base + GB 11714 check character."""
    base8 = _normalize(base8)
    return base8 + org_check_char(base8)


def validate_org_code(raw: str | None) -> ValidationResult:
    """Legacy organization code (GB 11714): 8 characters 0-9/A-Z + check 0-9/X; 'XXXXXXXX-X' accepted.

    Reasons: ORGCODE_LENGTH, ORGCODE_CHARSET, ORGCODE_CHECKSUM. Value is the 9 characters without hyphen.
    """
    if raw is None:
        return failed("ORGCODE_LENGTH", None, "empty organization code")
    code = _normalize(raw)
    if len(code) != 9:
        return failed("ORGCODE_LENGTH", code, f"{len(code)} characters, expected 9")
    if any(char not in ORG_BODY_CHARS for char in code[:8]) or code[8] not in "0123456789X":
        return failed("ORGCODE_CHARSET", code, "expected 8 of 0-9/A-Z and a check of 0-9/X")
    if code[8] != org_check_char(code[:8]):
        return failed("ORGCODE_CHECKSUM", code, "check character does not match")
    return passed(code)


def validate_registration_number(raw: str | None) -> ValidationResult:
    """Legacy 15-digit business registration number (工商注册号), checked at format level only.

    Reasons: REGNO_LENGTH, REGNO_CHARSET.
    """
    if raw is None:
        return failed("REGNO_LENGTH", None, "empty registration number")
    number = _normalize(raw)
    if len(number) != 15:
        return failed("REGNO_LENGTH", number, f"{len(number)} characters, expected 15")
    if not (number.isascii() and number.isdigit()):
        return failed("REGNO_CHARSET", number, "a registration number is all digits")
    return passed(number)


def legacy_tax_number(code: str) -> str:
    """The legacy 税务登记号 of a credit code's entity: its division + organization code (positions 3–17).

    Before 三证合一 (2015-10-01) the tax bureau numbered a taxpayer by the 6-digit division of its
    registration and its 9-character organization code; the credit code embeds both.
    """
    return _normalize(code)[2:17]


def validate_taxpayer_number(raw: str | None) -> ValidationResult:
    """A taxpayer identification number: an 18-character credit code, or the legacy 15-character tax
    registration number (6-digit division + GB 11714 organization code). Value: the normalized number.

    Reasons: TAXNO_LENGTH (neither length), the USCC_* codes for 18 characters, TAXNO_DIVISION and
    the ORGCODE_* codes for 15.
    """
    if raw is None:
        return failed("TAXNO_LENGTH", None, "empty taxpayer number")
    number = _normalize(raw)
    if len(number) == 18:
        return validate(number)
    if len(number) != 15:
        return failed("TAXNO_LENGTH", number, f"{len(number)} characters, expected 18 (credit code) or 15 "
                                              "(legacy division + organization code)")
    if not (number[:6].isascii() and number[:6].isdigit()):
        return failed("TAXNO_DIVISION", number, "a legacy tax number starts with a 6-digit division code")
    org = validate_org_code(number[6:])
    if not org.ok:
        return failed(str(org.reason), number, f"organization code part: {org.detail}")
    return passed(number)
