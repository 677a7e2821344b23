"""Concurrent ingest runs (of the same day or of different days) on one lakehouse.

- A bronze batch lands once: `append_claimed` appends a batch's rows with the batch id recorded as a
  Delta application transaction (a *claim*), conditioned on the table version read when the batch was
  found missing. Of two runs landing the same batch, the second commit is refused (DeltaCommitError);
  the loser sees the batch landed and skips it. Commits of other batches (another day, another source)
  do not conflict. A table created by another run since the check refuses the commit the same way.
- A silver step that loses a commit race is run again (`retry_on_conflict`): steps are incremental and
  idempotent (they re-read what is pending and recompute it against the table as it is now), so a rerun
  is what a crash-and-rerun already does. After `STEP_ATTEMPTS` it ends with ConcurrentWriteError
  ("another run is writing silver.x; retry").
Must not: decide what a batch is (bronze) or what a step computes (silver and the masters).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

from citydata.lakehouse import DeltaCommitError, Lakehouse
from citydata.lakehouse.errors import ConcurrentWriteError, table_of_commit_error
from pyspark_delta.log import claimed

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql import DataFrame

log = logging.getLogger(__name__)

ABSENT = -1  # the version "read" of a table that did not exist: finding it at commit time refuses the commit
CLAIM_ATTEMPTS = 5  # commits of other batches can refuse a claim's commit only when the table was created meanwhile
STEP_ATTEMPTS = 4
RETRY_PAUSE_SECONDS = (0.5, 2.0)  # random, so two runs that collided do not collide again in step

T = TypeVar("T")


def version_or_absent(lakehouse: Lakehouse, layer: str, table: str) -> int:
    """The table's latest version, or ABSENT when it does not exist."""
    return lakehouse.version(layer, table) if lakehouse.exists(layer, table) else ABSENT


def holds_claim(lakehouse: Lakehouse, layer: str, table: str, claim: str) -> bool:
    """Whether a commit of the table recorded `claim` (a batch landed by `append_claimed`)."""
    return claimed(lakehouse.path(layer, table), claim)


def create_unless_exists(lakehouse: Lakehouse, rows: DataFrame | pa.Table, layer: str, table: str) -> bool:
    """Create the table with `rows` (usually none, for readers to find it) unless it exists; False when another run
    created it at the same time (it exists then, which is all that was needed)."""
    try:
        lakehouse.write(rows, layer, table, mode="append", read_version=ABSENT)
    except DeltaCommitError:
        if not lakehouse.exists(layer, table):
            raise
        return False
    return True


def append_claimed(lakehouse: Lakehouse, rows: DataFrame | pa.Table, layer: str, table: str, claims: Sequence[str],
                   read_version: int, *, done: Callable[[], bool]) -> bool:
    """Append `rows` with `claims` recorded, unless another run commits them first; True when this call did.

    `read_version` is the table's version (or ABSENT) when the caller found the rows missing. When the commit
    is refused, `done()` says whether another run has committed them since (this call then returns False);
    otherwise the table changed for another reason (created, or another claim's commit raced with ours) and
    the append is tried again against the new version."""
    for attempt in range(1, CLAIM_ATTEMPTS + 1):
        try:
            lakehouse.write(rows, layer, table, mode="append", read_version=read_version, claims=claims)
            return True
        except DeltaCommitError as error:
            # the version before the check: a commit of the rows after the check refuses the next append
            newer = version_or_absent(lakehouse, layer, table)
            if done():
                log.info("%s.%s: another run committed %s first: skipped here", layer, table, ", ".join(claims))
                return False
            if attempt == CLAIM_ATTEMPTS:
                raise ConcurrentWriteError(f"{layer}.{table}", attempt) from error
            log.info("%s.%s changed since version %d (%s): appending again", layer, table, read_version, error)
            read_version = newer
    raise AssertionError("unreachable")  # the loop returns or raises


def retry_on_conflict(run: Callable[[], T], what: str, attempts: int = STEP_ATTEMPTS) -> T:
    """`run()`, run again (after a short random pause) while it loses a commit race to another run; after
    `attempts` ConcurrentWriteError naming the table. `run` must be safe to repeat (re-read, recompute)."""
    for attempt in range(1, attempts + 1):
        try:
            return run()
        except ConcurrentWriteError:
            raise  # an inner retry gave up already
        except DeltaCommitError as error:
            if attempt == attempts:
                raise ConcurrentWriteError(table_of_commit_error(error), attempt) from error
            pause = random.uniform(*RETRY_PAUSE_SECONDS)
            log.warning("%s: another run committed to %s first (attempt %d of %d): running it again in %.1f s",
                        what, table_of_commit_error(error), attempt, attempts, pause)
            time.sleep(pause)
    raise AssertionError("unreachable")  # the loop returns or raises
