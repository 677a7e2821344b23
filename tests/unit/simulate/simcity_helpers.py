"""Helpers of the simulator's tests: read deliveries the way ingest does, read the truth."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from citydata.sources.simulate import DefectRates
from citydata.standards.encoding import decode_bytes

PERSONS, SEED, PERIOD = 1500, 11, 30
# a small city has ~200 entities: raise the credit-code defect rate so some are surely there
DEFECTS = DefectRates(uscc_checksum=0.03)


def read_csv(path: Path) -> list[dict[str, str]]:
    """Decode with the standards' detector (GBK, UTF-8, BOM) and parse."""
    result = decode_bytes(path.read_bytes())
    assert result.ok, f"{path}: {result.reason}"
    text, _ = result.value
    return list(csv.DictReader(io.StringIO(text)))


def read_truth(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def rejects_of(day: Path, file: str) -> dict[int, str]:
    """Expected rejects of one delivery file: row -> reason code."""
    return {int(r["row"]): r["reason_code"]
            for r in read_truth(day / "truth" / "rejects.csv") if r["file"] == f"delivery/{file}"}
