"""Silver: standardized, deduplicated per-source tables from a source's bronze table, incrementally.

Only the bronze batches the silver table has not applied yet (`citydata.ingest.batches`, consumer =
the silver table's name) are standardized again by the contract's checks (the same functions that
admitted them) and typed by the contract's field types. Their rows are reduced to one winner per key
(the contract's `latest_by` desc nulls last, then the later delivery day (`_delivery_day`; unknown is
oldest), then the later landing, then the batch, then the row);
a winner replaces the key's current silver row only if it also beats that row by the same rule
(so a late-delivered but older record never overwrites a newer one; one equal to it keeps its
lineage, so the MERGE leaves it alone), then MERGEd into `silver/<table>` by the key, and the batches
are recorded as applied. A rerun with nothing pending
writes nothing; a missing silver table, or one with the columns of an older version, makes every
bronze batch pending again (the latter is rewritten whole).

Batches are applied one delivery day at a time, in day order, as a run per day would have applied them,
so the result does not depend on how many days one step applies or which run landed first. A pending
batch of a day older than one already applied (two runs of different days at once, day 2 applied first)
makes the step rebuild the table from every batch in day order (one overwrite commit).

A source whose every delivery is its complete list (contract `full_list: true`) also gets
`in_latest_list`: true exactly for the keys of the latest landed bronze batch, false for keys silver
keeps from earlier lists (MERGE never deletes). A row whose flag flips without a new winner (dropped
from the list, or listed again unchanged) is rewritten with the latest list's batch as its lineage.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pyspark.sql import Column, DataFrame, Row, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql.pandas.types import to_arrow_schema
from pyspark.sql.types import (
    BooleanType,
    DataType,
    DateType,
    DecimalType,
    IntegerType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

from citydata.catalog.contracts import FieldSpec, SourceContract
from citydata.ingest import columnar
from citydata.ingest.batches import applied_batches, bronze_batches, mark_applied
from citydata.ingest.bronze import BRONZE
from citydata.ingest.concurrency import ABSENT, version_or_absent
from citydata.ingest.delivery_day import DELIVERY_DAY
from citydata.ingest.validate import FIELD_CHECKS, validate_record
from citydata.lakehouse import DeltaCommitError, Lakehouse, MergeResult

log = logging.getLogger(__name__)

SILVER = "silver"
LISTED = "in_latest_list"  # a full-list source's column: the key is in the latest delivered list
_SPARK_TYPES: dict[str, DataType] = {
    "string": StringType(), "date": DateType(), "integer": LongType(), "decimal": DecimalType(20, 2),
    "timestamp": TimestampType(), "boolean": BooleanType(),
}


class SilverStandardizationError(RuntimeError):
    """A bronze row no longer passes its contract's checks (standards changed?): silver left unchanged."""


@dataclass(frozen=True)
class SilverResult:
    """What one silver step did."""

    table: str
    rows: int  # rows of the silver table after the step
    inserted: int
    updated: int
    unchanged: int  # rows of the silver table this step left as they were (rows - inserted - updated)
    version: int  # the silver table's version after the step
    standardized: int = 0  # bronze rows standardized by this step (those of the pending batches)
    batches: tuple[str, ...] = ()  # the bronze batches this step applied


def silver_schema(contract: SourceContract) -> StructType:
    """The silver table's columns: the contract's fields typed, `in_latest_list` for a full-list source,
    then `_batch_id`, `_updated_at`."""
    listed = [StructField(LISTED, BooleanType(), True)] if contract.full_list else []
    return StructType(
        [StructField(f.name, _SPARK_TYPES[f.type], True) for f in contract.fields] + listed
        + [StructField("_batch_id", StringType(), True), StructField("_updated_at", TimestampType(), True)]
    )


def _standardize_batches(contract: SourceContract):  # noqa: ANN202 - a Spark mapInPandas function
    names = [f.name for f in contract.fields]

    def run(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for batch in batches:
            out = []
            for record in batch.to_dict("records"):
                raw = {n: record[n] for n in names}
                result = validate_record(contract, raw)
                out.append({**{n: result.values.get(n) for n in names}, "_batch_id": record["_batch_id"],
                            "_row_number": int(record["_row_number"]), "_ok": result.ok,
                            "_reason": result.reason_code, "_ingested_at": record["_ingested_at"]})
            yield pd.DataFrame(out, columns=[*names, "_batch_id", "_row_number", "_ok", "_reason", "_ingested_at"])

    return run


_AMOUNT_CHECKS = ("money", "decimal")
_DECIMAL = pa.decimal128(20, 2)  # the arrow form of _SPARK_TYPES["decimal"]


def _amounts(spec: FieldSpec, raw: list[str | None]) -> list[Decimal | None]:
    """The field check's own value of each plain amount (money with the contract's unit, or a decimal),
    computed once per distinct text: a daily list repeats a few thousand contribution bases."""
    check = FIELD_CHECKS[spec.check]
    seen: dict[str, Decimal | None] = {}
    out: list[Decimal | None] = []
    for text in raw:
        if text is None:
            out.append(None)
            continue
        if text not in seen:
            seen[text] = check(text, spec, None).value
        out.append(seen[text])
    return out


def _arrow_column(spec: FieldSpec, values: list) -> pa.Array:
    """A standardized field as the arrow type of its silver column. Amounts are converted the way
    mapInPandas converts `_standardize_batches`' Decimals (`pa.Array.from_pandas`, not safe), so both paths
    give the same decimal(20,2) values (and refuse the same amounts with more than two decimals)."""
    if spec.check in _AMOUNT_CHECKS:
        series = pd.Series(values, dtype=object)
        return pa.Array.from_pandas(series, mask=series.isnull(), type=_DECIMAL, safe=False)
    return pa.array(values, pa.date32() if spec.type == "date" else pa.string())


def _columnar_batches(contract: SourceContract):  # noqa: ANN202 - a Spark mapInArrow function
    """_standardize_batches over whole Arrow batches: rows citydata.ingest.columnar certainly accepts take
    their values from there (an amount from its field check, once per distinct text), the others from
    validate_record (the same values, tests/unit/ingest)."""
    names = [f.name for f in contract.fields]
    amounts = [f for f in contract.fields if f.check in _AMOUNT_CHECKS]
    today = date.today()

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            accepted, columns = columnar.standardized(contract, batch, today)
            values = {name: columns[name].to_pylist() for name in names}
            for spec in amounts:
                values[spec.name] = _amounts(spec, values[spec.name])
            ok = accepted.tolist()
            reason: list[str | None] = [None] * batch.num_rows
            for row in np.nonzero(~accepted)[0].tolist():
                result = validate_record(contract, {n: batch.column(n)[row].as_py() for n in names})
                for name in names:
                    values[name][row] = result.values.get(name)
                ok[row], reason[row] = result.ok, result.reason_code
            yield pa.RecordBatch.from_pydict({
                **{spec.name: _arrow_column(spec, values[spec.name]) for spec in contract.fields},
                "_batch_id": batch.column("_batch_id"), "_row_number": batch.column("_row_number"),
                "_ok": pa.array(ok, pa.bool_()), "_reason": pa.array(reason, pa.string()),
                "_ingested_at": batch.column("_ingested_at")})

    return run


def _arrow_typed(spec: FieldSpec) -> bool:
    """A field `_columnar_batches` can type: a date read by the date check, an amount (money or decimal
    check) typed decimal, any other check's value a string."""
    if spec.check == "date":
        return spec.type == "date"
    if spec.check in _AMOUNT_CHECKS:
        return spec.type == "decimal"
    return spec.type == "string"


def _arrow_standardizable(contract: SourceContract) -> bool:
    """Every check has a column-wise form and every field's type is one `_columnar_batches` gives."""
    return columnar.fully_columnar(contract) and all(_arrow_typed(spec) for spec in contract.fields)


def standardize(contract: SourceContract, bronze: DataFrame) -> DataFrame:
    """Bronze rows standardized and typed, with the lineage needed to pick a winner per key (carried through the
    standardizing function: one scan of bronze, no join back to it)."""
    names = [f.name for f in contract.fields]
    schema = StructType(
        [StructField(f.name, _SPARK_TYPES[f.type], True) for f in contract.fields]
        + [StructField("_batch_id", StringType(), False), StructField("_row_number", IntegerType(), False),
           StructField("_ok", BooleanType(), False), StructField("_reason", StringType(), True),
           StructField("_ingested_at", TimestampType(), True)]
    )
    rows = bronze.select(*names, "_batch_id", "_row_number", "_ingested_at")
    if _arrow_standardizable(contract):
        return rows.mapInArrow(_columnar_batches(contract), schema=schema)
    return rows.mapInPandas(_standardize_batches(contract), schema=schema)


@dataclass(frozen=True)
class DeliveredBatch:
    """A bronze batch as silver orders it: by delivery day (unknown first), then landing time, then id."""

    batch_id: str
    day: str | None
    landed_at: datetime

    @property
    def day_key(self) -> tuple[bool, str]:
        return (self.day is not None, self.day or "")

    @property
    def order(self) -> tuple[bool, str, datetime, str]:
        return (*self.day_key, self.landed_at, self.batch_id)


DayOf = Callable[[Column], Column]  # a batch id column -> its delivery day


def bronze_deliveries(lakehouse: Lakehouse, bronze_table: str, version: int | None = None
                      ) -> dict[str, DeliveredBatch]:
    """Every batch of a bronze table (at `version`, default latest) with its delivery day and landing time (a table
    landed before `_delivery_day` existed has no day for its batches), read on the driver: three lineage
    columns, one Arrow batch at a time (memory follows the batches, not the rows), no Spark job — a step
    asks this of every source it reads, and bronze grows by a full list a day. Landing times are converted
    as Spark's collect converts a timestamp (`TimestampType.fromInternal`), so both give the same values."""
    dataset = lakehouse.arrow_dataset(BRONZE, bronze_table, version=version)
    has_day = DELIVERY_DAY in dataset.schema.names
    found: dict[str, tuple[str | None, int | None]] = {}
    for batch in dataset.to_batches(columns=["_batch_id", "_ingested_at", *([DELIVERY_DAY] if has_day else [])]):
        if not batch.num_rows:
            continue
        micros = pc.cast(pc.cast(batch.column("_ingested_at"), pa.timestamp("us", tz="UTC")), pa.int64())
        days = batch.column(DELIVERY_DAY) if has_day else pa.nulls(batch.num_rows, pa.string())
        grouped = pa.table({"b": batch.column("_batch_id"), "d": days, "t": micros}).group_by("b").aggregate(
            [("d", "max"), ("t", "max")])
        for batch_id, day, landed in zip(grouped["b"].to_pylist(), grouped["d_max"].to_pylist(),
                                         grouped["t_max"].to_pylist(), strict=True):
            if batch_id is None:
                continue
            seen_day, seen_landed = found.get(batch_id, (None, None))
            found[batch_id] = (max((d for d in (seen_day, day) if d is not None), default=None),
                               max((t for t in (seen_landed, landed) if t is not None), default=None))
    return {b: DeliveredBatch(b, day, None if landed is None else TimestampType().fromInternal(landed))
            for b, (day, landed) in found.items()}


def latest_delivered(lakehouse: Lakehouse, bronze_table: str, among: Iterable[str] | None = None) -> Row | None:
    """The batch of a bronze table (of its batches `among`, default all) of the latest delivery day (then landed
    last, then the greater batch id) as (`_batch_id`, `_updated_at` = its landing time): for a full-list source,
    the current list, whichever run landed it first. None when there is none. From `bronze_deliveries` (no Spark
    job)."""
    batches = bronze_deliveries(lakehouse, bronze_table)
    wanted = batches.keys() if among is None else set(among)
    return _latest_of(b for batch_id, b in batches.items() if batch_id in wanted)


def day_of(batches: dict[str, DeliveredBatch]) -> DayOf:
    """A batch id column's delivery day (null: unknown), looked up in a literal map: silver keeps only the
    batch id of a row, and a handful of batches per source and day keep the map small."""
    known = [(b.batch_id, b.day) for b in batches.values() if b.day is not None]
    if not known:
        return lambda _column: F.lit(None).cast("string")
    days = F.create_map(*[F.lit(v) for pair in known for v in pair])
    return lambda column: days[column]


def _latest_of(batches: Iterable[DeliveredBatch]) -> Row | None:
    """The latest of these batches (day, then landing, then id) as (`_batch_id`, `_updated_at`)."""
    latest = max(batches, key=lambda b: b.order, default=None)
    return None if latest is None else Row(_batch_id=latest.batch_id, _updated_at=latest.landed_at)


def _order(contract: SourceContract, days: DayOf) -> list[Column]:
    """Winner order among rows of one key: latest_by desc nulls last, later delivery day (unknown last),
    later landing, batch, row."""
    order = [F.col(contract.latest_by).desc_nulls_last()] if contract.latest_by else []
    return order + [days(F.col("_batch_id")).desc_nulls_last(), F.col("_ingested_at").desc(),
                    F.col("_batch_id").desc(), F.col("_row_number").desc()]


def _beats_current(contract: SourceContract, days: DayOf) -> Column:
    """Whether a new winner (columns as in silver) beats the key's current silver row (`__cur_*` columns).

    The same order as `_order`: silver keeps the winning row's latest_by, batch (whose delivery day `days`
    gives) and landing time (`_updated_at`); the row number only separates rows of one batch, never a
    pending row from an applied one. A tie (the same batch applied again after a crash) goes to the new row,
    which is then identical.
    """
    new_day, cur_day = days(F.col("_batch_id")), days(F.col("__cur__batch_id"))
    landed_later = (F.col("_updated_at") > F.col("__cur__updated_at")) | (
        (F.col("_updated_at") == F.col("__cur__updated_at")) & (F.col("_batch_id") >= F.col("__cur__batch_id")))
    later = (new_day.isNotNull() & (cur_day.isNull() | (new_day > cur_day))) | (
        new_day.eqNullSafe(cur_day) & landed_later)
    wins = F.col("__cur").isNull() | later
    if contract.latest_by:
        new, cur = F.col(contract.latest_by), F.col(f"__cur_{contract.latest_by}")
        newer = new.isNotNull() & (cur.isNull() | (new > cur))
        older = cur.isNotNull() & (new.isNull() | (new < cur))
        wins = F.col("__cur").isNull() | newer | (~older & later)
    return F.coalesce(wins, F.lit(False))


def _against_current(contract: SourceContract, latest: DataFrame, current: DataFrame, days: DayOf) -> DataFrame:
    """The new winners that beat the key's current silver row and differ from it. One equal to it in every
    field would keep the current `_batch_id` / `_updated_at`, i.e. be the current row itself: it is left out,
    so the MERGE handles only what changed (a full list delivered again with a few changed rows: those rows,
    not the whole list)."""
    keys = list(contract.key)
    # a row listed again (or dropped) with the same fields is a change: it takes the new lineage
    values = [f.name for f in contract.fields if f.name not in keys] + ([LISTED] if contract.full_list else [])
    lineage = ["_batch_id", "_updated_at"]
    cur = current.select(*keys, F.lit(True).alias("__cur"),
                         *[F.col(c).alias(f"__cur_{c}") for c in values + lineage])
    same = F.col("__cur").isNotNull()
    for column in values:
        same = same & F.col(column).eqNullSafe(F.col(f"__cur_{column}"))
    return (latest.join(cur, on=keys, how="left").where(_beats_current(contract, days) & ~same)
            .select(*keys, *values, *lineage))


def _listed_keys(contract: SourceContract, bronze: DataFrame, standardized: DataFrame, pending: list[str],
                 listed: Row, prepared: Mapping[str, DataFrame]) -> DataFrame:
    """The keys of the latest list (column `__listed` true), standardized by the contract like silver's keys:
    taken from the pending rows when the list is pending (every one passed), else from the caller's
    standardized rows of it, else standardized again."""
    keys = list(contract.key)
    if listed["_batch_id"] in pending:
        rows = standardized.where(F.col("_batch_id") == listed["_batch_id"])
    elif listed["_batch_id"] in prepared:
        rows = prepared[listed["_batch_id"]].where(F.col("_ok"))
    else:
        rows = standardize(contract, bronze.where(F.col("_batch_id") == listed["_batch_id"])).where(F.col("_ok"))
    return rows.select(*keys).distinct().withColumn("__listed", F.lit(True))


def _mark_listed(keys: list[str], rows: DataFrame, listed_keys: DataFrame) -> DataFrame:
    """`rows` with `in_latest_list`: whether their key is in the latest list."""
    return (rows.join(listed_keys, on=keys, how="left")
            .withColumn(LISTED, F.coalesce(F.col("__listed"), F.lit(False))).drop("__listed"))


def _flipped(keys: list[str], current: DataFrame, merging: DataFrame, listed_keys: DataFrame,
             listed: Row) -> DataFrame:
    """Silver rows no pending winner replaces whose key entered or left the latest list: the same values,
    `in_latest_list` flipped, dated by that list (the delivery that changed them)."""
    now = F.coalesce(F.col("__listed"), F.lit(False))
    return (current.join(merging.select(*keys), on=keys, how="left_anti")
            .join(listed_keys, on=keys, how="left")
            .where(~F.col(LISTED).eqNullSafe(now))
            .withColumn(LISTED, now)
            .withColumn("_batch_id", F.lit(listed["_batch_id"]))
            .withColumn("_updated_at", F.lit(listed["_updated_at"]).cast(TimestampType()))
            .drop("__listed"))


def keep_unchanged_lineage(new: DataFrame, old: DataFrame | None, keys: list[str], lineage: list[str]) -> DataFrame:
    """`new` rows, where a row equals its `old` row in every other column, carry the old lineage, so a
    MERGE sees it unchanged (a re-delivered but unchanged row is not an update)."""
    if old is None:
        return new
    compared = [c for c in new.columns if c not in keys and c not in lineage]
    same = F.lit(True)
    for column in compared:
        same = same & F.col(f"n.{column}").eqNullSafe(F.col(f"o.{column}"))
    joined = new.alias("n").join(old.alias("o"), on=keys, how="left")
    found = F.col(f"o.{lineage[0]}").isNotNull()
    return joined.select(
        *[F.col(k) for k in keys], *[F.col(f"n.{c}") for c in compared],
        *[F.when(found & same, F.col(f"o.{c}")).otherwise(F.col(f"n.{c}")).alias(c) for c in lineage])


def table_change(lakehouse: Lakehouse, table: str, merged: MergeResult) -> SilverResult:
    """A silver table after a MERGE, reported like the generic step reports its table."""
    rows = lakehouse.count(SILVER, table)
    log.info("silver.%s: %d inserted, %d updated -> %d rows, version %d",
             table, merged.inserted, merged.updated, rows, merged.version)
    return SilverResult(table, rows, merged.inserted, merged.updated, rows - merged.inserted - merged.updated,
                        merged.version)


def table_unchanged(lakehouse: Lakehouse, table: str) -> SilverResult | None:
    """A silver table a step left alone (None when it does not exist yet)."""
    if not lakehouse.exists(SILVER, table):
        return None
    rows = lakehouse.count(SILVER, table)
    return SilverResult(table, rows, 0, 0, rows, lakehouse.version(SILVER, table))


def _outdated(lakehouse: Lakehouse, table: str, schema: StructType) -> bool:
    """Whether the silver table exists with other columns than the contract's (an older version's table,
    e.g. before the contract declared `full_list`)."""
    if not lakehouse.exists(SILVER, table):
        return False
    held = lakehouse.schema(SILVER, table)
    return [(f.name, f.dataType) for f in held.fields] != [(f.name, f.dataType) for f in schema.fields]


def _pending(lakehouse: Lakehouse, contract: SourceContract, outdated: bool) -> list[str]:
    """The bronze batches silver has not applied; all of them when the silver table is missing or outdated."""
    table, bronze = contract.tables.silver, contract.tables.bronze
    every = bronze_batches(lakehouse, bronze)
    done = applied_batches(lakehouse, table, bronze)
    if outdated:
        log.warning("silver.%s has the columns of an older version: rebuilding it from every batch of bronze.%s",
                    table, bronze)
        return every
    if not lakehouse.exists(SILVER, table):
        if done:
            log.warning("silver.%s is missing although %d batch(es) of bronze.%s are recorded as applied: "
                        "rebuilding it from every batch", table, len(done), bronze)
        return every
    return [b for b in every if b not in done]


def build_silver(spark: SparkSession, lakehouse: Lakehouse, contract: SourceContract, *,
                 prepared: Mapping[str, DataFrame] | None = None) -> SilverResult:
    """Standardize the source's pending bronze batches and MERGE their winners into its silver table.

    `prepared`: bronze batch id -> that batch's rows as `standardize` returns them, already computed by the
    caller for its own use (the population master's social insurance list): used instead of standardizing
    the batch a second time. The caller keeps them cached until the step returns.
    """
    prepared = dict(prepared or {})
    table, bronze_table = contract.tables.silver, contract.tables.bronze
    schema = silver_schema(contract)
    # the MERGE is refused if another run commits to the table after this version, which the rows are compared with
    silver_version = version_or_absent(lakehouse, SILVER, table)
    outdated = _outdated(lakehouse, table, schema)
    pending = _pending(lakehouse, contract, outdated)
    if not pending:
        if outdated or not lakehouse.exists(SILVER, table):
            # No bronze yet (nothing delivered, or every delivery refused whole): an empty table, so
            # readers (dbt sources, masters, analysts) find it.
            try:
                empty = to_arrow_schema(schema, timezone="UTC").empty_table()  # written by the driver: no Spark job
                version = lakehouse.write(empty, SILVER, table, mode="overwrite",
                                          read_version=None if outdated else ABSENT)
            except DeltaCommitError:
                if outdated or not lakehouse.exists(SILVER, table):
                    raise
                log.info("silver.%s: created by another run at the same time", table)
                return build_silver(spark, lakehouse, contract)
            log.info("silver.%s: bronze.%s has no rows yet: empty table, version %d", table, bronze_table, version)
            return SilverResult(table, 0, 0, 0, 0, version)
        total, version = lakehouse.count(SILVER, table), lakehouse.version(SILVER, table)
        log.info("silver.%s: no pending batch of bronze.%s: unchanged (%d rows, version %d)",
                 table, bronze_table, total, version)
        return SilverResult(table, total, 0, 0, total, version)

    # the rows and the batches' days and landing times of one bronze version
    bronze_version = lakehouse.version(BRONZE, bronze_table)
    every_batch = lakehouse.read(BRONZE, bronze_table, version=bronze_version)
    batches = bronze_deliveries(lakehouse, bronze_table, version=bronze_version)
    days = day_of(batches)
    applying = pending
    rebuild = outdated or (silver_version != ABSENT and _out_of_order(
        table, batches, pending, applied_batches(lakehouse, table, bronze_table)))
    if rebuild:
        applying = sorted(batches)
    rows = _standardized_rows(contract, every_batch, applying, prepared)
    owned = not rows.is_cached  # a caller's single prepared batch stays the caller's to unpersist
    if owned:
        rows = rows.cache()
    held: list[DataFrame] = []
    try:
        counted = rows.agg(F.count(F.lit(1)).alias("rows"),
                           F.count(F.when(~F.col("_ok"), 1)).alias("failing")).first()
        standardized = counted["rows"]
        if counted["failing"]:
            failing = rows.where(~F.col("_ok")).select("_batch_id", "_row_number", "_reason").limit(20).collect()
            where = ", ".join(f"{r['_batch_id']} row {r['_row_number']} ({r['_reason']})" for r in failing)
            raise SilverStandardizationError(
                f"bronze.{bronze_table}: rows no longer pass the contract checks: {where}. "
                f"Fix: check recent changes to citydata.standards or {contract.file}; silver.{table} unchanged")
        keys = list(contract.key)
        columns = [f.name for f in schema.fields]
        current = None if rebuild or silver_version == ABSENT else lakehouse.read(SILVER, table, version=silver_version)
        groups = _day_groups(batches, applying)
        if len(groups) == 1:
            upserts = _day_upserts(contract, schema, every_batch, rows, applying, rows, current,
                                   _listed_for(contract, batches, groups[0]), days, prepared)
        else:
            # one day at a time, each compared with the table as the day before left it (as a run per day)
            state, changed = current, []
            for group in groups:
                day_rows = _day_upserts(contract, schema, every_batch, rows, applying,
                                        rows.where(F.col("_batch_id").isin(group)), state,
                                        _listed_for(contract, batches, group), days, prepared)
                changed.append(day_rows.select(*keys))
                state = (day_rows if state is None
                         else state.join(day_rows.select(*keys), on=keys, how="left_anti").unionByName(day_rows))
                state = state.cache()
                state.count()  # computed once: the next day and the write read it
                held.append(state)
            upserts = state if current is None else state.join(
                functools.reduce(DataFrame.unionByName, changed).distinct(), on=keys, how="left_semi")
        if rebuild:
            inserted = upserts.count()
            merged = MergeResult(inserted, 0, 0, lakehouse.write(
                upserts.select(*columns), SILVER, table, mode="overwrite",
                read_version=None if outdated else silver_version))
        else:
            merged = lakehouse.merge(upserts.select(*columns), SILVER, table, keys=keys, read_version=silver_version)
    finally:
        for frame in held:
            frame.unpersist()
        if owned:
            rows.unpersist()
    mark_applied(lakehouse, table, bronze_table, applying)
    total = lakehouse.count(SILVER, table)
    unchanged = total - merged.inserted - merged.updated
    log.info("silver.%s: %d batch(es), %d rows standardized: %d inserted, %d updated, %d unchanged -> %d rows, "
             "version %d", table, len(applying), standardized, merged.inserted, merged.updated, unchanged, total,
             merged.version)
    return SilverResult(table, total, merged.inserted, merged.updated, unchanged, merged.version, standardized,
                        tuple(pending))


def _standardized_rows(contract: SourceContract, every_batch: DataFrame, applying: list[str],
                       prepared: Mapping[str, DataFrame]) -> DataFrame:
    """The applying batches' rows standardized: the caller's prepared rows of a batch, the others here."""
    parts = [prepared[b] for b in applying if b in prepared]
    rest = [b for b in applying if b not in prepared]
    if rest:
        parts.append(standardize(contract, every_batch.where(F.col("_batch_id").isin(rest))))
    return functools.reduce(DataFrame.unionByName, parts)


def _listed_for(contract: SourceContract, batches: dict[str, DeliveredBatch], group: list[str]) -> Row | None:
    """A full list's latest list as a run of the group's day saw it: the latest batch of that day or before."""
    if not contract.full_list:
        return None
    upto = max(batches[b].day_key for b in group)
    return _latest_of(b for b in batches.values() if b.day_key <= upto)


def _out_of_order(table: str, batches: dict[str, DeliveredBatch], pending: list[str], done: set[str]) -> bool:
    """Whether a pending batch was delivered on an earlier day than a batch silver has applied (two runs of
    different days at once, the later day applied first): silver is then rebuilt in day order. A pending batch
    of no known day (landed by hand, without a day folder) cannot be placed in day order: it is applied as is."""
    applied = [b.day_key for b in batches.values() if b.batch_id in done]
    waiting = [batches[b].day_key for b in pending if b in batches and batches[b].day is not None]
    if not applied or not waiting or min(waiting) >= max(applied):
        return False
    log.warning("silver.%s: a batch of delivery day %s is pending while day %s is applied: rebuilding the table "
                "from every batch in day order", table, min(waiting)[1] or "(unknown)", max(applied)[1])
    return True


def _day_groups(batches: dict[str, DeliveredBatch], applying: list[str]) -> list[list[str]]:
    """The batches to apply grouped by delivery day, oldest day first (unknown days: one group, first)."""
    by_day: dict[tuple[bool, str], list[str]] = {}
    for batch_id in applying:
        by_day.setdefault(batches[batch_id].day_key, []).append(batch_id)
    return [sorted(by_day[day]) for day in sorted(by_day)]


def _day_upserts(contract: SourceContract, schema: StructType, every_batch: DataFrame, rows: DataFrame,
                 applying: list[str], group_rows: DataFrame, current: DataFrame | None, listed: Row | None,
                 days: DayOf, prepared: Mapping[str, DataFrame]) -> DataFrame:
    """The rows one day's batches change in a silver table whose rows are `current` (None: empty): one winner
    per key that beats the current row, and for a full list the rows whose `in_latest_list` flips."""
    keys = list(contract.key)
    columns = [f.name for f in schema.fields]
    winner = Window.partitionBy(*keys).orderBy(*_order(contract, days))
    latest = (
        group_rows.withColumn("_rank", F.row_number().over(winner))
        .where(F.col("_rank") == 1)
        # _updated_at is the winning row's landing time: deterministic for a given bronze table.
        .select(*[f.name for f in contract.fields], "_batch_id", F.col("_ingested_at").alias("_updated_at"))
    )
    if listed is not None:
        listed_keys = _listed_keys(contract, every_batch, rows, applying, listed, prepared)
        latest = _mark_listed(keys, latest, listed_keys)
    latest = latest.select(*[F.col(f.name).cast(f.dataType) for f in schema.fields])
    if current is None:
        return latest
    latest = _against_current(contract, latest, current, days).select(*columns)
    if listed is not None:
        latest = latest.unionByName(_flipped(keys, current, latest, listed_keys, listed).select(*columns))
    return latest
