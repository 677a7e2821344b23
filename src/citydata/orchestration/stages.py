"""The stages of a day — ingest, gold, gate, release, export, portal — and `run_day`, which runs them in order.

Each stage is one function taking the platform's SparkSession (or only the lakehouse) and returning a
`StageResult`: a one-line summary, the seconds it took, and JSON-ready details (an Airflow XCom). The CLI
(`citydata run-day`), the demo, the tests and the Airflow tasks call these functions; `run_day` runs them
on ONE SparkSession. Every stage is idempotent: a rerun of a day with no new data writes no new Delta
version in silver or gold and publishes no new release. `publish_current` (release rollback) re-exports and
rebuilds the portal from an earlier release.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from citydata.config import Paths
from citydata.orchestration.plan import DayPlan, upstream_tables

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from citydata.ingest.runner import DayIngestResult, Progress
    from citydata.lakehouse import Lakehouse
    from citydata.release.gate import GateResult

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class StageResult:
    """What a stage did: a one-line summary, its duration and JSON-ready details."""

    stage: str
    summary: str
    seconds: float
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def dbt_target_dir(paths: Paths) -> Path:
    """Where dbt's target/ (compiled SQL, manifest, docs) and logs/ of the platform's builds go."""
    return paths.home / "data" / "dbt" / "target"


def latest_dbt_docs_dir(paths: Paths) -> Path:
    """The dbt docs of the latest build (released or not)."""
    return paths.home / "data" / "dbt-docs"


def release_dir(paths: Paths, release: int) -> Path:
    """The folder beside `release-NNNN.json` holding what belongs to that release (its dbt docs)."""
    return paths.releases / f"release-{int(release):04d}"


def table_versions(lakehouse: Lakehouse, layers: Iterable[str] | None = None) -> dict[str, int]:
    """`layer/table` -> current Delta version, for every table of the layers (all layers by default; read from
    the Delta logs)."""
    tables = lakehouse.tables(list(layers) if layers is not None else None)
    return {f"{layer}/{table}": lakehouse.version(layer, table) for layer, table in tables}


def changed_versions(before: Mapping[str, int], after: Mapping[str, int]) -> dict[str, int]:
    """Tables with a version they did not have before (new tables included)."""
    return {name: version for name, version in sorted(after.items()) if before.get(name) != version}


def _timed(stage: str, started: float, summary: str, details: dict[str, Any]) -> StageResult:
    seconds = round(time.monotonic() - started, 1)
    log.info("%s: %s (%.1f s)", stage, summary, seconds)
    return StageResult(stage, summary, seconds, details)


# --- ingest ------------------------------------------------------------------------------------------

def ingest_summary(result: DayIngestResult, changed: Mapping[str, int]) -> tuple[str, dict[str, Any]]:
    """The ingest stage's summary line and details from `ingest_day`'s result."""
    new = {s: r for s, r in result.landed.items() if r.delivered and not r.already_landed}
    landed = sum(r.landed for r in new.values())
    rejected = sum(r.rejected for r in new.values())
    silver_new = sorted(name for name in changed if name.startswith("silver/"))
    parts = [f"{len(new)} new deliveries: {landed:,} rows landed, {rejected:,} rejected"]
    if result.refused:
        parts.append(f"{len(result.refused)} refused whole ({', '.join(sorted(result.refused))})")
    parts.append(f"silver: {len(result.silver)} steps, {len(silver_new)} new table versions")
    if result.created_empty:
        parts.append(f"{len(result.created_empty)} empty tables created")
    if result.unknown_files:
        parts.append(f"{len(result.unknown_files)} files no contract reads (UNKNOWN_FILE, left in the folder): "
                     f"{', '.join(result.unknown_files)}")
    if result.encoding_notes:
        parts.append("encoding other than declared: " + ", ".join(f"{s} ({n})" for s, n in
                                                                   sorted(result.encoding_notes.items())))
    details = {
        "delivery_folder": str(result.delivery_folder),
        "landed": {s: {"delivered": r.delivered, "landed": r.landed, "rejected": r.rejected,
                       "rejects_by_reason": dict(r.rejects_by_reason), "new": s in new, "batch_id": r.batch_id}
                   for s, r in sorted(result.landed.items())},
        "refused": dict(sorted(result.refused.items())),
        "missing": sorted(result.missing),
        "silver_steps": {name: outcome["tables"] for name, outcome in result.silver.items()},
        "skipped_steps": list(result.skipped_steps),
        "created_empty": list(result.created_empty),
        "unknown_files": list(result.unknown_files),
        "encoding_notes": dict(sorted(result.encoding_notes.items())),
        "new_versions": dict(changed),
        "seconds": dict(result.seconds),
        "source_seconds": dict(result.source_seconds),
        "silver_seconds": {name: outcome.get("seconds") for name, outcome in result.silver.items()},
    }
    return "; ".join(parts), details


def ingest_stage(spark: SparkSession, lakehouse: Lakehouse, plan: DayPlan, *, api_url: str | None = None,
                 progress: Progress | None = None) -> StageResult:
    """Land every source of the day into bronze, run the silver steps whose inputs changed, and create
    every per-source silver table still missing (empty), so gold can read every source."""
    from citydata.ingest.runner import ingest_day

    started = time.monotonic()
    before = table_versions(lakehouse, ("bronze", "silver"))
    result = ingest_day(spark, lakehouse, plan.delivery_folder, api_url=api_url, progress=progress)
    summary, details = ingest_summary(result, changed_versions(before, table_versions(lakehouse, ("bronze", "silver"))))
    return _timed("ingest", started, summary, details)


# --- gold --------------------------------------------------------------------------------------------

def last_build_file(paths: Paths) -> Path:
    """What the last successful gold build was made from (its inputs, and the gold versions it left)."""
    return paths.home / "data" / "dbt" / "last_build.json"


def build_inputs(lakehouse: Lakehouse, plan: DayPlan) -> dict[str, Any]:
    """The inputs of a gold build: dbt vars, a fingerprint of the dbt project and the shipped reference data,
    silver's and gold's table versions."""
    from importlib import resources

    from citydata.orchestration.plan import files_fingerprint
    from citydata.transform.runner import default_project_dir

    reference = Path(str(resources.files("citydata.standards").joinpath("data")))
    return {"vars": plan.dbt_vars(), "project": files_fingerprint([default_project_dir(), reference]),
            "silver": table_versions(lakehouse, ("silver",)), "gold": table_versions(lakehouse, ("gold",))}


def gold_stage(spark: SparkSession, lakehouse: Lakehouse, plan: DayPlan, *, paths: Paths,
               docs: bool = True, force: bool = False) -> StageResult:
    """`dbt build` over every model of the project (models and their tests) at the day's dates, then the dbt
    docs. Unchanged models write nothing (the delta_table materialization), so a rerun adds no version; when
    nothing gold is built from changed since the last successful build (same silver versions, dbt project,
    reference data and dates, gold untouched), dbt is not run at all (`force` runs it anyway)."""
    import json

    from citydata.ingest.runner import ensure_silver_tables
    from citydata.orchestration.dbt_docs import generate_docs
    from citydata.orchestration.plan import build_is_current
    from citydata.transform import run_dbt

    started = time.monotonic()
    created = ensure_silver_tables(spark, lakehouse)  # an Airflow day may skip empty deliveries' silver steps
    inputs = build_inputs(lakehouse, plan)
    record = last_build_file(paths)
    previous = json.loads(record.read_text(encoding="utf-8")) if record.is_file() else None
    base = {"as_of": plan.as_of.isoformat(), "period_start": plan.period_start.isoformat(),
            "versions": inputs["gold"], "new_versions": {}, "created_empty": created}
    if not force and build_is_current(previous, inputs):
        docs_dir = latest_dbt_docs_dir(paths)
        summary = (f"unchanged: silver, the dbt project and the dates are those of the last build "
                   f"({len(inputs['gold'])} gold tables as they were; dbt not run)")
        return _timed("gold", started, summary, {
            **base, "rows": {name: lakehouse.count(*name.split("/")) for name in inputs["gold"]},
            "skipped": True, "models": 0, "tests": previous.get("tests", 0),
            "tests_passed": previous.get("tests_passed", 0), "warnings": [], "dbt_seconds": 0.0,
            "docs_seconds": 0.0, "target": str(dbt_target_dir(paths)),
            "docs": str(docs_dir) if docs_dir.is_dir() else None})

    record.unlink(missing_ok=True)  # a build that fails half-way leaves no record of a good one
    result = run_dbt(spark, lakehouse.root, "build", vars=plan.dbt_vars(), target_dir=dbt_target_dir(paths))
    after = table_versions(lakehouse, ("gold",))
    changed = changed_versions(inputs["gold"], after)
    models = [n for n in result.nodes if n.resource_type == "model"]
    tests = [n for n in result.nodes if n.resource_type == "test"]
    passed = sum(n.status == "pass" for n in tests)
    docs_started = time.monotonic()
    docs_dir = generate_docs(lakehouse, dbt_target_dir(paths), latest_dbt_docs_dir(paths)) if docs else None
    record.write_text(json.dumps({**inputs, "gold": after, "tests": len(tests), "tests_passed": passed},
                                 indent=1, sort_keys=True), encoding="utf-8")
    summary = (f"{len(models)} models, {len(changed)} new table versions ({len(after) - len(changed)} unchanged), "
               f"{passed}/{len(tests)} tests passed; as of {plan.as_of} (period from {plan.period_start})")
    details = {
        **base, "skipped": False, "models": len(models), "tests": len(tests), "tests_passed": passed,
        "warnings": [n.name for n in result.nodes if n.status == "warn"],
        "new_versions": changed, "versions": after,
        "rows": {name: lakehouse.count(*name.split("/")) for name in after},
        "dbt_seconds": round(result.elapsed_seconds, 1),
        "dbt_parse_seconds": round(result.parse_seconds, 1), "dbt_parse": result.parse,
        "dbt_phases": dict(result.phases),
        "model_seconds": {n.name: round(n.execution_time, 1) for n in models},
        # per node, as dbt timed it (threads overlap: the sums exceed the wall time)
        "node_seconds": {kind: round(sum(n.execution_time for n in result.nodes if n.resource_type == kind), 1)
                         for kind in ("model", "test")},
        "docs_seconds": round(time.monotonic() - docs_started, 1),
        "target": str(result.target_dir), "docs": str(docs_dir) if docs_dir else None,
    }
    return _timed("gold", started, summary, details)


# --- gate, release, export, portal -------------------------------------------------------------------

GATE_RUNS_KEPT = 20  # Data Docs of the latest gate runs kept under releases/gate-runs (a release keeps its own)


def gate_runs_dir(paths: Paths) -> Path:
    """Data Docs of each gate run (`<run>/index.html`), released or not: a failed gate's validation is here."""
    return paths.releases / "gate-runs"


def suites_fingerprint() -> str:
    """SHA-256 over what the gate validates with: the suites, the catalog items and the reference data."""
    from importlib import resources

    from citydata.catalog.items import ITEMS_DIR
    from citydata.orchestration.plan import files_fingerprint
    from citydata.release.gate import default_expectations_dir

    reference = Path(str(resources.files("citydata.standards").joinpath("data")))
    return files_fingerprint([default_expectations_dir(), ITEMS_DIR, reference])


def _validated_before(lakehouse: Lakehouse, names: list[str], fingerprint: str, current: Any,
                      paths: Paths) -> GateResult | None:
    """The current release's validation, when it validated exactly these datasets at their current versions
    with the same suites: validating again would say the same (a rerun of a day that changed nothing)."""
    from citydata.release.gate import GateResult

    if current is None or current.content.get("gate", {}).get("suites") != fingerprint:
        return None
    pins = current.content["datasets"]
    keys = {name: "/".join(_layer_table(name)) for name in names}
    if set(keys.values()) != set(pins):
        return None
    if any(not lakehouse.exists(*_layer_table(n)) or lakehouse.version(*_layer_table(n)) != pins[k]["delta_version"]
           for n, k in keys.items()):
        return None
    results = {}
    for name, key in keys.items():
        validation = pins[key].get("validation", {})
        results[name] = {"success": True, "delta_version": pins[key]["delta_version"], "failed_expectations": [],
                         "statistics": {k: validation.get(k) for k in
                                        ("evaluated_expectations", "successful_expectations")},
                         "suite": validation.get("suite", "")}
    return GateResult(success=True, results=results, data_docs=release_dir(paths, current.number) / "data-docs",
                      run_name=f"validated by release {current.number}")


def gate_stage(spark: SparkSession, lakehouse: Lakehouse, *, paths: Paths, plan: DayPlan | None = None,
               datasets: Iterable[str] | None = None) -> tuple[StageResult, GateResult]:
    """Run the release gate over every dataset of the catalog (each catalog item's table, with its suite), with
    drift measured against the current release. When the current release validated exactly these versions with
    the same suites, nothing is validated again. Returns the stage result and the GateResult; the caller decides
    what a failure stops (`run_day` raises GateFailed, naming each failed expectation and masked sample rows,
    before anything is published). `plan` gives the suites the day's dates (`as_of`, `period_start`)."""
    from datetime import UTC, datetime

    from citydata.release.gate import run_gate, suite_datasets
    from citydata.release.manifest import current_release, gate_summary

    started = time.monotonic()
    names = list(datasets) if datasets is not None else suite_datasets()
    fingerprint = suites_fingerprint()
    current = current_release(paths.releases)
    result = _validated_before(lakehouse, names, fingerprint, current, paths)
    skipped = result is not None
    if result is None:
        previous = ({name: pin["delta_version"] for name, pin in current.content["datasets"].items()}
                    if current is not None else None)
        docs = gate_runs_dir(paths) / f"{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}"
        result = run_gate(spark, lakehouse, names, data_docs_dir=docs, previous_versions=previous,
                          as_of=plan.as_of if plan else None, period_start=plan.period_start if plan else None)
        _prune_gate_runs(paths)
    summary_dict = {**gate_summary(result), "suites": fingerprint}
    failed = {n: d["failed_expectations"] for n, d in summary_dict["datasets"].items() if not d["success"]}
    evaluated = sum(d.get("evaluated_expectations") or 0 for d in summary_dict["datasets"].values())
    if skipped:
        summary = f"unchanged: {len(names)} datasets at the versions release {current.number} validated"
    else:
        summary = (f"{'passed' if result.success else 'FAILED'}: {len(names)} datasets, {evaluated} expectations"
                   + (f"; failed: {failed}" if failed else ""))
    versions = {n: d["delta_version"] for n, d in summary_dict["datasets"].items()}
    if skipped:
        # The release pinned these very versions with their row counts: no need to count them again.
        rows = {n: current.content["datasets"]["/".join(_layer_table(n))]["rows"] for n in versions}
    else:
        rows = {n: lakehouse.count(*_layer_table(n), version=v) for n, v in versions.items()}
    details = {**summary_dict, "data_docs": str(result.data_docs / "index.html"), "versions": versions,
               "rows": rows}
    if not skipped:
        details.update({"dataset_seconds": {n: r.get("seconds") for n, r in result.results.items()},
                        "validate_seconds": result.phases.get("validate"),
                        "data_docs_seconds": result.phases.get("data_docs")})
    return _timed("gate", started, summary, details), result


def _prune_gate_runs(paths: Paths) -> None:
    import shutil

    runs = sorted(p for p in gate_runs_dir(paths).iterdir() if p.is_dir()) if gate_runs_dir(paths).is_dir() else []
    for old in runs[:-GATE_RUNS_KEPT]:
        shutil.rmtree(old, ignore_errors=True)


def _layer_table(dataset: str) -> tuple[str, str]:
    layer, _, table = dataset.rpartition("/")
    return layer or "gold", table


def release_stage(lakehouse: Lakehouse, plan: DayPlan, gate: Any, *, paths: Paths) -> StageResult:
    """Publish a numbered release manifest pinning the gated versions with each dataset's catalog item and
    validation summary (only if the gate passed and something changed: else the current release stands) with
    the day's dates and the silver tables gold read; keep the gate's Data Docs and the build's dbt docs beside it
    (`release-NNNN/data-docs/`, `release-NNNN/dbt-docs/`). The new release becomes current."""
    import json
    import shutil

    from citydata.orchestration.dbt_docs import copy_site
    from citydata.release.manifest import gate_summary, publish_release

    started = time.monotonic()
    summary_dict = gate_summary(gate)
    datasets = sorted(summary_dict["datasets"])
    dbt_manifest = dbt_target_dir(paths) / "manifest.json"
    inputs: list[str] = []
    if dbt_manifest.is_file():
        inputs = upstream_tables(json.loads(dbt_manifest.read_text(encoding="utf-8")),
                                 [name.rpartition("/")[2] for name in datasets])
    else:
        log.warning("no dbt manifest at %s: the release records no input tables", dbt_manifest)
    release = publish_release(lakehouse, datasets, summary_dict, paths.releases, inputs=inputs,
                              as_of=plan.as_of, period_start=plan.period_start)
    folder = release_dir(paths, release.number)
    docs, data_docs = folder / "dbt-docs", folder / "data-docs"
    latest_docs = latest_dbt_docs_dir(paths)
    if latest_docs.is_dir() and (release.new or not docs.is_dir()):
        copy_site(latest_docs, docs)
    gate_docs = _gate_docs(gate)
    if release.new and gate_docs is not None and gate_docs.is_dir() and gate_docs != data_docs:
        shutil.rmtree(data_docs, ignore_errors=True)
        shutil.copytree(gate_docs, data_docs)
    pins = {name: pin["delta_version"] for name, pin in release.content["datasets"].items()}
    summary = (f"release {release.number}" + ("" if release.new else " unchanged: nothing new to publish")
               + f" ({len(pins)} datasets pinned, {len(inputs)} input tables)")
    details = {"release": release.number, "new": release.new, "manifest": str(release.path),
               "released_at": release.content["released_at"], "datasets": pins,
               "rows": {name: pin["rows"] for name, pin in release.content["datasets"].items()},
               "inputs": sorted(release.content.get("inputs", {})),
               "dbt_docs": str(docs) if docs.is_dir() else None,
               "data_docs": str(data_docs / "index.html") if data_docs.is_dir() else None}
    return _timed("release", started, summary, details)


def _gate_docs(gate: Any) -> Path | None:
    """The Data Docs folder of a gate run: from the gate stage's details (`data_docs`: its index.html) or a
    GateResult."""
    if isinstance(gate, Mapping):
        return Path(gate["data_docs"]).parent if gate.get("data_docs") else None
    return Path(gate.data_docs) if getattr(gate, "data_docs", None) else None


def first_released(paths: Paths) -> dict[str, str]:
    """Catalog item name -> `released_at` of the first release that had it (DCAT's dct:issued)."""
    from citydata.release.history import releases

    issued: dict[str, str] = {}
    for release in releases(paths.releases):
        for pin in release.content["datasets"].values():
            name = pin.get("catalog_item", {}).get("dataset")
            if name:
                issued.setdefault(name, release.content["released_at"])
    return issued


def export_stage(lakehouse: Lakehouse, manifest_path: str | Path | None = None, *, paths: Paths) -> StageResult:
    """Export the open data of the current release (or of the release at `manifest_path`): every catalog item
    that is 无条件开放, read at its pinned version, as CSV, JSON and Parquet with the DCAT catalog and the CKAN
    API documents; a release exported before is not exported again."""
    import json

    from citydata.export.release import export_release, is_exported, load_release_export, release_export_dir
    from citydata.release.manifest import current_release

    started = time.monotonic()
    if manifest_path is None:
        current = current_release(paths.releases)
        if current is None:
            raise FileNotFoundError(f"no release in {paths.releases} to export: run the gate and release first")
        manifest = current.content
    else:
        manifest = json.loads(Path(manifest_path).read_text(encoding="utf-8"))
    out = release_export_dir(paths.exports, manifest["release"])
    if is_exported(manifest, paths.exports):
        done = load_release_export(out).as_dict()
        summary = f"{len(done['datasets'])} datasets of release {manifest['release']} exported before: unchanged"
    else:
        done = export_release(lakehouse, manifest, paths.exports, issued=first_released(paths)).as_dict()
        summary = (f"{len(done['datasets'])} open datasets x 3 formats, "
                   f"{sum(d['rows'] for d in done['datasets'].values()):,} rows, "
                   f"{sum(d['suppressed_cells'] for d in done['datasets'].values())} cells suppressed")
    return _timed("export", started, summary, {"dir": str(out), "release": manifest["release"], **done})


def portal_stage(paths: Paths) -> StageResult:
    """Build the open-data portal (a static site) from the current release's export."""
    from citydata.portal import build_portal

    started = time.monotonic()
    built = build_portal(paths)
    summary = f"release {built.release}: {built.pages} pages in {built.site}"
    return _timed("portal", started, summary, {"site": str(built.site), "release": built.release,
                                               "pages": built.pages})


def publish_current(paths: Paths, *, rollback_to: int | None = None) -> dict[str, Any]:
    """Make release `rollback_to` current (after checking its pinned versions still read back), export it if it
    never was (the only step that starts Spark), and rebuild the portal from it. What `citydata release rollback
    N` runs."""
    from citydata.export.release import is_exported
    from citydata.release.history import rollback
    from citydata.release.manifest import current_number, current_release

    previous = current_number(paths.releases)
    release = rollback(paths.releases, rollback_to) if rollback_to is not None else current_release(paths.releases)
    if release is None:
        raise FileNotFoundError(f"no release in {paths.releases}")
    if is_exported(release.content, paths.exports):
        export = "exported before"
    else:
        from citydata.lakehouse import Lakehouse, get_spark

        export = export_stage(Lakehouse(get_spark(), paths.lakehouse), paths=paths).summary
    portal = portal_stage(paths)
    return {"release": release.number, "previous": previous, "export": export, "portal": portal.details["site"]}


# --- a whole day -------------------------------------------------------------------------------------

OnStage = Callable[[str, "StageResult | None"], None]  # (stage, None when it starts / its result when done)


@dataclass
class DayResult:
    """Every stage's result of one day, in order."""

    plan: DayPlan
    stages: dict[str, StageResult] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        return round(sum(s.seconds for s in self.stages.values()), 1)


def run_day(spark: SparkSession, lakehouse: Lakehouse, plan: DayPlan, *, paths: Paths, api_url: str | None = None,
            on_stage: OnStage | None = None, progress: Progress | None = None) -> DayResult:
    """Run ingest -> gold -> gate -> release -> export -> portal on one SparkSession. A failed gate raises
    GateFailed after its stage is reported: nothing is released, exported or rebuilt."""
    result = DayResult(plan)

    def stage(name: str, run: Callable[[], StageResult]) -> StageResult:
        if on_stage:
            on_stage(name, None)
        done = run()
        result.stages[name] = done
        if on_stage:
            on_stage(name, done)
        return done

    stage("ingest", lambda: ingest_stage(spark, lakehouse, plan, api_url=api_url, progress=progress))
    stage("gold", lambda: gold_stage(spark, lakehouse, plan, paths=paths))
    gate: dict[str, Any] = {}

    def run_gate_stage() -> StageResult:
        done, gate["result"] = gate_stage(spark, lakehouse, paths=paths, plan=plan)
        return done

    stage("gate", run_gate_stage)
    gate["result"].raise_for_failure()
    # The gate stage's details, not the GateResult: what the Airflow release task receives too (one path).
    stage("release", lambda: release_stage(lakehouse, plan, result.stages["gate"].details, paths=paths))
    stage("export", lambda: export_stage(lakehouse, paths=paths))
    stage("portal", lambda: portal_stage(paths))
    return result


def plan_day(day_folder: str | Path, *, paths: Paths, as_of: Any = None) -> DayPlan:
    """Resolve the day's dates (its manifest.json, else `as_of` or today, the period from the releases)."""
    from citydata.orchestration.plan import resolve_day
    from citydata.release.manifest import release_as_ofs

    return resolve_day(day_folder, as_of=as_of, release_as_ofs=release_as_ofs(paths.releases))
