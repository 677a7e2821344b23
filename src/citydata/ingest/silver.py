"""Silver: standardized, deduplicated per-source tables from a source's bronze table, incrementally.

Only the bronze batches the silver table has not applied yet (`citydata.ingest.batches`, consumer =
the silver table's name) are standardized again by the contract's checks (the same functions that
admitted them) and typed by the contract's field types. Their rows are reduced to one winner per key
(the contract's `latest_by` desc nulls last, then the later landing, then the batch, then the row);
a winner replaces the key's current silver row only if it also beats that row by the same rule
(so a late-delivered but older record never overwrites a newer one; one equal to it keeps its
lineage, so the MERGE leaves it alone), then MERGEd into `silver/<table>` by the key, and the batches
are recorded as applied. A rerun with nothing pending
writes nothing; a missing silver table, or one with the columns of an older version, makes every
bronze batch pending again (the latter is rewritten whole).

A source whose every delivery is its complete list (contract `full_list: true`) also gets
`in_latest_list`: true exactly for the keys of the latest landed bronze batch, false for keys silver
keeps from earlier lists (MERGE never deletes). A row whose flag flips without a new winner (dropped
from the list, or listed again unchanged) is rewritten with the latest list's batch as its lineage.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass

import pandas as pd
from pyspark.sql import Column, DataFrame, Row, SparkSession, Window
from pyspark.sql import functions as F
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

from citydata.catalog.contracts import SourceContract
from citydata.ingest.batches import applied_batches, bronze_batches, mark_applied
from citydata.ingest.bronze import BRONZE
from citydata.ingest.concurrency import ABSENT, version_or_absent
from citydata.ingest.validate import validate_record
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
                            "_reason": result.reason_code})
            yield pd.DataFrame(out, columns=[*names, "_batch_id", "_row_number", "_ok", "_reason"])

    return run


def standardize(contract: SourceContract, bronze: DataFrame) -> DataFrame:
    """Bronze rows standardized and typed, with the lineage needed to pick a winner per key."""
    names = [f.name for f in contract.fields]
    schema = StructType(
        [StructField(f.name, _SPARK_TYPES[f.type], True) for f in contract.fields]
        + [StructField("_batch_id", StringType(), False), StructField("_row_number", IntegerType(), False),
           StructField("_ok", BooleanType(), False), StructField("_reason", StringType(), True)]
    )
    standardized = bronze.select(*names, "_batch_id", "_row_number").mapInPandas(
        _standardize_batches(contract), schema=schema
    )
    lineage = bronze.select("_batch_id", "_row_number", "_ingested_at")
    return standardized.join(lineage, on=["_batch_id", "_row_number"], how="inner")


def _order(contract: SourceContract) -> list[Column]:
    """Winner order among rows of one key: latest_by desc nulls last, later landing, batch, row."""
    order = [F.col(contract.latest_by).desc_nulls_last()] if contract.latest_by else []
    return order + [F.col("_ingested_at").desc(), F.col("_batch_id").desc(), F.col("_row_number").desc()]


def _beats_current(contract: SourceContract) -> Column:
    """Whether a new winner (columns as in silver) beats the key's current silver row (`__cur_*` columns).

    The same order as `_order`: silver keeps the winning row's latest_by, landing time (`_updated_at`)
    and batch; the row number only separates rows of one batch, never a pending row from an applied one.
    A tie (the same batch applied again after a crash) goes to the new row, which is then identical.
    """
    later = (F.col("_updated_at") > F.col("__cur__updated_at")) | (
        (F.col("_updated_at") == F.col("__cur__updated_at")) & (F.col("_batch_id") >= F.col("__cur__batch_id")))
    wins = F.col("__cur").isNull() | later
    if contract.latest_by:
        new, cur = F.col(contract.latest_by), F.col(f"__cur_{contract.latest_by}")
        newer = new.isNotNull() & (cur.isNull() | (new > cur))
        older = cur.isNotNull() & (new.isNull() | (new < cur))
        wins = F.col("__cur").isNull() | newer | (~older & later)
    return F.coalesce(wins, F.lit(False))


def _against_current(contract: SourceContract, latest: DataFrame, current: DataFrame) -> DataFrame:
    """The new winners that beat the key's current silver row; one equal to it in every field keeps the
    current `_batch_id` / `_updated_at`, so the MERGE sees it unchanged (a full list delivered again
    with a few changed rows rewrites only the files of those rows)."""
    keys = list(contract.key)
    # a row listed again (or dropped) with the same fields is a change: it takes the new lineage
    values = [f.name for f in contract.fields if f.name not in keys] + ([LISTED] if contract.full_list else [])
    lineage = ["_batch_id", "_updated_at"]
    cur = current.select(*keys, F.lit(True).alias("__cur"),
                         *[F.col(c).alias(f"__cur_{c}") for c in values + lineage])
    same = F.col("__cur").isNotNull()
    for column in values:
        same = same & F.col(column).eqNullSafe(F.col(f"__cur_{column}"))
    return (latest.join(cur, on=keys, how="left").where(_beats_current(contract))
            .select(*keys, *values, *[F.when(same, F.col(f"__cur_{c}")).otherwise(F.col(c)).alias(c)
                                      for c in lineage]))


def latest_list(bronze: DataFrame) -> Row | None:
    """The bronze batch landed last (ties: the greater batch id) as (`_batch_id`, `_updated_at` = its landing
    time): for a full-list source, the current list. None for an empty bronze table."""
    return (bronze.groupBy("_batch_id").agg(F.max("_ingested_at").alias("_updated_at"))
            .orderBy(F.col("_updated_at").desc(), F.col("_batch_id").desc()).first())


def _listed_keys(contract: SourceContract, bronze: DataFrame, standardized: DataFrame, pending: list[str],
                 listed: Row) -> DataFrame:
    """The keys of the latest list (column `__listed` true), standardized by the contract like silver's keys:
    taken from the pending rows when the list is pending (every one passed), else standardized again."""
    keys = list(contract.key)
    if listed["_batch_id"] in pending:
        rows = standardized.where(F.col("_batch_id") == listed["_batch_id"])
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
    held = lakehouse.read(SILVER, table).schema
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


def build_silver(spark: SparkSession, lakehouse: Lakehouse, contract: SourceContract) -> SilverResult:
    """Standardize the source's pending bronze batches and MERGE their winners into its silver table."""
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
                version = lakehouse.write(spark.createDataFrame([], schema), SILVER, table, mode="overwrite",
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

    every_batch = lakehouse.read(BRONZE, bronze_table)
    bronze = every_batch.where(F.col("_batch_id").isin(pending))
    rows = standardize(contract, bronze).cache()
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
        winner = Window.partitionBy(*contract.key).orderBy(*_order(contract))
        latest = (
            rows.withColumn("_rank", F.row_number().over(winner))
            .where(F.col("_rank") == 1)
            # _updated_at is the winning row's landing time: deterministic for a given bronze table.
            .select(*[f.name for f in contract.fields], "_batch_id", F.col("_ingested_at").alias("_updated_at"))
        )
        keys = list(contract.key)
        listed = latest_list(every_batch) if contract.full_list else None
        if listed is not None:
            listed_keys = _listed_keys(contract, every_batch, rows, pending, listed)
            latest = _mark_listed(keys, latest, listed_keys)
        latest = latest.select(*[F.col(f.name).cast(f.dataType) for f in schema.fields])
        if outdated:
            inserted = latest.count()
            merged = MergeResult(inserted, 0, 0, lakehouse.write(latest, SILVER, table, mode="overwrite"))
        else:
            if silver_version != ABSENT:
                current = lakehouse.read(SILVER, table, version=silver_version)
                latest = _against_current(contract, latest, current).select(*[f.name for f in schema.fields])
                if listed is not None:
                    latest = latest.unionByName(_flipped(keys, current, latest, listed_keys, listed)
                                                .select(*[f.name for f in schema.fields]))
            merged = lakehouse.merge(latest, SILVER, table, keys=keys, read_version=silver_version)
    finally:
        rows.unpersist()
    mark_applied(lakehouse, table, bronze_table, pending)
    total = lakehouse.count(SILVER, table)
    unchanged = total - merged.inserted - merged.updated
    log.info("silver.%s: %d batch(es), %d rows standardized: %d inserted, %d updated, %d unchanged -> %d rows, "
             "version %d", table, len(pending), standardized, merged.inserted, merged.updated, unchanged, total,
             merged.version)
    return SilverResult(table, total, merged.inserted, merged.updated, unchanged, merged.version, standardized,
                        tuple(pending))
