"""The structured result every validator returns, and the registry of reason codes.

Reason codes are stable UPPER_SNAKE strings: they land in rejects tables, data-quality findings
and docs/standards.md. Add a code here before using it anywhere; never rename one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

REASON_CODES: dict[str, str] = {
    # citizen identity number (GB 11643-1999)
    "ID_LENGTH": "identity number is not 18 characters (or a legacy 15-digit number) after normalization",
    "ID_CHARSET": "identity number has a character other than digits (and a final X)",
    "ID_CHECKSUM": "identity number check character does not match the mod-11 check of the first 17 digits",
    "ID_BIRTHDATE": "birth date in the identity number is impossible, before 1880 or in the future",
    "ID_DIVISION": "division code in the identity number is not a known province or city division",
    "ID_GENDER_MISMATCH": "declared gender disagrees with the gender derived from the identity number",
    "ID_BIRTHDATE_MISMATCH": "declared birth date disagrees with the birth date in the identity number",
    # unified social credit code (GB 32100-2015) and legacy identifiers
    "USCC_LENGTH": "unified social credit code is not 18 characters",
    "USCC_CHARSET": "unified social credit code has a character outside 0-9 and ABCDEFGHJKLMNPQRTUWXY",
    "USCC_CHECKSUM": "unified social credit code check character does not match the mod-31 check",
    "USCC_ORGCODE_CHECKSUM": "organization code embedded in the credit code fails its GB 11714 check",
    "ORGCODE_LENGTH": "organization code is not 9 characters (8 + check, hyphen allowed)",
    "ORGCODE_CHARSET": "organization code has a character outside 0-9 and A-Z (check: 0-9 or X)",
    "ORGCODE_CHECKSUM": "organization code check character does not match the GB 11714 check",
    "REGNO_LENGTH": "business registration number is not 15 digits",
    "REGNO_CHARSET": "business registration number has a non-digit character",
    "TAXNO_LENGTH": "taxpayer number is neither an 18-character credit code nor a 15-character legacy tax number",
    "TAXNO_DIVISION": "legacy 15-character tax number does not start with a 6-digit division code",
    # administrative divisions (GB/T 2260 + statistical codes)
    "DIVISION_UNKNOWN": "division code does not exist in the city's division table at any time",
    "DIVISION_EXPIRED": "division code existed but is not valid at the given date (see its successor)",
    # industry (GB/T 4754-2017)
    "INDUSTRY_UNKNOWN": "industry code is not a GB/T 4754-2017 section letter or 2-digit division",
    # dates, text, encodings, money
    "DATE_FORMAT": "date is not in one of the accepted forms (2019-03-05, 2019/3/5, 20190305, 2019年3月5日)",
    "DATE_IMPOSSIBLE": "date has the accepted form but does not exist (e.g. 2019-02-30)",
    "FILE_ENCODING": "file is neither valid UTF-8 (with or without BOM) nor GBK/GB18030: rejected as a whole",
    "FILE_FORMAT": "file is not a readable workbook / JSON / GeoJSON document of the contract's format: rejected whole",
    "HEADER_MISSING": "file has no header row: rejected whole",
    "HEADER_MISMATCH": "header lacks a column of the contract (or repeats one): rejected whole",
    "SHEET_MISSING": "workbook has no sheet of the name the contract gives: rejected whole",
    "UNKNOWN_FILE": "a file in a day's delivery folder that no contract reads: reported, left where it is",
    "COLUMN_COUNT": "the delivered line does not have the contract's number of columns",
    "RECORD_FORMAT": "an API record or GeoJSON feature is not a JSON object with the expected members",
    "REQUIRED_MISSING": "a required field is empty",
    "VALUE_NOT_LISTED": "value is not one of the values the contract lists for its field (`values`)",
    "VALUE_LENGTH": "value does not have the fixed number of characters the contract gives its field (`length`)",
    "FIELD_TOO_LONG": "a value has more characters than its field allows (the contract's max_length, else 4,000)",
    "GENDER_CODE": "gender is not one of 男/女, 1/2, M/F",
    "MOBILE_FORMAT": "phone is not an 11-digit mainland mobile number (1[3-9] + 9 digits)",
    "DIVISION_LEVEL": "a district field holds no 6-digit code or a street field no 9-digit code",
    "STREET_DISTRICT_MISMATCH": "the street code does not lie in the declared district",
    "NUMBER_FORMAT": "a decimal field is not a finite decimal number",
    "COORD_FORMAT": "a lonlat field is not 'longitude,latitude'",
    "GEOMETRY_FORMAT": "a geometry field is not a GeoJSON geometry object",
    "FILE_TRUNCATED": "file was cut: the incomplete last row is rejected (the whole file when nothing of it is "
                      "readable: a cut header, JSON document or workbook); nothing after the cut arrived",
    "DUPLICATE_ROW": "row repeats an earlier row of the same delivery exactly (the later copy is rejected)",
    "MONEY_FORMAT": "amount is not a decimal number with an optional 元/万元/亿元 unit",
    # coordinates and geometry
    "COORD_SYSTEM": "coordinate system is not one of wgs84, gcj02, bd09",
    "COORD_RANGE": "longitude/latitude is not a finite number within -180..180 / -90..90",
    "GEO_OUTSIDE_CITY": "point lies outside the city boundary polygon",
    # geometries (citydata.standards.geometry, shapely)
    "GEOMETRY_RING_OPEN": "a polygon ring is not closed (its last position is not its first) or has under 4 positions",
    "GEOMETRY_SELF_INTERSECTION": "a polygon's boundary crosses or touches itself",
    "GEOMETRY_INVALID": "geometry breaks the OGC simple-features rules (a hole outside its shell, too few points…)",
    "GEOMETRY_OUTSIDE_CITY": "geometry is not inside the city boundary polygon",
    # addresses (citydata.standards.geocode)
    "GEO_ADDRESS_UNMATCHED": "address names no district or street of the city's division table (history included)",
    "GEO_ADDRESS_AMBIGUOUS": "address names a street that lies in several districts, or not in the district it names",
}


@dataclass(frozen=True)
class ValidationResult:
    """Outcome of one validation.

    ok: the input passed; value: the normalized value (on failure, the normalized input or None:
    it may be personal data, mask it before logging); reason: a code of REASON_CODES or None;
    detail: a short human explanation that never quotes a personal value.
    """

    ok: bool
    value: Any
    reason: str | None = None
    detail: str | None = None

    def __post_init__(self) -> None:
        if self.ok and self.reason is not None:
            raise ValueError(f"a passing result carries no reason code, got {self.reason!r}")
        if not self.ok and self.reason not in REASON_CODES:
            raise ValueError(f"unknown reason code {self.reason!r}: register it in REASON_CODES")


def passed(value: Any) -> ValidationResult:
    return ValidationResult(True, value, None)


def failed(reason: str, value: Any = None, detail: str | None = None) -> ValidationResult:
    return ValidationResult(False, value, reason, detail)
