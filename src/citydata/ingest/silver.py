"""Silver: standardized, deduplicated master records from a source's bronze table.

Every bronze row is standardized again by the contract's checks (the same functions that admitted
it), typed by the contract's field types, reduced to one row per key (the contract's `latest_by`,
then the latest delivery, then the last line wins) and MERGEd into `silver/<table>` by the key.
The merge commits only rows that changed: a rerun on the same bronze writes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass

import pandas as pd
from pyspark.sql import DataFrame, SparkSession, Window
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
from citydata.ingest.bronze import BRONZE
from citydata.ingest.validate import validate_record
from citydata.lakehouse import Lakehouse

log = logging.getLogger(__name__)

SILVER = "silver"
_SPARK_TYPES: dict[str, DataType] = {
    "string": StringType(), "date": DateType(), "integer": LongType(), "decimal": DecimalType(20, 2),
    "timestamp": TimestampType(), "boolean": BooleanType(),
}


class SilverStandardizationError(RuntimeError):
    """A bronze row no longer passes its contract's checks (standards changed?): silver left unchanged."""


@dataclass(frozen=True)
class SilverResult:
    table: str
    rows: int  # rows of the silver table after the step
    inserted: int
    updated: int
    unchanged: int
    version: int


def silver_schema(contract: SourceContract) -> StructType:
    """The silver table's columns: the contract's fields typed, then `_batch_id`, `_updated_at`."""
    return StructType(
        [StructField(f.name, _SPARK_TYPES[f.type], True) for f in contract.fields]
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


def build_silver(spark: SparkSession, lakehouse: Lakehouse, contract: SourceContract) -> SilverResult:
    """Standardize the source's bronze table into its silver master table (MERGE by the contract key)."""
    table = contract.tables.silver
    bronze = lakehouse.read(BRONZE, contract.tables.bronze)
    rows = standardize(contract, bronze).cache()
    try:
        failing = rows.where(~F.col("_ok")).select("_batch_id", "_row_number", "_reason").limit(20).collect()
        if failing:
            where = ", ".join(f"{r['_batch_id']} row {r['_row_number']} ({r['_reason']})" for r in failing)
            raise SilverStandardizationError(
                f"bronze.{contract.tables.bronze}: rows no longer pass the contract checks: {where}. "
                f"Fix: check recent changes to citydata.standards or {contract.file}; silver.{table} unchanged")
        order = [F.col(contract.latest_by).desc_nulls_last()] if contract.latest_by else []
        order += [F.col("_ingested_at").desc(), F.col("_batch_id").desc(), F.col("_row_number").desc()]
        winner = Window.partitionBy(*contract.key).orderBy(*order)
        latest = (
            rows.withColumn("_rank", F.row_number().over(winner))
            .where(F.col("_rank") == 1)
            # _updated_at is the winning row's landing time: deterministic for a given bronze table.
            .select(*[f.name for f in contract.fields], "_batch_id", F.col("_ingested_at").alias("_updated_at"))
        )
        latest = latest.select(*[F.col(f.name).cast(f.dataType) for f in silver_schema(contract).fields])
        merged = lakehouse.merge(latest, SILVER, table, keys=list(contract.key))
    finally:
        rows.unpersist()
    total = lakehouse.read(SILVER, table).count()
    log.info("silver.%s: %d inserted, %d updated, %d unchanged -> %d rows, version %d",
             table, merged.inserted, merged.updated, merged.unchanged, total, merged.version)
    return SilverResult(table, total, merged.inserted, merged.updated, merged.unchanged, merged.version)
