"""Silver legal-entity master (法人基础库): one row per unified social credit code, and its status history.

Inputs are the per-source standardized silver tables (built here by `build_silver` from bronze):
the market registry (`silver.market_entity`: enterprises 91…, individual businesses 92…) and civil
affairs' social organizations (`silver.social_organization`: 51/52/53…). Outputs:

- `silver.legal_entity`: the master, one vocabulary across sources, geocoded, divisions of today;
- `silver.legal_entity_status_history`: SCD type 2 of the status, keyed (credit_code, valid_from);
- `silver.tax_payment`: the tax bureau's payments (standardized by `build_silver` into
  `silver.tax_payment_source`) with `credit_code` resolved: a legacy 15-character 税务登记号 is
  linked through the master's `org_code`.

Incremental: only entities whose source row came from a bronze batch this step has not applied
(citydata.ingest.batches) are recomputed, and rows whose content did not change keep their lineage,
so `Lakehouse.merge` commits nothing for them. A rerun commits nothing at all.
Must not: standardize raw values itself (the contracts' checks did) or decide what a batch is.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime

import pyarrow.compute as pc
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StringType, StructField, StructType

from citydata.catalog.contracts import SourceContract, load_contracts
from citydata.ingest.batches import mark_applied, mark_applied_batches, pending_batches
from citydata.ingest.bronze import BRONZE
from citydata.ingest.concurrency import ABSENT, version_or_absent
from citydata.ingest.silver import (
    SILVER,
    SilverResult,
    build_silver,
    keep_unchanged_lineage,
    silver_schema,
    table_change,
    table_unchanged,
)
from citydata.lakehouse import Lakehouse
from citydata.standards.divisions import load_divisions
from citydata.standards.geocode import geocode
from citydata.standards.industry import load_industries

log = logging.getLogger(__name__)

LEGAL_ENTITY_SOURCES = ("legal_entities", "social_organizations", "tax_payments")
ENTITY_SOURCES = ("legal_entities", "social_organizations")  # the master's own; tax payments link to it
MASTER = "legal_entity"
HISTORY = "legal_entity_status_history"
CONSUMER = "silver.legal_entity"
TAX_SOURCE = "tax_payments"
TAX_STAGING = "tax_payment_source"  # build_silver's standardized tax rows; silver.tax_payment adds credit_code
TAX_CONSUMER = "silver.tax_payment"
BROADCAST_ROWS = 200_000  # keys a join ships to every task instead of shuffling both sides (a few MB)

ACTIVE, DEREGISTERED = "active", "deregistered"
#: Status words of the registries → the master's two statuses (吊销 = licence revoked, 撤销 = cancelled).
STATUS_WORDS = {"存续": ACTIVE, "在业": ACTIVE, "开业": ACTIVE, "正常": ACTIVE,
                "注销": DEREGISTERED, "吊销": DEREGISTERED, "撤销": DEREGISTERED}
SOCIAL_ORGANIZATION = "社会组织"  # the entity type of every civil-affairs organization (truth's vocabulary)

MASTER_COLUMNS = ("credit_code", "name", "entity_type", "industry_code", "industry_section", "registered_capital",
                  "established_on", "status", "deregistered_on", "authority_district_code", "address",
                  "district_code", "street_code", "org_code", "source")
HISTORY_COLUMNS = ("credit_code", "valid_from", "valid_to", "is_current", "status", "change_reason")
LINEAGE = ("_batch_id", "_updated_at")

_GEOCODE_TYPE = StructType([StructField("district_code", StringType()), StructField("street_code", StringType()),
                            StructField("reason", StringType())])


class LegalEntityError(RuntimeError):
    """Source rows the master cannot take (e.g. an unknown status word): nothing was written."""


@dataclass(frozen=True)
class LegalEntityResult:
    """Per-source silver results, the master's and the history's changes, and what was recomputed.

    Every table change is a `SilverResult` (rows after the step, inserted, updated, unchanged = the
    table's other rows, version), as the generic step reports it."""

    sources: dict[str, SilverResult]
    master: SilverResult | None
    history: SilverResult | None
    touched: int                      # entities recomputed (their source row came from a pending batch)
    ungeocoded: int                   # touched entities whose address gave no street (district_code/street_code null)
    batches: dict[str, list[str]] = field(default_factory=dict)  # bronze table -> batches applied now
    tax: SilverResult | None = None    # silver.tax_payment (None when no tax payments were delivered)
    tax_unlinked: int = 0             # tax payments whose taxpayer number links to no entity of the master


# --- pure column rules ------------------------------------------------------------------------------

def _map_literal(mapping: dict[str, str]) -> Column:
    return F.create_map(*[F.lit(x) for pair in sorted(mapping.items()) for x in pair])


def _industry_section(code: Column) -> Column:
    sections = {division: section for division, (_, section) in load_industries().divisions.items()}
    return F.element_at(_map_literal(sections), F.substring(code, 1, 2))


def _todays_district(code: Column) -> Column:
    """A district code mapped to today's (retired 339906 → 339905); unknown codes stay as they are."""
    table = load_divisions()
    moved = {row.code: table.successor(row.code) for row in table.rows
             if row.level == "district" and table.successor(row.code) not in (None, row.code)}
    return F.coalesce(F.element_at(_map_literal(moved), code), code) if moved else code


def _geocode_row(address):  # noqa: ANN001, ANN202 - no hints: PySpark would try to infer a pandas UDF from them
    result = geocode(address)
    if not result.ok:
        return None, None, result.reason
    return result.value.district_code, result.value.street_code, None


_geocode_udf = F.udf(_geocode_row, _GEOCODE_TYPE)


def _status(word: Column) -> Column:
    return F.element_at(_map_literal(STATUS_WORDS), F.trim(word))


# --- per-source rows in the master's vocabulary -----------------------------------------------------

def _market_rows(rows: DataFrame) -> DataFrame:
    return rows.select(
        "credit_code", "name", F.col("entity_type").alias("entity_type"), "industry_code",
        F.col("registered_capital").alias("registered_capital"), "established_on",
        F.col("status").alias("_status_word"),
        # a 注销 row without a 注销日期 is dated by its change date
        F.when(_status(F.col("status")) == DEREGISTERED, F.coalesce("deregistered_on", "changed_on"))
        .alias("deregistered_on"),
        "authority_district_code", "address", F.lit("legal_entities").alias("source"), *LINEAGE)


def _organization_rows(rows: DataFrame) -> DataFrame:
    return rows.select(
        "credit_code", "name", F.lit(SOCIAL_ORGANIZATION).alias("entity_type"), "industry_code",
        F.col("registered_funds").alias("registered_capital"), "established_on", F.col("status").alias("_status_word"),
        F.when(_status(F.col("status")) == DEREGISTERED, F.col("deregistered_on")).alias("deregistered_on"),
        "authority_district_code", "address", F.lit("social_organizations").alias("source"), *LINEAGE)


_SOURCE_ROWS = {"legal_entities": _market_rows, "social_organizations": _organization_rows}


def master_rows(source_rows: DataFrame) -> DataFrame:
    """Source rows (in `_market_rows`' columns) as master rows: statuses, sections, divisions of today, geocodes."""
    geo = _geocode_udf(F.col("address"))
    return source_rows.select(
        "credit_code", "name", "entity_type", "industry_code",
        _industry_section(F.col("industry_code")).alias("industry_section"),
        F.col("registered_capital").cast("decimal(20,2)").alias("registered_capital"),
        "established_on", _status(F.col("_status_word")).alias("status"), "deregistered_on",
        _todays_district(F.col("authority_district_code")).alias("authority_district_code"),
        "address", geo.district_code.alias("district_code"), geo.street_code.alias("street_code"),
        # GB 11714 organization code = positions 9-17 of the credit code: the link to legacy numbers
        F.substring("credit_code", 9, 9).alias("org_code"), "source",
        F.col("_status_word"), geo.reason.alias("_geocode_reason"), *LINEAGE)


def history_rows(master: DataFrame) -> DataFrame:
    """The status periods a master row implies: active from establishment (closed by a deregistration),
    then deregistered from the deregistration date (the landing day when the source gives no date)."""
    gone = F.col("status") == DEREGISTERED
    gone_on = F.coalesce(F.col("deregistered_on"), F.to_date("_updated_at"))
    active = master.where(~gone | (gone_on > F.col("established_on"))).select(
        "credit_code", F.col("established_on").alias("valid_from"),
        F.when(gone, gone_on).cast("date").alias("valid_to"), (~gone).alias("is_current"),
        F.lit(ACTIVE).alias("status"), F.lit("established").alias("change_reason"), "_batch_id")
    ended = master.where(gone).select(
        "credit_code", gone_on.alias("valid_from"), F.lit(None).cast("date").alias("valid_to"),
        F.lit(True).alias("is_current"), F.lit(DEREGISTERED).alias("status"),
        F.lit("deregistered").alias("change_reason"), "_batch_id")
    return active.unionByName(ended)


def _withdrawn(old: DataFrame, wanted: DataFrame) -> DataFrame:
    """History rows no longer implied by their entity's master row (a corrected date, a reactivation):
    kept, but as an empty period (valid_to = valid_from, not current), so no period overlaps another."""
    gone = old.join(wanted.select("credit_code", "valid_from"), on=["credit_code", "valid_from"], how="left_anti")
    return gone.where(F.col("valid_to").isNull() | (F.col("valid_to") != F.col("valid_from"))
                      | F.col("is_current")).select(
        "credit_code", "valid_from", F.col("valid_from").alias("valid_to"), F.lit(False).alias("is_current"),
        "status", F.lit("withdrawn").alias("change_reason"), "_batch_id")


# --- the step ---------------------------------------------------------------------------------------

def _check_statuses(rows: DataFrame) -> None:
    bad = rows.where(F.col("status").isNull()).select("source", "credit_code", "_status_word").limit(10).collect()
    if bad:
        where = ", ".join(f"{r['source']} {r['credit_code']} ({r['_status_word']!r})" for r in bad)
        raise LegalEntityError(
            f"silver.{MASTER}: unknown 登记状态 in {where}. Fix: add the word to "
            f"citydata.ingest.legal_entity.STATUS_WORDS (active or deregistered); silver.{MASTER} unchanged")


@dataclass(frozen=True)
class _MasterChange:
    master: SilverResult | None
    history: SilverResult | None
    touched: int
    ungeocoded: int
    batches: dict[str, list[str]]


def _build_master(lakehouse: Lakehouse, present: dict[str, SourceContract],
                  applied_at: datetime | None) -> _MasterChange:
    """MERGE the entities touched by pending batches into the master and its status history."""
    # each MERGE is refused if another run commits to its table after the version its rows are compared with
    master_version, history_version = (version_or_absent(lakehouse, SILVER, t) for t in (MASTER, HISTORY))
    pending = {c.tables.bronze: pending_batches(lakehouse, CONSUMER, c.tables.bronze) for c in present.values()}
    parts = [
        _SOURCE_ROWS[s](lakehouse.read(SILVER, c.tables.silver)
                        .where(F.col("_batch_id").isin(pending[c.tables.bronze])))
        for s, c in present.items() if pending[c.tables.bronze]
    ]
    if not parts:
        log.info("silver.%s: no pending batches of %s: nothing to do", MASTER, ", ".join(present) or "any source")
        return _MasterChange(table_unchanged(lakehouse, MASTER), table_unchanged(lakehouse, HISTORY), 0, 0, {})
    touched = parts[0]
    for part in parts[1:]:
        touched = touched.unionByName(part)
    rows = master_rows(touched).cache()
    held = [rows]
    try:
        # one job computes (and caches) the touched rows: how many, how many not geocoded, unknown statuses
        summary = rows.agg(F.count(F.lit(1)).alias("rows"),
                           F.count(F.when(F.col("street_code").isNull(), 1)).alias("ungeocoded"),
                           F.count(F.when(F.col("status").isNull(), 1)).alias("unknown")).first()
        if summary["unknown"]:
            _check_statuses(rows)
        count, ungeocoded = summary["rows"], summary["ungeocoded"]
        if ungeocoded:
            reasons = rows.where(F.col("street_code").isNull()).groupBy("_geocode_reason").count().collect()
            log.warning("silver.%s: %d of %d touched entities not geocoded to a street (%s)", MASTER, ungeocoded, count,
                        ", ".join(f"{r['_geocode_reason'] or 'district only'}: {r['count']}" for r in reasons))
        codes = rows.select("credit_code")
        new_master = rows.select(*MASTER_COLUMNS, *LINEAGE)
        old_master = (lakehouse.read(SILVER, MASTER, version=master_version).join(codes, "credit_code", "left_semi")
                      if master_version != ABSENT else None)
        master = keep_unchanged_lineage(new_master, old_master, ["credit_code"], list(LINEAGE)).cache()
        held.append(master)
        # history follows the master row after lineage was kept: an unchanged entity's periods keep their batch
        wanted = history_rows(master)
        # the touched entities' periods, read once for both uses below
        old_history = (lakehouse.read(SILVER, HISTORY, version=history_version).join(codes, "credit_code", "left_semi")
                       .cache() if history_version != ABSENT else None)
        if old_history is not None:
            held.append(old_history)
            wanted = wanted.unionByName(_withdrawn(old_history, wanted))
        history = keep_unchanged_lineage(wanted, old_history, ["credit_code", "valid_from"], ["_batch_id"])
        master_change = table_change(lakehouse, MASTER, lakehouse.merge(master, SILVER, MASTER, keys=["credit_code"],
                                                                        read_version=master_version))
        history_change = table_change(lakehouse, HISTORY, lakehouse.merge(
            history.select(*HISTORY_COLUMNS, "_batch_id"), SILVER, HISTORY, keys=["credit_code", "valid_from"],
            read_version=history_version))
    finally:
        for frame in held:
            frame.unpersist()
    applied = {table: batches for table, batches in pending.items() if batches}
    mark_applied_batches(lakehouse, CONSUMER, applied, applied_at=applied_at)
    return _MasterChange(master_change, history_change, count, ungeocoded, applied)


def link_taxpayers(payments: DataFrame, master: DataFrame) -> DataFrame:
    """`payments` with `credit_code`: the taxpayer number itself when it is a credit code (18), else the
    master entity whose organization code is positions 7-15 of the legacy number (null when none, or
    when several entities share it)."""
    unique = master.groupBy("org_code").agg(F.count("*").alias("_n"), F.first("credit_code").alias("_linked")) \
        .where(F.col("_n") == 1).select("org_code", "_linked")
    legacy = F.length("taxpayer_id") == 15
    linked = payments.withColumn("_org", F.when(legacy, F.substring("taxpayer_id", 7, 9))) \
        .join(unique, F.col("_org") == unique["org_code"], "left")
    return linked.withColumn("credit_code", F.when(legacy, F.col("_linked")).otherwise(F.col("taxpayer_id"))) \
        .drop("_org", "org_code", "_linked")


def _build_tax_payments(spark: SparkSession, lakehouse: Lakehouse, contract: SourceContract,
                        applied_at: datetime | None) -> tuple[SilverResult, SilverResult | None, int, list[str]]:
    """Standardize tax payments (build_silver into silver.tax_payment_source), then MERGE into
    silver.tax_payment the payments of pending batches and every payment not linked yet, with credit_code."""
    staged_contract = replace(contract, tables=replace(contract.tables, silver=TAX_STAGING))
    staged = build_silver(spark, lakehouse, staged_contract)
    table = contract.tables.silver
    tax_version = version_or_absent(lakehouse, SILVER, table)  # the MERGE is refused if another run commits after it
    pending = pending_batches(lakehouse, TAX_CONSUMER, contract.tables.bronze)
    exists = tax_version != ABSENT
    unlinked_before = _unlinked(lakehouse, table, tax_version) if exists else 0
    if not pending and not unlinked_before:
        log.info("silver.%s: no pending batches and nothing left to link: nothing to do", table)
        return staged, table_unchanged(lakehouse, table), 0, []
    source = lakehouse.read(SILVER, TAX_STAGING)
    wanted = F.col("_batch_id").isin(pending) if pending else F.lit(False)
    touched = source.where(wanted)
    if unlinked_before:
        # an entity registered after its payments arrived links them now (the pending rows are taken already)
        unlinked = lakehouse.read(SILVER, table, version=tax_version).where(F.col("credit_code").isNull()) \
            .select("tax_voucher_no")
        touched = touched.unionByName(source.where(~wanted).join(_small(unlinked, unlinked_before), "tax_voucher_no",
                                                                 "left_semi"))
    touched = touched.cache()  # linked below and its vouchers' old rows found with it: one scan of the staging
    try:
        return _merge_tax(spark, lakehouse, contract, staged, touched, tax_version, pending, applied_at)
    finally:
        touched.unpersist()


def _merge_tax(spark: SparkSession, lakehouse: Lakehouse, contract: SourceContract, staged: SilverResult,
               touched: DataFrame, tax_version: int, pending: list[str],
               applied_at: datetime | None) -> tuple[SilverResult, SilverResult | None, int, list[str]]:
    """MERGE the touched payments, linked to the master, into silver.tax_payment; record the pending batches."""
    table = contract.tables.silver
    exists = tax_version != ABSENT
    master = lakehouse.read(SILVER, MASTER) if lakehouse.exists(SILVER, MASTER) else None
    if master is None:
        master = spark.createDataFrame([], "org_code string, credit_code string")
    rows = link_taxpayers(touched, master.select("org_code", "credit_code"))
    columns = [*[f.name for f in contract.fields], "credit_code", *LINEAGE]
    old = lakehouse.read(SILVER, table, version=tax_version) if exists else None
    if old is not None:
        old = old.join(touched.select("tax_voucher_no"), "tax_voucher_no", "left_semi")
    merged_rows = keep_unchanged_lineage(rows.select(*columns), old, ["tax_voucher_no"], list(LINEAGE)).select(*columns)
    merged = lakehouse.merge(merged_rows, SILVER, table, keys=["tax_voucher_no"], read_version=tax_version)
    if not merged.inserted + merged.updated + merged.unchanged:
        # the pending batches hold no payment silver took (each lost to a newer one): they stay pending
        log.info("silver.%s: no pending payment and nothing left to link: nothing to do", table)
        return staged, table_unchanged(lakehouse, table), 0, []
    change = table_change(lakehouse, table, merged)
    unlinked_now = _unlinked(lakehouse, table)
    mark_applied(lakehouse, TAX_CONSUMER, contract.tables.bronze, pending, applied_at=applied_at)
    return staged, change, unlinked_now, pending


def empty_tables() -> dict[str, StructType]:
    """The master's own tables `ensure_silver_tables` may create empty, with the columns the step writes: only
    silver.tax_payment (no tax page delivered yet: `_merge_tax`'s contract fields typed as silver types them,
    credit_code, lineage)."""
    contract = load_contracts()[TAX_SOURCE]
    typed = {f.name: f for f in silver_schema(contract).fields}
    return {contract.tables.silver: StructType(
        [typed[f.name] for f in contract.fields] + [StructField("credit_code", StringType(), True)]
        + [typed[c] for c in LINEAGE])}


def _unlinked(lakehouse: Lakehouse, table: str, version: int | None = None) -> int:
    """Payments of silver.tax_payment without credit_code, counted on the driver from that one column (no
    Spark job: it costs more than reading one column of a table this size)."""
    return lakehouse.arrow_dataset(SILVER, table, version=version).count_rows(filter=pc.field("credit_code").is_null())


def _small(rows: DataFrame, count: int) -> DataFrame:
    """`rows` marked for broadcasting when `count` (known without a Spark job) is small: a join with it then
    shuffles neither side."""
    return F.broadcast(rows) if count <= BROADCAST_ROWS else rows


def build_legal_entities(spark: SparkSession, lakehouse: Lakehouse, *,
                         applied_at: datetime | None = None) -> LegalEntityResult:
    """Build the sources' silver tables, MERGE the touched entities into the master and its history,
    then link the pending tax payments to it."""
    contracts = load_contracts()
    present: dict[str, SourceContract] = {
        s: contracts[s] for s in ENTITY_SOURCES if lakehouse.exists(BRONZE, contracts[s].tables.bronze)}
    sources = {s: build_silver(spark, lakehouse, c) for s, c in present.items()}
    done = _build_master(lakehouse, present, applied_at)
    batches = dict(done.batches)
    tax, unlinked = None, 0
    tax_contract = contracts[TAX_SOURCE]
    if lakehouse.exists(BRONZE, tax_contract.tables.bronze):
        sources[TAX_SOURCE], tax, unlinked, tax_batches = _build_tax_payments(spark, lakehouse, tax_contract,
                                                                              applied_at)
        if tax_batches:
            batches[tax_contract.tables.bronze] = tax_batches
    return LegalEntityResult(sources, done.master, done.history, done.touched, done.ungeocoded, batches, tax, unlinked)
