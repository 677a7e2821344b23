"""Access classes: what each audience sees of every lakehouse column, decided by the classifications of
the contracts (bronze, rejects and silver tables of a source), of the catalog items (released gold marts)
and, for tables the platform derives itself, of `DERIVED` below (docs/security.md).

Analysts (the SQL endpoint and `citydata sql`) see `public` and `internal` columns as stored, `sensitive`
columns masked by the standards' rule of the field (`citydata.standards.masking`) and `core` columns not
at all; a column nobody classified is hidden too, except the platform's technical columns (`_batch_id`,
`_file`, … : names starting with `_`). Privileged engineers (`--privileged`) see every column as stored.
Must not: read table data (Spark applies these rules: `citydata.sql.views`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from citydata.catalog.contracts import Classification, SourceContract, load_contracts
from citydata.catalog.items import CatalogItem, released_items

PUBLIC, INTERNAL, SENSITIVE, CORE = (Classification.PUBLIC, Classification.INTERNAL, Classification.SENSITIVE,
                                     Classification.CORE)
# Lineage and bookkeeping columns the platform adds (_source, _file, _row_number, _batch_id, _ingested_at,
# _encoding, _content_hash, _updated_at): they describe deliveries and runs, never a person.
TECHNICAL_PREFIX = "_"
# A rejects table quotes the delivered values only through citydata.ingest.validate.quote, which masks
# sensitive values and blanks core ones before they are written: analysts may read these as stored.
REJECTS_COLUMNS = ("reason_code", "reason_detail", "raw_masked")


class Audience(StrEnum):
    """Who is reading: what the SQL endpoint's views show depends on it."""

    ANALYST = "analyst"  # the SQL endpoint and `citydata sql`: sensitive masked, core hidden
    PRIVILEGED = "privileged"  # `--privileged`: every column as stored (logged as such)


class Shown(StrEnum):
    """What a view does with a column."""

    AS_STORED = "as stored"
    MASKED = "masked"
    HIDDEN = "hidden"


@dataclass(frozen=True)
class ColumnClass:
    """A column's classification and, for a sensitive one, the mask it leaves with (None: fully masked)."""

    classification: Classification
    mask: str | None = None


@dataclass(frozen=True)
class ColumnAccess:
    """What an audience sees of one column of a table, and why."""

    column: str
    shown: Shown
    classification: Classification | None  # None: nobody classified it (technical, or hidden)
    mask: str = ""  # the kind of citydata.standards.masking.mask_value when shown masked

    @property
    def technical(self) -> bool:
        return self.classification is None and self.column.startswith(TECHNICAL_PREFIX)


@dataclass(frozen=True)
class DerivedTable:
    """A table the platform derives itself: columns named like a field of the `based_on` contract take
    that field's class; `columns` classifies the others (and overrides an inherited class)."""

    columns: Mapping[str, ColumnClass]
    based_on: str | None = None


def _classes(classification: Classification, *columns: str, mask: str | None = None) -> dict[str, ColumnClass]:
    return dict.fromkeys(columns, ColumnClass(classification, mask))


_DEATH_DATE = ColumnClass(SENSITIVE, "birth_date")  # deaths.death_date: year only
_AS_OF = _classes(PUBLIC, "as_of_date")

#: Tables written by the platform's own steps (not one contract's bronze/rejects/silver, nor a released mart).
DERIVED: dict[tuple[str, str], DerivedTable] = {
    # the population master (citydata.ingest.population): one row per citizen, every population source merged
    ("silver", "person"): DerivedTable(based_on="household_register", columns={
        **_classes(INTERNAL, "status", "marital_status", "employer_credit_code", "insured", "birth_certificate_no",
                   "death_certificate_no", "in_civil_affairs", "in_health", "in_social_insurance"),
        "died_on": _DEATH_DATE, "death_certified_on": _DEATH_DATE,
        # the keyed hash of the ID number (citydata.standards.pseudonym): analysts join a person across tables
        # on it; without the platform's key it says nothing about the number
        **_classes(INTERNAL, "id_hash"),
    }),
    ("silver", "person_history"): DerivedTable(based_on="household_register", columns=_classes(
        INTERNAL, "valid_from", "valid_to", "is_current", "status", "change_reason")),
    # build_silver's standardized rows before the master steps add coordinates, codes or the credit code
    ("silver", "poi_source"): DerivedTable(based_on="internet_poi", columns={}),
    ("silver", "poi"): DerivedTable(based_on="internet_poi", columns=_classes(
        PUBLIC, "longitude", "latitude", "source_coord_system", "district_code", "street_code", "is_open")),
    ("silver", "tax_payment_source"): DerivedTable(based_on="tax_payments", columns={}),
    ("silver", "tax_payment"): DerivedTable(based_on="tax_payments", columns=_classes(PUBLIC, "credit_code")),
    # the legal entity master (citydata.ingest.legal_entity)
    ("silver", "legal_entity"): DerivedTable(based_on="legal_entities", columns={
        **_classes(PUBLIC, "industry_section", "district_code", "street_code", "org_code"),
        **_classes(INTERNAL, "source"),
    }),
    ("silver", "legal_entity_status_history"): DerivedTable(columns={
        **_classes(PUBLIC, "credit_code"),
        **_classes(INTERNAL, "valid_from", "valid_to", "is_current", "status", "change_reason"),
    }),
    # which batches each silver step applied (citydata.ingest.batches)
    ("silver", "applied_batches"): DerivedTable(columns=_classes(
        INTERNAL, "consumer", "bronze_table", "batch_id", "applied_at")),
    # deliveries refused whole (citydata.ingest.refused): the refusal's message quotes no personal value
    ("bronze", "refused_files"): DerivedTable(columns=_classes(
        INTERNAL, "source", "day", "file", "reason_code", "message", "size_bytes", "sha256", "recorded_at")),
    # gold marts that are not released (citydata.catalog.items.NOT_RELEASED): internal, like their reason says
    ("gold", "credit_repair"): DerivedTable(columns={
        **_classes(INTERNAL, "decision_no", "credit_code", "subject_name", "subject_category", "violation_type",
                   "penalty_category", "decided_on", "left_publicity_on", "subject_penalties_in_publicity"),
        **_AS_OF,
    }),
    ("gold", "dim_legal_entity_status_history"): DerivedTable(columns={
        **_classes(PUBLIC, "credit_code"),
        **_classes(INTERNAL, "valid_from", "valid_to", "is_current", "status", "change_reason"),
        **_AS_OF,
    }),
}
#: Columns a silver step adds to any source's table (citydata.ingest.silver.LISTED).
ADDED_BY_SILVER: dict[str, ColumnClass] = _classes(INTERNAL, "in_latest_list")


@dataclass(frozen=True)
class AccessRules:
    """Every lakehouse table's column classes, from the contracts, the catalog items and `DERIVED`."""

    tables: Mapping[tuple[str, str], Mapping[str, ColumnClass]] = field(default_factory=dict)

    @classmethod
    def load(cls, contracts: Iterable[SourceContract] | None = None,
             items: Iterable[CatalogItem] | None = None) -> AccessRules:
        """The rules of the shipped contracts and catalog items (or of the ones given)."""
        by_source = {c.source: c for c in (load_contracts().values() if contracts is None else contracts)}
        tables: dict[tuple[str, str], dict[str, ColumnClass]] = {}
        for contract in by_source.values():
            fields = _contract_classes(contract)
            tables[("bronze", contract.tables.bronze)] = dict(fields)
            tables[("bronze", contract.tables.rejects)] = _classes(INTERNAL, *REJECTS_COLUMNS)
            tables[("silver", contract.tables.silver)] = {**fields, **ADDED_BY_SILVER}
        for item in released_items() if items is None else items:
            layer, _, table = item.source_table.rpartition("/")
            tables[(layer or "gold", table)] = {
                f.name: ColumnClass(f.classification, f.mask) for f in item.fields}
        for key, derived in DERIVED.items():
            # without its source's contract a derived table keeps only its declared columns (the rest hidden)
            base = by_source.get(derived.based_on or "")
            inherited = _contract_classes(base) if base else {}
            tables[key] = {**tables.get(key, {}), **inherited, **ADDED_BY_SILVER, **derived.columns}
        return cls(tables)

    def classes(self, layer: str, table: str) -> Mapping[str, ColumnClass]:
        """column -> class of a table ({} for a table nobody classified)."""
        return self.tables.get((layer, table), {})

    def columns(self, layer: str, table: str, columns: Sequence[str],
                audience: Audience = Audience.ANALYST) -> list[ColumnAccess]:
        """What `audience` sees of each of the table's `columns`, in their order."""
        classes = self.classes(layer, table)
        return [_access(column, classes.get(column), audience) for column in columns]


def _contract_classes(contract: SourceContract) -> dict[str, ColumnClass]:
    return {f.name: ColumnClass(f.classification, f.mask) for f in contract.fields}


def _access(column: str, known: ColumnClass | None, audience: Audience) -> ColumnAccess:
    classification = known.classification if known else None
    if audience is Audience.PRIVILEGED:
        return ColumnAccess(column, Shown.AS_STORED, classification)
    if known is None:
        technical = column.startswith(TECHNICAL_PREFIX)
        return ColumnAccess(column, Shown.AS_STORED if technical else Shown.HIDDEN, None)
    if classification in (PUBLIC, INTERNAL):
        return ColumnAccess(column, Shown.AS_STORED, classification)
    if classification is SENSITIVE:
        return ColumnAccess(column, Shown.MASKED, classification, known.mask or "full")
    return ColumnAccess(column, Shown.HIDDEN, classification)
