"""`bronze.refused_files`: every delivery file refused whole, recorded where analysts can query it.

A file refused whole (FILE_ENCODING, FILE_TRUNCATED, HEADER_MISMATCH, ...) writes nothing to its
source's bronze or rejects table, so without this table it would exist only as a line of output. One
row per refused file and day: source, day (the delivery folder's name or the API run key), file,
reason code, message (the refusal, which quotes no personal value), size in bytes, SHA-256 and when it
was recorded. Written through the Lakehouse like every bronze table; recording the same file (same
SHA-256) of the same source on the same day again writes nothing, so a rerun adds no row. Each file's
append is claimed like a bronze batch (citydata.ingest.concurrency): of two runs refusing the same file
at once, one records it.
Must not: decide what is refused (the connectors do) or touch the source's own tables.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

from citydata.ingest.concurrency import append_claimed, version_or_absent
from citydata.lakehouse.core import arrow_rows

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from citydata.lakehouse import Lakehouse

log = logging.getLogger(__name__)

BRONZE = "bronze"
REFUSED_TABLE = "refused_files"
KEY = ("day", "source", "sha256")
SCHEMA = pa.schema([("source", pa.string()), ("day", pa.string()), ("file", pa.string()),
                    ("reason_code", pa.string()), ("message", pa.string()), ("size_bytes", pa.int64()),
                    ("sha256", pa.string()), ("recorded_at", pa.timestamp("us", tz="UTC"))])


@dataclass(frozen=True)
class RefusedFile:
    """One file refused whole: what bronze.refused_files records of it."""

    source: str
    day: str
    file: str
    reason_code: str
    message: str
    size_bytes: int | None
    sha256: str

    @classmethod
    def of(cls, source: str, day: str, file: str | Path, reason_code: str, message: str) -> RefusedFile:
        """Size and SHA-256 read from the file (an API page, a CSV ...) as it lies in the landing zone; a
        refusal of something not on disk (a URL) has no size and the SHA-256 of its message."""
        path = Path(file)
        if not path.is_file():
            return cls(source, day, str(file), reason_code, message, None,
                       hashlib.sha256(message.encode("utf-8")).hexdigest())
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            while block := handle.read(1 << 20):
                digest.update(block)
        return cls(source, day, str(path), reason_code, message, path.stat().st_size, digest.hexdigest())


def recorded_keys(lakehouse: Lakehouse, days: Sequence[str]) -> set[tuple[str, str, str]]:
    """(day, source, sha256) already in bronze.refused_files for these days (read without Spark)."""
    if not days or not lakehouse.exists(BRONZE, REFUSED_TABLE):
        return set()
    table = lakehouse.arrow_dataset(BRONZE, REFUSED_TABLE).to_table(
        columns=list(KEY), filter=pc.field("day").isin(sorted(set(days))))
    return set(zip(*(table.column(k).to_pylist() for k in KEY), strict=True))


def claim_of(key: tuple[str, str, str]) -> str:
    """The claim recorded with a refused file's row (day, source, SHA-256): at most one commit records it."""
    return "refused_files/" + "/".join(key)


def record_refused(spark: SparkSession, lakehouse: Lakehouse, refused: Sequence[RefusedFile], *,
                   recorded_at: datetime | None = None) -> int:
    """Record the refused files not yet recorded (by day, source and SHA-256); returns how many rows were added.

    Those already there are skipped before Spark is asked anything (the keys are read from the table's
    Parquet), so a rerun writes no version; each other file is one append claimed by its key, conditioned on
    the version read when it was found missing, so two runs refusing it at once record it once."""
    known = recorded_keys(lakehouse, [r.day for r in refused])
    new: dict[tuple[str, str, str], RefusedFile] = {}
    for item in refused:
        key = (item.day, item.source, item.sha256)
        if key not in known:
            new.setdefault(key, item)
    at = (recorded_at or datetime.now(UTC)).replace(microsecond=0, tzinfo=None)
    added = 0
    for key, item in new.items():
        read = version_or_absent(lakehouse, BRONZE, REFUSED_TABLE)  # before the check the append relies on
        if key in recorded_keys(lakehouse, [key[0]]):
            continue
        added += record_one(spark, lakehouse, item, read, at)
    return added


def record_one(spark: SparkSession, lakehouse: Lakehouse, item: RefusedFile, read_version: int,
               at: datetime) -> bool:
    """Append one refused file's row, claimed by its key and conditioned on `read_version` (the version at which
    it was found missing); False when another run recorded it since."""
    key = (item.day, item.source, item.sha256)
    row = (item.source, item.day, item.file, item.reason_code, item.message, item.size_bytes, item.sha256, at)
    wrote = append_claimed(lakehouse, arrow_rows([row], SCHEMA), BRONZE, REFUSED_TABLE, [claim_of(key)],
                           read_version, done=lambda: key in recorded_keys(lakehouse, [key[0]]))
    if wrote:
        log.info("%s: %s refused (%s): recorded in bronze.%s", item.source, item.file, item.reason_code,
                 REFUSED_TABLE)
    return wrote
