"""Bronze landing: a delivery into `bronze/<table>` (as received + lineage) and its rejects table.

A plain CSV file is read and validated by Spark tasks (citydata.ingest.csv_landing; the driver only
plans byte ranges); any other delivery is read by the connector of the contract's format
(citydata.sources.connectors: CSV in GBK/UTF-8, XLSX, paged JSON API, GeoJSON) into raw string records
on the driver. A delivery the connector refuses as a whole (FILE_ENCODING, HEADER_MISMATCH, ...) raises
DeliveryRejectedError and writes nothing. Records are validated in Spark tasks by the contract's checks
(column-wise where citydata.ingest.columnar certainly accepts a row, validate_record otherwise); rows the
connector could not read (COLUMN_COUNT, FILE_TRUNCATED) and exact repeats of an earlier row (DUPLICATE_ROW,
found on the driver before the tasks start: by the CSV plan's scan, or from the connector's rows) are rejected
too, so every delivered row ends up in exactly one of the two tables. The same tasks write both tables' Parquet
files (one Spark job, nothing cached, no shuffle); the driver counts what they wrote from the files' record
counts, then commits each table. A delivery is identified by the SHA-256 of
its content (the batch id): landing the same content again writes nothing. A delivery without rows
(a header-only file) creates both tables, empty, where they do not exist yet, so readers always find them.
Each table's append records the batch id as a claim, conditioned on the version read when the batch was
found missing (citydata.ingest.concurrency): of two runs landing the same batch at once, one writes it.
Bronze rows carry the delivery's day (`_delivery_day`, citydata.ingest.delivery_day), so silver orders
deliveries by day whichever run landed them first.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyspark.sql import SparkSession
from pyspark.sql.pandas.types import from_arrow_schema
from pyspark.sql.types import TimestampType

from citydata.catalog.contracts import SourceContract
from citydata.ingest.columnar import certainly_valid
from citydata.ingest.concurrency import append_claimed, create_unless_exists, holds_claim, version_or_absent
from citydata.ingest.csv_landing import NOT_PLAIN, CsvPlan, plan_csv, read_range, read_schema
from citydata.ingest.delivery_day import DELIVERY_DAY, add_delivery_day_column, delivery_day_of
from citydata.ingest.validate import masked_record, validate_record
from citydata.lakehouse import Lakehouse
from citydata.sources.connectors import RawRecord, Rejection, read_all
from pyspark_delta.files import TableFileWriter, delete_job_files
from pyspark_delta.staged import StagedFiles

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
    repeats: dict[str, dict[int, int]]  # _file -> row number -> the earlier row (by file, row) it repeats


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
    return Delivery(rows, content_hash, encoding, _repeats(rows))


def _repeats(rows: list[tuple]) -> dict[str, dict[int, int]]:
    """The rows a connector read that repeat an earlier row (by file, then row number) with the same values."""
    first: dict[tuple, int] = {}
    repeats: dict[str, dict[int, int]] = {}
    for label, number, _encoding, _hash, values, *_ in sorted((r for r in rows if r[4] is not None),
                                                             key=lambda r: (r[0], r[1])):
        earlier = first.setdefault(tuple(values), number)
        if earlier != number:
            repeats.setdefault(label, {})[number] = earlier
    return repeats


# A connector's rows as the landing's tasks take them (Delivery.rows).
DELIVERY_ROWS = pa.schema([("_file", pa.string()), ("_row_number", pa.int32()), ("_encoding", pa.string()),
                           ("_content_hash", pa.string()), ("cells", pa.list_(pa.string())),
                           ("pre_reason", pa.string()), ("pre_detail", pa.string()), ("pre_masked", pa.string())])
RANGES = pa.schema([("start", pa.int64()), ("end", pa.int64()), ("first_row", pa.int32())])
Validate = Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]


def _validate_rows(contract: SourceContract, today: date) -> Validate:
    """A connector's rows (DELIVERY_ROWS batches) validated, in csv_landing.read_range's form: the rows the
    column-wise checks certainly accept (citydata.ingest.columnar) skip validate_record."""
    names = [f.name for f in contract.fields]
    schema = read_schema(names)

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            records = batch.to_pylist()
            raws = [None if r["pre_reason"] is not None else
                    {n: ("" if v is None else str(v)) for n, v in zip(names, r["cells"])} for r in records]
            accepted = certainly_valid(contract, pa.RecordBatch.from_pydict(
                {n: pa.array([raw[n] if raw else "" for raw in raws], pa.string()) for n in names}), today)
            out: dict[str, list] = {name: [] for name in schema.names}
            for record, raw, sure in zip(records, raws, accepted):
                for key in ("_file", "_row_number", "_encoding", "_content_hash"):
                    out[key].append(record[key])
                if raw is None:  # the connector could not read this row
                    verdict = (False, record["pre_reason"], record["pre_detail"], record["pre_masked"])
                elif sure:
                    verdict = (True, None, None, None)
                else:
                    result = validate_record(contract, raw)
                    verdict = (result.ok, result.reason_code, result.reason_detail or None,
                               None if result.ok else masked_record(contract, raw))
                for name in names:
                    out[name].append(raw[name] if raw else None)
                for key, value in zip(("ok", "reason_code", "reason_detail", "raw_masked"), verdict):
                    out[key].append(value)
            yield pa.RecordBatch.from_pydict(out, schema=schema)

    return run


def _read_ranges(contract: SourceContract, plan: CsvPlan, today: date) -> Validate:
    """A planned CSV's byte ranges (RANGES batches) read and validated (csv_landing.read_range)."""

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            for start, end, first in zip(*(batch.column(i).to_pylist() for i in range(3))):
                yield from read_range(contract, plan, start, end, first, today)

    return run


@dataclass(frozen=True)
class _Target:
    """What a landing's tasks write, and where (pickled into them): both tables' folders, the job id in the
    names of the files, the columns with statistics, the repeated rows, and the lineage every row gets."""

    contract: SourceContract
    bronze_path: str
    rejects_path: str
    bronze_stats: list[str]
    rejects_stats: list[str]
    job_id: str
    batch_id: str
    ingested_at: int  # microseconds since the epoch, as Spark takes the landing time
    day: str | None
    repeats: dict[str, dict[int, int]]  # _file -> row number -> the earlier row it repeats

    def discard(self, *paths: str) -> None:
        """Delete the files the job wrote into these tables' folders (never committed)."""
        for path in paths:
            delete_job_files(path, self.job_id)


def _mark_repeats(contract: SourceContract, batch: pa.RecordBatch, repeats: dict[str, dict[int, int]]
                  ) -> pa.RecordBatch:
    """The rows of `batch` that repeat an earlier row rejected as DUPLICATE_ROW (the first of equal rows keeps its
    own verdict), their values masked where no rejection masked them yet."""
    if not repeats or not batch.num_rows:
        return batch
    numbers = batch.column("_row_number").to_numpy(zero_copy_only=False)
    marked: list[tuple[int, int]] = []  # (row in the batch, the row number it repeats)
    for label, rows in repeats.items():
        here = pc.equal(batch.column("_file"), label).to_numpy(zero_copy_only=False) & np.isin(
            numbers, np.fromiter(rows, np.int64, len(rows)))
        marked += [(index, rows[int(numbers[index])]) for index in np.flatnonzero(here).tolist()]
    if not marked:
        return batch
    marked.sort()
    names = [f.name for f in contract.fields]
    masked = batch.column("raw_masked")
    masks = [masked[index].as_py() if masked[index].is_valid else
             masked_record(contract, {name: batch.column(name)[index].as_py() for name in names})
             for index, _ in marked]
    where = np.zeros(batch.num_rows, dtype=bool)
    where[[index for index, _ in marked]] = True
    replaced = {"ok": pa.array([False] * len(marked)),
                "reason_code": pa.array(["DUPLICATE_ROW"] * len(marked), pa.string()),
                "reason_detail": pa.array([f"_line: DUPLICATE_ROW (repeats row {first})" for _, first in marked],
                                          pa.string()),
                "raw_masked": pa.array(masks, pa.string())}
    return pa.RecordBatch.from_arrays(
        [pc.replace_with_mask(batch.column(name), pa.array(where), replaced[name]) if name in replaced
         else batch.column(name) for name in batch.schema.names], schema=batch.schema)


def _with_lineage(rows: pa.RecordBatch, schema: pa.Schema, target: _Target) -> pa.RecordBatch:
    """Validated rows in a table's columns (`schema`), the landing's lineage filled."""
    constants = {"_source": pa.scalar(target.contract.source), "_batch_id": pa.scalar(target.batch_id),
                 "_ingested_at": pa.scalar(target.ingested_at, pa.int64()).cast(schema.field("_ingested_at").type),
                 DELIVERY_DAY: pa.scalar(target.day, pa.string())}
    return pa.RecordBatch.from_arrays(
        [pa.repeat(constants[name], rows.num_rows) if name in constants
         else rows.column(name).cast(schema.field(name).type) for name in schema.names], schema=schema)


def _write_landing(target: _Target, task: int, validated: Iterator[pa.RecordBatch]) -> dict:
    """One task's share of a landing: its validated rows, repeats marked, written into the bronze and rejects
    folders (not committed). What it wrote: {"bronze": adds, "rejects": adds, "reasons": {reason: rows},
    "not_plain": None, or why a CSV range is not plain (nothing written then)}."""
    bronze_schema, rejects_schema = _arrow_schemas(target.contract)
    bronze = TableFileWriter(target.bronze_path, [], target.job_id, task, target.bronze_stats)
    rejects = TableFileWriter(target.rejects_path, [], target.job_id, task, target.rejects_stats)
    reasons: Counter[str] = Counter()
    try:
        for batch in validated:
            if pc.any(pc.equal(batch.column("reason_code"), NOT_PLAIN)).as_py():
                bronze.delete_written()
                rejects.delete_written()
                why = batch.column("reason_detail")[0].as_py()
                return {"bronze": [], "rejects": [], "reasons": {}, "not_plain": why}
            batch = _mark_repeats(target.contract, batch, target.repeats)
            ok = batch.column("ok")
            rejected = batch.filter(pc.invert(ok))
            reasons.update(rejected.column("reason_code").to_pylist())
            bronze.write(_with_lineage(batch.filter(ok), bronze_schema, target))
            rejects.write(_with_lineage(rejected, rejects_schema, target))
        return {"bronze": bronze.close(), "rejects": rejects.close(), "reasons": dict(reasons), "not_plain": None}
    except BaseException:
        bronze.delete_written()
        rejects.delete_written()
        raise


def _land_rows(spark: SparkSession, contract: SourceContract, delivery: Delivery | CsvPlan, target: _Target, *,
               on_driver: bool) -> list[dict]:
    """Every task's `_write_landing` of a delivery: one Spark job (a task per planned CSV range, or per ~50k of a
    connector's rows), or, `on_driver`, the same function over the whole delivery in this process (no job)."""
    today = date.today()
    if isinstance(delivery, CsvPlan):
        validate = _read_ranges(contract, delivery, today)
        ranges = list(delivery.ranges)
        if on_driver:
            return [_write_landing(target, 0, validate(iter([pa.RecordBatch.from_pylist(
                [dict(zip(RANGES.names, r)) for r in ranges], schema=RANGES)])))]
        inputs = spark.createDataFrame(spark.sparkContext.parallelize(ranges, len(ranges)), from_arrow_schema(RANGES))
    else:
        validate = _validate_rows(contract, today)
        if on_driver:
            return [_write_landing(target, 0, validate(iter([pa.RecordBatch.from_pylist(
                [dict(zip(DELIVERY_ROWS.names, r)) for r in delivery.rows], schema=DELIVERY_ROWS)])))]
        # One task per ~50k rows: a small delivery starts one Python worker, not one per core.
        slices = max(1, min(spark.sparkContext.defaultParallelism, len(delivery.rows) // ROWS_PER_TASK))
        inputs = spark.createDataFrame(spark.sparkContext.parallelize(delivery.rows, slices),
                                       from_arrow_schema(DELIVERY_ROWS))

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        from pyspark import TaskContext

        context = TaskContext.get()
        written = _write_landing(target, context.partitionId() if context else 0, validate(batches))
        yield pa.RecordBatch.from_pydict({"written": [json.dumps(written)]})

    return [json.loads(row.written) for row in inputs.mapInArrow(run, "written string").collect()]


def _arrow_schemas(contract: SourceContract) -> tuple[pa.Schema, pa.Schema]:
    """The bronze and rejects tables' columns as Arrow types."""
    typed = {"_row_number": pa.int32(), "_ingested_at": pa.timestamp("us", tz="UTC")}
    names = [f.name for f in contract.fields]
    return (pa.schema([(c, typed.get(c, pa.string())) for c in (*names, *LINEAGE)]),
            pa.schema([(c, typed.get(c, pa.string())) for c in REJECT_COLUMNS]))


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


def _create_empty_tables(lakehouse: Lakehouse, contract: SourceContract) -> list[str]:
    """A delivery without rows still leaves the source's bronze and rejects tables (empty, with the columns a
    landing writes) where none exist yet, so readers find them; returns the tables created."""
    bronze_schema, rejects_schema = _arrow_schemas(contract)
    return [table for table, schema in ((contract.tables.bronze, bronze_schema),
                                        (contract.tables.rejects, rejects_schema))
            if not lakehouse.exists(BRONZE, table)
            and create_unless_exists(lakehouse, schema.empty_table(), BRONZE, table)]


def _land_batch(lakehouse: Lakehouse, files: StagedFiles, table: str, batch_id: str, read_version: int) -> bool:
    """Commit a batch's files to a bronze table unless another run lands the batch first (True when this run did)."""
    return append_claimed(
        lakehouse, files, BRONZE, table, [batch_id], read_version,
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
    at most `driver_rows` rows is validated and written by the driver (the function the tasks run, over the whole
    delivery: the same rows in both tables), with no Spark job: below one task's worth of rows, a Spark job only
    adds its fixed cost. Nothing is committed until the files written account for every delivered row; files not
    committed are deleted."""
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
    schemas = dict(zip((bronze_table, rejects_table), (from_arrow_schema(s) for s in _arrow_schemas(contract))))
    paths = {table: lakehouse.path(BRONZE, table) for table in schemas}
    stats = {table: lakehouse.stats_columns(BRONZE, table, schema) for table, schema in schemas.items()}
    target = _Target(contract, paths[bronze_table], paths[rejects_table], stats[bronze_table], stats[rejects_table],
                     uuid.uuid4().hex[:16], batch_id, TimestampType().toInternal(at), day,
                     {delivery.label: delivery.repeats} if isinstance(delivery, CsvPlan) else delivery.repeats)
    on_driver = delivered <= driver_rows
    committed: set[str] = set()

    def commit(table: str, files: StagedFiles, done_before: bool) -> bool:
        """The table's commit of the files unless it holds the batch already (a rerun after a failure between
        the two commits completes the landing without duplicates; of two runs landing the batch at once, one
        commits each table): True if this run committed them."""
        if not files.adds or done_before:
            return False
        read_version = bronze_read if table == bronze_table else rejects_read
        if _land_batch(lakehouse, files, table, batch_id, read_version):
            committed.add(table)
        return table in committed

    try:
        written = _land_rows(spark, contract, delivery, target, on_driver=on_driver)
        not_plain = next((w["not_plain"] for w in written if w["not_plain"]), None)
        if not_plain:
            target.discard(*paths.values())
            log.info("%s: not plain enough to read in tasks (%s): read by its connector", name, not_plain)
            delivery = read_delivery(contract, path)
            delivered = len(delivery.rows)  # the connector's rows (a GB18030 file reads differently from GBK)
            target = replace(target, repeats=delivery.repeats)
            written = _land_rows(spark, contract, delivery, target, on_driver=on_driver)
        # the counts are the files': numRecords of each, as the Delta log records them (no counting job)
        files = {table: StagedFiles(schemas[table], [add for w in written for add in w[key]], target.job_id)
                 for table, key in ((bronze_table, "bronze"), (rejects_table, "rejects"))}
        by_reason = dict(sorted(sum((Counter(w["reasons"]) for w in written), Counter()).items()))
        landed, rejected = files[bronze_table].rows, files[rejects_table].rows
        if landed + rejected != delivered or rejected != sum(by_reason.values()):
            raise LandingLossError(
                f"{name}: {delivered} rows delivered but {landed} valid + {rejected} rejected; nothing written")
        wrote = commit(bronze_table, files[bronze_table], bool(landed_before))
        wrote |= commit(rejects_table, files[rejects_table], bool(rejected_before))
        # The rejects table is created by the first landing even when it rejects nothing, so readers
        # (release inputs, dbt sources, analysts) always find it.
        if not rejected and not lakehouse.exists(BRONZE, rejects_table):
            create_unless_exists(lakehouse, _arrow_schemas(contract)[1].empty_table(), BRONZE, rejects_table)
    finally:
        target.discard(*(paths[table] for table in paths if table not in committed))
    if not wrote:
        log.info("%s: batch %s was landed by another run at the same time: nothing written here", name, batch_id)
    else:
        log.info("%s: batch %s: %d rows, %d to bronze.%s, %d to bronze.%s %s", name, batch_id, delivered,
                 landed, bronze_table, rejected, rejects_table, by_reason)
    return LandingResult(contract.source, name, batch_id, delivery.content_hash, delivery.encoding, delivered,
                         landed, rejected, by_reason, version(bronze_table), version(rejects_table),
                         already_landed=not wrote)
