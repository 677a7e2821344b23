"""The skeleton chain, one source end to end: land bronze -> silver -> dbt gold -> gate -> release -> export.

Each step is a function of a `ChainConfig` that returns a small JSON-ready dict, so the Airflow DAG
(`dags/skeleton_chain.py`) runs them as separate tasks (passing the dicts as XComs) and
`run_skeleton_chain` runs them in one process (the `citydata demo` command, the tests). Every step
is idempotent; a failed gate raises before anything is published. `airflow_env` prepares the
environment the DAG runs in, shared by tests and make targets.
Must not: hold data logic of its own (that lives in ingest, transform, release, export).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from citydata.config import Paths

log = logging.getLogger(__name__)

SOURCE = "household_register"
GOLD_DATASETS = ("dim_resident", "population_by_district")
EXPORT_ITEMS = ("population_by_district", "resident_extract")
STEPS = ("land_bronze", "build_silver", "build_gold", "gate", "release", "export")
DAG_ID = "skeleton_chain"
REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class ChainConfig:
    """Where the chain reads and writes, and what it runs on."""

    paths: Paths
    source: str = SOURCE
    delivery: Path | None = None  # default: the embedded sample delivery of the source
    as_of: date | None = None  # the date gold is computed at (dbt var as_of_date); default: today (UTC)

    @classmethod
    def from_env(cls, delivery: str | Path | None = None, as_of: str | date | None = None,
                 home: Path | None = None) -> "ChainConfig":
        return cls(
            paths=Paths.from_env(home),
            delivery=Path(delivery) if delivery else None,
            as_of=date.fromisoformat(as_of) if isinstance(as_of, str) and as_of else (as_of or None),
        )

    @property
    def delivery_path(self) -> Path:
        if self.delivery is not None:
            return self.delivery
        from citydata.sources.samples import sample_delivery

        return sample_delivery(self.source)

    @property
    def dbt_target(self) -> Path:
        return self.paths.home / "data" / "dbt" / "target"


def _session(config: ChainConfig) -> tuple[Any, Any]:
    from citydata.lakehouse import Lakehouse, get_spark

    spark = get_spark(app_name="citydata-chain")
    return spark, Lakehouse(spark, config.paths.lakehouse)


def land_bronze(config: ChainConfig) -> dict[str, Any]:
    """Land the delivery into bronze and its rejects table (no-op for an already landed file)."""
    from citydata.catalog.contracts import load_contract
    from citydata.ingest.bronze import land_delivery

    spark, lakehouse = _session(config)
    result = land_delivery(spark, lakehouse, load_contract(config.source), config.delivery_path)
    return {"batch_id": result.batch_id, "file": result.file, "encoding": result.encoding,
            "delivered": result.delivered, "landed": result.landed, "rejected": result.rejected,
            "rejects_by_reason": result.rejects_by_reason, "already_landed": result.already_landed,
            "bronze_version": result.bronze_version, "rejects_version": result.rejects_version}


def build_silver(config: ChainConfig) -> dict[str, Any]:
    """Conform bronze into silver (MERGE by key: a rerun changes nothing). A population source builds
    the population master silver/person (citydata.ingest.population); any other its per-source table."""
    from citydata.catalog.contracts import load_contract
    from citydata.ingest.population import POPULATION_SOURCES, build_population
    from citydata.ingest.silver import build_silver as conform

    spark, lakehouse = _session(config)
    if config.source in POPULATION_SOURCES:
        result = build_population(spark, lakehouse).person
        if result is None:
            raise RuntimeError(f"silver/person was not built: bronze holds no household register. Fix: land "
                               f"schemas/household_register.yml's delivery before {config.source}'s silver step")
    else:
        result = conform(spark, lakehouse, load_contract(config.source))
    return {"table": f"silver/{result.table}", "rows": result.rows, "inserted": result.inserted,
            "updated": result.updated, "unchanged": result.unchanged, "version": result.version}


def build_gold(config: ChainConfig) -> dict[str, Any]:
    """`dbt build` in this process on the platform's Spark session: gold models and their tests."""
    from citydata.transform import run_dbt

    spark, lakehouse = _session(config)
    as_of = config.as_of or datetime.now(timezone.utc).date()
    result = run_dbt(spark, config.paths.lakehouse, "build", vars={"as_of_date": as_of.isoformat()},
                     target_dir=config.dbt_target)
    return {"as_of": as_of.isoformat(), "nodes": len(result.nodes), "seconds": round(result.elapsed_seconds, 1),
            "versions": {name: lakehouse.version("gold", name) for name in GOLD_DATASETS}}


def gate(config: ChainConfig) -> dict[str, Any]:
    """Run the release gate on the gold datasets; raise GateFailed (nothing published) if it fails."""
    from citydata.release.gate import run_gate
    from citydata.release.manifest import gate_summary

    spark, lakehouse = _session(config)
    result = run_gate(spark, lakehouse, list(GOLD_DATASETS),
                      data_docs_dir=config.paths.releases / "data-docs")
    result.raise_for_failure()
    return {**gate_summary(result), "data_docs": str(result.data_docs / "index.html")}


def release(config: ChainConfig, gate_result: Mapping[str, Any]) -> dict[str, Any]:
    """Write the release manifest pinning the gated versions (no new release if nothing changed)."""
    from citydata.catalog.contracts import load_contract
    from citydata.release.manifest import publish_release

    _, lakehouse = _session(config)
    contract = load_contract(config.source)
    # gold reads the population master, not the register's per-source table
    inputs = [f"bronze/{contract.tables.bronze}", f"bronze/{contract.tables.rejects}", "silver/person"]
    published = publish_release(lakehouse, GOLD_DATASETS, gate_result, config.paths.releases, inputs=inputs)
    return {"release": published.number, "manifest": str(published.path), "new": published.new,
            "released_at": published.content["released_at"],
            "datasets": {name: pin["delta_version"] for name, pin in published.content["datasets"].items()}}


def export(config: ChainConfig, release_info: Mapping[str, Any]) -> dict[str, Any]:
    """Export the open datasets from gold at the versions the release pins, with catalog metadata."""
    import json

    from citydata.catalog.items import load_item
    from citydata.export import export_dataset
    from citydata.release.manifest import split_dataset

    _, lakehouse = _session(config)
    manifest = json.loads(Path(release_info["manifest"]).read_text(encoding="utf-8"))
    out_dir = config.paths.exports / f"release-{int(manifest['release']):04d}"
    published_at = datetime.fromisoformat(manifest["released_at"].replace("Z", "+00:00"))
    files: dict[str, Any] = {}
    for name in EXPORT_ITEMS:
        item = load_item(name)
        layer, table = split_dataset(item.source_table)
        pin = manifest["datasets"].get(f"{layer}/{table}")
        if pin is None:
            raise KeyError(f"catalog item {name} exports {item.source_table}, which release "
                           f"{manifest['release']} does not pin: add it to the gated datasets")
        df = lakehouse.read(layer, table, version=pin["delta_version"])
        result = export_dataset(df, item.fields, out_dir, item=item, published_at=published_at, provenance={
            "release": manifest["release"], "table": f"{layer}/{table}", "delta_version": pin["delta_version"]})
        files[name] = {"csv": str(result.csv_path), "metadata": str(result.metadata_path), "rows": result.rows,
                       "sha256": result.sha256, "bytes": result.byte_size,
                       "suppressed_cells": result.suppressed_cells}
    return {"dir": str(out_dir), "files": files}


@dataclass
class ChainResult:
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)


def run_skeleton_chain(
    paths: Paths | None = None,
    delivery: str | Path | None = None,
    as_of: date | None = None,
    on_step: Callable[[str, str, dict[str, Any] | None], None] | None = None,
) -> ChainResult:
    """Run every step in order in this process; `on_step(step, "start"|"done", result)` reports progress."""
    config = ChainConfig(paths=paths or Paths.from_env(), delivery=Path(delivery) if delivery else None,
                         as_of=as_of)
    result = ChainResult()
    plan: list[tuple[str, Callable[[], dict[str, Any]]]] = [
        ("land_bronze", lambda: land_bronze(config)),
        ("build_silver", lambda: build_silver(config)),
        ("build_gold", lambda: build_gold(config)),
        ("gate", lambda: gate(config)),
        ("release", lambda: release(config, result.steps["gate"])),
        ("export", lambda: export(config, result.steps["release"])),
    ]
    for name, step in plan:
        if on_step:
            on_step(name, "start", None)
        log.info("chain step %s", name)
        result.steps[name] = step()
        if on_step:
            on_step(name, "done", result.steps[name])
    return result


# --- Airflow -----------------------------------------------------------------------------------------

def dags_folder() -> Path:
    """The project's `dags/` folder."""
    return REPO / "dags"


def airflow_env(home: Path, airflow_home: Path | None = None,
                base: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for `airflow` commands on this project: project-local AIRFLOW_HOME and SQLite,
    the project's dags/, no examples, CITYDATA_HOME for the data, this interpreter for Spark."""
    env = dict(os.environ if base is None else base)
    airflow_home = Path(airflow_home or Path(home) / ".airflow").resolve()
    airflow_home.mkdir(parents=True, exist_ok=True)
    bin_dir = str(Path(sys.executable).parent)
    env.update({
        "AIRFLOW_HOME": str(airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder()),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{airflow_home / 'airflow.db'}",
        "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "120",
        "CITYDATA_HOME": str(Path(home).resolve()),
        "PYSPARK_PYTHON": sys.executable,
        "PYSPARK_DRIVER_PYTHON": sys.executable,
        "PATH": bin_dir + os.pathsep + env.get("PATH", ""),
    })
    return env


def airflow(args: list[str], env: Mapping[str, str], timeout: float = 900) -> subprocess.CompletedProcess[str]:
    """Run the `airflow` command of this interpreter's environment with `env`."""
    command = [str(Path(sys.executable).parent / "airflow"), *args]
    return subprocess.run(command, env=dict(env), capture_output=True, text=True, timeout=timeout, check=False)


def run_dag_test(env: Mapping[str, str], conf: Mapping[str, Any] | None = None,
                 timeout: float = 900) -> subprocess.CompletedProcess[str]:
    """`airflow db migrate` (once per AIRFLOW_HOME) then `airflow dags test skeleton_chain`."""
    import json

    if not (Path(env["AIRFLOW_HOME"]) / "airflow.db").exists():
        migrated = airflow(["db", "migrate"], env, timeout)
        if migrated.returncode != 0:
            raise RuntimeError(f"airflow db migrate failed ({migrated.returncode}):\n{migrated.stderr[-4000:]}")
    args = ["dags", "test", DAG_ID]
    if conf:
        args += ["--conf", json.dumps(dict(conf))]
    return airflow(args, env, timeout)
