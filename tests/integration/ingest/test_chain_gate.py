"""The whole chain in-process: a failing release gate publishes nothing; after the fix, a rerun publishes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from citydata.config import Paths
from citydata.pipeline import STEPS, run_skeleton_chain
from citydata.release.gate import GateFailed, default_expectations_dir


def test_failed_gate_publishes_nothing_and_the_rerun_after_the_fix_does(spark, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("CITYDATA_HOME", str(tmp_path))
    suites = tmp_path / "expectations"  # the gate reads $CITYDATA_HOME/expectations when it exists
    shutil.copytree(default_expectations_dir(), suites)
    strict = json.loads((suites / "dim_resident.json").read_text(encoding="utf-8"))
    strict["expectations"].append({"type": "expect_table_row_count_to_be_between",
                                   "kwargs": {"min_value": 1000}, "description": "a city of at least 1000"})
    (suites / "dim_resident.json").write_text(json.dumps(strict), encoding="utf-8")
    paths = Paths.from_env(tmp_path)
    done: list[str] = []

    with pytest.raises(GateFailed, match=r"dim_resident: expect_table_row_count_to_be_between"):
        run_skeleton_chain(paths, on_step=lambda step, state, _: done.append(step) if state == "done" else None)
    assert done == ["land_bronze", "build_silver", "build_gold"]
    assert list(paths.releases.glob("release-*.json")) == []
    assert not paths.exports.exists()

    shutil.rmtree(suites)  # the fix: back to the project's suites
    result = run_skeleton_chain(paths)
    assert list(result.steps) == list(STEPS)
    assert result.steps["land_bronze"]["already_landed"] is True
    assert (result.steps["build_silver"]["inserted"], result.steps["build_silver"]["unchanged"]) == (0, 20)
    assert result.steps["release"]["release"] == 1
    assert sorted(p.name for p in (paths.exports / "release-0001").iterdir()) == [
        "population_by_district.csv", "population_by_district.metadata.json",
        "resident_extract.csv", "resident_extract.metadata.json"]
