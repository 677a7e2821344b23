"""Which bronze batches a silver step has already applied: the bookkeeping behind incremental silver.

Bronze is append-only by batch (one batch per delivery, see citydata.ingest.bronze). A silver step
(a consumer, e.g. `silver.person` or `silver.tax_payment`) reads only the batches it has not applied
yet, MERGEs what they change, then records them in `silver/applied_batches`
(consumer, bronze_table, batch_id, applied_at). The MERGEs are idempotent, so a crash between the
MERGE and the record only means the batch is applied again, unchanged, by the rerun. Two runs recording the
same batch at once record it once (each record is a claim of its commit, citydata.ingest.concurrency).
Must not: decide what a batch means (that is the consumer's business).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from functools import partial

import pyarrow as pa
import pyarrow.compute as pc
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from citydata.ingest.concurrency import CLAIM_ATTEMPTS, append_claimed, version_or_absent
from citydata.lakehouse import Lakehouse
from citydata.lakehouse.core import arrow_rows
from citydata.lakehouse.errors import ConcurrentWriteError

log = logging.getLogger(__name__)

STATE_LAYER = "silver"
APPLIED_TABLE = "applied_batches"
_ARROW_SCHEMA = pa.schema([("consumer", pa.string()), ("bronze_table", pa.string()), ("batch_id", pa.string()),
                           ("applied_at", pa.timestamp("us", tz="UTC"))])


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
    # Each record is also a claim (consumer|table|batch) of the commit, conditioned on the version read here:
    # two runs recording the same batch at once write it once; records of other batches do not conflict.
    for _ in range(CLAIM_ATTEMPTS):
        read_version = version_or_absent(lakehouse, STATE_LAYER, APPLIED_TABLE)
        rows = _unrecorded(lakehouse, consumer, wanted, at)
        if not rows:
            return
        claims = [_claim(consumer, table, batch) for _, table, batch, _ in rows]
        written = append_claimed(
            lakehouse, arrow_rows(rows, _ARROW_SCHEMA), STATE_LAYER, APPLIED_TABLE, claims,
            read_version, done=partial(_recorded_meanwhile, lakehouse, consumer, wanted, at, len(rows)))
        if written:
            for table in wanted:
                new = sum(1 for r in rows if r[1] == table)
                if new:
                    log.info("%s: applied %d batch(es) of bronze.%s", consumer, new, table)
            return
        # another run recorded some of them: record what is left (if anything)
    raise ConcurrentWriteError(f"{STATE_LAYER}.{APPLIED_TABLE}", CLAIM_ATTEMPTS)


def _recorded_meanwhile(lakehouse: Lakehouse, consumer: str, wanted: Mapping[str, Sequence[str]], at: datetime,
                        unrecorded: int) -> bool:
    """Whether another run recorded some of the `unrecorded` rows since (then they are computed again)."""
    return len(_unrecorded(lakehouse, consumer, wanted, at)) < unrecorded


def _claim(consumer: str, bronze_table: str, batch_id: str) -> str:
    return f"{consumer}|{bronze_table}|{batch_id}"


def _unrecorded(lakehouse: Lakehouse, consumer: str, wanted: Mapping[str, Sequence[str]],
                at: datetime) -> list[tuple[str, str, str, datetime]]:
    """Rows of `wanted` (bronze table -> batch ids) the consumer has not recorded yet."""
    done: dict[str, set[str]] = {table: set() for table in wanted}
    if lakehouse.exists(STATE_LAYER, APPLIED_TABLE):
        recorded = lakehouse.arrow_dataset(STATE_LAYER, APPLIED_TABLE).to_table(
            columns=["bronze_table", "batch_id"],
            filter=(pc.field("consumer") == consumer) & pc.field("bronze_table").isin(list(wanted)))
        for row in recorded.to_pylist():
            done[row["bronze_table"]].add(row["batch_id"])
    return [(consumer, table, b, at) for table, ids in wanted.items() for b in ids if b not in done[table]]
