"""Bronze landing: a delivery into `bronze/<table>` (as received + lineage) and its rejects table.

A plain CSV file is read and validated by Spark tasks (citydata.ingest.csv_landing; the driver only
plans byte ranges); any other delivery is read by the connector of the contract's format
(citydata.sources.connectors: CSV in GBK/UTF-8, XLSX, paged JSON API, GeoJSON) into raw string records
on the driver. A delivery the connector refuses as a whole (FILE_ENCODING, HEADER_MISMATCH, ...) raises
DeliveryRejectedError and writes nothing. Records are validated in Spark tasks by the contract's checks
(column-wise where citydata.ingest.columnar certainly accepts a row, validate_record otherwise); rows the
connector could not read
(COLUMN_COUNT, FILE_TRUNCATED) and exact repeats of a row (DUPLICATE_ROW) are rejected too, so every
delivered row ends up in exactly one of the two tables. A delivery is identified by the SHA-256 of
its content (the batch id): landing the same content again writes nothing. A delivery without rows
(a header-only file) creates both tables, empty, where they do not exist yet, so readers always find them.
Each table's append records the batch id as a claim, conditioned on the version read when the batch was
found missing (citydata.ingest.concurrency): of two runs landing the same batch at once, one writes it.
Bronze rows carry the delivery's day (`_delivery_day`, citydata.ingest.delivery_day), so silver orders
deliveries by day whichever run landed them first.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql.types import BooleanType, IntegerType, StringType, StructField, StructType, TimestampType

from citydata.catalog.contracts import SourceContract
from citydata.ingest.columnar import certainly_valid
from citydata.ingest.concurrency import append_claimed, create_unless_exists, holds_claim, version_or_absent
from citydata.ingest.csv_landing import NOT_PLAIN, CsvPlan, plan_csv, read_planned, read_range, read_schema
from citydata.ingest.delivery_day import DELIVERY_DAY, add_delivery_day_column, delivery_day_of
from citydata.ingest.validate import masked_record, validate_record
from citydata.lakehouse import Lakehouse
from citydata.sources.connectors import RawRecord, Rejection, read_all

log = logging.getLogger(__name__)

BRONZE = "bronze"
ROWS_PER_TASK = 50_000
# A delivery of at most this many rows is landed by the driver (`land_delivery`): the Spark path would run it as
# one task anyway (ROWS_PER_TASK; a CSV under csv_landing.CHUNK is one range), so the driver does the same work
# without a job's fixed cost.
DRIVER_ROWS = ROWS_PER_TASK
LINEAGE = ("_source", "_file", "_row_number", "_batch_id", "_ingested_at", "_encoding", "_content_hash",
           DELIVERY_DAY)
REJECT_COLUMNS = ("_source", "_file", "_row_number", "_batch_id", "_ingested_at", "reason_code",
                  "reason_detail", "raw_masked")


class DeliveryRejectedError(ValueError):
    """A delivery refused as a whole (undecodable, wrong header, unreadable): nothing of it was written."""

    def __init__(self, file: Path | str, reason: str, detail: str, fix: str) -> None:
        self.file = file
        self.reason = reason
        super().__init__(f"{file}: delivery refused ({reason}): {detail}. Fix: {fix}")


class LandingLossError(RuntimeError):
    """Bronze + rejects do not account for every delivered row (a bug: nothing was written)."""


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


@dataclass(frozen=True)
class Delivery:
    """A delivery as its connector read it: one entry per delivered row, in delivery order."""

    rows: list[tuple]  # (_file, _row_number, _encoding, _content_hash, values | None, reason, detail, masked)
    content_hash: str
    encoding: str


def batch_id_of(contract: SourceContract, content_hash: str) -> str:
    """The batch id of a delivery: the source plus the start of its content hash (same bytes, same id)."""
    return f"{contract.source}-{content_hash[:16]}"


def _label(location: str) -> str:
    """`_file`: a file's name, or an API page's request URL as is."""
    return location if "://" in location else Path(location).name


def read_delivery(contract: SourceContract, path: str | Path) -> Delivery:
    """Read a delivery with its contract's connector; DeliveryRejectedError if it is refused whole."""
    delivered = read_all(contract, path)
    if delivered.rejected_whole:
        first: Rejection = delivered.rejected_whole[0]
        raise DeliveryRejectedError(first.file, first.reason_code, first.detail,
                                    first.fix or f"ask {contract.department} to redeliver")
    names = [f.name for f in contract.fields]
    rows: list[tuple] = []
    hashes: list[str] = []
    encodings: list[str] = []
    items: list[RawRecord | Rejection] = sorted(
        [*delivered.records, *delivered.rejections],
        key=lambda i: ((i.lineage.page or 0, i.lineage.row) if isinstance(i, RawRecord) else (i.page or 0, i.row)))
    for item in items:
        if isinstance(item, RawRecord):
            lin = item.lineage
            values = [item.values.get(f.column, "") for f in contract.fields]
            rows.append((_label(lin.location), lin.row, lin.encoding, lin.content_hash, values, None, None, None))
            hashes.append(lin.content_hash)
            encodings.append(lin.encoding)
        else:
            detail = f"_line: {item.reason_code} ({item.detail})"
            rows.append((_label(item.file), item.row, item.encoding, item.content_hash, None, item.reason_code,
                         detail, item.raw_masked or masked_record(contract, dict.fromkeys(names, ""))))
            hashes.append(item.content_hash)
            encodings.append(item.encoding)
    distinct = list(dict.fromkeys(h for h in hashes if h))
    # One file: its own hash. Several API pages: the hash of their hashes, in delivery order.
    content_hash = distinct[0] if len(distinct) == 1 else hashlib.sha256("".join(distinct).encode()).hexdigest()
    encoding = next((e for e in encodings if e), contract.delivery.encoding)
    return Delivery(rows, content_hash, encoding)


def _validated_schema(contract: SourceContract, *, read_flag: bool = False) -> StructType:
    """The validated rows' schema; with `read_flag`, what csv_landing's tasks hand back (`_read` instead of
    `_line_key`, which Spark computes)."""
    return StructType(
        [StructField("_file", StringType(), False), StructField("_row_number", IntegerType(), False),
         StructField("_encoding", StringType(), True), StructField("_content_hash", StringType(), True)]
        + [StructField(f.name, StringType(), True) for f in contract.fields]
        + [StructField("_read", BooleanType(), False) if read_flag else StructField("_line_key", StringType(), True),
           StructField("ok", BooleanType(), False),
           StructField("reason_code", StringType(), True), StructField("reason_detail", StringType(), True),
           StructField("raw_masked", StringType(), True)]
    )


def _validate_batches(contract: SourceContract):  # noqa: ANN202 - a Spark mapInPandas function
    names = [f.name for f in contract.fields]
    lineage = ["_file", "_row_number", "_encoding", "_content_hash"]
    today = date.today()

    def run(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for batch in batches:
            records = batch.to_dict("records")
            raws = [None if r["pre_reason"] is not None else
                    {n: ("" if v is None else str(v)) for n, v in zip(names, r["cells"])} for r in records]
            # rows the column-wise checks certainly accept skip validate_record (citydata.ingest.columnar)
            accepted = certainly_valid(contract, pa.RecordBatch.from_pydict(
                {n: [raw[n] if raw else "" for raw in raws] for n in names}), today) if records else []
            out = []
            for record, raw, sure in zip(records, raws, accepted):
                head = {k: record[k] for k in lineage}
                head["_row_number"] = int(head["_row_number"])
                if raw is None:  # the connector could not read this row
                    out.append({**head, **dict.fromkeys(names), "_line_key": None, "ok": False,
                                "reason_code": record["pre_reason"], "reason_detail": record["pre_detail"],
                                "raw_masked": record["pre_masked"]})
                    continue
                line_key = hashlib.sha256("\x1f".join(raw[n] for n in names).encode("utf-8")).hexdigest()
                if sure:
                    out.append({**head, **raw, "_line_key": line_key, "ok": True, "reason_code": None,
                                "reason_detail": None, "raw_masked": None})
                    continue
                result = validate_record(contract, raw)
                out.append({**head, **raw, "_line_key": line_key, "ok": result.ok,
                            "reason_code": result.reason_code, "reason_detail": result.reason_detail or None,
                            "raw_masked": None if result.ok else masked_record(contract, raw)})
            yield pd.DataFrame(out, columns=[*lineage, *names, "_line_key", "ok", "reason_code", "reason_detail",
                                             "raw_masked"])

    return run


def validate_delivery(spark: SparkSession, contract: SourceContract, delivery: Delivery | CsvPlan) -> DataFrame:
    """Validated rows (one per delivered row) with ok / reason_code / reason_detail / raw_masked.

    A planned CSV delivery (citydata.ingest.csv_landing) is read and validated by Spark tasks; a delivery
    its connector read on the driver is handed to Spark row by row. raw_masked is filled for rejected rows."""
    names = [f.name for f in contract.fields]
    if isinstance(delivery, CsvPlan):
        read = read_planned(spark, contract, delivery, _validated_schema(contract, read_flag=True))
        line_key = F.sha2(F.concat_ws("\x1f", *[F.col(n) for n in names]), 256)
        validated = read.withColumn("_line_key", F.when(F.col("_read"), line_key)).drop("_read")
    else:
        # One task per ~50k rows: a small delivery starts one Python worker, not one per core.
        slices = max(1, min(spark.sparkContext.defaultParallelism, len(delivery.rows) // ROWS_PER_TASK))
        rdd = spark.sparkContext.parallelize(delivery.rows, slices)
        rows = spark.createDataFrame(rdd, "_file string, _row_number int, _encoding string, _content_hash string, "
                                          "cells array<string>, pre_reason string, pre_detail string, "
                                          "pre_masked string")
        validated = rows.mapInPandas(_validate_batches(contract), schema=_validated_schema(contract))
    first = Window.partitionBy("_line_key").orderBy("_file", "_row_number")
    repeat_of = F.first("_row_number").over(first)
    duplicate = F.col("_line_key").isNotNull() & (F.row_number().over(first) > 1)
    return validated.select(
        "_file", "_row_number", "_encoding", "_content_hash", *names,
        F.when(duplicate, F.lit(False)).otherwise(F.col("ok")).alias("ok"),
        F.when(duplicate, F.lit("DUPLICATE_ROW")).otherwise(F.col("reason_code")).alias("reason_code"),
        F.when(duplicate, F.concat(F.lit("_line: DUPLICATE_ROW (repeats row "), repeat_of.cast("string"),
                                   F.lit(")"))).otherwise(F.col("reason_detail")).alias("reason_detail"),
        "raw_masked",
    )


def _fill_masked(contract: SourceContract):  # noqa: ANN202 - a Spark mapInArrow function
    """raw_masked for rejected rows that have none yet (a valid row rejected as a duplicate)."""
    names = [f.name for f in contract.fields]

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            masked = batch.column("raw_masked").to_pylist()
            values = {name: batch.column(name).to_pylist() for name in names}
            for row, current in enumerate(masked):
                if current is None:
                    masked[row] = masked_record(contract, {name: values[name][row] for name in names})
            columns = [pa.array(masked, pa.string()) if name == "raw_masked" else batch.column(name)
                       for name in batch.schema.names]
            yield pa.RecordBatch.from_arrays(columns, schema=batch.schema)

    return run


def _batch_count(lakehouse: Lakehouse, table: str, batch_id: str) -> int | None:
    """Rows of a batch already in a bronze table; None when the table does not exist yet."""
    if not lakehouse.exists(BRONZE, table):
        return None
    return lakehouse.arrow_dataset(BRONZE, table).count_rows(filter=pc.field("_batch_id") == batch_id)


def _reasons(lakehouse: Lakehouse, table: str, batch_id: str) -> dict[str, int]:
    if not lakehouse.exists(BRONZE, table):
        return {}
    reasons: Counter[str] = Counter()
    for batch in lakehouse.arrow_dataset(BRONZE, table).to_batches(columns=["reason_code"],
                                                                   filter=pc.field("_batch_id") == batch_id):
        reasons.update(batch.column(0).to_pylist())
    return dict(sorted(reasons.items()))


def _landing_frames(spark: SparkSession, contract: SourceContract, delivery: Delivery | CsvPlan, batch_id: str,
                    at: datetime, day: str | None) -> tuple[DataFrame, DataFrame, DataFrame]:
    """(validated rows, their bronze rows, their rejects) of a delivery, lineage columns filled."""
    validated = validate_delivery(spark, contract, delivery).withColumns({
        "_source": F.lit(contract.source), "_batch_id": F.lit(batch_id),
        "_ingested_at": F.lit(at).cast("timestamp"), DELIVERY_DAY: F.lit(day).cast("string"),
    })
    names = [f.name for f in contract.fields]
    bronze_rows = validated.where("ok").select(*names, *LINEAGE)
    rejected = validated.where("not ok").select(*REJECT_COLUMNS, *names)
    rejects = rejected.mapInArrow(_fill_masked(contract), rejected.schema).select(*REJECT_COLUMNS)
    return validated, bronze_rows, rejects


def _arrow_schemas(contract: SourceContract) -> tuple[pa.Schema, pa.Schema]:
    """The bronze and rejects tables' columns as Arrow types: those `_landing_frames` gives them."""
    typed = {"_row_number": pa.int32(), "_ingested_at": pa.timestamp("us", tz="UTC")}
    names = [f.name for f in contract.fields]
    return (pa.schema([(c, typed.get(c, pa.string())) for c in (*names, *LINEAGE)]),
            pa.schema([(c, typed.get(c, pa.string())) for c in REJECT_COLUMNS]))


def _validated_on_driver(contract: SourceContract, delivery: Delivery | CsvPlan) -> pa.Table | None:
    """What `validate_delivery`'s tasks compute before duplicates are marked (with `_line_key`), computed by the
    same functions on the driver; None when a task's reading finds the planned CSV not plain."""
    names = [f.name for f in contract.fields]
    if isinstance(delivery, CsvPlan):
        today = date.today()
        read = pa.Table.from_batches(
            [batch for start, end, first in delivery.ranges
             for batch in read_range(contract, delivery, start, end, first, today)], read_schema(names))
        if NOT_PLAIN in read.column("reason_code").to_pylist():
            return None
        values = [read.column(n).to_pylist() for n in names]
        keys = [hashlib.sha256("\x1f".join(cells).encode("utf-8")).hexdigest() if whole else None
                for whole, *cells in zip(read.column("_read").to_pylist(), *values)]
        return read.drop_columns(["_read"]).append_column("_line_key", pa.array(keys, pa.string()))
    rows = pd.DataFrame(delivery.rows, columns=["_file", "_row_number", "_encoding", "_content_hash", "cells",
                                                "pre_reason", "pre_detail", "pre_masked"])
    validated = pd.concat(list(_validate_batches(contract)(iter([rows]))), ignore_index=True)
    schema = pa.schema([(f.name, pa.int32() if f.name == "_row_number" else pa.bool_() if f.name == "ok"
                         else pa.string()) for f in _validated_schema(contract).fields])
    return pa.Table.from_pandas(validated, schema=schema, preserve_index=False)


def _landing_tables(contract: SourceContract, validated: pa.Table, batch_id: str, at: datetime,
                    day: str | None) -> tuple[pa.Table, pa.Table]:
    """`_landing_frames`' bronze rows and rejects, from `_validated_on_driver`'s rows: a repeat of an earlier row
    (by file, then row number) rejected as DUPLICATE_ROW, masked values for rejects without, lineage filled."""
    names = [f.name for f in contract.fields]
    files, numbers = validated.column("_file").to_pylist(), validated.column("_row_number").to_pylist()
    keys = validated.column("_line_key").to_pylist()
    ok, reasons = validated.column("ok").to_pylist(), validated.column("reason_code").to_pylist()
    details, masked = validated.column("reason_detail").to_pylist(), validated.column("raw_masked").to_pylist()
    values = {n: validated.column(n).to_pylist() for n in names}
    first: dict[str, int] = {}
    for row in sorted((r for r, key in enumerate(keys) if key is not None), key=lambda r: (files[r], numbers[r])):
        if keys[row] not in first:
            first[keys[row]] = numbers[row]
            continue
        ok[row], reasons[row] = False, "DUPLICATE_ROW"
        details[row] = f"_line: DUPLICATE_ROW (repeats row {first[keys[row]]})"
    for row, good in enumerate(ok):
        if not good and masked[row] is None:
            masked[row] = masked_record(contract, {n: values[n][row] for n in names})
    n = validated.num_rows
    filled = {**values, "_file": files, "_row_number": numbers, "_encoding": validated.column("_encoding").to_pylist(),
              "_content_hash": validated.column("_content_hash").to_pylist(), "reason_code": reasons,
              "reason_detail": details, "raw_masked": masked, "_source": [contract.source] * n,
              "_batch_id": [batch_id] * n, DELIVERY_DAY: [day] * n,
              "_ingested_at": [TimestampType().toInternal(at)] * n}  # microseconds, as Spark takes the literal

    def table(schema: pa.Schema, rows: pa.Array) -> pa.Table:
        return pa.table({c: pa.array(filled[c], pa.int64()).cast(schema.field(c).type) if c == "_ingested_at"
                         else pa.array(filled[c], schema.field(c).type) for c in schema.names},
                        schema=schema).filter(rows)

    good = pa.array(ok, pa.bool_())
    bronze_schema, rejects_schema = _arrow_schemas(contract)
    return table(bronze_schema, good), table(rejects_schema, pc.invert(good))


def _create_empty_tables(lakehouse: Lakehouse, contract: SourceContract) -> list[str]:
    """A delivery without rows still leaves the source's bronze and rejects tables (empty, with the columns a
    landing writes) where none exist yet, so readers find them; returns the tables created."""
    bronze_schema, rejects_schema = _arrow_schemas(contract)
    return [table for table, schema in ((contract.tables.bronze, bronze_schema),
                                        (contract.tables.rejects, rejects_schema))
            if not lakehouse.exists(BRONZE, table)
            and create_unless_exists(lakehouse, schema.empty_table(), BRONZE, table)]


def _land_batch(lakehouse: Lakehouse, rows: DataFrame | pa.Table, table: str, batch_id: str, read_version: int) -> bool:
    """Append a batch's rows to a bronze table unless another run lands them first (True when this run did)."""
    return append_claimed(
        lakehouse, rows, BRONZE, table, [batch_id], read_version,
        done=lambda: holds_claim(lakehouse, BRONZE, table, batch_id) or bool(_batch_count(lakehouse, table, batch_id)))


def land_delivery(
    spark: SparkSession,
    lakehouse: Lakehouse,
    contract: SourceContract,
    path: str | Path,
    ingested_at: datetime | None = None,
    delivery_day: str | None = None,
    *,
    driver_rows: int = DRIVER_ROWS,
) -> LandingResult:
    """Land one delivery into bronze and its rejects table; a second landing of the same content is a no-op.

    `delivery_day` (default: the day folder the delivery lies in) is recorded as `_delivery_day`. A delivery of
    at most `driver_rows` rows is validated and written by the driver (the functions the tasks run, written
    through the same data source: the same rows in both tables), with no Spark job: below one task's worth of
    rows, a Spark job only adds its fixed cost."""
    path = Path(path) if "://" not in str(path) else path
    day = delivery_day or delivery_day_of(path)
    # a plain CSV file is read by Spark tasks; anything else by its connector on the driver
    plan = plan_csv(contract, path, spark.sparkContext.defaultParallelism) if isinstance(path, Path) else None
    delivery: Delivery | CsvPlan = plan or read_delivery(contract, path)
    name = _label(str(path))
    batch_id = batch_id_of(contract, delivery.content_hash)
    delivered = delivery.rows if isinstance(delivery, CsvPlan) else len(delivery.rows)
    bronze_table, rejects_table = contract.tables.bronze, contract.tables.rejects
    add_delivery_day_column(lakehouse, BRONZE, bronze_table)  # a table landed before the column existed
    # versions before the counts: an append conditioned on them cannot miss a landing committed in between
    bronze_read, rejects_read = (version_or_absent(lakehouse, BRONZE, t) for t in (bronze_table, rejects_table))
    landed_before = _batch_count(lakehouse, bronze_table, batch_id) or 0
    rejected_before = _batch_count(lakehouse, rejects_table, batch_id) or 0

    def version(table: str) -> int | None:
        return lakehouse.version(BRONZE, table) if lakehouse.exists(BRONZE, table) else None

    if delivered == 0 and isinstance(delivery, Delivery):
        created = _create_empty_tables(lakehouse, contract)
        log.info("%s: the delivery holds no rows: nothing to land%s", name,
                 f" (created empty {', '.join(f'bronze.{t}' for t in created)})" if created else "")
        return LandingResult(contract.source, name, batch_id, delivery.content_hash, delivery.encoding, 0, 0, 0,
                             {}, version(bronze_table), version(rejects_table))
    if landed_before + rejected_before == delivered:
        log.info("%s: batch %s already landed (%d bronze, %d rejects): nothing to do",
                 name, batch_id, landed_before, rejected_before)
        return LandingResult(contract.source, name, batch_id, delivery.content_hash, delivery.encoding, delivered,
                             landed_before, rejected_before, _reasons(lakehouse, rejects_table, batch_id),
                             version(bronze_table), version(rejects_table), already_landed=True)

    at = (ingested_at or datetime.now(UTC)).replace(microsecond=0)

    def write(bronze_rows: DataFrame | pa.Table, rejects: DataFrame | pa.Table, landed: int, rejected: int) -> bool:
        """Both tables' commits (after checking that every delivered row is in one of them): True if this run
        wrote the batch. Each table is written by one Delta commit; a table that already holds the batch is
        skipped, so a rerun after a failure between the two commits completes the landing without duplicates,
        and of two runs landing the batch at once only one writes each table."""
        if landed + rejected != delivered:
            raise LandingLossError(
                f"{name}: {delivered} rows delivered but {landed} valid + {rejected} rejected; nothing written")
        wrote = False
        if landed and not landed_before:
            wrote |= _land_batch(lakehouse, bronze_rows, bronze_table, batch_id, bronze_read)
        # The rejects table is created by the first landing even when it rejects nothing, so readers
        # (release inputs, dbt sources, analysts) always find it.
        if rejected and not rejected_before:
            wrote |= _land_batch(lakehouse, rejects, rejects_table, batch_id, rejects_read)
        elif not lakehouse.exists(BRONZE, rejects_table):
            create_unless_exists(lakehouse, _arrow_schemas(contract)[1].empty_table(), BRONZE, rejects_table)
        return wrote

    if delivered <= driver_rows:
        validated_here = _validated_on_driver(contract, delivery)
        if validated_here is None:
            log.info("%s: not plain enough to read in tasks (found reading it): read by its connector", name)
            delivery = read_delivery(contract, path)
            delivered = len(delivery.rows)  # the connector's rows (a GB18030 file reads differently from GBK)
            validated_here = _validated_on_driver(contract, delivery)
        bronze_table_rows, rejects_rows = _landing_tables(contract, validated_here, batch_id, at, day)
        by_reason = dict(sorted(Counter(rejects_rows.column("reason_code").to_pylist()).items()))
        wrote = write(bronze_table_rows, rejects_rows, bronze_table_rows.num_rows, rejects_rows.num_rows)
    else:
        validated, bronze_rows, rejects = _landing_frames(spark, contract, delivery, batch_id, at, day)
        validated.cache()
        try:
            # one job counts both tables and the rejects by reason (each Spark job costs latency on a small day)
            counts = validated.groupBy("ok", "reason_code").count().collect()
            if any(r["reason_code"] == NOT_PLAIN for r in counts):
                validated.unpersist()
                log.info("%s: not plain enough to read in tasks (found by a task): read by its connector", name)
                delivery = read_delivery(contract, path)
                delivered = len(delivery.rows)  # the connector's rows (a GB18030 file reads differently from GBK)
                validated, bronze_rows, rejects = _landing_frames(spark, contract, delivery, batch_id, at, day)
                validated.cache()
                counts = validated.groupBy("ok", "reason_code").count().collect()
            by_reason = dict(sorted((r["reason_code"], r["count"]) for r in counts if r["ok"] is False))
            wrote = write(bronze_rows, rejects, sum(r["count"] for r in counts if r["ok"]), sum(by_reason.values()))
        finally:
            validated.unpersist()
    landed, rejected = delivered - sum(by_reason.values()), sum(by_reason.values())
    if not wrote:
        log.info("%s: batch %s was landed by another run at the same time: nothing written here", name, batch_id)
    else:
        log.info("%s: batch %s: %d rows, %d to bronze.%s, %d to bronze.%s %s", name, batch_id, delivered,
                 landed, bronze_table, rejected, rejects_table, by_reason)
    return LandingResult(contract.source, name, batch_id, delivery.content_hash, delivery.encoding, delivered,
                         landed, rejected, by_reason, version(bronze_table), version(rejects_table),
                         already_landed=not wrote)
