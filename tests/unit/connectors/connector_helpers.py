"""Helpers of the connector tests: the simulated city's parameters, its manifest and its truth."""

from __future__ import annotations

import json
from pathlib import Path

from citydata.sources.simulate import DefectRates

PERSONS, SEED, PERIOD, PAGE_SIZE = 1500, 7, 60, 40
DEFECTS = DefectRates(truncated=("health/deaths.csv", "credit/licences.csv"))


def manifest(day: Path) -> dict[str, dict]:
    """The day's delivered files by path (rows, sha256, encoding, format)."""
    return {f["path"]: f for f in json.loads((day / "manifest.json").read_text(encoding="utf-8"))["files"]}


def truth_rejects(day: Path) -> dict[tuple[str, int], str]:
    """(file relative to delivery/, row) -> reason code, from truth/rejects.csv."""
    lines = (day / "truth" / "rejects.csv").read_text(encoding="utf-8").splitlines()[1:]
    out = {}
    for line in lines:
        file, row, reason = line.rsplit(",", 2)
        out[(file.removeprefix("delivery/"), int(row))] = reason
    return out
