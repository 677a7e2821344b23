"""Silver points of interest (`silver.poi`): WGS-84 coordinates, the source's system, district and street.

The internet map source delivers `location` as "lon,lat" in GCJ-02, a full crawl every day. Its
contract check (`lonlat`, citydata.ingest.validate) already converts to WGS-84 (6 decimals) and
rejects points outside the city (GEO_OUTSIDE_CITY) at bronze. This step takes over the source's
silver table: `build_silver` standardizes the crawls into `silver.poi_source` (one row per POI, the
latest crawl's row winning); the POIs whose row came from a batch not applied yet here
(citydata.ingest.batches) are MERGEd into `silver.poi` with longitude/latitude as decimal(9,6)
WGS-84 plus the delivered system, their district and street (citydata.standards.geo, point in
polygon). `is_open` is true exactly for the POIs of the latest crawl (ids read from that crawl's bronze
rows: a POI whose content did not change keeps its old batch in the staging table), so POIs absent
from it close and reappearing ones reopen. Unchanged POIs keep their lineage, so a MERGE commits only
what changed and a rerun commits nothing.
Must not: convert or locate by its own rules (citydata.standards.coords / geo do).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import BooleanType, DecimalType, StringType, StructField, StructType

from citydata.catalog.contracts import load_contract
from citydata.ingest.batches import mark_applied, pending_batches
from citydata.ingest.bronze import BRONZE
from citydata.ingest.silver import (
    SILVER,
    SilverResult,
    build_silver,
    keep_unchanged_lineage,
    latest_delivered,
    silver_schema,
    standardize,
    table_change,
    table_unchanged,
)
from citydata.lakehouse import Lakehouse
from citydata.standards import coords, geo

log = logging.getLogger(__name__)

POI_SOURCES = ("internet_poi",)
CONSUMER = "silver.poi"
POI_STAGING = "poi_source"  # build_silver's standardized crawl rows; silver.poi adds coordinates and codes
COORD = DecimalType(9, 6)
POI_COLUMNS = ("poi_id", "name", "category", "category_code", "address", "longitude", "latitude",
               "coord_system", "source_coord_system", "district_code", "street_code", "district_name", "city_name",
               "is_open")
_LOCATED = StructType([StructField("longitude", COORD), StructField("latitude", COORD),
                       StructField("district_code", StringType()), StructField("street_code", StringType())])
_MICRO = Decimal("0.000001")


class PoiError(RuntimeError):
    """POI rows this step cannot take as they are: nothing was written."""


@dataclass(frozen=True)
class PoiResult:
    """What `build_pois` did: the staging and POI tables' changes, POIs recomputed, the latest crawl's batch
    and the batches applied."""

    source: SilverResult
    poi: SilverResult | None
    touched: int = 0
    latest_batch: str | None = None
    batches: list[str] = field(default_factory=list)


def _locate_row(location):  # noqa: ANN001, ANN202 - no hints: PySpark would try to infer a pandas UDF from them
    """A standardized WGS-84 "lon,lat" as decimals plus its (district, street) by point in polygon."""
    lon_text, lat_text = location.split(",")
    lon, lat = float(lon_text), float(lat_text)
    where = geo.locate(lon, lat)
    district, street = where.value if where.ok else (None, None)
    return Decimal(lon_text).quantize(_MICRO), Decimal(lat_text).quantize(_MICRO), district, street


_locate_udf = F.udf(_locate_row, _LOCATED)


def _check_systems(rows: DataFrame, system: str) -> None:
    """The contract's lonlat check converts from the contract's system: a record declaring another one
    would be stored hundreds of metres off, so refuse it."""
    other = rows.where(F.lower(F.regexp_replace("coord_system", r"[^0-9A-Za-z]", "")) != system) \
        .select("poi_id", "coord_system").limit(10).collect()
    if other:
        where = ", ".join(f"{r['poi_id']} ({r['coord_system']})" for r in other)
        raise PoiError(f"silver.{POI_STAGING}: records declare another coordinate system than the contract's "
                       f"{system}: {where}. Fix: split the source by system (one contract each); silver.poi unchanged")


def empty_tables() -> dict[str, StructType]:
    """silver.poi as `ensure_silver_tables` creates it empty (no crawl delivered yet): the columns `build_pois`
    writes — the contract's as silver types them, the located coordinates and codes, `is_open`, lineage."""
    contract = load_contract("internet_poi")
    typed = {f.name: f.dataType for f in silver_schema(contract).fields}
    own = {"longitude": COORD, "latitude": COORD, "coord_system": StringType(), "source_coord_system": StringType(),
           "district_code": StringType(), "street_code": StringType(), "is_open": BooleanType()}
    return {contract.tables.silver: StructType([StructField(c, own.get(c) or typed[c], True)
                                                for c in (*POI_COLUMNS, "_batch_id", "_updated_at")])}


def build_pois(spark: SparkSession, lakehouse: Lakehouse, *, applied_at: datetime | None = None) -> PoiResult:
    """MERGE the POIs of the not yet applied crawls into `silver.poi` (WGS-84, located, open or closed)."""
    contract = load_contract("internet_poi")
    table = contract.tables.silver
    system = coords.normalize_system(contract.field("location").coord_system or "wgs84")
    staged = build_silver(spark, lakehouse, replace(contract, tables=replace(contract.tables, silver=POI_STAGING)))
    pending = pending_batches(lakehouse, CONSUMER, contract.tables.bronze)
    if not pending:
        log.info("silver.%s: no pending batches of bronze.%s: nothing to do", table, contract.tables.bronze)
        return PoiResult(staged, table_unchanged(lakehouse, table))
    crawls = lakehouse.read(BRONZE, contract.tables.bronze).where(F.col("_batch_id").isin(pending))
    latest = latest_delivered(lakehouse, contract.tables.bronze, among=pending)
    # A crawl is the full list: the POIs of the latest one are open, every other POI is closed. The
    # staging table cannot tell (an unchanged POI keeps the batch that first delivered it), so the
    # latest crawl's ids come from bronze, standardized by the same contract checks.
    in_crawl = (standardize(contract, crawls.where(F.col("_batch_id") == latest["_batch_id"]))
                .where("_ok").select("poi_id").distinct().withColumn("_in_crawl", F.lit(True)))
    rows = lakehouse.read(SILVER, POI_STAGING).where(F.col("_batch_id").isin(pending)).cache()
    try:
        _check_systems(rows, system)
        place = _locate_udf(F.col("location"))
        changed = rows.select(
            "poi_id", "name", "category", "category_code", "address", place.longitude.alias("longitude"),
            place.latitude.alias("latitude"), F.lit("wgs84").alias("coord_system"),
            F.lit(system).alias("source_coord_system"), place.district_code.alias("district_code"),
            place.street_code.alias("street_code"), "district_name", "city_name", "_batch_id", "_updated_at")
        old = lakehouse.read(SILVER, table) if lakehouse.exists(SILVER, table) else None
        every = changed
        if old is not None:
            # POIs whose content did not change may still open or close: dated by the latest crawl
            kept = (old.join(changed.select("poi_id"), "poi_id", "left_anti")
                    .withColumn("_batch_id", F.lit(latest["_batch_id"]))
                    .withColumn("_updated_at", F.lit(latest["_updated_at"]).cast("timestamp")))
            every = changed.unionByName(kept.select(*changed.columns))
        located = (every.join(in_crawl, "poi_id", "left")
                   .withColumn("is_open", F.coalesce(F.col("_in_crawl"), F.lit(False))).drop("_in_crawl"))
        merged_rows = keep_unchanged_lineage(located, old, ["poi_id"], ["_batch_id", "_updated_at"]) \
            .select(*POI_COLUMNS, "_batch_id", "_updated_at").cache()
        touched = merged_rows.count()
        change = table_change(lakehouse, table, lakehouse.merge(merged_rows, SILVER, table, keys=["poi_id"]))
        merged_rows.unpersist()
    finally:
        rows.unpersist()
    mark_applied(lakehouse, CONSUMER, contract.tables.bronze, pending, applied_at=applied_at)
    return PoiResult(staged, change, touched, latest["_batch_id"], pending)
