"""What ingest DAG tasks and the CLI call: land one source, run one silver step, or ingest a whole day.

- `land_source` lands a source's delivery into bronze: a file source from a day's delivery folder
  (the contract's `delivery.path`), a `json_api` source over HTTP when an API URL is given, else from
  the pages in the delivery folder.
- `silver_steps()`: every silver step — one generic step per source without a
  master (`citydata.ingest.silver.build_silver`), plus each master builder in `MASTERS` (population,
  legal entities, POIs), which takes over its sources. Each source's bronze feeds exactly one step.
  Building the registry imports no Spark: the DAG files use it while parsing.
- `ingest_day` lands every source of a day, then runs every step whose inputs changed, then
  `ensure_silver_tables`: every contract's silver table exists afterwards, empty when nothing was ever
  landed for it (a 0-row delivery, or one refused whole), so gold can read every source.
Must not: validate or conform data itself (bronze, silver and the masters do) or hold Airflow code.
"""

from __future__ import annotations

import importlib
import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, is_dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from citydata.catalog.contracts import SourceContract, load_contract, load_contracts
from citydata.config import Paths
from citydata.ingest.delivery_day import DAY_FOLDER
from citydata.standards.encoding import ENCODINGS, encoding_note

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from citydata.ingest.bronze import LandingResult
    from citydata.lakehouse import Lakehouse

log = logging.getLogger(__name__)

BRONZE, SILVER = "bronze", "silver"
GENERIC_SILVER = "citydata.ingest.silver:build_silver"
UNKNOWN_FILE = "UNKNOWN_FILE"  # the reason code of a delivered file no contract reads


class DeliveryMissingError(FileNotFoundError):
    """A source has no delivery in the day's folder: nothing arrived today (not a defect of the data)."""


class SilverRegistryError(ValueError):
    """The masters and the contracts disagree (a source claimed twice, or unknown): the registry can't be built."""


@dataclass(frozen=True)
class Master:
    """A master-record builder that owns several sources; its module is imported only to run it.

    `sources` is a literal copy of the module's tuple `constant` (a unit test checks they are equal), so the
    registry is built without importing the module and its Spark dependencies (the DAG files build it while
    parsing). `tables` are the silver tables the master writes in its own shape; the other sources' silver
    tables are standardized by `build_silver` with their contracts. `empty` names the function giving the own
    tables `ensure_silver_tables` creates empty while missing (a source never delivered), with their columns.
    """

    name: str
    module: str
    function: str
    constant: str
    sources: tuple[str, ...]
    tables: tuple[str, ...] = ()
    empty: str = ""  # the module's function giving {own table: its columns} of the own tables it may leave empty


# Adding a master is one line here, with its module's constant copied as `sources`.
MASTERS: tuple[Master, ...] = (
    Master("population", "citydata.ingest.population", "build_population", "POPULATION_SOURCES",
           ("household_register", "household_register_changes", "marriages", "births", "deaths",
            "social_insurance_employment"),
           ("person", "person_history")),
    Master("legal_entity", "citydata.ingest.legal_entity", "build_legal_entities", "LEGAL_ENTITY_SOURCES",
           ("legal_entities", "social_organizations", "tax_payments"),
           ("legal_entity", "legal_entity_status_history", "tax_payment"), "empty_tables"),
    Master("poi", "citydata.ingest.geo_features", "build_pois", "POI_SOURCES", ("internet_poi",), ("poi",),
           "empty_tables"),
)


@dataclass(frozen=True)
class SilverStep:
    """One silver step: the bronze tables it reads, the silver tables it writes, what it calls."""

    name: str
    sources: tuple[str, ...]  # contract sources whose deliveries feed it
    inputs: tuple[str, ...]  # their bronze tables
    outputs: tuple[str, ...]  # silver tables it writes
    target: str  # "module:function"
    master: bool = False
    theme: str = ""
    own_tables: tuple[str, ...] = ()  # a master's tables in its own shape (not build_silver's)

    def run(self, spark: SparkSession, lakehouse: Lakehouse) -> Any:
        """Call the step: a master as `f(spark, lakehouse)`, a generic step as `f(spark, lakehouse, contract)`."""
        module, function = self.target.split(":")
        fn = getattr(importlib.import_module(module), function)
        if self.master:
            return fn(spark, lakehouse)
        return fn(spark, lakehouse, load_contract(self.sources[0]))


def silver_steps(contracts: Mapping[str, SourceContract] | None = None,
                 masters: tuple[Master, ...] | None = None) -> dict[str, SilverStep]:
    """Every silver step by name: the masters first, then one generic step per other source."""
    contracts = load_contracts() if contracts is None else contracts
    masters = MASTERS if masters is None else masters
    steps: dict[str, SilverStep] = {}
    owner: dict[str, str] = {}
    for master in masters:
        sources = master.sources
        for source in sources:
            if source not in contracts:
                raise SilverRegistryError(
                    f"the {master.name} master ({master.module}.{master.constant}) names {source!r}, which has "
                    f"no contract in schemas/. Fix: add schemas/{source}.yml or remove it from {master.constant} "
                    f"and from its entry in citydata.ingest.runner.MASTERS")
            if source in owner:
                raise SilverRegistryError(
                    f"source {source!r} is claimed by both the {owner[source]} and the {master.name} masters: "
                    f"each source's bronze feeds exactly one silver step. Fix: remove it from one of them")
            owner[source] = master.name
        if not sources:
            continue
        per_source = tuple(contracts[s].tables.silver for s in sources)
        themes = {contracts[s].theme for s in sources}
        steps[master.name] = SilverStep(
            master.name, tuple(sources), tuple(contracts[s].tables.bronze for s in sources),
            tuple(dict.fromkeys((*master.tables, *per_source))), f"{master.module}:{master.function}",
            master=True, theme=themes.pop() if len(themes) == 1 else "", own_tables=master.tables)
    for source, contract in sorted(contracts.items()):
        if source in owner:
            continue
        if source in steps:
            raise SilverRegistryError(f"source {source!r} has the name of a master step: rename the master")
        steps[source] = SilverStep(source, (source,), (contract.tables.bronze,), (contract.tables.silver,),
                                   GENERIC_SILVER, theme=contract.theme)
    return steps


def step_for_source(source: str, steps: Mapping[str, SilverStep] | None = None) -> SilverStep:
    """The silver step the source's bronze feeds."""
    for step in (silver_steps() if steps is None else steps).values():
        if source in step.sources:
            return step
    raise KeyError(f"no silver step reads source {source!r}: is schemas/{source}.yml there?")


# --- where deliveries are ----------------------------------------------------------------------------

def _day_folders(parent: Path) -> list[Path]:
    if not parent.is_dir():
        return []
    return sorted(p for p in parent.iterdir() if p.is_dir() and DAY_FOLDER.match(p.name))


def default_delivery_folder(paths: Paths | None = None) -> Path:
    """The newest day under CITYDATA_LANDING (`YYYY-MM-DD` or `day-NNN`), else the simulated city's newest
    day (`$CITYDATA_HOME/data/simulated/day-NNN`); a day folder with a `delivery/` inside means that."""
    paths = paths or Paths.from_env()
    simulated = paths.home / "data" / "simulated"
    for parent in (paths.landing, simulated):
        days = _day_folders(parent)
        if days:
            newest = days[-1]
            return newest / "delivery" if (newest / "delivery").is_dir() else newest
    raise DeliveryMissingError(
        f"no day folder under {paths.landing} or {simulated}. Fix: pass the delivery folder "
        f"(DAG param delivery_folder, or citydata ingest --day-folder), or simulate a day with citydata simulate")


def default_landing_dir(paths: Paths | None = None) -> Path:
    """Where API pages are fetched to: CITYDATA_LANDING/api (then `<source>/<run key>/` under it)."""
    return (paths or Paths.from_env()).landing / "api"


def run_key_of(run: str) -> str:
    """A fetch run key (a folder name) from an Airflow run id or any label: other characters become `_`."""
    key = re.sub(r"[^0-9A-Za-z._-]", "_", run).strip("_.-")
    return key or "run"


def day_key_of(delivery_folder: str | Path) -> str:
    """The run key API pages of a day are fetched under: the day folder's name (`day-002`, `2026-11-25`),
    so another day gets its own fetch and a rerun of the same day resumes or reuses it."""
    folder = Path(delivery_folder)
    return run_key_of(folder.parent.name if folder.name == "delivery" else folder.name)


def delivery_of(contract: SourceContract, delivery_folder: str | Path | None = None) -> Path:
    """The contract's delivery in a day's folder (default: `default_delivery_folder()`);
    DeliveryMissingError when nothing was delivered there."""
    from citydata.sources.connectors import delivery_path

    folder = Path(delivery_folder) if delivery_folder else default_delivery_folder()
    where = delivery_path(contract, folder)
    if not where.exists():
        raise DeliveryMissingError(f"{contract.source}: nothing delivered in {folder} "
                                   f"(expected {contract.delivery.path}): nothing to land")
    return where


def land_source(
    spark: SparkSession,
    lakehouse: Lakehouse,
    source: str | SourceContract,
    *,
    delivery_folder: str | Path | None = None,
    api_url: str | None = None,
    landing_dir: str | Path | None = None,
    page_size: int | None = None,
    run_key: str | None = None,
) -> LandingResult:
    """Land one source's delivery into bronze (and its rejects); a delivery landed before changes nothing.

    Over HTTP the pages are saved first under `<landing_dir>/<source>/<run_key>` (default CITYDATA_LANDING/api
    and today's UTC date): a rerun with the same run key resumes after the last saved page.
    Raises DeliveryMissingError when the day's folder holds no delivery of the source,
    DeliveryRejectedError when the delivery is refused whole (after recording the refused file in
    bronze.refused_files, citydata.ingest.refused), ApiFetchError when an API page keeps failing.
    """
    from citydata.ingest.bronze import DeliveryRejectedError, land_delivery
    from citydata.ingest.refused import RefusedFile, record_refused

    contract = source if isinstance(source, SourceContract) else load_contract(source)
    if api_url:
        if contract.delivery.format != "json_api":
            raise ValueError(f"{contract.source} is delivered as {contract.delivery.format}, not over an API: "
                             f"drop api_url and pass the delivery folder")
        from citydata.ingest.api_fetch import fetch_api

        where = fetch_api(contract, api_url, Path(landing_dir) if landing_dir else default_landing_dir(),
                          page_size=page_size, run_key=run_key)
        day = run_key or datetime.now(UTC).date().isoformat()  # fetch_api's default run key
    else:
        folder = Path(delivery_folder) if delivery_folder else default_delivery_folder()
        where = delivery_of(contract, folder)
        day = day_key_of(folder)
    log.info("%s: landing %s", contract.source, where)
    try:
        # a day-named folder or run key orders deliveries (silver); another label (a test folder, an Airflow
        # run id) says nothing of the day: land_delivery then looks for a day folder above the file
        return land_delivery(spark, lakehouse, contract, where, delivery_day=day if DAY_FOLDER.match(day) else None)
    except DeliveryRejectedError as error:
        record_refused(spark, lakehouse, [RefusedFile.of(contract.source, day, error.file, error.reason, str(error))])
        raise


# --- silver ------------------------------------------------------------------------------------------

def table_rows(lakehouse: Lakehouse, layer: str, table: str) -> int | None:
    """Rows of a table (from its Delta log's record counts: no scan); None if the table is absent."""
    return lakehouse.count(layer, table) if lakehouse.exists(layer, table) else None


def _summary(result: Any) -> dict[str, Any]:
    """A step's result as a JSON-ready dict (dataclasses by their fields, scalars only)."""
    raw = asdict(result) if is_dataclass(result) and not isinstance(result, type) else (
        dict(result) if isinstance(result, Mapping) else {})
    return {k: v for k, v in raw.items() if isinstance(v, (str, int, float, bool, type(None)))}


def run_silver_step(spark: SparkSession, lakehouse: Lakehouse, step: str | SilverStep) -> dict[str, Any]:
    """Run one silver step; returns its result's fields and the rows of each output table after it.
    A step that loses a commit race to a concurrent run is run again (citydata.ingest.concurrency)."""
    from citydata.ingest.concurrency import retry_on_conflict

    step = silver_steps()[step] if isinstance(step, str) else step
    started = time.monotonic()
    result = retry_on_conflict(lambda: step.run(spark, lakehouse), f"silver step {step.name}")
    return {"step": step.name, **_summary(result), "seconds": round(time.monotonic() - started, 1),
            "tables": {f"silver/{t}": table_rows(lakehouse, SILVER, t) for t in step.outputs}}


# --- a whole day -------------------------------------------------------------------------------------

@dataclass
class DayIngestResult:
    """What `ingest_day` did: per source its landing (or why not), per silver step its result."""

    delivery_folder: Path
    landed: dict[str, LandingResult] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)  # source -> the DeliveryRejectedError message
    missing: list[str] = field(default_factory=list)  # sources with nothing in the folder
    silver: dict[str, dict[str, Any]] = field(default_factory=dict)  # step -> run_silver_step's result
    skipped_steps: list[str] = field(default_factory=list)  # no input changed
    created_empty: list[str] = field(default_factory=list)  # silver tables created empty (nothing landed yet)
    unknown_files: list[str] = field(default_factory=list)  # files in the folder no contract reads (UNKNOWN_FILE)
    # source -> why its delivery's encoding is not the contract's (read anyway; the department should know)
    encoding_notes: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)  # "land", "silver"
    source_seconds: dict[str, float] = field(default_factory=dict)  # source -> seconds its landing took

    @property
    def changed_sources(self) -> list[str]:
        return sorted(s for s, r in self.landed.items() if r.delivered and not r.already_landed)


Progress = Callable[[str, str, Any], None]  # (stage "land"|"silver", name, result or None when starting)


def ingest_day(
    spark: SparkSession,
    lakehouse: Lakehouse,
    delivery_folder: str | Path,
    *,
    api_url: str | None = None,
    progress: Progress | None = None,
    all_steps: bool = False,
) -> DayIngestResult:
    """Land every source of a day, then run every silver step whose inputs changed (all with `all_steps`).

    A source refused whole (DeliveryRejectedError) or not delivered is reported, not fatal for the others;
    any other error (an API page that keeps failing, a silver step failing) stops the day.
    A step also runs when its main output table does not exist yet while some of its bronze does (first
    build, or a run that died between landing and silver).
    """
    from citydata.ingest.bronze import DeliveryRejectedError

    folder = Path(delivery_folder)
    day_key = day_key_of(folder)
    result = DayIngestResult(folder)
    contracts = load_contracts()
    started = time.monotonic()

    def land(source: str) -> tuple[Any, float]:
        contract = contracts[source]
        if progress:
            progress("land", source, None)
        api = api_url if api_url and contract.delivery.format == "json_api" else None
        source_started = time.monotonic()
        try:
            outcome: Any = land_source(spark, lakehouse, contract, delivery_folder=folder, api_url=api,
                                       run_key=day_key)
        except DeliveryRejectedError as error:
            log.warning("%s: %s", source, error)
            outcome = error
        except DeliveryMissingError as error:
            log.info("%s", error)
            outcome = error
        if progress:
            progress("land", source, outcome)
        return outcome, round(time.monotonic() - source_started, 2)

    for source in sorted(contracts):
        outcome, seconds = land(source)
        if isinstance(outcome, DeliveryRejectedError):
            result.refused[source] = str(outcome)
        elif isinstance(outcome, DeliveryMissingError):
            result.missing.append(source)
        else:
            result.landed[source] = outcome
            note = delivered_encoding_note(contracts[source], outcome.encoding)
            if note:
                result.encoding_notes[source] = note
        result.source_seconds[source] = seconds
    result.unknown_files = unknown_files(folder, contracts)
    for name in result.unknown_files:
        log.warning("%s: %s: no contract reads it (left in %s; add a contract or fix the name)", name, UNKNOWN_FILE,
                    folder)
    result.seconds["land"] = round(time.monotonic() - started, 1)

    started = time.monotonic()
    changed = set(result.changed_sources)
    for name, step in silver_steps(contracts).items():
        # its main table (a master's own, a generic step's only one) missing while some input landed
        first_build = any(lakehouse.exists(BRONZE, t) for t in step.inputs) and not lakehouse.exists(
            SILVER, step.outputs[0])
        if not (all_steps or first_build or changed.intersection(step.sources)):
            result.skipped_steps.append(name)
            continue
        if not any(lakehouse.exists(BRONZE, t) for t in step.inputs):
            result.skipped_steps.append(name)  # nothing ever landed for it
            continue
        if progress:
            progress("silver", name, None)
        result.silver[name] = run_silver_step(spark, lakehouse, step)
        if progress:
            progress("silver", name, result.silver[name])
    result.created_empty = ensure_silver_tables(spark, lakehouse, contracts)
    result.seconds["silver"] = round(time.monotonic() - started, 1)
    return result


def delivered_encoding_note(contract: SourceContract, detected: str) -> str | None:
    """Why a landed text delivery's detected encoding is not its contract's, else None (a workbook has none).
    Judged by the names alone: a header of the contract's Chinese column names is never ASCII."""
    if detected not in ENCODINGS:
        return None
    return encoding_note(contract.delivery.encoding, detected)


def unknown_files(delivery_folder: str | Path, contracts: Mapping[str, SourceContract] | None = None) -> list[str]:
    """Files of a day's delivery folder (relative paths, sorted) that no contract's `delivery.path` names or
    holds (an API page folder): a delivery under a wrong name would otherwise be left without a word.
    Hidden files (`.DS_Store`) are not deliveries and are not listed."""
    folder = Path(delivery_folder)
    contracts = load_contracts() if contracts is None else contracts
    read = [folder / c.delivery.path for c in contracts.values() if c.delivery.path]
    if not folder.is_dir():
        return []
    unread = []
    for path in folder.rglob("*"):
        relative = path.relative_to(folder)
        if path.is_file() and not any(part.startswith(".") for part in relative.parts) \
                and not any(path == where or where in path.parents for where in read):
            unread.append(str(relative))
    return sorted(unread)


def missing_silver_tables(lakehouse: Lakehouse, contracts: Mapping[str, SourceContract] | None = None,
                          steps: Mapping[str, SilverStep] | None = None) -> list[SourceContract]:
    """Contracts whose silver table does not exist and is standardized by `build_silver` (not a master's own
    table, e.g. silver.poi or silver.tax_payment, which only their master can shape)."""
    contracts = load_contracts() if contracts is None else contracts
    steps = silver_steps(contracts) if steps is None else steps
    own = {table for step in steps.values() for table in step.own_tables}
    return [c for _, c in sorted(contracts.items())
            if c.tables.silver not in own and not lakehouse.exists(SILVER, c.tables.silver)]


def ensure_silver_tables(spark: SparkSession, lakehouse: Lakehouse,
                         contracts: Mapping[str, SourceContract] | None = None,
                         masters: tuple[Master, ...] | None = None) -> list[str]:
    """Create each missing per-source silver table with `build_silver` (empty while its bronze holds no rows,
    with the contract's columns), and each missing own table a master can leave empty (`Master.empty`: silver.poi
    before any crawl, silver.tax_payment before any tax page) with the columns its step writes, so dbt finds every
    table it reads; returns the tables created. Tables that exist are not touched: a rerun writes no new version."""
    from pyspark.sql.pandas.types import to_arrow_schema

    from citydata.ingest.concurrency import create_unless_exists
    from citydata.ingest.silver import build_silver

    created = []
    for contract in missing_silver_tables(lakehouse, contracts):
        result = build_silver(spark, lakehouse, contract)
        log.info("silver.%s did not exist: created (%d rows, version %d)", result.table, result.rows, result.version)
        created.append(result.table)
    for master in MASTERS if masters is None else masters:
        if not master.empty or all(lakehouse.exists(SILVER, t) for t in master.tables):
            continue
        for table, schema in getattr(importlib.import_module(master.module), master.empty)().items():
            if lakehouse.exists(SILVER, table):
                continue
            # by the driver (no Spark job); not created here if another run created it meanwhile, which is as good
            if not create_unless_exists(lakehouse, to_arrow_schema(schema, timezone="UTC").empty_table(), SILVER,
                                        table):
                continue
            log.info("silver.%s did not exist (nothing delivered for the %s master yet): created empty", table,
                     master.name)
            created.append(table)
    return created
