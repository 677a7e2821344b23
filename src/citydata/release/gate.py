"""The release gate: Great Expectations suites from `expectations/` run on the gold tables.

Each released dataset has one suite, `expectations/<dataset>.json`, versioned with the code. The
gate reads the exact Delta version it validates (recorded in the result, so the manifest can pin
it), fills the suites' `$PARAMETER`s from `citydata.standards` (the city's division codes: never
hand-copied into a suite) and writes Data Docs under the releases folder. It changes no data and
publishes nothing: a failed gate is a `GateResult(success=False)`, and `raise_for_failure()` names
every failing expectation.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from citydata.config import Paths

if TYPE_CHECKING:  # imported for type hints only: the release DAG lists the suites while parsing
    from pyspark.sql import SparkSession

log = logging.getLogger(__name__)

DEFAULT_LAYER = "gold"
# Counts only, never sample values: gold holds personal information (identity numbers, names), and
# neither the gate's result nor the Data Docs may quote it (STANDARDS.md, personal information).
RESULT_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": 0}


class GateError(RuntimeError):
    """The gate could not run: a missing or invalid suite, a missing table."""


class GateFailed(RuntimeError):
    """The gate ran and at least one expectation failed; the message names each one."""

    def __init__(self, result: GateResult) -> None:
        self.result = result
        lines = ["release gate FAILED: nothing may be published"]
        for dataset, outcome in result.results.items():
            for failed in outcome["failed_expectations"]:
                lines.append(f"  - {dataset}: {failed['expectation']}: {failed['description']}"
                             + (f" ({failed['unexpected_count']} unexpected)"
                                if failed.get("unexpected_count") else "")
                             + (f" [{failed['exception']}]" if failed.get("exception") else ""))
        lines.append(f"Data Docs: {result.data_docs / 'index.html'}")
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class GateResult:
    """`results[dataset]`: success, statistics, failed_expectations, delta_version, suite."""

    success: bool
    results: dict[str, dict[str, Any]]
    data_docs: Path
    run_name: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)

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


def suite_datasets(expectations_dir: Path | None = None) -> list[str]:
    """The datasets that have a suite in `expectations/` (file stems, sorted): what a release publishes.
    A suite's file name is its dataset (`<table>` in gold); reads no file content and imports no Spark."""
    folder = Path(expectations_dir or default_expectations_dir())
    if not folder.is_dir():
        return []
    return sorted({p.stem for p in folder.iterdir() if p.is_file() and p.suffix in SUITE_SUFFIXES})


def suite_parameters() -> dict[str, Any]:
    """Values the suites reference as `{"$PARAMETER": name}`, derived from citydata.standards."""
    from citydata.standards.divisions import load_divisions

    table = load_divisions()
    return {
        # every version: a resident may still carry the code of a merged district
        "city_district_codes": sorted({r.code for r in table.rows if r.level == "district"}),
        "city_street_codes": sorted({r.code for r in table.rows if r.level == "street"}),
    }


def load_suite_spec(dataset: str, expectations_dir: Path) -> dict[str, Any]:
    """The suite file of `dataset` as a dict (JSON; YAML when PyYAML reads a .yml/.yaml)."""
    for suffix in SUITE_SUFFIXES:
        path = expectations_dir / f"{dataset}{suffix}"
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            try:
                if suffix == ".json":
                    spec = json.loads(text)
                else:
                    import yaml

                    spec = yaml.safe_load(text)
            except ValueError as exc:
                raise GateError(f"{path}: not a valid suite file ({exc})") from exc
            if not isinstance(spec, dict) or not spec.get("expectations"):
                raise GateError(f"{path}: a suite needs a non-empty 'expectations' list")
            spec.setdefault("name", dataset)
            spec["_path"] = str(path)
            return spec
    raise GateError(
        f"no expectation suite for dataset {dataset!r} in {expectations_dir}: "
        f"add {expectations_dir / (dataset + '.json')} (see docs/gold-and-gate.md)"
    )


def run_gate(
    spark: SparkSession,
    lakehouse: Any,
    datasets: Iterable[str],
    *,
    expectations_dir: Path | None = None,
    data_docs_dir: Path | None = None,
) -> GateResult:
    """Validate each dataset (`table` in gold, or `layer/table`) against its suite.

    `lakehouse` is a citydata.lakehouse.Lakehouse on `spark`. Returns a GateResult; it does not
    raise on failing expectations (call `raise_for_failure()`), only when the gate cannot run.
    """
    import great_expectations as gx
    from great_expectations.checkpoint import UpdateDataDocsAction
    from great_expectations.core.run_identifier import RunIdentifier

    names = list(datasets)
    if not names:
        raise GateError("run_gate needs at least one dataset")
    suites_dir = Path(expectations_dir or default_expectations_dir())
    docs_dir = Path(data_docs_dir or default_data_docs_dir()).resolve()
    docs_dir.mkdir(parents=True, exist_ok=True)
    specs = {name: load_suite_spec(_table_of(name)[1], suites_dir) for name in names}
    parameters = suite_parameters()
    now = datetime.now(UTC)
    run_name = f"release-gate-{now:%Y%m%dT%H%M%SZ}"

    context = _context(docs_dir)
    source = context.data_sources.add_spark(name="lakehouse")
    results: dict[str, dict[str, Any]] = {}
    for name in names:
        layer, table = _table_of(name)
        if not lakehouse.exists(layer, table):
            raise GateError(f"dataset {name!r}: no Delta table at {lakehouse.path(layer, table)} "
                            "(build it first: citydata.transform.run_dbt)")
        version = lakehouse.version(layer, table)
        df = lakehouse.read(layer, table, version=version).cache()
        try:
            suite = _suite(gx, specs[name])
            suite = context.suites.add(suite)
            asset = source.add_dataframe_asset(name=name.replace("/", "__"))
            batch = asset.add_batch_definition_whole_dataframe("whole_table")
            validation = context.validation_definitions.add(
                gx.ValidationDefinition(name=f"{name}__release", data=batch, suite=suite)
            )
            checkpoint = context.checkpoints.add(gx.Checkpoint(
                name=f"{name}__release_gate",
                validation_definitions=[validation],
                actions=[UpdateDataDocsAction(name="data_docs", site_names=["release"])],
                result_format=RESULT_FORMAT,
            ))
            log.info("gate: validating %s (Delta version %d) with %d expectations from %s",
                     name, version, len(suite.expectations), specs[name]["_path"])
            outcome = checkpoint.run(
                batch_parameters={"dataframe": df},
                expectation_parameters=parameters,
                run_id=RunIdentifier(run_name=run_name, run_time=now),
            )
        finally:
            df.unpersist()
        validation_result = next(iter(outcome.run_results.values()))
        failed = [_failure(r) for r in validation_result.results if not r.success]
        results[name] = {
            "success": bool(validation_result.success),
            "statistics": dict(validation_result.statistics),
            "failed_expectations": failed,
            "delta_version": version,
            "suite": specs[name]["_path"],
        }
        log.log(logging.INFO if not failed else logging.WARNING,
                "gate: %s %s (%s)", name, "passed" if not failed else "FAILED",
                ", ".join(f["expectation"] for f in failed) or "all expectations met")

    success = all(r["success"] for r in results.values())
    log.info("gate %s: %s; Data Docs in %s", run_name, "passed" if success else "FAILED", docs_dir)
    return GateResult(success=success, results=results, data_docs=docs_dir, run_name=run_name,
                      parameters=parameters)


def _table_of(dataset: str) -> tuple[str, str]:
    layer, _, table = dataset.rpartition("/")
    return (layer or DEFAULT_LAYER), table


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
    """ExpectationSuite from a suite file; GX only logs an invalid expectation, so check the count."""
    expected = spec["expectations"]
    suite = gx.ExpectationSuite(name=spec["name"], expectations=expected, meta=spec.get("meta"))
    if len(suite.expectations) != len(expected):
        known = {e.expectation_type for e in suite.expectations}
        bad = [e.get("type") for e in expected if e.get("type") not in known]
        raise GateError(f"{spec['_path']}: invalid expectation(s) {bad}: "
                        "check the type and kwargs against Great Expectations 1.x")
    return suite


def _failure(result: Any) -> dict[str, Any]:
    config = result.expectation_config
    column = config.kwargs.get("column")
    name = f"{config.type}({column})" if column else config.type
    info = result.result or {}
    exception = None
    if result.exception_info and result.exception_info.get("raised_exception"):
        exception = result.exception_info.get("exception_message")
    return {
        "expectation": name,
        "type": config.type,
        "column": column,
        "description": config.description or "",
        "unexpected_count": info.get("unexpected_count"),
        "observed_value": _plain(info.get("observed_value")),
        "exception": exception,
    }


def _plain(value: Any) -> Any:
    """JSON-friendly observed values (they describe the table, not a person)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return str(value)
