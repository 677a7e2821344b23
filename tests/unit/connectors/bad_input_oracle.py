"""What every bad input must end as, checked the same way for every connector (the property tests' oracle).

A delivery read by its connector and validated by its contract ends either refused whole (one rejection
of row 0 with a registered reason code) or as rows, each accepted or rejected with a reason code; every
rejection says in one line which file (and row) and why; no personal value of the input is quoted.
Nothing raises: a traceback fails the test.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from citydata.catalog.contracts import SourceContract
from citydata.ingest.validate import validate_record
from citydata.sources.connectors import RawRecord, Rejection, read_delivery
from citydata.standards.result import REASON_CODES

WHOLE_FILE_CODES = frozenset({"FILE_ENCODING", "FILE_TRUNCATED", "FILE_FORMAT", "HEADER_MISSING", "HEADER_MISMATCH",
                              "SHEET_MISSING", "COORD_SYSTEM"})


@dataclass
class Outcome:
    """A delivery's end: refused whole (`whole` is the reason), or its rows' reasons (None: accepted)."""

    whole: str | None = None
    reasons: dict[tuple[int, int], str | None] = field(default_factory=dict)  # (page, row) -> reason or None

    @property
    def rows(self) -> int:
        return len(self.reasons)

    @property
    def accepted(self) -> int:
        return sum(r is None for r in self.reasons.values())

    @property
    def rejected(self) -> int:
        return sum(r is not None for r in self.reasons.values())

    def last(self) -> str | None:
        return self.reasons[max(self.reasons)] if self.reasons else None


def _one_line_naming_the_file(rejection: Rejection, secrets: Iterable[str]) -> None:
    line = str(rejection)
    assert rejection.reason_code in REASON_CODES
    assert "\n" not in line and "\r" not in line, line
    where = rejection.file if rejection.whole_file else f"{rejection.file} row {rejection.row}"
    assert line.startswith(f"{where}: {rejection.reason_code}: "), line
    for secret in secrets:
        assert secret not in line and secret not in rejection.raw_masked, rejection.reason_code


def account(contract: SourceContract, delivery: Path, secrets: Iterable[str] = ()) -> Outcome:
    """Read and validate a delivery; assert the invariants every outcome keeps, and return the outcome."""
    secrets = [s for s in secrets if s]
    items = list(read_delivery(contract, delivery))
    rejections = [i for i in items if isinstance(i, Rejection)]
    for rejection in rejections:
        _one_line_naming_the_file(rejection, secrets)
    whole = [r for r in rejections if r.whole_file]
    if whole:
        assert whole[0].reason_code in WHOLE_FILE_CODES, whole[0]
        return Outcome(whole=whole[0].reason_code)
    outcome = Outcome()
    for item in items:
        if isinstance(item, RawRecord):
            key = (item.lineage.page or 0, item.lineage.row)
            assert list(item.values) == list(contract.columns)
            result = validate_record(contract, {f.name: item.values[f.column] for f in contract.fields})
            for secret in secrets:
                assert secret not in result.reason_detail, result.reason_code
            reason = result.reason_code
        else:
            key, reason = (item.page or 0, item.row), item.reason_code
        assert key not in outcome.reasons, f"row {key} handed on twice"
        outcome.reasons[key] = reason
    # raw rows = accepted + rejected: every row the delivery holds ends in exactly one of the two
    assert outcome.accepted + outcome.rejected == outcome.rows == len(items)
    return outcome
