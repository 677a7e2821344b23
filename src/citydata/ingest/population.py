"""Silver population master (人口基础库): one row per citizen ID number, and its residence/status history.

Inputs are the per-source standardized silver tables, built here by `build_silver` from bronze:
the household register (`silver.household_registration`) and its change log (`silver.person_change`),
civil affairs' marriages (`silver.marriage_registration`), health's birth and death certificates
(`silver.birth`, `silver.death`) and social insurance (`silver.insured_employment`). Outputs:

- `silver.person`: one row per person of the household register (a valid register row), every other
  department's facts attached by ID number; IDs known only to other departments stay in their own
  per-source tables (the register decides who is a resident, see docs/silver.md). `id_hash` is the keyed
  hash of the ID number (citydata.standards.pseudonym), the person's only key with min/max statistics: a
  lookup of one person by `id_hash` prunes files (`lookup_person`, docs/lakehouse.md);
- `silver.person_history`: SCD type 2 of residence and status, keyed (id_number, valid_from).

Incremental: only persons named by a bronze batch this step has not applied (citydata.ingest.batches)
are recomputed; both tables are written with `Lakehouse.merge`, which commits only changed rows, and
the batches are recorded last, so a failed run is repaired by running again.
Must not: standardize raw values itself (the contracts' checks did) or decide what a batch is.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from functools import lru_cache
from itertools import groupby

import pandas as pd
from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql.types import BooleanType, DateType, StringType, StructField, StructType, TimestampType

from citydata.catalog.contracts import SourceContract, load_contract
from citydata.ingest.batches import applied_batches, mark_applied_batches, pending_batches
from citydata.ingest.bronze import BRONZE
from citydata.ingest.concurrency import ABSENT, version_or_absent
from citydata.ingest.silver import (
    SILVER,
    SilverResult,
    build_silver,
    latest_delivered,
    standardize,
    table_change,
    table_unchanged,
)
from citydata.lakehouse import Lakehouse, MergeResult
from citydata.lakehouse.lookup import lookup
from citydata.standards.divisions import load_divisions
from citydata.standards.pseudonym import id_number_hash, keyed_hash, platform_key

log = logging.getLogger(__name__)

POPULATION_SOURCES = ("household_register", "household_register_changes", "marriages", "births", "deaths",
                      "social_insurance_employment")
INSURANCE = "social_insurance_employment"  # a full list every day
PERSON = "person"
HISTORY = "person_history"
CONSUMER = "silver.person"
TIMELINE_BUCKETS = 64

REGISTERED, DECEASED = "registered", "deceased"
INSURED_STATUS = "正常参保"  # 参保状态 of an active contribution (暂停缴费 / 终止参保 are not insured)

# Event kinds of the history, and the change_reason each one writes.
BIRTH, CORRECTION, REGISTER, MOVE, DEATH = "birth", "correction", "register", "move", "death"
REASONS = {BIRTH: "出生", CORRECTION: "更正", REGISTER: "首次登记", MOVE: "迁移", DEATH: "死亡"}
REREGISTERED = "登记变更"  # a register row moves the person without a 迁移 row in the change log
# Same-day events apply in this order: a person is born or corrected, registered, moves, dies.
_ORDER = {BIRTH: 0, CORRECTION: 1, REGISTER: 2, MOVE: 3, DEATH: 4}
# 变动类型/变动原因 of the change log -> event kind (婚姻状况变更 changes no residence or status).
CHANGE_KINDS = {("新增", "出生"): BIRTH, ("更正", "更正公民身份号码"): CORRECTION, ("变更", "迁移"): MOVE,
                ("注销", "死亡"): DEATH}
# 登记类型 of civil affairs -> marital status (GB/T 2261.2 words); 补领结婚证 changes nothing.
MARRIAGE_STATUS = {"结婚登记": "已婚", "离婚登记": "离婚"}

ID_HASH = "id_hash"
# Derived from sensitive dates under names no contract classifies (deaths.death_date, the change log's 死亡
# date): no statistics on them either.
DERIVED_PERSONAL = ("died_on", "death_certified_on")
REGISTER_COLUMNS = ("id_number", "name", "gender", "birth_date", "household_id", "relation_to_head",
                    "district_code", "street_code", "address", "phone", "registered_on")
PERSON_SCHEMA = StructType(
    [StructField(c, DateType() if c in ("birth_date", "registered_on") else StringType()) for c in REGISTER_COLUMNS]
    + [StructField(ID_HASH, StringType()), StructField("status", StringType()), StructField("died_on", DateType()),
       StructField("marital_status", StringType()), StructField("employer_credit_code", StringType()),
       StructField("insured", BooleanType()), StructField("birth_certificate_no", StringType()),
       StructField("death_certificate_no", StringType()), StructField("death_certified_on", DateType()),
       StructField("in_civil_affairs", BooleanType()), StructField("in_health", BooleanType()),
       StructField("in_social_insurance", BooleanType()),
       StructField("_batch_id", StringType()), StructField("_updated_at", TimestampType())])
HISTORY_SCHEMA = StructType([
    StructField("id_number", StringType()), StructField("valid_from", DateType()), StructField("valid_to", DateType()),
    StructField("is_current", BooleanType()), StructField("status", StringType()),
    StructField("district_code", StringType()), StructField("street_code", StringType()),
    StructField("change_reason", StringType()), StructField("_batch_id", StringType())])
# What the history function reads per person: its current period (kind "current") and its new events.
_TIMELINE_INPUT = StructType([
    StructField("id_number", StringType()), StructField("kind", StringType()), StructField("on", DateType()),
    StructField("status", StringType()), StructField("district_code", StringType()),
    StructField("street_code", StringType()), StructField("previous_street_code", StringType()),
    StructField("change_reason", StringType()), StructField("_batch_id", StringType())])


class PopulationError(RuntimeError):
    """The population master cannot be built from what is in bronze (nothing was written)."""


@dataclass(frozen=True)
class PopulationResult:
    """Per-source silver results, the master's and the history's counts, and what was recomputed."""

    sources: dict[str, SilverResult]
    person: SilverResult | None  # the master's table after the step (unchanged = rows left alone)
    history: SilverResult | None
    touched: int  # persons recomputed (named by a pending batch of some source)
    batches: dict[str, list[str]] = field(default_factory=dict)  # bronze table -> batches applied now


# --- pure rules ---------------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def successor_codes() -> dict[str, str]:
    """Every retired division code -> the code that holds it today (districts and streets)."""
    table = load_divisions()
    out = {}
    for row in table.rows:
        current = table.successor(row.code)
        if current and current != row.code:
            out[row.code] = current
    return out


def current_code(code: str | None) -> str | None:
    """A division code as today's division table names it (a retired code maps to its successor)."""
    return successor_codes().get(code, code) if code else code


@dataclass(frozen=True)
class Event:
    """A dated fact of the household register about one person (codes already today's)."""

    on: date
    kind: str  # BIRTH, CORRECTION, REGISTER, MOVE or DEATH
    district_code: str | None = None
    street_code: str | None = None
    previous_street_code: str | None = None  # MOVE: the street moved from
    batch_id: str | None = None


@dataclass(frozen=True)
class Period:
    """One row of the history: residence and status during [valid_from, valid_to) (valid_to None: current)."""

    valid_from: date
    valid_to: date | None
    status: str
    district_code: str | None
    street_code: str | None
    change_reason: str
    batch_id: str | None


def _reason(labels: Iterable[str]) -> str:
    return ",".join(dict.fromkeys(labels))  # distinct, in order of the events


def _open(day: list[Event], later: list[Event], district_of: Callable[[str], str | None]) -> Period | None:
    """The first period of a person the history does not know yet, from the events of its first day."""
    first = next((e for e in day if e.kind != DEATH), None)
    if first is None:  # a death is all we know: nothing to open
        return None
    district, street = first.district_code, first.street_code
    if first.kind == REGISTER:
        # A register row states today's residence; a later 迁移 of the same delivery says where the
        # person lived before it, so the registration opens there and the move follows.
        move = next((e for e in later if e.kind == MOVE and e.previous_street_code), None)
        if move is not None:
            street = move.previous_street_code
            district = district_of(street) or district
    labels = [REASONS[e.kind] for e in day if e.kind not in (REGISTER, DEATH)] or [REASONS[REGISTER]]
    dead = any(e.kind == DEATH for e in day)
    if dead:
        labels.append(REASONS[DEATH])
    return Period(first.on, None, DECEASED if dead else REGISTERED, district, street, _reason(labels), first.batch_id)


def person_timeline(current: Period | None, events: Sequence[Event],
                    district_of: Callable[[str], str | None] | None = None) -> list[Period]:
    """Apply a person's new events to its current period: the current period (closed, changed in place
    or as it was) followed by the periods the events open. A change closes the open period on its date
    (valid_to = the change date) and opens the next; a change dated on or before the open period's
    start changes that period in place (history further back is not rewritten). Nothing follows a death.
    """
    district_of = district_of or load_divisions().district_of
    periods = [current] if current else []
    ordered = sorted(events, key=lambda e: (e.on, _ORDER[e.kind]))
    for on, group in groupby(ordered, key=lambda e: e.on):
        day = list(group)
        if not periods:
            opened = _open(day, [e for e in ordered if e.on > on], district_of)
            if opened:
                periods.append(opened)
            continue
        last = periods[-1]
        if last.status == DECEASED:
            continue
        district, street, status = last.district_code, last.street_code, last.status
        for event in day:
            if event.kind in (REGISTER, MOVE) and event.street_code:
                district, street = event.district_code, event.street_code
            elif event.kind == DEATH:
                status = DECEASED
        moved = (district, street) != (last.district_code, last.street_code)
        if not moved and status == last.status:
            continue
        labels = []
        if moved:
            labels.append(REASONS[MOVE] if any(e.kind == MOVE for e in day) else REREGISTERED)
        if status != last.status:
            labels.append(REASONS[DEATH])
        batch = next(e.batch_id for e in reversed(day) if e.kind in (REGISTER, MOVE, DEATH))
        if on <= last.valid_from:
            periods[-1] = replace(last, status=status, district_code=district, street_code=street,
                                  change_reason=_reason([*last.change_reason.split(","), *labels]), batch_id=batch)
        else:
            periods[-1] = replace(last, valid_to=on)
            periods.append(Period(on, None, status, district, street, _reason(labels), batch))
    return periods


def _timeline_groups(rows: pd.DataFrame) -> pd.DataFrame:
    """applyInPandas body: the current periods and new events of a bucket of persons in, their periods out."""
    out = []
    records = sorted(rows.to_dict("records"), key=lambda r: r["id_number"])
    for person, group in groupby(records, key=lambda r: r["id_number"]):
        current = None
        events = []
        for r in group:
            if r["kind"] == "current":
                current = Period(r["on"], None, r["status"], r["district_code"], r["street_code"],
                                 r["change_reason"], r["_batch_id"])
            else:
                events.append(Event(r["on"], r["kind"], r["district_code"], r["street_code"],
                                    r["previous_street_code"], r["_batch_id"]))
        out.extend((person, p.valid_from, p.valid_to, p.valid_to is None, p.status, p.district_code, p.street_code,
                    p.change_reason, p.batch_id) for p in person_timeline(current, events))
    return pd.DataFrame(out, columns=[f.name for f in HISTORY_SCHEMA.fields])


# --- Spark steps --------------------------------------------------------------------------------------

def _today_code(column: str) -> Column:
    """The column's division code as of today (retired codes mapped to their successor)."""
    mapping = successor_codes()
    if not mapping:
        return F.col(column)
    lookup = F.create_map(*[F.lit(x) for pair in sorted(mapping.items()) for x in pair])
    return F.coalesce(lookup[F.col(column)], F.col(column)).alias(column)


def _ids(df: DataFrame, *columns: str) -> DataFrame:
    """The distinct non-null ID numbers of some columns, as one column `id_number`."""
    parts = [df.select(F.col(c).alias("id_number")) for c in columns]
    out = parts[0]
    for part in parts[1:]:
        out = out.unionByName(part)
    return out.where(F.col("id_number").isNotNull()).distinct()


def _union(frames: Sequence[DataFrame]) -> DataFrame:
    out = frames[0]
    for frame in frames[1:]:
        out = out.unionByName(frame)
    return out


Mine = Callable[[DataFrame], DataFrame]  # a source's rows cut to the persons being recomputed


class _Inputs:
    """The per-source silver tables present, each source's pending batches, and the versions of the masters
    (silver.person, silver.person_history; ABSENT: none) the step reads and MERGEs are conditioned on."""

    def __init__(self, lakehouse: Lakehouse, contracts: dict[str, SourceContract], pending: dict[str, list[str]],
                 masters: dict[str, int] | None = None):
        self.lakehouse, self.contracts, self.pending = lakehouse, contracts, pending
        self.masters = masters or {}

    def master(self, table: str) -> DataFrame | None:
        """A master table as of the version read at the step's start (None when it did not exist then)."""
        version = self.masters.get(table, ABSENT)
        return None if version == ABSENT else self.lakehouse.read(SILVER, table, version=version)

    def has(self, source: str) -> bool:
        return source in self.contracts

    def table(self, source: str) -> DataFrame:
        return self.lakehouse.read(SILVER, self.contracts[source].tables.silver)

    def new_rows(self, source: str) -> DataFrame | None:
        """The source's silver rows that came from a batch this step has not applied (None: none)."""
        if not self.pending.get(source):
            return None
        return self.table(source).where(F.col("_batch_id").isin(self.pending[source]))


def _changes(inputs: _Inputs) -> DataFrame:
    """The change log with its event kind (`kind` null for changes that are no event of the history)."""
    kind = F.lit(None).cast("string")
    for (change_type, reason), value in CHANGE_KINDS.items():
        kind = F.when((F.col("change_type") == change_type) & (F.col("change_reason") == reason), value).otherwise(kind)
    return inputs.table("household_register_changes").withColumn("kind", kind)


def _wrong_ids(inputs: _Inputs) -> DataFrame | None:
    """ID numbers the register corrected (更正: 原公民身份号码): they never become persons."""
    if not inputs.has("household_register_changes"):
        return None
    return (_changes(inputs).where((F.col("kind") == CORRECTION) & F.col("previous_id_number").isNotNull())
            .select(F.upper(F.trim("previous_id_number")).alias("id_number")).distinct())


def _latest_insurance_list(lakehouse: Lakehouse, contracts: dict[str, SourceContract], *, cache: bool
                           ) -> tuple[str, DataFrame] | None:
    """Social insurance's latest full list (the latest bronze batch: the list is complete each day) as its
    batch id and its rows standardized by the contract (with `cache`, computed once on first use: by
    build_silver when the list is pending, then read again by the master). None without a delivered list."""
    if INSURANCE not in contracts:
        return None
    contract = contracts[INSURANCE]
    latest = latest_delivered(lakehouse, contract.tables.bronze)
    if latest is None:
        return None
    batch = latest["_batch_id"]
    rows = standardize(contract, lakehouse.read(BRONZE, contract.tables.bronze).where(F.col("_batch_id") == batch))
    return batch, rows.cache() if cache else rows


def _insurance_list_pending(lakehouse: Lakehouse, contracts: dict[str, SourceContract]) -> bool:
    """Whether social insurance's silver step has a batch to apply (then it reads the latest list too)."""
    if INSURANCE not in contracts:
        return False
    contract = contracts[INSURANCE]
    return (not lakehouse.exists(SILVER, contract.tables.silver)
            or bool(pending_batches(lakehouse, contract.tables.silver, contract.tables.bronze)))


def _current_insurance(latest_rows: DataFrame | None) -> DataFrame | None:
    """Per ID number in social insurance's latest full list (its standardized rows): insured, and the
    employer of the active contribution that started last."""
    if latest_rows is None:
        return None
    rows = latest_rows.where(F.col("_ok"))
    active = rows.where(F.col("status") == INSURED_STATUS)
    first = Window.partitionBy("id_number").orderBy(F.col("insured_on").desc_nulls_last(),
                                                    F.col("employer_credit_code"))
    employer = (active.withColumn("_rank", F.row_number().over(first)).where(F.col("_rank") == 1)
                .select("id_number", "employer_credit_code", F.lit(True).alias("insured")))
    listed = rows.select("id_number").distinct()
    return listed.join(employer, "id_number", "left").select(
        "id_number", "employer_credit_code", F.coalesce(F.col("insured"), F.lit(False)).alias("insured"))


def _touched(spark: SparkSession, lakehouse: Lakehouse, inputs: _Inputs,
             insurance: DataFrame | None) -> DataFrame:
    """ID numbers some pending batch says something new about."""
    parts: list[DataFrame] = []
    for source, columns in (("household_register", ("id_number",)), ("household_register_changes", ("id_number",)),
                            ("marriages", ("husband_id_number", "wife_id_number")),
                            ("births", ("mother_id_number",)), ("deaths", ("id_number",))):
        rows = inputs.new_rows(source)
        if rows is not None:
            parts.append(_ids(rows, *columns))
    births = inputs.new_rows("births")
    if births is not None and inputs.has("household_register"):
        parts.append(_child_matches(births, inputs.table("household_register")).select("id_number"))
    if insurance is not None and inputs.pending.get(INSURANCE):
        # a full list: only persons whose insurance differs from what the master holds are touched
        master = inputs.master(PERSON)
        if master is not None and "insured" in master.columns:
            held = (master.where(F.col("in_social_insurance"))
                    .select("id_number", F.col("employer_credit_code").alias("_held_employer"),
                            F.col("insured").alias("_held_insured")))
            both = insurance.join(held, "id_number", "full_outer")
            differs = ~(F.col("employer_credit_code").eqNullSafe(F.col("_held_employer"))
                        & F.coalesce(F.col("insured"), F.lit(False)).eqNullSafe(
                            F.coalesce(F.col("_held_insured"), F.lit(False)))
                        & F.col("_held_insured").isNotNull())
            parts.append(both.where(differs).select("id_number"))
        else:
            parts.append(insurance.select("id_number"))
    if not parts:
        return spark.createDataFrame([], "id_number string")
    return _union(parts).distinct()


def _child_matches(births: DataFrame, register: DataFrame) -> DataFrame:
    """Birth certificates matched to the child's register row: same household as the mother, same name,
    birth date and gender (the certificate names no ID number for the child)."""
    mothers = register.select(F.col("id_number").alias("mother_id_number"),
                              F.col("household_id").alias("_mother_household"))
    children = register.select("id_number", F.col("name").alias("child_name"), "birth_date", "gender",
                               F.col("household_id").alias("_mother_household"))
    return (births.select("certificate_no", "child_name", "birth_date", "gender", "mother_id_number")
            .join(mothers, "mother_id_number")
            .join(children, ["_mother_household", "child_name", "birth_date", "gender"])
            .select("id_number", "certificate_no"))


def _history_rows(spark: SparkSession, lakehouse: Lakehouse, inputs: _Inputs, persons: DataFrame,
                  register_persons: Mine) -> DataFrame | None:
    """New and changed history periods of `persons` (id_number) from the pending register and change rows;
    `register_persons` cuts register rows to `persons` (on the first build: drops the corrected IDs only)."""
    registered: DataFrame | None = None
    others: list[DataFrame] = []  # the change events, then the open periods of every person with an event
    register = inputs.new_rows("household_register")
    if register is not None:
        registered = register_persons(register).select(
            "id_number", F.lit(REGISTER).alias("kind"), F.col("registered_on").alias("on"),
            F.lit(None).cast("string").alias("status"), _today_code("district_code"), _today_code("street_code"),
            F.lit(None).cast("string").alias("previous_street_code"), F.lit(None).cast("string").alias("change_reason"),
            "_batch_id")
    if inputs.pending.get("household_register_changes"):
        changes = (_changes(inputs).where(F.col("_batch_id").isin(inputs.pending["household_register_changes"])
                                          & F.col("kind").isNotNull())
                   .join(persons, "id_number", "left_semi"))
        others.append(changes.select(
            "id_number", "kind", F.col("changed_on").alias("on"), F.lit(None).cast("string").alias("status"),
            _today_code("district_code"), _today_code("street_code"),
            _today_code("previous_street_code"), F.lit(None).cast("string").alias("change_reason"), "_batch_id"))
    events = [e for e in (registered, *others) if e is not None]
    if not events:
        return None
    held = inputs.master(HISTORY)
    if held is not None:
        current = (held.where(F.col("is_current"))
                   .join(_union(events).select("id_number").distinct(), "id_number", "left_semi"))
        others.append(current.select(
            "id_number", F.lit("current").alias("kind"), F.col("valid_from").alias("on"), "status", "district_code",
            "street_code", F.lit(None).cast("string").alias("previous_street_code"), "change_reason", "_batch_id"))
    periods: list[DataFrame] = []
    timeline = others
    if registered is not None:
        # A person whose only event is its register row and who has no period yet (nearly everyone on the
        # first day) gets the one period person_timeline opens for it, computed here column-wise: the
        # Python function sees only persons with a change or an open period (a million residents' periods
        # through Python were most of the first day's history).
        if others:
            involved = _union([o.select("id_number") for o in others]).distinct()
            alone = registered.join(involved, "id_number", "left_anti")
            timeline = [registered.join(involved, "id_number", "left_semi"), *others]
        else:
            alone = registered
        periods.append(alone.select(
            "id_number", F.col("on").alias("valid_from"), F.lit(None).cast("date").alias("valid_to"),
            F.lit(True).alias("is_current"), F.lit(REGISTERED).alias("status"), "district_code", "street_code",
            F.lit(REASONS[REGISTER]).alias("change_reason"), "_batch_id"))
    if timeline:
        rows = _union(timeline).select(*[f.name for f in _TIMELINE_INPUT.fields])
        # One Python call per bucket of persons, not per person: a per-person call costs ~1 ms.
        # (grouped by a real column: grouping by the bare expression gave a plan whose join failed at 1M
        # residents with "Can't zip RDDs with unequal numbers of partitions")
        bucketed = rows.withColumn("_bucket", F.abs(F.xxhash64("id_number")) % TIMELINE_BUCKETS)
        periods.append(bucketed.groupBy("_bucket").applyInPandas(_timeline_groups, schema=HISTORY_SCHEMA))
    return _union([p.select(*[F.col(f.name).cast(f.dataType) for f in HISTORY_SCHEMA.fields]) for p in periods])


def _register_rows(inputs: _Inputs, register_persons: Mine, history: DataFrame | None) -> DataFrame:
    """The register's columns of the persons `register_persons` keeps, residence taken from their open
    history period."""
    out = (register_persons(inputs.table("household_register"))
           .select(*REGISTER_COLUMNS, "_batch_id", "_updated_at")
           .withColumn("district_code", _today_code("district_code"))
           .withColumn("street_code", _today_code("street_code")))
    if history is None:
        return out
    # residence is the history's open period: a 迁移 the register has not re-delivered yet counts
    now = history.where(F.col("is_current")).select("id_number", F.col("district_code").alias("_h_district"),
                                                   F.col("street_code").alias("_h_street"))
    return (out.join(now, "id_number", "left")
            .withColumn("district_code", F.coalesce("_h_district", "district_code"))
            .withColumn("street_code", F.coalesce("_h_street", "street_code")).drop("_h_district", "_h_street"))


def _marital_status(inputs: _Inputs, mine: Mine) -> DataFrame | None:
    """Per person the latest dated marital status of the change log (婚姻状况 of every change row) or of
    civil affairs (结婚登记 / 离婚登记); on the same date the change log wins."""
    statements: list[DataFrame] = []
    if inputs.has("household_register_changes"):
        statements.append(mine(_changes(inputs)).select(
            "id_number", F.col("changed_on").alias("on"), F.lit(1).alias("_rank"), "marital_status"))
    if inputs.has("marriages"):
        words = F.create_map(*[F.lit(x) for pair in MARRIAGE_STATUS.items() for x in pair])
        for side in ("husband_id_number", "wife_id_number"):
            statements.append(mine(inputs.table("marriages").select(
                F.col(side).alias("id_number"), F.col("registered_on").alias("on"), F.lit(0).alias("_rank"),
                words[F.col("registration_type")].alias("marital_status"))))
    if not statements:
        return None
    latest = Window.partitionBy("id_number").orderBy(F.col("on").desc(), F.col("_rank").desc(), F.col("marital_status"))
    return (_union(statements).where(F.col("marital_status").isNotNull())
            .withColumn("_n", F.row_number().over(latest)).where(F.col("_n") == 1)
            .select("id_number", "marital_status"))


def _flag(ids: DataFrame, name: str) -> DataFrame:
    return ids.distinct().withColumn(name, F.lit(True))


def _facts(inputs: _Inputs, mine: Mine, insurance: DataFrame | None) -> list[DataFrame]:
    """What the other sources say about the persons `mine` keeps: frames keyed by id_number (at most one row
    each; rows of other ID numbers, when `mine` keeps everyone, find no register row to join)."""
    facts: list[DataFrame] = []
    health: list[DataFrame] = []
    if inputs.has("household_register_changes"):
        facts.append(mine(_changes(inputs)).where(F.col("kind") == DEATH).groupBy("id_number")
                     .agg(F.max("changed_on").alias("died_on")))
    marital = _marital_status(inputs, mine)
    if marital is not None:
        facts.append(marital)
    if inputs.has("marriages"):
        facts.append(_flag(mine(_ids(inputs.table("marriages"), "husband_id_number", "wife_id_number")),
                           "in_civil_affairs"))
    if inputs.has("deaths"):
        last = Window.partitionBy("id_number").orderBy(F.col("death_date").desc(), F.col("certificate_no").desc())
        deaths = (mine(inputs.table("deaths")).withColumn("_n", F.row_number().over(last)).where(F.col("_n") == 1)
                  .select("id_number", F.col("certificate_no").alias("death_certificate_no"),
                          F.col("death_date").alias("death_certified_on")))
        facts.append(deaths)
        health.append(deaths.select("id_number"))
    if inputs.has("births"):
        births = inputs.table("births")
        children = (mine(_child_matches(births, inputs.table("household_register")))
                    .groupBy("id_number").agg(F.min("certificate_no").alias("birth_certificate_no")))
        facts.append(children)
        health += [children.select("id_number"), mine(_ids(births, "mother_id_number"))]
    if health:
        facts.append(_flag(_union(health), "in_health"))
    if inputs.has(INSURANCE):
        facts.append(_flag(mine(_ids(inputs.table(INSURANCE), "id_number")),
                           "in_social_insurance"))
    if insurance is not None:
        facts.append(mine(insurance))
    return facts


def _id_hash(key: bytes) -> Callable[[Column], Column]:
    """The keyed hash of a column of standard ID numbers (the key travels to the Python workers, never into a
    query plan)."""
    @F.pandas_udf(StringType())  # type: ignore[call-overload]
    def id_hash(ids: pd.Series) -> pd.Series:
        return ids.map(lambda v: None if v is None else keyed_hash(v, key))

    return id_hash


def _person_rows(inputs: _Inputs, persons: DataFrame, register_persons: Mine, history: DataFrame | None,
                 insurance: DataFrame | None, *, everyone: bool) -> DataFrame:
    """silver.person rows of `persons` (ID numbers with a register row) from every source. Each source's facts
    are first cut to `persons` (a few on a later day), except with `everyone` (the first build: every
    register person is recomputed, and the facts' left joins onto the register rows keep only theirs)."""
    def mine(df: DataFrame) -> DataFrame:
        return df if everyone else df.join(persons, "id_number", "left_semi")

    out = _register_rows(inputs, register_persons, history)
    out = out.withColumn(ID_HASH, _id_hash(platform_key(inputs.lakehouse.root))(F.col("id_number")))
    for facts in _facts(inputs, mine, insurance):
        out = out.join(facts, "id_number", "left")
    for spec in PERSON_SCHEMA.fields:  # a source not in bronze yet says nothing
        if spec.name not in out.columns:
            out = out.withColumn(spec.name, F.lit(None).cast(spec.dataType))
    out = out.withColumn("status", F.when(F.col("died_on").isNotNull(), DECEASED).otherwise(REGISTERED))
    for flag in ("insured", "in_civil_affairs", "in_health", "in_social_insurance"):
        out = out.withColumn(flag, F.coalesce(F.col(flag), F.lit(False)))
    return out.select(*[F.col(f.name).cast(f.dataType) for f in PERSON_SCHEMA.fields])


def _write_person(lakehouse: Lakehouse, rows: DataFrame, read_version: int) -> MergeResult:
    """MERGE by ID number, refused if silver.person changed since `read_version` (the version the rows were
    computed from; ABSENT: none); a silver.person of another shape (the per-source table of older versions) is
    replaced whole: this run then recomputes every person, since no batch was applied to this shape."""
    if read_version != ABSENT:
        columns = [(f.name, f.dataType) for f in lakehouse.read(SILVER, PERSON).schema.fields]
        if columns != [(f.name, f.dataType) for f in PERSON_SCHEMA.fields]:
            log.warning("silver.%s has the columns of an older version: rewriting it whole", PERSON)
            count = rows.count()
            version = lakehouse.write(rows, SILVER, PERSON, mode="overwrite", personal_columns=DERIVED_PERSONAL,
                                      cluster_by=ID_HASH, read_version=read_version)
            return MergeResult(count, 0, 0, version)
    # clustered by the hash: each file a narrow range of it, so a lookup by id_hash reads one file, not all
    return lakehouse.merge(rows, SILVER, PERSON, keys=["id_number"], personal_columns=DERIVED_PERSONAL,
                           cluster_by=ID_HASH, read_version=read_version)


class _Phases:
    """Seconds per phase of one population step, logged as each ends (where the step's time goes)."""

    def __init__(self) -> None:
        self.started = time.perf_counter()

    def done(self, phase: str) -> None:
        now = time.perf_counter()
        log.info("silver.%s: %s %.1f s", PERSON, phase, now - self.started)
        self.started = now


def build_population(spark: SparkSession, lakehouse: Lakehouse, *,
                     applied_at: datetime | None = None) -> PopulationResult:
    """Build the population sources' silver tables, then MERGE the touched persons into silver.person
    and their residence/status periods into silver.person_history; record the applied batches."""
    contracts = {s: load_contract(s) for s in POPULATION_SOURCES}
    present = {s: c for s, c in contracts.items() if lakehouse.exists(BRONZE, c.tables.bronze)}
    phases = _Phases()
    # Social insurance's latest list is standardized once: its silver step's input when pending (every day:
    # a full list is delivered daily) and the master's insured/employer.
    latest = (_latest_insurance_list(lakehouse, present, cache=True) if _insurance_list_pending(lakehouse, present)
              else None)
    try:
        sources = {}
        for source, contract in present.items():
            prepared = dict([latest]) if source == INSURANCE and latest is not None else None
            sources[source] = build_silver(spark, lakehouse, contract, prepared=prepared)
            phases.done(f"build_silver {contract.tables.silver}")
        return _build_master(spark, lakehouse, present, sources, latest, phases, applied_at)
    finally:
        if latest is not None:
            latest[1].unpersist()


def _build_master(spark: SparkSession, lakehouse: Lakehouse, present: dict[str, SourceContract],
                  sources: dict[str, SilverResult], latest: tuple[str, DataFrame] | None, phases: _Phases,
                  applied_at: datetime | None) -> PopulationResult:
    """silver.person and silver.person_history from the per-source tables `sources` built (see build_population)."""
    if "household_register" not in present:
        log.info("silver.%s: no household register in bronze yet: nothing to build", PERSON)
        return PopulationResult(sources, table_unchanged(lakehouse, PERSON), table_unchanged(lakehouse, HISTORY), 0)
    stale = lakehouse.exists(SILVER, PERSON) and "status" not in lakehouse.read(SILVER, PERSON).columns
    if not stale and lakehouse.exists(SILVER, PERSON) and ID_HASH not in lakehouse.read(SILVER, PERSON).columns:
        rehash_persons(lakehouse)  # written before the keyed hash existed: add it to every row first
    pending = {s: (sorted({r["_batch_id"] for r in lakehouse.read(BRONZE, c.tables.bronze)
                           .select("_batch_id").distinct().collect()}) if stale
                   else pending_batches(lakehouse, CONSUMER, c.tables.bronze)) for s, c in present.items()}
    if stale and lakehouse.exists(SILVER, HISTORY):
        raise PopulationError(
            f"silver.{PERSON} has an older shape but silver.{HISTORY} exists: the two disagree. Fix: delete "
            f"{lakehouse.path(SILVER, PERSON)} and {lakehouse.path(SILVER, HISTORY)} and run again (both are "
            "rebuilt from bronze)")
    if not any(pending.values()):
        log.info("silver.%s: no pending batches of %s: nothing to do", PERSON, ", ".join(present))
        return PopulationResult(sources, table_unchanged(lakehouse, PERSON), table_unchanged(lakehouse, HISTORY), 0)
    # the masters as this step reads them: each MERGE is refused if another run committed to its table since
    masters = {t: version_or_absent(lakehouse, SILVER, t) for t in (PERSON, HISTORY)}
    inputs = _Inputs(lakehouse, present, pending, masters)
    if latest is None:  # the list was not pending: standardized for the master only (read once, by `insurance`)
        latest = _latest_insurance_list(lakehouse, present, cache=False)
    insurance = _current_insurance(latest[1] if latest is not None else None)
    if insurance is not None:
        insurance = insurance.cache()
    # The first build (no silver.person, no register batch applied to it) recomputes every register person:
    # no table is cut to the touched ones first, and who is touched need not be asked.
    everyone = masters[PERSON] == ABSENT and not applied_batches(
        lakehouse, CONSUMER, present["household_register"].tables.bronze)
    wrong = _wrong_ids(inputs)

    def register_persons(rows: DataFrame) -> DataFrame:
        """Register rows of the persons recomputed: every one but a corrected ID on the first build."""
        if not everyone:
            return rows.join(persons, "id_number", "left_semi")
        return rows if wrong is None else rows.join(wrong, "id_number", "left_anti")

    if everyone:
        persons = register_persons(inputs.table("household_register").select("id_number"))
    else:
        touched = _touched(spark, lakehouse, inputs, insurance)
        if wrong is not None:
            touched = touched.join(wrong, "id_number", "left_anti")
        persons = inputs.table("household_register").select("id_number").join(touched, "id_number", "left_semi")
    persons = persons.cache()
    try:
        touched_count = persons.count()
        phases.done(f"touched persons ({touched_count})")
        history_rows = _history_rows(spark, lakehouse, inputs, persons, register_persons)
        history_merge = None
        if history_rows is not None:
            history_merge = lakehouse.merge(history_rows, SILVER, HISTORY, keys=["id_number", "valid_from"],
                                            read_version=masters[HISTORY])
        phases.done("history rows + MERGE")
        history = None
        if lakehouse.exists(SILVER, HISTORY):
            history = lakehouse.read(SILVER, HISTORY)
            if not everyone:
                history = history.join(persons, "id_number", "left_semi")
        rows = _person_rows(inputs, persons, register_persons, history, insurance, everyone=everyone)
        person_merge = _write_person(lakehouse, rows, masters[PERSON])
        phases.done("person rows + MERGE")
    finally:
        persons.unpersist()
        if insurance is not None:
            insurance.unpersist()
    # recorded last: a run that failed above left its batches pending, and the merges are idempotent
    applied = {present[source].tables.bronze: list(batch_ids) for source, batch_ids in pending.items() if batch_ids}
    mark_applied_batches(lakehouse, CONSUMER, applied, applied_at=applied_at)
    log.info("silver.%s: %d persons recomputed from %d pending batch(es)", PERSON, touched_count,
             sum(len(b) for b in applied.values()))
    history_change = (table_change(lakehouse, HISTORY, history_merge) if history_merge is not None
                      else table_unchanged(lakehouse, HISTORY))
    result = PopulationResult(sources, table_change(lakehouse, PERSON, person_merge), history_change, touched_count,
                              applied)
    phases.done("applied batches + counts")
    return result


def rehash_persons(lakehouse: Lakehouse) -> int:
    """Recompute `id_hash` of every silver.person row with the platform's current key (one overwrite commit):
    after a key rotation, or on a silver.person written before the column existed. Returns the new version."""
    current = lakehouse.read(SILVER, PERSON)
    rows = current.withColumn(ID_HASH, _id_hash(platform_key(lakehouse.root))(F.col("id_number")))
    version = lakehouse.write(rows.select(*[F.col(f.name).cast(f.dataType) for f in PERSON_SCHEMA.fields]),
                              SILVER, PERSON, mode="overwrite", personal_columns=DERIVED_PERSONAL, cluster_by=ID_HASH)
    log.info("silver.%s: id_hash recomputed with the current pseudonym key: version %d", PERSON, version)
    return version


def lookup_person(lakehouse: Lakehouse, id_number: str) -> DataFrame:
    """silver.person's row of one ID number (as delivered or standard), read through its keyed hash: the Delta
    log's statistics on `id_hash` prune every file that cannot hold it (an ID number has no statistics), the
    footers' every row group but one, and the row is read without a Spark job (`citydata.lakehouse.lookup`)."""
    return lookup(lakehouse, SILVER, PERSON, ID_HASH, id_number_hash(id_number, platform_key(lakehouse.root)))
