"""The stages of a day — ingest, gold, gate, release, export — and `run_day`, which runs them in order.

Each stage is one function taking the platform's SparkSession (or only the lakehouse) and returning a
`StageResult`: a one-line summary, the seconds it took, and JSON-ready details (an Airflow XCom). The CLI
(`citydata run-day`), the demo, the tests and the Airflow tasks call these functions; `run_day` runs them
on ONE SparkSession. Every stage is idempotent: a rerun of a day with no new data writes no new Delta
version in silver or gold and publishes no new release.
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
        "new_versions": dict(changed),
        "seconds": dict(result.seconds),
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
            "versions": inputs["gold"], "new_versions": {}, "created_empty": created,
            "rows": {name: lakehouse.count(*name.split("/")) for name in inputs["gold"]}}
    if not force and build_is_current(previous, inputs):
        docs_dir = latest_dbt_docs_dir(paths)
        summary = (f"unchanged: silver, the dbt project and the dates are those of the last build "
                   f"({len(inputs['gold'])} gold tables as they were; dbt not run)")
        return _timed("gold", started, summary, {
            **base, "skipped": True, "models": 0, "tests": previous.get("tests", 0),
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
    docs_dir = generate_docs(spark, lakehouse, plan.dbt_vars(), dbt_target_dir(paths),
                             latest_dbt_docs_dir(paths)) if docs else None
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
        "docs_seconds": round(time.monotonic() - docs_started, 1),
        "target": str(result.target_dir), "docs": str(docs_dir) if docs_dir else None,
    }
    return _timed("gold", started, summary, details)


# --- gate, release, export ---------------------------------------------------------------------------

def gate_stage(spark: SparkSession, lakehouse: Lakehouse, *, paths: Paths,
               datasets: Iterable[str] | None = None) -> tuple[StageResult, GateResult]:
    """Run the release gate over every released dataset (every gold table with a suite in expectations/).
    Returns the stage result and the GateResult; the caller decides what a failure stops (`run_day` raises
    GateFailed, naming each failed expectation, before anything is published)."""
    from citydata.release.gate import run_gate, suite_datasets
    from citydata.release.manifest import gate_summary

    started = time.monotonic()
    names = list(datasets) if datasets is not None else suite_datasets()
    result = run_gate(spark, lakehouse, names, data_docs_dir=paths.releases / "data-docs")
    summary_dict = gate_summary(result)
    failed = {n: d["failed_expectations"] for n, d in summary_dict["datasets"].items() if not d["success"]}
    evaluated = sum(d.get("evaluated_expectations") or 0 for d in summary_dict["datasets"].values())
    summary = (f"{'passed' if result.success else 'FAILED'}: {len(names)} datasets, {evaluated} expectations"
               + (f"; failed: {failed}" if failed else ""))
    versions = {n: d["delta_version"] for n, d in summary_dict["datasets"].items()}
    details = {**summary_dict, "data_docs": str(result.data_docs / "index.html"), "versions": versions,
               "rows": {n: lakehouse.count(*_layer_table(n), version=v) for n, v in versions.items()}}
    return _timed("gate", started, summary, details), result


def _layer_table(dataset: str) -> tuple[str, str]:
    layer, _, table = dataset.rpartition("/")
    return layer or "gold", table


def release_stage(lakehouse: Lakehouse, plan: DayPlan, gate: Any, *, paths: Paths) -> StageResult:
    """Publish a numbered release manifest pinning the gated versions (only if the gate passed and something
    changed: else the latest release stands) with the day's dates and the silver tables gold read; keep the
    build's dbt docs beside it (`release-NNNN/dbt-docs/`)."""
    import json

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
    docs = release_dir(paths, release.number) / "dbt-docs"
    latest_docs = latest_dbt_docs_dir(paths)
    if latest_docs.is_dir() and (release.new or not docs.is_dir()):
        copy_site(latest_docs, docs)
    pins = {name: pin["delta_version"] for name, pin in release.content["datasets"].items()}
    summary = (f"release {release.number}" + ("" if release.new else " unchanged: nothing new to publish")
               + f" ({len(pins)} datasets pinned, {len(inputs)} input tables)")
    details = {"release": release.number, "new": release.new, "manifest": str(release.path),
               "released_at": release.content["released_at"], "datasets": pins,
               "rows": {name: pin["rows"] for name, pin in release.content["datasets"].items()},
               "inputs": sorted(release.content.get("inputs", {})),
               "dbt_docs": str(docs) if docs.is_dir() else None}
    return _timed("release", started, summary, details)


def export_stage(lakehouse: Lakehouse, manifest_path: str | Path, *, paths: Paths) -> StageResult:
    """Export the open-data files of the release (every catalog item whose table it pins), read at the pinned
    versions; a release exported before is not exported again."""
    import json

    from citydata.export.release import export_release, is_exported, items_of_release, release_export_dir

    started = time.monotonic()
    manifest = json.loads(Path(manifest_path).read_text(encoding="utf-8"))
    out = release_export_dir(paths.exports, manifest["release"])
    items = items_of_release(manifest)
    if is_exported(manifest, paths.exports, items):
        files = {item.name: _exported(out, item.name) for item in items}
        summary = f"{len(files)} files of release {manifest['release']} exported before: unchanged"
    else:
        files = {r.dataset: {"csv": str(r.csv_path), "metadata": str(r.metadata_path), "rows": r.rows,
                             "bytes": r.byte_size, "sha256": r.sha256, "suppressed_cells": r.suppressed_cells}
                 for r in export_release(lakehouse, manifest, paths.exports, items)}
        summary = (f"{len(files)} files, {sum(f['rows'] for f in files.values()):,} rows, "
                   f"{sum(f['suppressed_cells'] for f in files.values())} cells suppressed")
    return _timed("export", started, summary, {"dir": str(out), "release": manifest["release"], "files": files})


def _exported(out: Path, name: str) -> dict[str, Any]:
    """What an earlier export wrote, from its metadata file."""
    import json

    meta = json.loads((out / f"{name}.metadata.json").read_text(encoding="utf-8"))
    dist = meta["distribution"]
    return {"csv": str(out / dist["file"]), "metadata": str(out / f"{name}.metadata.json"), "rows": dist["rows"],
            "bytes": dist["byte_size"], "sha256": dist["checksum"]["value"],
            "suppressed_cells": meta.get("suppressed_cells", 0)}


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
    """Run ingest -> gold -> gate -> release -> export on one SparkSession. A failed gate raises GateFailed
    after its stage is reported: nothing is released or exported."""
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
        done, gate["result"] = gate_stage(spark, lakehouse, paths=paths)
        return done

    stage("gate", run_gate_stage)
    gate["result"].raise_for_failure()
    released = stage("release", lambda: release_stage(lakehouse, plan, gate["result"], paths=paths))
    stage("export", lambda: export_stage(lakehouse, released.details["manifest"], paths=paths))
    return result


def plan_day(day_folder: str | Path, *, paths: Paths, as_of: Any = None) -> DayPlan:
    """Resolve the day's dates (its manifest.json, else `as_of` or today, the period from the releases)."""
    from citydata.orchestration.plan import resolve_day
    from citydata.release.manifest import release_as_ofs

    return resolve_day(day_folder, as_of=as_of, release_as_ofs=release_as_ofs(paths.releases))
