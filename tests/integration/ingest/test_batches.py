"""Applied-batch bookkeeping on real Delta: pending = bronze batches not yet recorded; recording is idempotent."""

from __future__ import annotations

from citydata.ingest.batches import (
    APPLIED_TABLE,
    STATE_LAYER,
    mark_applied,
    mark_applied_batches,
    pending_batches,
    pending_rows,
)
from citydata.lakehouse import Lakehouse


def test_pending_batches_follow_what_was_recorded(spark, tmp_path) -> None:
    lakehouse = Lakehouse(spark, tmp_path)
    assert pending_batches(lakehouse, "person", "register") == []  # no bronze table yet
    rows = [("a", "register-1"), ("b", "register-1"), ("c", "register-2")]
    lakehouse.write(spark.createDataFrame(rows, "v string, _batch_id string"), "bronze", "register")
    assert pending_batches(lakehouse, "person", "register") == ["register-1", "register-2"]

    mark_applied(lakehouse, "person", "register", ["register-1"])
    df, pending = pending_rows(lakehouse, "person", "register")
    assert pending == ["register-2"] and [r["v"] for r in df.collect()] == ["c"]
    assert pending_batches(lakehouse, "household", "register") == ["register-1", "register-2"]  # per consumer

    version = lakehouse.version(STATE_LAYER, APPLIED_TABLE)
    mark_applied(lakehouse, "person", "register", ["register-1"])  # again: nothing new
    assert lakehouse.version(STATE_LAYER, APPLIED_TABLE) == version
    mark_applied(lakehouse, "person", "register", ["register-2", "register-2"])
    assert pending_rows(lakehouse, "person", "register") == (None, [])
    assert lakehouse.read(STATE_LAYER, APPLIED_TABLE).count() == 2


def test_batches_of_several_tables_are_recorded_in_one_commit(spark, tmp_path) -> None:
    lakehouse = Lakehouse(spark, tmp_path)
    for table in ("register", "changes"):
        lakehouse.write(spark.createDataFrame([("a", f"{table}-1"), ("b", f"{table}-2")],
                                              "v string, _batch_id string"), "bronze", table)
    mark_applied(lakehouse, "person", "register", ["register-1"])
    version = lakehouse.version(STATE_LAYER, APPLIED_TABLE)
    # register-1 is recorded already, an empty list records nothing
    mark_applied_batches(lakehouse, "person", {"register": ["register-1", "register-2"],
                                               "changes": ["changes-1", "changes-2"], "births": []})
    assert lakehouse.version(STATE_LAYER, APPLIED_TABLE) == version + 1
    assert pending_batches(lakehouse, "person", "register") == []
    assert pending_batches(lakehouse, "person", "changes") == []
    assert lakehouse.count(STATE_LAYER, APPLIED_TABLE) == 4
    mark_applied_batches(lakehouse, "person", {"register": ["register-2"], "changes": ["changes-1"]})
    assert lakehouse.version(STATE_LAYER, APPLIED_TABLE) == version + 1  # all known: no commit
