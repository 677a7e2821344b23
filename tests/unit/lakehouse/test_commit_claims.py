"""The bridge's conditional commits, on real Delta tables through delta-rs (no Spark): a claim lands once when
two writers commit it from the same version, other claims do not conflict, an exclusive commit refuses any
commit since its version, and of two writers creating a table at once exactly one does."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake
from pyspark.sql.types import LongType, StringType, StructField, StructType

from citydata.lakehouse.errors import DeltaCommitError, table_of_commit_error
from pyspark_delta.files import write_task_files
from pyspark_delta.log import CommitRequest, claimed, commit

SCHEMA = StructType([StructField("batch", StringType()), StructField("row", LongType())])


def _batch(path: str, batch: str, rows: int, job: str) -> list[dict]:
    """Parquet files of a batch written into the table folder (what a Spark task does), not committed yet."""
    data = pa.table({"batch": [batch] * rows, "row": list(range(1, rows + 1))})
    return write_task_files(path, [], job, 0, iter(data.to_batches()))


def _rows(path: str) -> list[tuple[str, int]]:
    table = DeltaTable(path).to_pyarrow_table()
    return sorted(zip(table.column("batch").to_pylist(), table.column("row").to_pylist()))


@pytest.fixture
def table(tmp_path: Path) -> str:
    path = str(tmp_path / "bronze" / "deliveries")
    write_deltalake(path, pa.table({"batch": pa.array([], pa.string()), "row": pa.array([], pa.int64())}))
    return path


def test_two_writers_landing_the_same_batch_from_the_same_version_land_it_once(table: str) -> None:
    # both found batch b1 missing at version 0
    commit(CommitRequest(table, SCHEMA, _batch(table, "b1", 3, "job1"), read_version=0, claims=["b1"]))
    with pytest.raises(DeltaCommitError, match="deliveries"):
        commit(CommitRequest(table, SCHEMA, _batch(table, "b1", 3, "job2"), read_version=0, claims=["b1"]))
    assert _rows(table) == [("b1", 1), ("b1", 2), ("b1", 3)]
    assert DeltaTable(table).version() == 1
    assert claimed(table, "b1") and not claimed(table, "b2")


def test_a_commit_of_another_batch_since_the_version_read_does_not_conflict(table: str) -> None:
    commit(CommitRequest(table, SCHEMA, _batch(table, "day1", 2, "job1"), read_version=0, claims=["day1"]))
    version = commit(CommitRequest(table, SCHEMA, _batch(table, "day2", 1, "job2"), read_version=0,
                                   claims=["day2"]))
    assert version == 2
    assert _rows(table) == [("day1", 1), ("day1", 2), ("day2", 1)]


def test_an_exclusive_commit_is_refused_after_any_commit_since_its_version(table: str) -> None:
    commit(CommitRequest(table, SCHEMA, _batch(table, "b1", 1, "job1")))
    with pytest.raises(DeltaCommitError, match="another writer committed after version 0") as refused:
        commit(CommitRequest(table, SCHEMA, _batch(table, "b2", 1, "job2"), read_version=0, exclusive=True))
    assert table_of_commit_error(refused.value) == "bronze.deliveries"
    assert _rows(table) == [("b1", 1)]


def test_a_writer_that_found_no_table_is_refused_when_another_created_it(tmp_path: Path) -> None:
    path = str(tmp_path / "silver" / "fresh")
    commit(CommitRequest(path, SCHEMA, _batch(path, "b1", 2, "job1"), read_version=-1, claims=["b1"]))
    with pytest.raises(DeltaCommitError, match="created the table after this operation found none"):
        commit(CommitRequest(path, SCHEMA, _batch(path, "b1", 2, "job2"), read_version=-1, claims=["b1"]))
    assert _rows(path) == [("b1", 1), ("b1", 2)]


# One writer in its own process (delta-rs's runtime does not survive a fork): writes its files, says it is ready,
# waits for the start file, commits as a writer that found no table (read_version -1), prints the outcome.
_WRITER = """
import os, sys, time
import pyarrow as pa
from pyspark.sql.types import LongType, StringType, StructField, StructType
from citydata.lakehouse.errors import DeltaCommitError
from pyspark_delta.files import write_task_files
from pyspark_delta.log import CommitRequest, commit
path, job, go = sys.argv[1], sys.argv[2], sys.argv[3]
schema = StructType([StructField("batch", StringType()), StructField("row", LongType())])
adds = write_task_files(path, [], job, 0, iter(pa.table({"batch": ["b1", "b1"], "row": [1, 2]}).to_batches()))
print("ready", flush=True)
while not os.path.exists(go):
    time.sleep(0.001)
try:
    commit(CommitRequest(path, schema, adds, read_version=-1, claims=["b1"]))
    print("created")
except DeltaCommitError as error:
    print(f"refused: {error}")
"""


def test_of_three_writers_creating_a_table_at_once_exactly_one_does(tmp_path: Path) -> None:
    # deltalake 1.6.6 with its default retries committed two CREATEs on top of each other here
    path = str(tmp_path / "bronze" / "new_source")
    go = tmp_path / "go"
    writers = [subprocess.Popen([sys.executable, "-c", _WRITER, path, f"job{i}", str(go)], stdout=subprocess.PIPE,
                                text=True) for i in range(3)]
    assert [w.stdout.readline().strip() for w in writers] == ["ready"] * 3  # type: ignore[union-attr]
    go.touch()
    results = sorted(w.communicate(timeout=60)[0].strip() for w in writers)
    assert results[0] == "created"
    assert all(r.startswith("refused: Commit to Delta table") for r in results[1:]), results
    assert DeltaTable(path).version() == 0
    assert _rows(path) == [("b1", 1), ("b1", 2)]
