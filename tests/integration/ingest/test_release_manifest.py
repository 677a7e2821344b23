"""Release manifests on real Delta tables: pins, numbering, no-op reruns, and a failed gate publishes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from citydata.release.gate import GateResult
from citydata.release.manifest import ReleaseBlockedError, publish_release, write_manifest


def _gate(success: bool, versions: dict[str, int]) -> GateResult:
    results = {name: {"success": success, "delta_version": v,
                      "statistics": {"evaluated_expectations": 3, "successful_expectations": 3 if success else 2},
                      "failed_expectations": [] if success else
                      [{"expectation": "expect_column_values_to_be_unique(id)"}]}
               for name, v in versions.items()}
    return GateResult(success=success, results=results, data_docs=Path("/nonexistent"))


@pytest.fixture
def tables(spark, lakehouse):
    lakehouse.write(spark.createDataFrame([(1, "a"), (2, "b")], "id int, v string"), "gold", "alpha")
    lakehouse.write(spark.createDataFrame([(1,)], "n int"), "gold", "beta")
    lakehouse.write(spark.createDataFrame([(3, "c")], "id int, v string"), "gold", "alpha", mode="append")
    return lakehouse


def test_a_failed_gate_writes_no_manifest(tables, tmp_path: Path) -> None:
    releases = tmp_path / "releases"
    with pytest.raises(ReleaseBlockedError, match="release gate failed, nothing published"):
        write_manifest(tables, ["alpha", "beta"], _gate(False, {"alpha": 1, "beta": 0}), releases)
    assert not releases.exists() or list(releases.iterdir()) == []


def test_a_dataset_the_gate_did_not_cover_is_not_released(tables, tmp_path: Path) -> None:
    with pytest.raises(ReleaseBlockedError, match=r"\['beta'\] were not validated"):
        write_manifest(tables, ["alpha", "beta"], _gate(True, {"alpha": 1}), tmp_path / "releases")
    assert not (tmp_path / "releases").exists()


def test_manifest_pins_the_gated_version_and_reruns_publish_nothing_new(spark, tables, tmp_path: Path) -> None:
    releases = tmp_path / "releases"
    # The gate validated alpha at version 0, although alpha is at version 1 now: the pin is what was gated.
    path = write_manifest(tables, ["alpha", "beta"], _gate(True, {"alpha": 0, "beta": 0}), releases,
                          inputs=["gold/beta"])
    assert path == releases / "release-0001.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    assert manifest["release"] == 1
    assert manifest["datasets"]["gold/alpha"] == {"layer": "gold", "table": "alpha", "delta_version": 0, "rows": 2,
                                                  "path": tables.path("gold", "alpha")}
    assert manifest["inputs"]["gold/beta"]["delta_version"] == 0
    assert manifest["gate"]["datasets"]["alpha"]["successful_expectations"] == 3

    again = publish_release(tables, ["alpha", "beta"], _gate(True, {"alpha": 0, "beta": 0}), releases,
                            inputs=["gold/beta"])
    assert (again.number, again.new, again.path) == (1, False, path)

    newer = publish_release(tables, ["alpha", "beta"], _gate(True, {"alpha": 1, "beta": 0}), releases,
                            inputs=["gold/beta"])
    assert (newer.number, newer.new) == (2, True)
    assert newer.content["datasets"]["gold/alpha"]["rows"] == 3
    assert sorted(p.name for p in releases.iterdir()) == ["release-0001.json", "release-0002.json"]


def test_a_missing_input_table_is_left_out_not_fatal(tables, tmp_path: Path) -> None:
    path = write_manifest(tables, ["alpha"], _gate(True, {"alpha": 1}), tmp_path / "releases",
                          inputs=["bronze/never_landed", "gold/beta"])
    assert list(json.loads(path.read_text(encoding="utf-8"))["inputs"]) == ["gold/beta"]
