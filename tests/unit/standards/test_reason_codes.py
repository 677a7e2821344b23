"""The reason-code registry: every code used is registered, documented and well formed."""

import re
from dataclasses import FrozenInstanceError
from importlib import resources
from pathlib import Path

import pytest

from citydata.standards import REASON_CODES, ValidationResult

PACKAGE = Path(str(resources.files("citydata.standards")))
DOCS = Path(__file__).resolve().parents[3] / "docs" / "standards.md"


def _codes_used_in_source() -> set[str]:
    used = set()
    for source in PACKAGE.glob("*.py"):
        used |= set(re.findall(r'failed\(\s*"([A-Z_]+)"', source.read_text(encoding="utf-8")))
        used |= set(re.findall(r'Finding\(\s*"([A-Z_]+)"', source.read_text(encoding="utf-8")))
    return used


def test_codes_are_upper_snake_with_a_meaning():
    for code, meaning in REASON_CODES.items():
        assert re.fullmatch(r"[A-Z][A-Z0-9]*(_[A-Z0-9]+)+", code), code
        assert meaning and "\n" not in meaning


def _codes_quoted_elsewhere_in_the_platform() -> set[str]:
    """Row- and file-level codes (DUPLICATE_ROW, FILE_TRUNCATED) are raised by ingest and the simulator."""
    platform = PACKAGE.parent
    quoted = set()
    for source in platform.rglob("*.py"):
        if source.parent != PACKAGE:
            quoted |= set(re.findall(r'"([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)"', source.read_text(encoding="utf-8")))
    return quoted


def test_every_code_used_is_registered_and_every_registered_code_is_used():
    used = _codes_used_in_source()
    assert used - set(REASON_CODES) == set()
    assert set(REASON_CODES) - used - _codes_quoted_elsewhere_in_the_platform() == set()


def test_every_code_is_documented():
    text = DOCS.read_text(encoding="utf-8")
    assert [code for code in REASON_CODES if f"`{code}`" not in text] == []


def test_results_are_frozen_and_refuse_unknown_codes():
    result = ValidationResult(False, "x", "ID_LENGTH")
    with pytest.raises(FrozenInstanceError):
        result.ok = True  # type: ignore[misc]
    with pytest.raises(ValueError):
        ValidationResult(False, "x", "NOT_A_CODE")
    with pytest.raises(ValueError):
        ValidationResult(True, "x", "ID_LENGTH")
