"""Release manifests on real Delta tables: pins, catalog items, numbering, no-op reruns, a failed gate publishes
nothing, the current release, rollback, diff, and reading a release back at its pinned versions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from citydata.release.gate import GateResult
from citydata.release.history import (
    ReleaseUnreadableError,
    dataset_history,
    diff,
    list_summaries,
    read_dataset,
    rollback,
)
from citydata.release.manifest import (
    ReleaseBlockedError,
    ReleaseNotFoundError,
    current_number,
    current_release,
    publish_release,
    read_release,
    write_manifest,
)

ITEMS = {
    "gold/alpha": {"dataset": "alpha", "resource_name": "甲", "opening_attribute": "无条件开放",
                   "fields": [{"name": "id"}, {"name": "v"}]},
    "gold/beta": {"dataset": "beta", "resource_name": "乙", "opening_attribute": "有条件开放",
                  "fields": [{"name": "n"}]},
}


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
        write_manifest(tables, ["alpha", "beta"], _gate(False, {"alpha": 1, "beta": 0}), releases,
                       catalog_items=ITEMS)
    assert not releases.exists() or list(releases.iterdir()) == []


def test_a_dataset_the_gate_did_not_cover_is_not_released(tables, tmp_path: Path) -> None:
    with pytest.raises(ReleaseBlockedError, match=r"\['beta'\] were not validated"):
        write_manifest(tables, ["alpha", "beta"], _gate(True, {"alpha": 1}), tmp_path / "releases",
                       catalog_items=ITEMS)
    assert not (tmp_path / "releases").exists()


def test_a_dataset_without_a_catalog_item_is_not_released(tables, tmp_path: Path) -> None:
    with pytest.raises(ReleaseBlockedError, match=r"\['gold/beta'\] have no catalog item"):
        write_manifest(tables, ["alpha", "beta"], _gate(True, {"alpha": 1, "beta": 0}), tmp_path / "releases",
                       catalog_items={"gold/alpha": ITEMS["gold/alpha"]})
    assert not (tmp_path / "releases").exists()


def test_manifest_pins_the_gated_version_and_reruns_publish_nothing_new(spark, tables, tmp_path: Path) -> None:
    releases = tmp_path / "releases"
    # The gate validated alpha at version 0, although alpha is at version 1 now: the pin is what was gated.
    path = write_manifest(tables, ["alpha", "beta"], _gate(True, {"alpha": 0, "beta": 0}), releases,
                          inputs=["gold/beta"], catalog_items=ITEMS)
    assert path == releases / "release-0001.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    assert manifest["release"] == 1
    assert manifest["datasets"]["gold/alpha"] == {
        "layer": "gold", "table": "alpha", "delta_version": 0, "rows": 2, "path": tables.path("gold", "alpha"),
        "catalog_item": ITEMS["gold/alpha"],
        "validation": {"success": True, "evaluated_expectations": 3, "successful_expectations": 3,
                       "failed_expectations": []}}
    assert manifest["inputs"]["gold/beta"]["delta_version"] == 0
    assert current_number(releases) == 1

    again = publish_release(tables, ["alpha", "beta"], _gate(True, {"alpha": 0, "beta": 0}), releases,
                            inputs=["gold/beta"], catalog_items=ITEMS)
    assert (again.number, again.new, again.path) == (1, False, path)

    newer = publish_release(tables, ["alpha", "beta"], _gate(True, {"alpha": 1, "beta": 0}), releases,
                            inputs=["gold/beta"], catalog_items=ITEMS)
    assert (newer.number, newer.new) == (2, True)
    assert newer.content["datasets"]["gold/alpha"]["rows"] == 3
    assert sorted(p.name for p in releases.iterdir()) == ["CURRENT", "release-0001.json", "release-0002.json"]
    assert current_release(releases).number == 2


def test_a_missing_input_table_is_left_out_not_fatal(tables, tmp_path: Path) -> None:
    path = write_manifest(tables, ["alpha"], _gate(True, {"alpha": 1}), tmp_path / "releases",
                          inputs=["bronze/never_landed", "gold/beta"], catalog_items=ITEMS)
    assert list(json.loads(path.read_text(encoding="utf-8"))["inputs"]) == ["gold/beta"]


def test_rollback_diff_history_and_time_travel(tables, tmp_path: Path) -> None:
    releases = tmp_path / "releases"
    first = publish_release(tables, ["alpha", "beta"], _gate(True, {"alpha": 0, "beta": 0}), releases,
                            catalog_items=ITEMS)
    second = publish_release(tables, ["alpha", "beta"], _gate(True, {"alpha": 1, "beta": 0}), releases,
                             catalog_items={**ITEMS, "gold/beta": {**ITEMS["gold/beta"], "resource_name": "乙二"}})

    change = diff(first, second)
    assert change["changed"] == {
        "gold/alpha": {"delta_version": [0, 1], "rows": [2, 3]},
        "gold/beta": {"delta_version": [0, 0], "rows": [1, 1], "catalog_item": {"resource_name": ["乙", "乙二"]}}}
    assert (change["added"], change["removed"], change["unchanged"]) == ([], [], [])

    # Each release reads back at its pins, whatever the table's version is now.
    assert sorted(r.id for r in read_dataset(tables, first, "alpha").collect()) == [1, 2]
    assert sorted(r.id for r in read_dataset(tables, second, "gold/alpha").collect()) == [1, 2, 3]
    with pytest.raises(ReleaseNotFoundError, match="has no dataset gold/gamma"):
        read_dataset(tables, first, "gamma")

    assert rollback(releases, 1).number == 1
    assert current_release(releases).number == 1
    assert [(s["release"], s["current"]) for s in list_summaries(releases)] == [(1, True), (2, False)]
    assert [(h["release"], h["delta_version"], h["current"]) for h in dataset_history(releases, "alpha")] == [
        (1, 0, True), (2, 1, False)]
    # After a rollback, a release with other pins than the current one is published with the next number.
    third = publish_release(tables, ["alpha", "beta"], _gate(True, {"alpha": 1, "beta": 0}), releases,
                            catalog_items=ITEMS)
    assert (third.number, third.new, current_number(releases)) == (3, True, 3)

    with pytest.raises(ReleaseNotFoundError, match=r"no release 9 .*releases: 1, 2, 3"):
        rollback(releases, 9)
    assert current_number(releases) == 3


def test_a_release_whose_data_is_gone_cannot_be_made_current(spark, lakehouse, tmp_path: Path) -> None:
    lakehouse.write(spark.createDataFrame([(1, "a")], "id int, v string"), "gold", "alpha")
    releases = tmp_path / "releases"
    publish_release(lakehouse, ["alpha"], _gate(True, {"alpha": 0}), releases, catalog_items=ITEMS)
    lakehouse.write(spark.createDataFrame([(2, "b")], "id int, v string"), "gold", "alpha")
    publish_release(lakehouse, ["alpha"], _gate(True, {"alpha": 1}), releases, catalog_items=ITEMS)
    for data_file in Path(lakehouse.path("gold", "alpha")).glob("*.parquet"):
        if data_file.name in {Path(u).name for u in _files_of(lakehouse, 0)}:
            data_file.unlink()  # what a VACUUM past the retention of version 0 does
    with pytest.raises(ReleaseUnreadableError, match="release 1 cannot be made current.*gold/alpha"):
        rollback(releases, 1)
    assert read_release(releases, 2).number == current_number(releases) == 2


def _files_of(lakehouse, version: int) -> list[str]:
    from deltalake import DeltaTable

    return DeltaTable(lakehouse.path("gold", "alpha"), version=version).file_uris()
