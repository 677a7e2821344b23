"""A simulated day built on a Spark standalone cluster equals the same day built locally (issue 14).

The cluster is started by the library code `make cluster` runs (citydata.lakehouse.cluster), on free ports of
its own in a temp folder. Day 1 of the session's shared city (500 residents, seed 7: the same deliveries) runs
through `citydata run-day` in a subprocess with CITYDATA_SPARK_MASTER set — ingest, silver, dbt, gate, release,
export on the cluster's executors, with the shared city's pseudonym key so silver's keyed hashes compare. Its
bronze, silver and gold tables must equal the shared city's tables read at their versions after its local day
1 (time travel), apart from when rows landed (`_ingested_at`, `_updated_at`, `applied_at`, and `recorded_at`
of refused files). The cluster is stopped also on failure, and no process of it may be left.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from deltalake import DeltaTable

from citydata.lakehouse import Lakehouse, cluster
from citydata.lakehouse.cluster import ClusterConfig, ClusterPortError

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

# when a row landed: the only columns a second build of the same deliveries may write differently
LANDING_TIMES = {"_ingested_at", "_updated_at", "applied_at", "recorded_at"}
COMPARED_LAYERS = ("bronze", "silver", "gold")
# where the session's platform keeps things: the cluster's run gets a home of its own
PLACES = {"CITYDATA_HOME", "CITYDATA_LAKEHOUSE", "CITYDATA_LANDING", "CITYDATA_EXPORTS", "CITYDATA_RELEASES",
          "CITYDATA_SPARK_WAREHOUSE", "CITYDATA_SPARK_MASTER", "CITYDATA_LIFELINE"}


def _free_cluster(folder: Path) -> ClusterConfig:
    """A two-worker cluster on ports nobody uses (not 7077/8180: a developer's `make cluster` may run)."""
    for offset in range(0, 100, 5):
        config = ClusterConfig.from_env(folder, env={"CITYDATA_CLUSTER_MASTER_PORT": str(17077 + offset),
                                                     "CITYDATA_CLUSTER_UI_PORT": str(18180 + offset)})
        try:
            cluster.check_ports(config)
        except ClusterPortError:
            continue
        return config
    raise AssertionError("no free ports for a test cluster between 17077 and 18280")


def _value(value: Any) -> Any:
    """Floats to 12 significant digits: a sum's last bits follow the order partitions arrive in."""
    if isinstance(value, float) and math.isfinite(value):
        return float(f"{value:.12g}")
    return value


def content(path: str, version: int) -> tuple[int, dict[str, Counter]]:
    """(rows, column -> multiset of its values) of a Delta table at `version`, landing times left out."""
    table = DeltaTable(path, version=version).to_pyarrow_table()
    columns = {name: Counter(repr(_value(v)) for v in table.column(name).to_pylist())
               for name in table.column_names if name not in LANDING_TIMES}
    return table.num_rows, columns


def row_content(path: str, version: int) -> Counter:
    """The table's rows (landing times left out) as a multiset: equal columns could still pair up differently."""
    table = DeltaTable(path, version=version).to_pyarrow_table()
    names = [n for n in table.column_names if n not in LANDING_TIMES]
    return Counter(tuple(repr(_value(row[n])) for n in names) for row in table.select(names).to_pylist())


def test_a_day_on_the_cluster_equals_the_local_run(shared_city: Any, tmp_path: Path) -> None:
    local_versions = {name: version for name, version in shared_city.versions[1].items()
                      if name.split("/")[0] in COMPARED_LAYERS}
    config = _free_cluster(tmp_path)
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if k not in PLACES}
    env.update({"CITYDATA_SPARK_MASTER": config.master_url, "PYSPARK_PYTHON": sys.executable,
                "CITYDATA_SPARK_WAREHOUSE": str(tmp_path / "spark-warehouse")})
    if "CITYDATA_PSEUDONYM_KEY" not in env and "CITYDATA_PSEUDONYM_KEY_FILE" not in env:
        env["CITYDATA_PSEUDONYM_KEY_FILE"] = str(shared_city.home / "secrets" / "pseudonym.key")  # the city's key
    started = time.monotonic()
    try:
        state = cluster.start(config)
        assert state.running and state.alive_workers == 2
        up = time.monotonic() - started
        done = subprocess.run([sys.executable, "-m", "citydata.cli", "run-day", "--day-folder",
                               str(shared_city.days[0]), "--home", str(home)],
                              env=env, cwd=tmp_path, capture_output=True, text=True, timeout=1800)
        day = time.monotonic() - started - up
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        master = cluster.master_state(config)
        assert master is not None
        apps = [app for app in master["activeapps"] + master["completedapps"] if app["name"] == "citydata-run-day"]
        # the run's executors ran on both workers: each has a folder for the application
        assert len(apps) == 1, apps
        workers_used = sorted({p.parent.parent.name for p in (config.folder / "work").glob(f"*/{apps[0]['id']}/*")})
        assert workers_used == ["worker-1", "worker-2"]
    finally:
        stopping = time.monotonic()
        ended = cluster.stop(config)
        stop_seconds = time.monotonic() - stopping
        left = cluster.cluster_processes(config)
    assert left == [] and len(ended) >= 3
    assert not any(Path(f"/proc/{pid}").exists() for pid in ended)

    on_cluster = Lakehouse(shared_city.lakehouse.spark, str(home / "lakehouse"))
    cluster_tables = {f"{layer}/{table}" for layer, table in on_cluster.tables(list(COMPARED_LAYERS))}
    assert cluster_tables == set(local_versions)
    differing: dict[str, str] = {}
    for name, version in sorted(local_versions.items()):
        layer, table = name.split("/")
        local_path, cluster_path = shared_city.lakehouse.path(layer, table), on_cluster.path(layer, table)
        cluster_version = on_cluster.version(layer, table)
        (local_rows, local_columns) = content(local_path, version)
        (cluster_rows, cluster_columns) = content(cluster_path, cluster_version)
        if local_rows != cluster_rows:
            differing[name] = f"{cluster_rows} rows on the cluster, {local_rows} locally"
        elif local_columns != cluster_columns:  # names only: the values may be personal
            differing[name] = "columns differ: " + ", ".join(
                sorted(set(local_columns) ^ set(cluster_columns))
                or [c for c in local_columns if local_columns[c] != cluster_columns[c]])
        elif row_content(local_path, version) != row_content(cluster_path, cluster_version):
            differing[name] = "the same column values, paired into different rows"
    assert differing == {}
    person_rows, _ = content(shared_city.lakehouse.path("silver", "person"), local_versions["silver/person"])
    assert person_rows > 400  # the comparison saw the city, not empty tables
    local_stages = {name: stage.seconds for name, stage in shared_city.results["day-001"].stages.items()}
    print(f"cluster up in {up:.1f} s; day 1 on the cluster {day:.1f} s (locally, in the session: "
          f"{sum(local_stages.values()):.1f} s: {local_stages}); stopped in {stop_seconds:.1f} s; "
          f"{len(local_versions)} tables equal")
