"""Which bronze batches a silver step has already applied: the bookkeeping behind incremental silver.

Bronze is append-only by batch (one batch per delivery, see citydata.ingest.bronze). A silver step
(a consumer, e.g. `silver.person` or `silver.tax_payment`) reads only the batches it has not applied
yet, MERGEs what they change, then records them in `silver/applied_batches`
(consumer, bronze_table, batch_id, applied_at). The MERGEs are idempotent, so a crash between the
MERGE and the record only means the batch is applied again, unchanged, by the rerun.
Must not: decide what a batch means (that is the consumer's business).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

import pyarrow.compute as pc
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from citydata.lakehouse import Lakehouse

log = logging.getLogger(__name__)

STATE_LAYER = "silver"
APPLIED_TABLE = "applied_batches"
_SCHEMA = "consumer string, bronze_table string, batch_id string, applied_at timestamp"


def bronze_batches(lakehouse: Lakehouse, bronze_table: str) -> list[str]:
    """Every batch id in a bronze table (empty when the table does not exist yet)."""
    if not lakehouse.exists("bronze", bronze_table):
        return []
    return sorted(lakehouse.distinct_values("bronze", bronze_table, "_batch_id"))


def applied_batches(lakehouse: Lakehouse, consumer: str, bronze_table: str) -> set[str]:
    """Batch ids of `bronze_table` the consumer has recorded as applied."""
    if not lakehouse.exists(STATE_LAYER, APPLIED_TABLE):
        return set()
    return lakehouse.distinct_values(STATE_LAYER, APPLIED_TABLE, "batch_id",
                                     (pc.field("consumer") == consumer) & (pc.field("bronze_table") == bronze_table))


def pending_batches(lakehouse: Lakehouse, consumer: str, bronze_table: str) -> list[str]:
    """Batch ids of `bronze_table` not yet applied by the consumer, sorted."""
    done = applied_batches(lakehouse, consumer, bronze_table)
    return [b for b in bronze_batches(lakehouse, bronze_table) if b not in done]


def pending_rows(lakehouse: Lakehouse, consumer: str, bronze_table: str) -> tuple[DataFrame | None, list[str]]:
    """The bronze rows of the consumer's pending batches (None when there are none) and those batch ids."""
    pending = pending_batches(lakehouse, consumer, bronze_table)
    if not pending:
        return None, []
    return lakehouse.read("bronze", bronze_table).where(F.col("_batch_id").isin(pending)), pending


def mark_applied(lakehouse: Lakehouse, consumer: str, bronze_table: str, batch_ids: Sequence[str],
                 applied_at: datetime | None = None) -> None:
    """Record batches as applied by the consumer (one Delta commit; recording one twice changes nothing)."""
    mark_applied_batches(lakehouse, consumer, {bronze_table: batch_ids}, applied_at=applied_at)


def mark_applied_batches(lakehouse: Lakehouse, consumer: str, batches: Mapping[str, Sequence[str]],
                         applied_at: datetime | None = None) -> None:
    """Record the batches of several bronze tables as applied by the consumer, in one Delta commit
    (none when every one is recorded already)."""
    at = (applied_at or datetime.now(UTC)).replace(microsecond=0, tzinfo=None)
    wanted = {table: sorted(set(ids)) for table, ids in batches.items() if ids}
    if not wanted:
        return
    done: dict[str, set[str]] = {table: set() for table in wanted}
    if lakehouse.exists(STATE_LAYER, APPLIED_TABLE):
        recorded = lakehouse.arrow_dataset(STATE_LAYER, APPLIED_TABLE).to_table(
            columns=["bronze_table", "batch_id"],
            filter=(pc.field("consumer") == consumer) & pc.field("bronze_table").isin(list(wanted)))
        for row in recorded.to_pylist():
            done[row["bronze_table"]].add(row["batch_id"])
    rows = [(consumer, table, b, at) for table, ids in wanted.items() for b in ids if b not in done[table]]
    if not rows:
        return
    lakehouse.write(lakehouse.spark.createDataFrame(rows, _SCHEMA), STATE_LAYER, APPLIED_TABLE, mode="append")
    for table in wanted:
        new = sum(1 for r in rows if r[1] == table)
        if new:
            log.info("%s: applied %d batch(es) of bronze.%s", consumer, new, table)
