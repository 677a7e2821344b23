"""Bronze landing: a delivered file into `bronze/<table>` (as received + lineage) and its rejects table.

The file is decoded with citydata.standards.encoding (an undecodable file is refused as a whole:
FILE_ENCODING, nothing written), its lines are validated in Spark tasks by the contract's checks,
exact repeats of a line are rejected as DUPLICATE_ROW, and every delivered line ends up in exactly
one of the two tables. A delivery is identified by the SHA-256 of its bytes (the batch id): landing
the same content again writes nothing.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql.types import BooleanType, IntegerType, StringType, StructField, StructType

from citydata.catalog.contracts import SourceContract
from citydata.ingest.validate import (
    column_count_problem,
    masked_cells,
    masked_record,
    split_line,
    validate_record,
)
from citydata.lakehouse import Lakehouse
from citydata.standards.encoding import decode_bytes

log = logging.getLogger(__name__)

BRONZE = "bronze"
LINES_PER_TASK = 50_000
LINEAGE = ("_source", "_file", "_row_number", "_batch_id", "_ingested_at", "_encoding", "_content_hash")
REJECT_COLUMNS = ("_source", "_file", "_row_number", "_batch_id", "_ingested_at", "reason_code",
                  "reason_detail", "raw_masked")


class DeliveryRejectedError(ValueError):
    """A delivery refused as a whole (undecodable, wrong header): nothing of it was written."""

    def __init__(self, file: Path, reason: str, detail: str, fix: str) -> None:
        self.file = file
        self.reason = reason
        super().__init__(f"{file}: delivery refused ({reason}): {detail}. Fix: {fix}")


class LandingLossError(RuntimeError):
    """Bronze + rejects do not account for every delivered line (a bug: nothing was written)."""


@dataclass(frozen=True)
class LandingResult:
    """What landing one delivery did (counts are of this batch, whether written now or before)."""

    source: str
    file: str
    batch_id: str
    content_hash: str
    encoding: str
    delivered: int
    landed: int
    rejected: int
    rejects_by_reason: dict[str, int] = field(default_factory=dict)
    bronze_version: int | None = None
    rejects_version: int | None = None
    already_landed: bool = False


def batch_id_of(contract: SourceContract, content_hash: str) -> str:
    """The batch id of a delivery: the source plus the start of its content hash (same bytes, same id)."""
    return f"{contract.source}-{content_hash[:16]}"


def read_delivery(contract: SourceContract, path: Path) -> tuple[str, str, list[list[str]]]:
    """Decode and split a delivery: (content hash, detected encoding, data lines as cells)."""
    content_hash, encoding, lines, _ = _read(contract, path)
    return content_hash, encoding, lines


def _read(contract: SourceContract, path: Path) -> tuple[str, str, list[list[str]], bool]:
    data = path.read_bytes()
    content_hash = hashlib.sha256(data).hexdigest()
    decoded = decode_bytes(data)
    if not decoded.ok:
        raise DeliveryRejectedError(path, "FILE_ENCODING", str(decoded.detail),
                                    f"ask {contract.department} to redeliver in {contract.delivery.encoding}")
    text, encoding = decoded.value
    lines = [cells for cells in csv.reader(io.StringIO(text, newline=""), delimiter=contract.delivery.delimiter)
             if cells]
    if contract.delivery.header:
        if not lines:
            raise DeliveryRejectedError(path, "HEADER_MISSING", "the file is empty",
                                        "redeliver with the header line")
        header = [c.strip() for c in lines[0]]
        if tuple(header) != contract.columns:
            raise DeliveryRejectedError(
                path, "HEADER_MISMATCH", f"header {header} differs from the contract's {list(contract.columns)}",
                f"fix the delivery or update {contract.file}")
        lines = lines[1:]
    if encoding.replace("-sig", "").lower() not in (contract.delivery.encoding.lower(), "utf-8"):
        log.warning("%s: decoded as %s, contract says %s", path.name, encoding, contract.delivery.encoding)
    # A file that stops without a final line break may have been cut off in the middle of a row.
    ends_mid_row = bool(lines) and not text.endswith(("\n", "\r"))
    return content_hash, encoding, lines, ends_mid_row


def _validated_schema(contract: SourceContract) -> StructType:
    return StructType(
        [StructField("_row_number", IntegerType(), False)]
        + [StructField(f.name, StringType(), True) for f in contract.fields]
        + [StructField("_line_key", StringType(), False), StructField("ok", BooleanType(), False),
           StructField("reason_code", StringType(), True), StructField("reason_detail", StringType(), True),
           StructField("raw_masked", StringType(), True)]
    )


def _validate_batches(contract: SourceContract):  # noqa: ANN202 - a Spark mapInPandas function
    names = [f.name for f in contract.fields]

    def run(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for batch in batches:
            out = []
            for row_number, cells in zip(batch["_row_number"], batch["cells"]):
                cells = [str(c) for c in cells]
                line_key = hashlib.sha256("\x1f".join(cells).encode("utf-8")).hexdigest()
                raw = split_line(contract, cells)
                if raw is None:
                    problem = column_count_problem(contract, cells)
                    out.append({"_row_number": int(row_number), **{n: None for n in names},
                                "_line_key": line_key, "ok": False, "reason_code": problem.reason,
                                "reason_detail": f"{problem.field}: {problem.reason} ({problem.detail})",
                                "raw_masked": masked_cells(cells)})
                    continue
                result = validate_record(contract, raw)
                out.append({"_row_number": int(row_number), **raw, "_line_key": line_key, "ok": result.ok,
                            "reason_code": result.reason_code,
                            "reason_detail": result.reason_detail or None,
                            "raw_masked": masked_record(contract, raw)})
            yield pd.DataFrame(out, columns=["_row_number", *names, "_line_key", "ok", "reason_code",
                                             "reason_detail", "raw_masked"])

    return run


def validate_delivery(spark: SparkSession, contract: SourceContract, lines: list[list[str]],
                      ends_mid_row: bool = False) -> DataFrame:
    """Validated lines (one row per delivered line) with ok / reason_code / reason_detail / raw_masked.

    A short last line of a file that ends without a line break is FILE_TRUNCATED, not COLUMN_COUNT.
    """
    # One task per ~50k lines: a small delivery starts one Python worker, not one per core.
    slices = max(1, min(spark.sparkContext.defaultParallelism, len(lines) // LINES_PER_TASK))
    rdd = spark.sparkContext.parallelize([(i, line) for i, line in enumerate(lines, start=1)], slices)
    cells = spark.createDataFrame(rdd, "_row_number int, cells array<string>")
    validated = cells.mapInPandas(_validate_batches(contract), schema=_validated_schema(contract))
    first = Window.partitionBy("_line_key").orderBy("_row_number")
    repeat_of = F.first("_row_number").over(first)
    duplicate = F.row_number().over(first) > 1
    if ends_mid_row:
        cut = (F.col("_row_number") == len(lines)) & (F.col("reason_code") == "COLUMN_COUNT")
        validated = validated.withColumns({
            "reason_detail": F.when(cut, F.concat(F.lit("_line: FILE_TRUNCATED (the file ends inside this row: "),
                                                  F.regexp_extract("reason_detail", r"\((.*)\)", 1), F.lit(")")))
            .otherwise(F.col("reason_detail")),
            "reason_code": F.when(cut, F.lit("FILE_TRUNCATED")).otherwise(F.col("reason_code")),
        })
    return validated.select(
        "_row_number", *[f.name for f in contract.fields],
        F.when(duplicate, F.lit(False)).otherwise(F.col("ok")).alias("ok"),
        F.when(duplicate, F.lit("DUPLICATE_ROW")).otherwise(F.col("reason_code")).alias("reason_code"),
        F.when(duplicate, F.concat(F.lit("_line: DUPLICATE_ROW (repeats row "), repeat_of.cast("string"),
                                   F.lit(")"))).otherwise(F.col("reason_detail")).alias("reason_detail"),
        "raw_masked",
    )


def _batch_count(lakehouse: Lakehouse, table: str, batch_id: str) -> int | None:
    """Rows of a batch already in a bronze table; None when the table does not exist yet."""
    if not lakehouse.exists(BRONZE, table):
        return None
    return lakehouse.read(BRONZE, table).where(F.col("_batch_id") == batch_id).count()


def _reasons(lakehouse: Lakehouse, table: str, batch_id: str) -> dict[str, int]:
    if not lakehouse.exists(BRONZE, table):
        return {}
    rows = (lakehouse.read(BRONZE, table).where(F.col("_batch_id") == batch_id)
            .groupBy("reason_code").count().collect())
    return dict(sorted((r["reason_code"], r["count"]) for r in rows))


def land_delivery(
    spark: SparkSession,
    lakehouse: Lakehouse,
    contract: SourceContract,
    path: str | Path,
    ingested_at: datetime | None = None,
) -> LandingResult:
    """Land one delivery into bronze and its rejects table; a second landing of the same bytes is a no-op."""
    path = Path(path)
    content_hash, encoding, lines, ends_mid_row = _read(contract, path)
    batch_id = batch_id_of(contract, content_hash)
    bronze_table, rejects_table = contract.tables.bronze, contract.tables.rejects
    landed_before = _batch_count(lakehouse, bronze_table, batch_id) or 0
    rejected_before = _batch_count(lakehouse, rejects_table, batch_id) or 0
    if landed_before + rejected_before == len(lines) and lines:
        log.info("%s: batch %s already landed (%d bronze, %d rejects): nothing to do",
                 path.name, batch_id, landed_before, rejected_before)
        return LandingResult(
            contract.source, path.name, batch_id, content_hash, encoding, len(lines), landed_before,
            rejected_before, _reasons(lakehouse, rejects_table, batch_id),
            lakehouse.version(BRONZE, bronze_table) if lakehouse.exists(BRONZE, bronze_table) else None,
            lakehouse.version(BRONZE, rejects_table) if lakehouse.exists(BRONZE, rejects_table) else None,
            already_landed=True,
        )

    at = (ingested_at or datetime.now(timezone.utc)).replace(microsecond=0)
    validated = validate_delivery(spark, contract, lines, ends_mid_row).withColumns({
        "_source": F.lit(contract.source), "_file": F.lit(path.name), "_batch_id": F.lit(batch_id),
        "_ingested_at": F.lit(at).cast("timestamp"), "_encoding": F.lit(encoding),
        "_content_hash": F.lit(content_hash),
    }).cache()
    try:
        bronze_rows = validated.where("ok").select(*[f.name for f in contract.fields], *LINEAGE)
        rejects = validated.where("not ok").select(*REJECT_COLUMNS)
        landed, rejected = bronze_rows.count(), rejects.count()
        if landed + rejected != len(lines):
            raise LandingLossError(
                f"{path}: {len(lines)} lines delivered but {landed} valid + {rejected} rejected; nothing written")
        by_reason = dict(sorted((r["reason_code"], r["count"])
                                for r in rejects.groupBy("reason_code").count().collect()))
        # Each table is written by one Delta commit; a table that already holds the batch is skipped,
        # so a rerun after a failure between the two commits completes the landing without duplicates.
        bronze_version = rejects_version = None
        if landed and not landed_before:
            bronze_version = lakehouse.write(bronze_rows, BRONZE, bronze_table, mode="append")
        if rejected and not rejected_before:
            rejects_version = lakehouse.write(rejects, BRONZE, rejects_table, mode="append")
    finally:
        validated.unpersist()
    log.info("%s: batch %s: %d lines, %d to bronze.%s, %d to bronze.%s %s", path.name, batch_id, len(lines),
             landed, bronze_table, rejected, rejects_table, dict(Counter(by_reason)))
    return LandingResult(
        contract.source, path.name, batch_id, content_hash, encoding, len(lines), landed, rejected, by_reason,
        bronze_version if bronze_version is not None else (
            lakehouse.version(BRONZE, bronze_table) if lakehouse.exists(BRONZE, bronze_table) else None),
        rejects_version if rejects_version is not None else (
            lakehouse.version(BRONZE, rejects_table) if lakehouse.exists(BRONZE, rejects_table) else None),
    )
