"""What the doctor finds, on real Delta tables written with delta-rs (finding needs no Spark): a batch appended
twice, an orphan file older than the safety age (not a younger one, not a file an older version still needs),
and the deletion of orphans, which leaves every table's rows and version as they were. The deduplication
(a Spark rewrite) is tested in tests/integration/lakehouse/test_doctor.py."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable, write_deltalake

from citydata.cli.main import main
from citydata.lakehouse.doctor import delete_orphan_files, examine, find_duplicated_batches, find_orphan_files


def _batch(batch_id: str, rows: int, landed: str) -> pa.Table:
    return pa.table({"name": [f"r{i}" for i in range(1, rows + 1)], "_file": ["d.csv"] * rows,
                     "_row_number": list(range(1, rows + 1)), "_batch_id": [batch_id] * rows,
                     "_ingested_at": [landed] * rows})


def _age(path: Path, hours: float) -> None:
    then = time.time() - hours * 3600
    os.utime(path, (then, then))


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """bronze.deliveries: batch a once, batch b twice (two runs appended it); silver.plain: no lineage columns,
    overwritten once (its first file is kept for time travel); an orphan file 48 h old and one 2 h old."""
    lake = tmp_path / "lakehouse"
    bronze = str(lake / "bronze" / "deliveries")
    write_deltalake(bronze, _batch("src-a", 3, "2026-01-01"))
    write_deltalake(bronze, _batch("src-b", 2, "2026-01-02"), mode="append")
    write_deltalake(bronze, _batch("src-b", 2, "2026-01-02"), mode="append")
    plain = str(lake / "silver" / "plain")
    write_deltalake(plain, pa.table({"x": [1, 1]}))
    write_deltalake(plain, pa.table({"x": [2]}), mode="overwrite")
    for f in (lake / "silver" / "plain").glob("*.parquet"):
        _age(f, 72)  # the tombstoned file too: it is history, not an orphan
    pq.write_table(pa.table({"x": [9]}), lake / "silver" / "plain" / "part-00000-killed-c000.snappy.parquet")
    _age(lake / "silver" / "plain" / "part-00000-killed-c000.snappy.parquet", 48)
    pq.write_table(_batch("src-c", 1, "2026-01-03"), lake / "bronze" / "deliveries" / "part-00000-running.parquet")
    _age(lake / "bronze" / "deliveries" / "part-00000-running.parquet", 2)
    return lake


def test_a_batch_appended_twice_is_found_with_its_extra_rows(root: Path) -> None:
    [found] = find_duplicated_batches(str(root))
    assert (found.layer, found.table, found.batch_id) == ("bronze", "deliveries", "src-b")
    assert (found.rows, found.distinct_rows, found.extra_rows) == (4, 2, 2)


def test_orphans_are_the_unreferenced_files_older_than_the_age(root: Path) -> None:
    found = find_orphan_files(str(root), min_age_hours=24)
    assert [(o.layer, o.table, o.path) for o in found] == [("silver", "plain", "part-00000-killed-c000.snappy.parquet")]
    assert found[0].age_hours == pytest.approx(48, abs=0.2)
    younger = {o.path for o in find_orphan_files(str(root), min_age_hours=1)}
    assert younger == {"part-00000-killed-c000.snappy.parquet", "part-00000-running.parquet"}


def test_deleting_orphans_changes_no_table(root: Path) -> None:
    before = {t: (DeltaTable(str(root / t)).version(), DeltaTable(str(root / t)).to_pyarrow_table().num_rows)
              for t in ("bronze/deliveries", "silver/plain")}
    [repair] = delete_orphan_files(str(root), find_orphan_files(str(root)))
    assert (repair.table, repair.files_removed) == ("plain", 1)
    assert not (root / "silver" / "plain" / "part-00000-killed-c000.snappy.parquet").exists()
    assert (root / "bronze" / "deliveries" / "part-00000-running.parquet").exists()  # too young to be sure
    after = {t: (DeltaTable(str(root / t)).version(), DeltaTable(str(root / t)).to_pyarrow_table().num_rows)
             for t in ("bronze/deliveries", "silver/plain")}
    assert after == before
    assert DeltaTable(str(root / "silver" / "plain"), version=0).to_pyarrow_table().num_rows == 2  # time travel
    assert examine(str(root)).orphans == []


def test_the_dry_run_reports_as_json_and_exits_1_without_changing_anything(
        root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor", "--home", str(root.parent), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["healthy"] is False and report["repaired"] is False
    assert [(d["table"], d["batch_id"], d["extra_rows"]) for d in report["duplicated_batches"]] == [
        ("deliveries", "src-b", 2)]
    assert [o["path"] for o in report["orphan_files"]] == ["part-00000-killed-c000.snappy.parquet"]
    assert (root / "silver" / "plain" / "part-00000-killed-c000.snappy.parquet").exists()
    assert DeltaTable(str(root / "bronze" / "deliveries")).version() == 2


def test_a_table_the_bridge_refuses_ends_the_command_with_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    write_deltalake(str(tmp_path / "lakehouse" / "bronze" / "foreign"), pa.table({"id": [1]}),
                    configuration={"delta.enableDeletionVectors": "true"})
    monkeypatch.delenv("CITYDATA_DEBUG", raising=False)
    assert main(["doctor", "--home", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.splitlines()[0].startswith("citydata doctor: UnsupportedTableFeatureError: Delta table ")
    assert "uses deletion vectors" in err.splitlines()[0]
    assert "Traceback" not in err and len(err.splitlines()) == 2
    monkeypatch.setenv("CITYDATA_DEBUG", "1")
    with pytest.raises(Exception, match="deletion vectors"):
        main(["doctor", "--home", str(tmp_path)])
