"""A contract's checks over a whole Arrow batch: which rows certainly pass every field and row check.

`certainly_valid` combines the column-wise forms of citydata.standards.columnar field by field, in the
contract's terms (required, length limit, listed values, the date a division must be valid at) and then
the contract's row checks. A row it accepts is one citydata.ingest.validate.validate_record accepts; every
other row — a reject, or a valid value in an unusual shape — goes to validate_record itself, which gives
the verdict and the reason codes. A check without a column-wise form here (lonlat, geometry)
accepts nothing, so its rows take the scalar path: slower, never different.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from citydata.catalog.contracts import FieldSpec, SourceContract
from citydata.standards import columnar, text


@dataclass(frozen=True)
class FieldVerdict:
    """One field over a batch: `passed` rows pass its check; of those, `present` hold a value (the others are
    empty and optional); `days` (dates) / `birth_days`, `male` (ID numbers, genders) where the check reads them;
    `value`: the values the check accepted, where they differ from the delivered ones (full-width ID numbers)."""

    passed: np.ndarray
    present: np.ndarray
    days: np.ndarray | None = None
    male: np.ndarray | None = None
    value: pa.Array | None = None


def _half_width(values: pa.Array) -> pa.Array | None:
    """The values with full-width forms made half-width (text.normalize_fullwidth, the scalar checks' own first
    step), computed for the values that hold a non-ASCII character; None when none does."""
    wide = pc.invert(pc.string_is_ascii(values)).fill_null(False)
    if not pc.any(wide).as_py():
        return None
    narrowed = [text.normalize_fullwidth(value) for value in values.filter(wide).to_pylist()]
    return pc.replace_with_mask(values, wide, pa.array(narrowed, pa.string()))


# checks whose column-wise form says only which values pass (the value kept is the delivered one)
_ACCEPTS_ONLY: dict[str, Callable[[pa.Array], np.ndarray]] = {
    "mobile": columnar.mobiles, "text": columnar.non_blank, "uscc": columnar.credit_codes,
    "taxpayer_id": columnar.taxpayer_numbers, "industry": columnar.industry_codes,
    "money": columnar.money_amounts, "decimal": columnar.plain_amounts,
}


def _field_accepts(spec: FieldSpec, values: pa.Array, verdicts: Mapping[str, FieldVerdict],
                   today: date) -> FieldVerdict | None:
    """The check of one field, column-wise; None when the check has no column-wise form."""
    check = spec.check
    if check == "id_number":
        # full-width digits (a few percent of a register's rows) are the only unusual shape accepted here: the
        # number idcard.validate accepts is then the half-width one (no space, no lowercase x: those go scalar)
        narrowed = _half_width(values)
        ids = columnar.id_numbers(values if narrowed is None else narrowed, today)
        return FieldVerdict(ids.accepted, ids.accepted, ids.birth_days, ids.male, narrowed)
    if check == "date":
        parsed = columnar.dates(values)
        return FieldVerdict(parsed.accepted, parsed.accepted, parsed.days)
    if check == "gender":
        words = columnar.genders(values)
        return FieldVerdict(words.accepted, words.accepted, male=words.male)
    if check in _ACCEPTS_ONLY:
        accepted = _ACCEPTS_ONLY[check](values)
        return FieldVerdict(accepted, accepted)
    if check in ("district_code", "street_code"):
        at_days = None
        if spec.valid_at:
            reference = verdicts.get(spec.valid_at)
            if reference is None or reference.days is None:
                return None
            at_days = reference.days
        accepted = columnar.division_codes(values, 6 if check == "district_code" else 9, at_days)
        if at_days is not None:
            accepted &= verdicts[spec.valid_at].present  # an unreadable reference date: the scalar rule decides
        return FieldVerdict(accepted, accepted)
    return None


def _listed(spec: FieldSpec, values: pa.Array) -> np.ndarray:
    """The contract's enumeration and fixed length of a field, on values written exactly as listed."""
    ok = np.ones(len(values), dtype=bool)
    if spec.values is not None:
        ok &= pc.is_in(values, pa.array(list(spec.values), pa.string())).fill_null(False).to_numpy(
            zero_copy_only=False)
    if spec.length is not None:
        ok &= columnar.lengths(values) == spec.length
    return ok


def _row_id_birth_date(verdicts: Mapping[str, FieldVerdict]) -> np.ndarray | None:
    ids, births = verdicts.get("id_number"), verdicts.get("birth_date")
    if ids is None or births is None or ids.days is None or births.days is None:
        return None
    return ~ids.present | ~births.present | (ids.days == births.days)


def _row_id_gender(verdicts: Mapping[str, FieldVerdict]) -> np.ndarray | None:
    ids, genders = verdicts.get("id_number"), verdicts.get("gender")
    if ids is None or genders is None or ids.male is None or genders.male is None:
        return None
    return ~ids.present | ~genders.present | (ids.male == genders.male)


ROW_ACCEPTS: dict[str, Callable[[Mapping[str, FieldVerdict]], np.ndarray | None]] = {
    "id_birth_date": _row_id_birth_date,
    "id_gender": _row_id_gender,
}


COLUMNAR_CHECKS = frozenset({"id_number", "date", "gender", "district_code", "street_code", *_ACCEPTS_ONLY})


def fully_columnar(contract: SourceContract) -> bool:
    """Every field and row check of the contract has a column-wise form (else its rows take the scalar path)."""
    return (all(spec.check in COLUMNAR_CHECKS for spec in contract.fields)
            and all(check in ROW_ACCEPTS or check == "street_in_district" for check in contract.row_checks))


def certainly_valid(contract: SourceContract, batch: pa.Table | pa.RecordBatch, today: date | None = None
                    ) -> np.ndarray:
    """The rows of `batch` (one string column per contract field, by field name) that validate_record
    certainly accepts; False where only the scalar rule can say."""
    return _verdicts(contract, batch, today or date.today())[0]


def _verdicts(contract: SourceContract, batch: pa.Table | pa.RecordBatch, today: date
              ) -> tuple[np.ndarray, dict[str, FieldVerdict]]:
    rows = batch.num_rows
    accepted = np.ones(rows, dtype=bool)
    verdicts: dict[str, FieldVerdict] = {}
    # fields a division check reads its date from come first
    order = sorted(contract.fields, key=lambda spec: spec.check in ("district_code", "street_code"))
    for spec in order:
        values = batch.column(spec.name)
        empty = pc.equal(values, "").fill_null(True).to_numpy(zero_copy_only=False)
        verdict = _field_accepts(spec, values, verdicts, today)
        if verdict is None:
            return np.zeros(rows, dtype=bool), verdicts
        passed = verdict.passed
        if spec.length_limit is not None:
            passed = passed & (columnar.lengths(values) <= spec.length_limit)
        if spec.values is not None or spec.length is not None:
            passed = passed & _listed(spec, values)
        if not spec.required:
            passed = passed | empty
        verdicts[spec.name] = FieldVerdict(passed, verdict.present & ~empty, verdict.days, verdict.male, verdict.value)
        accepted &= passed
    for check in contract.row_checks:
        if check == "street_in_district":
            streets, districts = verdicts.get("street_code"), verdicts.get("district_code")
            if streets is None or districts is None:
                return np.zeros(rows, dtype=bool), verdicts
            same = columnar.streets_in_districts(batch.column("street_code"), batch.column("district_code"))
            accepted &= ~streets.present | ~districts.present | same
            continue
        rule = ROW_ACCEPTS.get(check)
        row_ok = rule(verdicts) if rule else None
        if row_ok is None:
            return np.zeros(rows, dtype=bool), verdicts
        accepted &= row_ok
    return accepted, verdicts


# Text the text check leaves as it is: no full-width form, no whitespace but single inner spaces (every
# character Python's str.isspace knows, since the check splits on them).
_NOT_NORMAL_TEXT = (r"[\x{FF01}-\x{FF5E}\t\n\x{0b}\x{0c}\r\x{1c}-\x{1f}\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}"
                    r"\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]|^ | $|  ")


def standardized(contract: SourceContract, batch: pa.RecordBatch, today: date | None = None
                 ) -> tuple[np.ndarray, dict[str, pa.Array]]:
    """(rows validate_record certainly accepts with values computed here, those values by field name: the
    standardized value where accepted, anything elsewhere). Only for a fully columnar contract."""
    accepted, verdicts = _verdicts(contract, batch, today or date.today())
    values: dict[str, pa.Array] = {}
    for spec in contract.fields:
        raw = batch.column(spec.name)
        present = verdicts[spec.name].present if spec.name in verdicts else np.zeros(batch.num_rows, dtype=bool)
        verdict = verdicts.get(spec.name)
        if spec.check == "date" and verdict is not None and verdict.days is not None:
            column = pa.array(verdict.days.astype("int32"), pa.int32()).cast(pa.date32())
        elif spec.check == "gender" and verdict is not None and verdict.male is not None:
            column = pa.array(np.where(verdict.male, "M", "F"), pa.string())
        else:
            if spec.check == "text":
                accepted &= ~present | ~pc.match_substring_regex(raw, _NOT_NORMAL_TEXT).fill_null(True).to_numpy(
                    zero_copy_only=False)
            column = verdict.value if verdict is not None and verdict.value is not None else raw
        values[spec.name] = pc.if_else(pa.array(present), column, pa.nulls(batch.num_rows, column.type))
    return accepted, values
