"""Airflow on PostgreSQL with LocalExecutor (issue 14): the project-local PostgreSQL (`citydata.airflow_postgres`,
Debian's server programs from `make postgres`) starts on a free port, `airflow standalone` migrates its metadata
database there (CITYDATA_AIRFLOW_DB=postgresql://…) with the Spark pool, and a real scheduler runs the ingest DAGs
of two sources of a 300-person city's day 1 (seed 1), triggered at once: `ingest_credit_licences` lands and records
its bronze asset event, and `ingest_credit_penalties`, whose delivery's header names a column the contract does not
know, is refused: one DELIVERY_REFUSED alert line (source, day, reason, counts) and a failed task, never a success.
With one pool slot no two Spark tasks overlap. Airflow's own tables, runs, pool, task instances and asset events are
read from PostgreSQL itself. The silver DAG the event would run stays paused: test_airflow_standalone.py runs it
(on SQLite), and here it would add two minutes of Spark."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import psycopg2
import pytest
from deltalake import DeltaTable
from test_airflow_standalone import _api, _runs, _wait_for

from citydata import airflow_local
from citydata.airflow_local import airflow_env
from citydata.airflow_postgres import LocalPostgres
from citydata.ports import free_port
from citydata.sources.simulate import simulate

from personal_values import collect

pytestmark = pytest.mark.slow
INGESTS = ("ingest_credit_licences", "ingest_credit_penalties")


def _break_header(csv_file: Path) -> None:
    """The penalties delivery with its last header cell renamed (处罚机关 -> 处罚单位): a column the contract lacks."""
    raw = csv_file.read_bytes()
    header, rest = raw.split(b"\r\n", 1)
    assert header.endswith("处罚机关".encode())
    csv_file.write_bytes(header.replace("处罚机关".encode(), "处罚单位".encode()) + b"\r\n" + rest)


def _task_instances(port: int, token: str, dag_id: str, run_id: str) -> dict[str, dict]:
    found = _api(port, f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances", token)["task_instances"]
    return {ti["task_id"]: ti for ti in found}


def _finished(port: int, token: str, dag_id: str, run_id: str) -> str | None:
    run = next(r for r in _runs(port, token, dag_id) if r["dag_run_id"] == run_id)
    return run["state"] if run["state"] in ("success", "failed") else None


def test_a_day_runs_on_postgres_under_local_executor_and_a_refused_delivery_alerts(tmp_path: Path) -> None:
    started = time.monotonic()
    [day] = simulate(tmp_path / "deliveries", [1], persons=300, seed=1, period_days=30, page_size=10)
    _break_header(day.folder / "delivery" / "credit" / "penalties.csv")
    # Not under tmp_path: its parents are 0700, closed to the `postgres` account the server runs as under root.
    server = LocalPostgres(Path(tempfile.mkdtemp(prefix="citydata-postgres-")))
    process = None
    try:
        server.start()
        env = airflow_local.standalone_env(
            airflow_env(tmp_path, base={**os.environ, "CITYDATA_AIRFLOW_DB": server.url()}), free_port())
        port = int(env["AIRFLOW__API__PORT"])
        env.update({"AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
                    "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
                    "CITYDATA_AIRFLOW_SPARK_SLOTS": "1", "CITYDATA_AIRFLOW_RETRIES": "0",
                    "AIRFLOW__CORE__UNIT_TEST_MODE": "False"})
        assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://citydata:")
        airflow_home = Path(env["AIRFLOW_HOME"])
        log_file = airflow_home / "standalone.log"
        process = airflow_local.start_standalone(env, log_file)  # migrates PostgreSQL, creates the pool
        migrated = time.monotonic()
        airflow_local.wait_until_healthy(process, port, log_file, timeout=300)
        healthy = time.monotonic()
        login = airflow_local.login(airflow_home, port)
        token = _api(port, "/auth/token", body={"username": login.user, "password": login.password})["access_token"]
        _wait_for("the generated DAGs parsed", lambda: set(INGESTS) <= {
            d["dag_id"] for d in _api(port, "/api/v2/dags?limit=100", token)["dags"]}, 180, log_file)
        pool = _api(port, "/api/v2/pools/citydata_spark", token)
        assert (pool["slots"], "run Spark" in pool["description"]) == (1, True)
        for dag_id in INGESTS:
            _api(port, f"/api/v2/dags/{dag_id}", token, {"is_paused": False}, method="PATCH")
        conf = {"delivery_folder": str(day.folder / "delivery")}
        runs = {dag_id: _api(port, f"/api/v2/dags/{dag_id}/dagRuns", token, {"logical_date": None, "conf": conf})[
            "dag_run_id"] for dag_id in INGESTS}
        triggered = time.monotonic()
        states = {dag_id: _wait_for(f"{dag_id} run", lambda d=dag_id: _finished(port, token, d, runs[d]), 600,
                                    log_file) for dag_id in INGESTS}
        ran = time.monotonic()
        tasks = {dag_id: _task_instances(port, token, dag_id, run_id) for dag_id, run_id in runs.items()}
        with psycopg2.connect(server.url()) as connection, connection.cursor() as cursor:
            cursor.execute("select dag_id, state from dag_run where run_id = any(%s) order by dag_id",
                           (list(runs.values()),))
            runs_in_postgres = cursor.fetchall()
            # every Spark task instance of this Airflow, the scheduled runs unpausing created included
            cursor.execute("select dag_id, run_id, task_id, start_date, end_date from task_instance "
                           "where pool = 'citydata_spark' and start_date is not null order by start_date")
            spark_tasks = cursor.fetchall()
            cursor.execute("select a.uri, e.source_dag_id, e.source_run_id from asset_event e "
                           "join asset a on a.id = e.asset_id order by a.uri")
            asset_events = cursor.fetchall()
            cursor.execute("select pool, slots from slot_pool where pool = 'citydata_spark'")
            pool_in_postgres = cursor.fetchall()
            cursor.execute("select distinct executor_class from job where job_type = 'SchedulerJob'")
            scheduler_executors = {row[0] for row in cursor.fetchall()}
        tables = server.tables()
    finally:
        if process is not None:
            airflow_local.stop(process)
        server.stop()
        shutil.rmtree(server.root, ignore_errors=True)
    print(f"PostgreSQL + migration + pool {migrated - started:.0f} s, healthy {healthy - migrated:.0f} s, "
          f"the two ingest runs {ran - triggered:.0f} s, in all {time.monotonic() - started:.0f} s")

    # Airflow ran on PostgreSQL: its tables, the runs and the pool are there, and no SQLite file was made
    assert {"dag_run", "task_instance", "slot_pool", "alembic_version", "asset_event"} <= tables
    assert runs_in_postgres == [("ingest_credit_licences", "success"), ("ingest_credit_penalties", "failed")]
    assert asset_events == [(f"citydata://bronze/credit_licences{suffix}", "ingest_credit_licences",
                             runs["ingest_credit_licences"]) for suffix in ("", "_rejects")]
    assert pool_in_postgres == [("citydata_spark", 1)]
    assert scheduler_executors <= {"LocalExecutor", None}, scheduler_executors
    assert not (airflow_home / "airflow.db").exists()

    assert states == {"ingest_credit_licences": "success", "ingest_credit_penalties": "failed"}
    refused = tasks["ingest_credit_penalties"]
    assert (refused["land_bronze"]["state"], refused["land_bronze"]["try_number"]) == ("failed", 1)
    assert refused["check_delivery"]["state"] == "upstream_failed"
    assert {ti["state"] for ti in tasks["ingest_credit_licences"].values()} == {"success"}

    # the pool held: both runs' Spark tasks ran in it, and with one slot no two Spark tasks overlapped
    assert {(dag, task) for dag, run, task, _, _ in spark_tasks if run in runs.values()} == {
        ("ingest_credit_licences", "land_bronze"), ("ingest_credit_penalties", "land_bronze")}
    for before, after in zip(spark_tasks, spark_tasks[1:]):
        assert before[4] <= after[3], (before[:3], after[:3])
    assert {ti["pool"] for dag in tasks.values() for ti in dag.values() if ti["task_id"] == "check_delivery"} == {
        "default_pool"}

    # one alert line for the refusal, naming source, day, reason and counts
    alerts = [json.loads(line) for line in (tmp_path / "data" / "alerts.jsonl").read_text(
        encoding="utf-8").splitlines()]
    assert [{k: a[k] for k in ("dag", "task", "run_id", "source", "day", "reason", "counts")} for a in alerts] == [{
        "dag": "ingest_credit_penalties", "task": "land_bronze", "run_id": runs["ingest_credit_penalties"],
        "source": "credit_penalties", "day": "day-001", "reason": "DELIVERY_REFUSED",
        "counts": {"code": "HEADER_MISMATCH", "landed": 0}}]
    assert "penalties.csv: delivery refused (HEADER_MISMATCH)" in alerts[0]["message"]
    assert "Fix:" in alerts[0]["message"]

    # what landed: the licences in bronze (and their rejects), nothing of the refused penalties
    lakehouse = tmp_path / "lakehouse"
    assert sum(DeltaTable(str(lakehouse / "bronze" / table)).to_pyarrow_table().num_rows
               for table in ("credit_licences", "credit_licences_rejects")) == 18
    assert not (lakehouse / "bronze" / "credit_penalties").exists()
    values = collect([day.folder])
    assert len(values) > 600
    for path in [p for p in (airflow_home / "logs").rglob("*.log") if p.is_file()] + [log_file]:
        assert values.found_in(path.read_bytes().decode("utf-8", errors="replace")) == set(), path
