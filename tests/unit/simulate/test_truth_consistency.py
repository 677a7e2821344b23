"""The simulator's truth agrees with itself and with the platform, also for a file cut inside its header."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

from citydata.catalog.contracts import load_contracts
from citydata.sources.connectors import read_all
from citydata.sources.simulate import simulate


def _rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(path.open(encoding="utf-8")))


def test_rejects_summary_counts_what_rejects_lists_and_what_the_connectors_reject(tmp_path: Path) -> None:
    # 50 residents, seed 3: no deaths on day 1, so the day-1 cut of deaths.csv falls inside its header
    simulate(tmp_path, [1], persons=50, seed=3)
    day = tmp_path / "day-001"
    files = {f["path"]: f["rows"] for f in json.loads((day / "manifest.json").read_text(encoding="utf-8"))["files"]}
    rejects = _rows(day / "truth" / "rejects.csv")
    summary = {(r["file"], r["reason_code"]): int(r["rows"]) for r in _rows(day / "truth" / "rejects_summary.csv")}

    assert files["health/deaths.csv"] == 0
    assert ("delivery/health/deaths.csv", "0", "FILE_TRUNCATED") in {(r["file"], r["row"], r["reason_code"])
                                                                    for r in rejects}
    assert summary[("delivery/health/deaths.csv", "FILE_TRUNCATED")] == 0  # was 1: a row that never existed

    expected: Counter = Counter()
    for r in rejects:  # a whole-file reject (row 0) loses the file's rows; a row reject is one row
        expected[(r["file"], r["reason_code"])] += files[r["file"].removeprefix("delivery/")] if r["row"] == "0" else 1
    assert summary == dict(expected)

    # the platform's connectors refuse exactly the files the truth lists as rejected whole, for the same reason
    whole = {(r["file"].removeprefix("delivery/"), r["reason_code"]) for r in rejects if r["row"] == "0"}
    refused = set()
    for contract in load_contracts().values():
        path = day / "delivery" / (contract.delivery.path or "")
        if contract.delivery.format != "json_api" and path.is_file():
            refused |= {(contract.delivery.path, r.reason_code) for r in read_all(contract, path).rejected_whole}
    assert refused == whole and ("health/deaths.csv", "FILE_TRUNCATED") in refused
