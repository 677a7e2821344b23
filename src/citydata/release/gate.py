"""The release gate: Great Expectations suites from `expectations/` run on the released gold tables.

Every released dataset (one catalog item per table, `citydata.catalog.items`) has a generated suite,
`expectations/generated/<table>.json` (`citydata.release.suites`: schema, key, dbt tests, standards
codes, drift), and may have hand-written rules in `expectations/<table>.json` (reconciliations with
silver and between marts); the gate merges them. It reads the exact Delta version it validates
(recorded in the result, so the manifest can pin it), fills the suites' `$PARAMETER`s from
`citydata.standards` and, for drift, from the previous release's pinned version (time travel), and
writes Data Docs (counts only) under the releases folder. A failed expectation carries up to 5 sample
rows that break it, masked by the catalog item (public as is, sensitive masked, anything else
withheld). It changes no data and publishes nothing: a failed gate is a `GateResult(success=False)`,
and `raise_for_failure()` names every failing expectation.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from citydata.config import Paths

if TYPE_CHECKING:  # imported for type hints only: the release DAG lists the datasets while parsing
    from pyspark.sql import DataFrame, SparkSession

    from citydata.catalog.items import CatalogItem

log = logging.getLogger(__name__)

DEFAULT_LAYER = "gold"
GENERATED = "generated"
# No values: gold holds personal information (identity numbers, names), and neither the GX result nor
# the Data Docs may quote it (STANDARDS.md, personal information). BOOLEAN_ONLY also spares GX one Spark
# job per column expectation (the unexpected-value lists it would collect for SUMMARY: measured, the
# gate at 500 residents took about twice as long); the unexpected count, observed value and masked
# sample rows of a *failed* expectation are computed by the gate itself.
RESULT_FORMAT = {"result_format": "BOOLEAN_ONLY"}
SAMPLE_ROWS = 5
WITHHELD = "<withheld>"
BATCH_VIEW = "gate_batch"  # the dataset under validation, for sample queries (GX uses `tmp_view`)
DATE_PLACEHOLDERS = ("as_of", "period_start")  # `$as_of` in a hand-written query: a date literal
_VIEW_IN_QUERY = re.compile(r"\b(?:from|join)\s+((?:landing|bronze|silver|gold)_[a-z0-9_]+)\b", re.IGNORECASE)


class GateError(RuntimeError):
    """The gate could not run: a missing or invalid suite, a missing table."""


class GateFailed(RuntimeError):
    """The gate ran and at least one expectation failed; the message names each one with masked samples."""

    def __init__(self, result: GateResult) -> None:
        self.result = result
        lines = ["release gate FAILED: nothing may be published"]
        for dataset, outcome in result.results.items():
            for failed in outcome["failed_expectations"]:
                lines.append(f"  - {dataset}: {failed['expectation']}: {failed['description']}"
                             + (f" ({failed['unexpected_count']} unexpected)"
                                if failed.get("unexpected_count") else "")
                             + (f" [{failed['exception']}]" if failed.get("exception") else ""))
                for row in failed.get("sample_rows") or ():
                    lines.append("      sample (masked): " + json.dumps(row, ensure_ascii=False))
        lines.append(f"Data Docs: {result.data_docs / 'index.html'}")
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class GateResult:
    """`results[dataset]`: success, statistics, failed_expectations, delta_version, suite, drift, skipped."""

    success: bool
    results: dict[str, dict[str, Any]]
    data_docs: Path
    run_name: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)  # seconds: validate (every dataset), data_docs

    def failed_expectations(self, dataset: str) -> list[str]:
        """Names (`type(column)`) of the expectations that failed on `dataset`."""
        return [f["expectation"] for f in self.results[dataset]["failed_expectations"]]

    def raise_for_failure(self) -> None:
        if not self.success:
            raise GateFailed(self)


def default_expectations_dir() -> Path:
    """`expectations/` of this checkout: $CITYDATA_HOME/expectations, else beside `src/`."""
    home = os.environ.get("CITYDATA_HOME")
    if home and (Path(home) / "expectations").is_dir():
        return (Path(home) / "expectations").resolve()
    return (Path(__file__).resolve().parents[3] / "expectations").resolve()


def default_data_docs_dir() -> Path:
    return Paths.from_env().releases / "data-docs"


SUITE_SUFFIXES = (".json", ".yml", ".yaml")


def suite_datasets(items_dir: Path | None = None) -> list[str]:
    """The released datasets: the tables of the catalog items (sorted). Reads only the items' YAML and
    imports no Spark: the DAG factory calls it while parsing."""
    from citydata.catalog.items import released_items

    return sorted(item.table for item in released_items(items_dir))


def suite_parameters() -> dict[str, Any]:
    """Values the suites reference as `{"$PARAMETER": name}`, derived from citydata.standards."""
    from citydata.standards.divisions import load_divisions
    from citydata.standards.industry import load_industries

    table = load_divisions()
    industries = load_industries()
    districts = sorted({r.code for r in table.rows if r.level == "district"})
    return {
        # every version: a resident may still carry the code of a merged district
        "city_district_codes": districts,
        "city_street_codes": sorted({r.code for r in table.rows if r.level == "street"}),
        "city_division_codes": sorted({table.city_code, *districts}),
        "industry_sections": sorted(industries.sections),
        "industry_divisions": sorted(industries.divisions),
    }


def _read_suite_file(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix == ".json":
            spec = json.loads(text)
        else:
            import yaml

            spec = yaml.safe_load(text)
    except ValueError as exc:
        raise GateError(f"{path}: not a valid suite file ({exc})") from exc
    if not isinstance(spec, dict) or not isinstance(spec.get("expectations"), list):
        raise GateError(f"{path}: a suite needs an 'expectations' list")
    return spec


def load_suite_spec(dataset: str, expectations_dir: Path) -> dict[str, Any]:
    """The suite of `dataset`: `generated/<table>.json` (from the catalog item and dbt YAML) followed by
    the hand-written `<table>.json` (or .yml), either of which may be absent but not both."""
    parts = []
    for folder in (expectations_dir / GENERATED, expectations_dir):
        for suffix in SUITE_SUFFIXES:
            path = folder / f"{dataset}{suffix}"
            if path.is_file():
                parts.append((path, _read_suite_file(path)))
                break
    if not parts:
        raise GateError(
            f"no expectation suite for dataset {dataset!r} in {expectations_dir}: give it a catalog item and "
            f"run `python -m citydata.release.suites --write` (see docs/gold-and-gate.md)")
    expectations = [e for _, spec in parts for e in spec["expectations"]]
    if not expectations:
        raise GateError(f"{', '.join(str(p) for p, _ in parts)}: the suite of {dataset!r} has no expectation")
    return {"name": dataset, "meta": {k: v for _, spec in parts for k, v in (spec.get("meta") or {}).items()},
            "expectations": expectations, "_path": ", ".join(str(p) for p, _ in parts)}


def run_gate(
    spark: SparkSession,
    lakehouse: Any,
    datasets: Iterable[str],
    *,
    expectations_dir: Path | None = None,
    data_docs_dir: Path | None = None,
    previous_versions: Mapping[str, int] | None = None,
    as_of: date | str | None = None,
    period_start: date | str | None = None,
) -> GateResult:
    """Validate each dataset (`table` in gold, or `layer/table`) against its suite.

    `lakehouse` is a citydata.lakehouse.Lakehouse on `spark`. `previous_versions` maps
    `"gold/<table>"` to the previous release's pinned Delta version: drift is checked against it, and
    omitted (said so in `results[dataset]["drift"]`) for a dataset without one. `as_of` and
    `period_start` fill `$as_of`/`$period_start` in hand-written queries (omitted, and said so, when
    not given). Returns a GateResult; it does not raise on failing expectations (call
    `raise_for_failure()`), only when the gate cannot run.
    """
    import great_expectations as gx
    from great_expectations.core.run_identifier import RunIdentifier

    started = time.monotonic()
    names = list(datasets)
    if not names:
        raise GateError("run_gate needs at least one dataset")
    suites_dir = Path(expectations_dir or default_expectations_dir())
    docs_dir = Path(data_docs_dir or default_data_docs_dir()).resolve()
    docs_dir.mkdir(parents=True, exist_ok=True)
    specs = {name: load_suite_spec(_table_of(name)[1], suites_dir) for name in names}
    parameters = suite_parameters()
    dates = {"as_of": _date_literal(as_of), "period_start": _date_literal(period_start)}
    previous = {_dataset_key(k): int(v) for k, v in (previous_versions or {}).items()}
    now = datetime.now(UTC)
    run_name = f"release-gate-{now:%Y%m%dT%H%M%SZ}"
    run_id = RunIdentifier(run_name=run_name, run_time=now)

    context = _context(docs_dir)
    source = context.data_sources.add_spark(name="lakehouse")
    registered: set[str] = set()
    items = _items()
    prepared: list[_Dataset] = []
    try:
        # every dataset's version, suite, drift bounds, views and DataFrame (cached for its suite), one after the other
        for name in names:
            prepared.append(_prepare(gx, context, source, lakehouse, name, specs[name], dates, previous, registered,
                                     parameters))
        # then GX validates them, several at a time (a dataset's run is mostly the latency of a few small Spark jobs);
        # each failed expectation gets its counts and masked samples
        _validate_all(spark, prepared, items, run_id)
    finally:
        for one in prepared:
            one.df.unpersist()
    results: dict[str, dict[str, Any]] = {}
    columns: dict[str, list[str]] = {}  # suite name -> the columns of the validated table (for Data Docs)
    for one in prepared:
        columns[specs[one.name]["name"]] = list(one.df.columns)
        results[one.name] = {
            "success": bool(one.result.success),
            "statistics": dict(one.result.statistics),
            "failed_expectations": one.failed,
            "delta_version": one.version,
            "suite": specs[one.name]["_path"],
            "drift": one.drift,
            "skipped": one.skipped,
            "seconds": round(one.seconds, 2),
        }
        log.log(logging.INFO if not one.failed else logging.WARNING,
                "gate: %s %s (%s)", one.name, "passed" if not one.failed else "FAILED",
                ", ".join(f["expectation"] for f in one.failed) or "all expectations met")

    docs_started = time.monotonic()
    _complete_for_data_docs(context, columns)
    context.build_data_docs(site_names=["release"])
    phases = {"validate": round(docs_started - started, 2), "data_docs": round(time.monotonic() - docs_started, 2)}
    success = all(r["success"] for r in results.values())
    seconds = round(time.monotonic() - started, 1)
    log.info("gate %s: %s in %.1f s; Data Docs in %s", run_name, "passed" if success else "FAILED", seconds,
             docs_dir)
    return GateResult(success=success, results=results, data_docs=docs_dir, run_name=run_name,
                      parameters=parameters, seconds=seconds, phases=phases)


@dataclass
class _Dataset:
    """One dataset of a gate run: what GX validates (its cached DataFrame at `version`) and, once run, its result."""

    name: str
    layer: str
    table: str
    version: int
    expectations: list[dict[str, Any]]
    skipped: list[str]
    drift: dict[str, Any]
    parameters: dict[str, Any]
    df: DataFrame
    validation: Any  # gx.ValidationDefinition
    result: Any = None  # its ExpectationSuiteValidationResult
    failed: list[dict[str, Any]] = field(default_factory=list)  # its failed expectations, with masked samples
    seconds: float = 0.0  # prepared and validated in

    @property
    def runs_queries(self) -> bool:
        """Whether its suite has unexpected-rows queries: GX runs them on a temporary view it always names
        `tmp_view`, so two such datasets must not be validated at the same time."""
        return any(e["type"] == "unexpected_rows_expectation" for e in self.expectations)


def _prepare(gx: Any, context: Any, source: Any, lakehouse: Any, name: str, spec: dict[str, Any],
             dates: dict[str, str | None], previous: dict[str, int], registered: set[str],
             parameters: dict[str, Any]) -> _Dataset:
    """The dataset's latest version, its suite with the dates filled and drift bounds (or drift left out), the
    views its queries read, its DataFrame (cached for the suite) and its GX validation definition."""
    started = time.monotonic()
    layer, table = _table_of(name)
    if not lakehouse.exists(layer, table):
        raise GateError(f"dataset {name!r}: no Delta table at {lakehouse.path(layer, table)} "
                        "(build it first: citydata.transform.run_dbt)")
    version = lakehouse.version(layer, table)
    expectations, skipped = _fill_queries(spec["expectations"], dates)
    previous_version = previous.get(f"{layer}/{table}")
    drift_parameters, drift = _drift(lakehouse, layer, table, version, previous_version, expectations)
    if not drift["checked"]:
        expectations = [e for e in expectations if not _is_drift(e)]
    _register_views(lakehouse, expectations, registered, name)
    suite = context.suites.add(_suite(gx, {**spec, "expectations": expectations}))
    asset = source.add_dataframe_asset(name=name.replace("/", "__"))
    batch = asset.add_batch_definition_whole_dataframe("whole_table")
    validation = context.validation_definitions.add(
        gx.ValidationDefinition(name=f"{name}__release", data=batch, suite=suite))
    df = lakehouse.read(layer, table, version=version).cache()
    log.info("gate: validating %s (Delta version %d) with %d expectations from %s",
             name, version, len(suite.expectations), spec["_path"])
    return _Dataset(name, layer, table, version, expectations, skipped, drift, {**parameters, **drift_parameters},
                    df, validation, seconds=time.monotonic() - started)


def _validate_all(spark: SparkSession, datasets: list[_Dataset], items: dict[str, CatalogItem], run_id: Any) -> None:
    """GX's validation of every dataset, `CITYDATA_GATE_THREADS` (default 2) at a time, each followed by its failed
    expectations' counts and masked samples (one dataset at a time: they use the view `gate_batch`). The datasets
    whose suites run unexpected-rows queries go one after the other in one lane (GX's view `tmp_view`)."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    samples = threading.Lock()

    def validate(one: _Dataset) -> None:
        started = time.monotonic()
        one.result = one.validation.run(batch_parameters={"dataframe": one.df},
                                        expectation_parameters=one.parameters,
                                        result_format=RESULT_FORMAT, run_id=run_id)
        with samples:
            one.failed = _failures(spark, one, items.get(f"{one.layer}/{one.table}"))
        one.df.unpersist()
        one.seconds += time.monotonic() - started

    def lane(queue: list[_Dataset]) -> None:
        for one in queue:
            validate(one)

    threads = max(1, int(os.environ.get("CITYDATA_GATE_THREADS", "2")))
    if threads > 1:
        warm_parameter_parser()
    lanes: list[list[_Dataset]] = [[d for d in datasets if d.runs_queries]] + [[] for _ in range(threads - 1)]
    for one in (d for d in datasets if not d.runs_queries):
        min(lanes[1:] or lanes, key=len).append(one)
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="citydata-gate") as pool:
        for done in [pool.submit(lane, queue) for queue in lanes if queue]:
            done.result()


def warm_parameter_parser() -> None:
    """Have GX parse one `$PARAMETER` in this thread before validations run in several.

    GX evaluates every `$PARAMETER` with ONE module-level pyparsing grammar (great_expectations.core.
    suite_parameters.EXPR). pyparsing learns how many arguments each parse action takes by trial calls the first
    time it runs them (`_trim_arity`), which is not thread-safe: two lanes validating their first parameters at
    once failed a day-2 gate with `TypeError: SuiteParameterParser.push_first() missing 1 required positional
    argument: 'toks'` (2,000 residents, load ~10). Once learned, the arity holds for the process, and a lone name
    (all the suites use) is answered from its own parse result, not the grammar's shared stack."""
    from great_expectations.core.suite_parameters import parse_suite_parameter

    parse_suite_parameter("gate_warm_up", {"gate_warm_up": 0})


def _failures(spark: SparkSession, one: _Dataset, item: CatalogItem | None) -> list[dict[str, Any]]:
    """The dataset's failed expectations in its suite's order, each with its counts and masked samples."""
    # in the suite's order (GX returns results in its own order)
    position = {(e["type"], e.get("description") or ""): i for i, e in enumerate(one.expectations)}
    broken = sorted((r for r in one.result.results if not r.success),
                    key=lambda r: position.get((r.expectation_config.type,
                                                r.expectation_config.description or ""), len(position)))
    if not broken:
        return []
    if item is None:
        log.warning("gate: %s has no catalog item: sample values of its failures are withheld", one.name)
    one.df.createOrReplaceTempView(BATCH_VIEW)
    public_columns = _public_columns(one.expectations)
    return [_failure(spark, one.df, r, one.parameters, item, public_columns) for r in broken]


def _complete_for_data_docs(context: Any, columns: dict[str, list[str]]) -> None:
    """Give each stored `expect_table_columns_to_match_ordered_list` result its observed column list.

    BOOLEAN_ONLY results carry no `result`, and GX's validation page renderer reads that expectation's
    `observed_value` to order its sections (KeyError otherwise, and the page is not written). Column
    names are not personal values."""
    store = context.validation_results_store
    for key in store.list_keys():
        stored = store.get(key)
        suite = key.expectation_suite_identifier.name
        for evr in stored.results:
            if (evr.expectation_config.type == "expect_table_columns_to_match_ordered_list"
                    and "observed_value" not in (evr.result or {})):
                evr.result = {"observed_value": columns.get(suite, [])}
        store.set(key, stored)


def _table_of(dataset: str) -> tuple[str, str]:
    layer, _, table = dataset.rpartition("/")
    return (layer or DEFAULT_LAYER), table


def _dataset_key(dataset: str) -> str:
    layer, table = _table_of(dataset)
    return f"{layer}/{table}"


def _items() -> dict[str, CatalogItem]:
    """The released catalog items by source table: they decide how sample values are shown."""
    from citydata.catalog.items import released_items

    return {item.source_table: item for item in released_items()}


def _date_literal(value: date | str | None) -> str | None:
    if value is None:
        return None
    day = value if isinstance(value, date) else date.fromisoformat(str(value))
    return f"date'{day.isoformat()}'"


def _fill_queries(expectations: list[dict[str, Any]],
                  dates: dict[str, str | None]) -> tuple[list[dict[str, Any]], list[str]]:
    """Copies of the expectations with `$as_of`/`$period_start` filled; those needing a date the gate was
    not given are left out and named in the returned notes."""
    kept, skipped = [], []
    for expectation in expectations:
        query = (expectation.get("kwargs") or {}).get("unexpected_rows_query")
        if query is None:
            kept.append(expectation)
            continue
        missing = [n for n in DATE_PLACEHOLDERS if f"${n}" in query and dates[n] is None]
        if missing:
            skipped.append(f"{expectation.get('description') or expectation['type']}: skipped, "
                           f"run_gate was given no {' or '.join(missing)}")
            continue
        for placeholder in DATE_PLACEHOLDERS:
            if dates[placeholder] is not None:
                query = query.replace(f"${placeholder}", dates[placeholder])
        kept.append({**expectation, "kwargs": {**expectation["kwargs"], "unexpected_rows_query": query}})
    return kept, skipped


def _is_drift(expectation: dict[str, Any]) -> bool:
    from citydata.release.suites import DRIFT_META

    return DRIFT_META in (expectation.get("meta") or {})


def _drift(lakehouse: Any, layer: str, table: str, version: int, previous_version: int | None,
           expectations: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """$PARAMETERs of the drift expectations (bounds around the previous release's row count and sums,
    read at its pinned version) and what the result says about drift."""
    from citydata.release.suites import DRIFT_META, drift_parameter

    bands = [(e.get("meta") or {})[DRIFT_META] for e in expectations if _is_drift(e)]
    if not bands:
        return {}, {"checked": False, "previous_version": previous_version, "note": "the suite has no drift rule"}
    if previous_version is None:
        return {}, {"checked": False, "previous_version": None,
                    "note": "no previous release: drift not checked"}
    if previous_version == version:
        return {}, {"checked": False, "previous_version": previous_version,
                    "note": "unchanged since the previous release (same Delta version): no drift"}
    if previous_version > version:
        raise GateError(f"{layer}/{table}: the previous release pins Delta version {previous_version}, newer than "
                        f"the table's latest {version}: the table was rewritten or restored; check the lakehouse")
    parameters: dict[str, Any] = {}
    columns = [b["column"] for b in bands if "column" in b]
    previous_sums: dict[str, Any] = {}
    if columns:
        from pyspark.sql import functions as F

        row = lakehouse.read(layer, table, version=previous_version).agg(
            *[F.sum(F.col(c)).alias(c) for c in columns]).first()
        previous_sums = {c: float(row[c] or 0) for c in columns}
    for band in bands:
        if "rows" in band:
            rows = lakehouse.count(layer, table, version=previous_version)
            parameters[drift_parameter("rows", "min")] = math.floor(rows * (1 - band["rows"]))
            parameters[drift_parameter("rows", "max")] = math.ceil(rows * (1 + band["rows"]))
        else:
            total, width = previous_sums[band["column"]], abs(previous_sums[band["column"]]) * band["band"]
            parameters[drift_parameter("sum", "min", band["column"])] = total - width
            parameters[drift_parameter("sum", "max", band["column"])] = total + width
    return parameters, {"checked": True, "previous_version": previous_version,
                        "note": f"against the previous release's Delta version {previous_version}"}


def _register_views(lakehouse: Any, expectations: list[dict[str, Any]], registered: set[str],
                    dataset: str) -> None:
    """Register the lakehouse views that hand-written queries read (`silver_person`, `gold_dim_resident`)."""
    for expectation in expectations:
        query = (expectation.get("kwargs") or {}).get("unexpected_rows_query") or ""
        for view in _VIEW_IN_QUERY.findall(query):
            view = view.lower()
            if view in registered:
                continue
            layer, _, table = view.partition("_")
            if not lakehouse.exists(layer, table):
                raise GateError(f"dataset {dataset!r}: expectation '{expectation.get('description')}' reads "
                                f"{view}, but there is no table {lakehouse.path(layer, table)}: build it, or "
                                "fix the query in expectations/")
            lakehouse.register_view(layer, table)
            registered.add(view)


def _context(docs_dir: Path) -> Any:
    """An in-memory GX context: suites come from `expectations/`, only Data Docs go to disk."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        analytics_enabled=False,  # closed network, and nothing of ours leaves the platform
        progress_bars=ProgressBarsConfig(globally=False),
        data_docs_sites={
            "release": {
                "class_name": "SiteBuilder",
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(docs_dir),
                },
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            }
        },
    )
    return gx.get_context(mode="ephemeral", project_config=config)


def _suite(gx: Any, spec: dict[str, Any]) -> Any:
    """ExpectationSuite from a suite spec; GX only logs an invalid expectation, so check the count."""
    expected = spec["expectations"]
    suite = gx.ExpectationSuite(name=spec["name"], expectations=expected, meta=spec.get("meta"))
    if len(suite.expectations) != len(expected):
        known = {e.expectation_type for e in suite.expectations}
        bad = [e.get("type") for e in expected if e.get("type") not in known]
        raise GateError(f"{spec['_path']}: invalid expectation(s) {bad}: "
                        "check the type and kwargs against Great Expectations 1.x")
    return suite


def _failure(spark: SparkSession, df: DataFrame, result: Any, parameters: dict[str, Any],
             item: CatalogItem | None, public_columns: set[str]) -> dict[str, Any]:
    """A failed expectation: its name (`type(column)`), description, unexpected count or observed value,
    and up to SAMPLE_ROWS masked rows that break it."""
    config = result.expectation_config
    column = config.kwargs.get("column")
    columns = config.kwargs.get("column_list") if config.type == "expect_compound_columns_to_be_unique" else None
    name = (f"{config.type}({column})" if column else
            f"{config.type}({', '.join(columns)})" if columns else config.type)
    exception = None
    if result.exception_info and result.exception_info.get("raised_exception"):
        exception = result.exception_info.get("exception_message")
    unexpected, observed, samples, rows = None, None, [], None
    if exception is None:
        kwargs = {k: _resolve(v, parameters) for k, v in config.kwargs.items()}
        rows = _breaking_rows(spark, df, config.type, kwargs)
        if rows is not None:
            rows = rows.cache()
            try:
                unexpected = rows.count()
                samples = [mask_row(r.asDict(), item, public_columns) for r in rows.limit(SAMPLE_ROWS).collect()]
            finally:
                rows.unpersist()
        else:
            observed = _observed(df, config.type, kwargs)
    return {
        "expectation": name,
        "type": config.type,
        "column": column,
        "description": config.description or "",
        "unexpected_count": unexpected,
        "observed_value": observed if rows is None else unexpected,
        "exception": exception,
        "sample_rows": samples,
    }


def _breaking_rows(spark: SparkSession, df: DataFrame, kind: str, kwargs: dict[str, Any]) -> DataFrame | None:
    """The rows of the dataset that break a row-level expectation (Spark filters); None for table-level ones."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    if kind in ("expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique"):
        columns = [kwargs["column"]] if "column" in kwargs else list(kwargs["column_list"])
        candidates = df.where(F.col(columns[0]).isNotNull()) if len(columns) == 1 else df
        return (candidates.withColumn("_gate_n", F.count(F.lit(1)).over(Window.partitionBy(*columns)))
                .where("_gate_n > 1").drop("_gate_n").orderBy(*columns))
    if kind == "expect_column_values_to_not_be_null":
        return df.where(F.col(kwargs["column"]).isNull())
    if kind == "expect_column_values_to_be_in_set":
        column = F.col(kwargs["column"])
        return df.where(column.isNotNull() & ~column.isin(list(kwargs.get("value_set") or [])))
    if kind == "expect_column_values_to_be_between":
        column, low, high = F.col(kwargs["column"]), kwargs.get("min_value"), kwargs.get("max_value")
        condition = F.lit(False)
        if low is not None:
            condition = condition | (column < F.lit(low))
        if high is not None:
            condition = condition | (column > F.lit(high))
        return df.where(column.isNotNull() & condition)
    if kind == "expect_column_values_to_match_regex":
        column = F.col(kwargs["column"])
        return df.where(column.isNotNull() & ~column.rlike(kwargs["regex"]))
    if kind == "unexpected_rows_expectation":
        return spark.sql(kwargs["unexpected_rows_query"].format(batch=BATCH_VIEW))
    return None


def _observed(df: DataFrame, kind: str, kwargs: dict[str, Any]) -> Any:
    """What a failed table-level expectation saw (a count, a sum, the columns: no personal value)."""
    from pyspark.sql import functions as F

    if kind == "expect_table_row_count_to_be_between":
        return df.count()
    if kind == "expect_column_sum_to_be_between":
        return _plain(df.agg(F.sum(F.col(kwargs["column"]))).first()[0])
    if kind in ("expect_table_columns_to_match_ordered_list", "expect_table_columns_to_match_set"):
        return list(df.columns)
    return None


def _public_columns(expectations: list[dict[str, Any]]) -> set[str]:
    """Computed columns hand-written queries declare public (`meta.public_columns`: counts, sums)."""
    return {c for e in expectations for c in (e.get("meta") or {}).get("public_columns") or ()}


def _resolve(value: Any, parameters: dict[str, Any]) -> Any:
    if isinstance(value, dict) and "$PARAMETER" in value:
        return parameters.get(value["$PARAMETER"])
    return value


def mask_row(row: Mapping[str, Any], item: CatalogItem | None, public_columns: Iterable[str] = ()) -> dict[str, Any]:
    """A sample row as it may be shown: public fields as is, sensitive ones masked (citydata.standards.masking),
    internal/core/undeclared withheld. `public_columns`: computed columns (counts) a query declares public;
    a column that is a field of the item keeps the field's classification."""
    from citydata.catalog.contracts import Classification
    from citydata.standards.masking import mask_value

    public = set(public_columns)
    shown: dict[str, Any] = {}
    for column, value in row.items():
        declared = item.field(column) if item is not None else None
        if declared is None:
            shown[column] = _plain(value) if column in public else WITHHELD
        elif declared.classification is Classification.PUBLIC:
            shown[column] = _plain(value)
        elif declared.classification is Classification.SENSITIVE and declared.mask:
            shown[column] = mask_value(declared.mask, value)
        else:
            shown[column] = WITHHELD
    return shown


def _plain(value: Any) -> Any:
    """JSON-friendly values (observed values describe the table; sample values are masked before this)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return str(value)
