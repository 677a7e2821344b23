"""Row validation driven by a source contract: each field's check, then the row checks.

Pure functions (no Spark): the bronze landing runs them inside Spark tasks, silver runs them again
to get standardized values, and the unit tests call them directly. Every check is a standards
validator or a thin rule over one; a failure is a reason code plus a detail that quotes only masked
values (sensitive/core fields are never quoted raw).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from citydata.catalog.contracts import Classification, FieldSpec, SourceContract
from citydata.standards import coords, geo, idcard, industry, masking, money, phone, text, uscc
from citydata.standards.divisions import load_divisions
from citydata.standards.geometry import validate_geometry
from citydata.standards.result import ValidationResult, failed, passed

# Every reason code, row-level ones (REQUIRED_MISSING, GENDER_CODE, ...) included, is registered once
# in citydata.standards.result.REASON_CODES; ValidationResult refuses any other.

_SPACES = re.compile(r"[\s\-]+")


@dataclass(frozen=True)
class Problem:
    """One failed check of one row: the field (or the row check), its reason code and a safe detail."""

    field: str
    reason: str
    detail: str


@dataclass(frozen=True)
class RecordResult:
    """A validated row: normalized values (None where a check failed) and the problems found."""

    values: dict[str, Any]
    problems: tuple[Problem, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def reason_code(self) -> str | None:
        return self.problems[0].reason if self.problems else None

    @property
    def reason_detail(self) -> str:
        return "; ".join(f"{p.field}: {p.reason} ({p.detail})" for p in self.problems)


# --- masking: what may be quoted --------------------------------------------------------------------

def redact(value: str) -> str:
    return "*" * len(value)


def mask_value(mask: str | None, value: str) -> str:
    """Mask a sensitive value with the standards' rule of that kind (malformed values fully masked)."""
    return masking.mask_value(mask or "full", value) or ""


def quote(spec: FieldSpec, raw: str | None) -> str:
    """The value of a field as it may appear in logs, rejects and errors (a long one cut: masking.shorten)."""
    value = "" if raw is None else masking.shorten(str(raw))
    if spec.classification in (Classification.PUBLIC, Classification.INTERNAL):
        return value
    if spec.classification is Classification.CORE:
        return redact(value)
    return mask_value(spec.mask, value)


def masked_record(contract: SourceContract, raw: Mapping[str, str | None]) -> str:
    """The row as JSON with every sensitive value masked (the rejects' raw_masked column)."""
    return json.dumps({spec.name: quote(spec, raw.get(spec.name)) for spec in contract.fields}, ensure_ascii=False)


# --- field checks -----------------------------------------------------------------------------------

def _clean(raw: str) -> str:
    return text.normalize_fullwidth(raw).strip()


def _check_id_number(raw: str, spec: FieldSpec, at: date | None) -> ValidationResult:
    return idcard.validate(raw)


def _check_text(raw: str, spec: FieldSpec, at: date | None) -> ValidationResult:
    return passed(" ".join(_clean(raw).split()))


def _check_gender(raw: str, spec: FieldSpec, at: date | None) -> ValidationResult:
    value = idcard.normalize_gender(raw)
    return passed(value) if value else failed("GENDER_CODE", _clean(raw), "expected 男/女, 1/2 or M/F")


def _check_date(raw: str, spec: FieldSpec, at: date | None) -> ValidationResult:
    return text.parse_date(raw)


def _check_division(level: str, digits: int) -> Callable[[str, FieldSpec, date | None], ValidationResult]:
    def check(raw: str, spec: FieldSpec, at: date | None) -> ValidationResult:
        code = _SPACES.sub("", _clean(raw))
        if len(code) != digits or not code.isdigit():
            return failed("DIVISION_LEVEL", code, f"a {level} code has {digits} digits")
        return load_divisions().validate(code, at)

    return check


def _check_mobile(raw: str, spec: FieldSpec, at: date | None) -> ValidationResult:
    return phone.validate_mobile(raw)


def _check_uscc(raw: str, spec: FieldSpec, at: date | None) -> ValidationResult:
    return uscc.validate(raw)


def _check_taxpayer_id(raw: str, spec: FieldSpec, at: date | None) -> ValidationResult:
    return uscc.validate_taxpayer_number(raw)


def _check_money(raw: str, spec: FieldSpec, at: date | None) -> ValidationResult:
    return money.parse_money(raw, unit=spec.unit or "元")


def _check_decimal(raw: str, spec: FieldSpec, at: date | None) -> ValidationResult:
    text_value = _clean(raw).replace(",", "")
    try:
        number = Decimal(text_value)
    except InvalidOperation:
        return failed("NUMBER_FORMAT", text_value, "not a decimal number")
    if not number.is_finite():
        return failed("NUMBER_FORMAT", text_value, "not a finite number")
    return passed(number)


def _check_industry(raw: str, spec: FieldSpec, at: date | None) -> ValidationResult:
    return industry.validate(raw)


def _check_lonlat(raw: str, spec: FieldSpec, at: date | None) -> ValidationResult:
    parts = [p.strip() for p in _clean(raw).split(",")]
    if len(parts) != 2:
        return failed("COORD_FORMAT", None, "expected 'longitude,latitude'")
    result = coords.validate_point(parts[0], parts[1], spec.coord_system or "wgs84")
    if not result.ok:
        return result
    lon, lat = result.value
    located = geo.locate(lon, lat)  # the standards: a point outside the city boundary is GEO_OUTSIDE_CITY
    if not located.ok:
        return located
    return passed(f"{lon:.6f},{lat:.6f}")  # stored as WGS-84


def _check_geometry(raw: str, spec: FieldSpec, at: date | None) -> ValidationResult:
    """A valid GeoJSON geometry (citydata.standards.geometry: closed rings, no self-intersection, valid);
    a WGS-84 one must also lie inside the city (another system's would need converting first)."""
    try:
        geometry = json.loads(raw)
    except ValueError:
        return failed("GEOMETRY_FORMAT", None, "not JSON text")
    checked = validate_geometry(geometry, inside_city=(spec.coord_system or "wgs84") == "wgs84")
    if not checked.ok:
        return checked
    return passed(json.dumps(geometry, ensure_ascii=False, separators=(",", ":")))


FIELD_CHECKS: dict[str, Callable[[str, FieldSpec, date | None], ValidationResult]] = {
    "id_number": _check_id_number,
    "text": _check_text,
    "gender": _check_gender,
    "date": _check_date,
    "district_code": _check_division("district", 6),
    "street_code": _check_division("street", 9),
    "mobile": _check_mobile,
    "uscc": _check_uscc,
    "taxpayer_id": _check_taxpayer_id,
    "money": _check_money,
    "decimal": _check_decimal,
    "industry": _check_industry,
    "lonlat": _check_lonlat,
    "geometry": _check_geometry,
}


# --- row checks -------------------------------------------------------------------------------------

def _row_id_birth_date(values: dict[str, Any], raw: Mapping[str, str | None]) -> list[Problem]:
    if not values.get("id_number") or values.get("birth_date") is None:
        return []
    findings = idcard.compare_declared(values["id_number"], declared_birth=values["birth_date"])
    return [Problem("birth_date", f.reason, "declared date differs from the identity number's") for f in findings]


def _row_id_gender(values: dict[str, Any], raw: Mapping[str, str | None]) -> list[Problem]:
    if not values.get("id_number") or values.get("gender") is None:
        return []
    findings = idcard.compare_declared(values["id_number"], declared_gender=values["gender"])
    return [Problem("gender", f.reason, f"declared {f.declared}, identity number says {f.derived}")
            for f in findings]


def _row_street_in_district(values: dict[str, Any], raw: Mapping[str, str | None]) -> list[Problem]:
    street, district = values.get("street_code"), values.get("district_code")
    if not street or not district:
        return []
    parent = load_divisions().district_of(street)
    if parent != district:
        return [Problem("street_code", "STREET_DISTRICT_MISMATCH", f"street {street} lies in {parent}, "
                                                                   f"not in {district}")]
    return []


ROW_CHECKS: dict[str, Callable[[dict[str, Any], Mapping[str, str | None]], list[Problem]]] = {
    "id_birth_date": _row_id_birth_date,
    "id_gender": _row_id_gender,
    "street_in_district": _row_street_in_district,
}


# --- one row ----------------------------------------------------------------------------------------

def _reference_date(contract: SourceContract, raw: Mapping[str, str | None], spec: FieldSpec) -> date | None:
    """The date a division field must be valid at (the field named by `valid_at`), when readable."""
    if not spec.valid_at:
        return None
    parsed = text.parse_date(raw.get(spec.valid_at) or "")
    return parsed.value if parsed.ok else None


def _listed(spec: FieldSpec, raw: str) -> Problem | None:
    """The contract's enumeration (`values`) and fixed length (`length`) of a field, checked on the cleaned value."""
    value = _clean(raw)
    if spec.values is not None and value not in spec.values:
        return Problem(spec.name, "VALUE_NOT_LISTED", f"{quote(spec, value)}: not one of {len(spec.values)} values "
                                                      "the contract lists")
    if spec.length is not None and len(value) != spec.length:
        return Problem(spec.name, "VALUE_LENGTH", f"{len(value)} characters, the contract says {spec.length}")
    return None


def validate_record(contract: SourceContract, raw: Mapping[str, str | None]) -> RecordResult:
    """Check every field of a row by its contract check, then the contract's row checks."""
    values: dict[str, Any] = {}
    problems: list[Problem] = []
    for spec in contract.fields:
        value = raw.get(spec.name)
        if value is None or _clean(value) == "":
            values[spec.name] = None
            if spec.required:
                problems.append(Problem(spec.name, "REQUIRED_MISSING", "empty"))
            continue
        limit = spec.length_limit
        if limit is not None and len(value) > limit:
            values[spec.name] = None
            problems.append(Problem(spec.name, "FIELD_TOO_LONG", f"{len(value):,} characters, at most {limit:,}"))
            continue
        listed = _listed(spec, value)
        if listed is not None:
            values[spec.name] = None
            problems.append(listed)
            continue
        result = FIELD_CHECKS[spec.check](value, spec, _reference_date(contract, raw, spec))
        if result.ok:
            values[spec.name] = result.value
        else:
            values[spec.name] = None
            detail = f"{quote(spec, value)}: {result.detail}" if result.detail else quote(spec, value)
            problems.append(Problem(spec.name, str(result.reason), detail))
    for check in contract.row_checks:
        problems.extend(ROW_CHECKS[check](values, raw))
    return RecordResult(values, tuple(problems))
