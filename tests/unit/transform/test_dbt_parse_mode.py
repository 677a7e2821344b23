"""How a dbt parse went, as `citydata.transform.runner` reports it from dbt's own parse events (in firing order)."""

from __future__ import annotations

import pytest

from citydata.transform.runner import _parse_mode


@pytest.mark.parametrize(("names", "reasons", "expected"), [
    # nothing changed since the saved parse: dbt reads its msgpack and parses no file
    (["PartialParsingSkipParsing"], [""], "partial (nothing changed)"),
    # a model was edited: only the changed files are parsed again
    (["PartialParsingEnabled"], [""], "partial"),
    # the first parse into a target folder
    (["UnableToPartialParse"], ["saved manifest not found. Starting full parse."],
     "full: saved manifest not found. Starting full parse."),
    # a reason wins over anything fired after it
    (["UnableToPartialParse", "PartialParsingEnabled"], ["vars, profile, or target have changed", ""],
     "full: vars, profile, or target have changed"),
    # no event at all: partial parsing off (--no-partial-parse)
    ([], [], "full"),
])
def test_parse_mode_names_partial_or_full_with_dbts_reason(names: list[str], reasons: list[str],
                                                           expected: str) -> None:
    assert _parse_mode(names, reasons) == expected
