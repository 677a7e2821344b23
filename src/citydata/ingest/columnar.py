"""A contract's checks over a whole Arrow batch: which rows certainly pass every field and row check.

`certainly_valid` combines the column-wise forms of citydata.standards.columnar field by field, in the
contract's terms (required, length limit, listed values, the date a division must be valid at) and then
the contract's row checks. A row it accepts is one citydata.ingest.validate.validate_record accepts; every
other row — a reject, or a valid value in an unusual shape — goes to validate_record itself, which gives
the verdict and the reason codes. A check without a column-wise form here (uscc, money, geometry, ...)
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
from citydata.standards import columnar


@dataclass(frozen=True)
class FieldVerdict:
    """One field over a batch: `passed` rows pass its check; of those, `present` hold a value (the others are
    empty and optional); `days` (dates) / `birth_days`, `male` (ID numbers, genders) where the check reads them."""

    passed: np.ndarray
    present: np.ndarray
    days: np.ndarray | None = None
    male: np.ndarray | None = None


def _field_accepts(spec: FieldSpec, values: pa.Array, verdicts: Mapping[str, FieldVerdict],
                   today: date) -> FieldVerdict | None:
    """The check of one field, column-wise; None when the check has no column-wise form."""
    check = spec.check
    if check == "id_number":
        ids = columnar.id_numbers(values, today)
        return FieldVerdict(ids.accepted, ids.accepted, ids.birth_days, ids.male)
    if check == "date":
        parsed = columnar.dates(values)
        return FieldVerdict(parsed.accepted, parsed.accepted, parsed.days)
    if check == "gender":
        words = columnar.genders(values)
        return FieldVerdict(words.accepted, words.accepted, male=words.male)
    if check == "mobile":
        accepted = columnar.mobiles(values)
        return FieldVerdict(accepted, accepted)
    if check == "text":
        accepted = columnar.non_blank(values)
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


def certainly_valid(contract: SourceContract, batch: pa.Table | pa.RecordBatch, today: date | None = None
                    ) -> np.ndarray:
    """The rows of `batch` (one string column per contract field, by field name) that validate_record
    certainly accepts; False where only the scalar rule can say."""
    today = today or date.today()
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
            return np.zeros(rows, dtype=bool)
        passed = verdict.passed
        if spec.length_limit is not None:
            passed = passed & (columnar.lengths(values) <= spec.length_limit)
        if spec.values is not None or spec.length is not None:
            passed = passed & _listed(spec, values)
        if not spec.required:
            passed = passed | empty
        verdicts[spec.name] = FieldVerdict(passed, verdict.present & ~empty, verdict.days, verdict.male)
        accepted &= passed
    for check in contract.row_checks:
        if check == "street_in_district":
            streets, districts = verdicts.get("street_code"), verdicts.get("district_code")
            if streets is None or districts is None:
                return np.zeros(rows, dtype=bool)
            same = columnar.streets_in_districts(batch.column("street_code"), batch.column("district_code"))
            accepted &= ~streets.present | ~districts.present | same
            continue
        rule = ROW_ACCEPTS.get(check)
        row_ok = rule(verdicts) if rule else None
        if row_ok is None:
            return np.zeros(rows, dtype=bool)
        accepted &= row_ok
    return accepted
