"""`citydata airflow`'s engine: a real `airflow standalone` serves the project's DAGs on loopback, with the Spark
pool sized to the machine; with its scheduler, an ingest DAG triggered through the REST API makes the silver DAG
run by asset event, and a failing ingest run writes a task log file naming source, page and cause, without
personal values. Airflow's own log-server ports are free ones too, so a second Airflow on this machine (another
test, a developer's) does not refuse the start."""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path

import pytest

from citydata import airflow_local
from citydata.airflow_local import airflow_env
from citydata.ports import free_port


def _standalone_env(home: Path, port: int) -> dict[str, str]:
    env = airflow_local.standalone_env(airflow_env(home), port)
    env.update({"AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
                "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port())})
    return env


def _live_group_members(group: int) -> list[int]:
    """Processes of the group that still run (zombies awaiting a reaper do not count)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue  # the process ended while we looked
        state, pgid = fields[0], int(fields[2])
        if pgid == group and state != "Z":
            members.append(int(stat.parent.name))
    return members


def _api(port: int, path: str, token: str | None = None, body: dict | None = None, method: str | None = None) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})},
        method=method or ("GET" if body is None else "POST"),
    )
    with urllib.request.urlopen(request, timeout=30) as reply:
        return json.load(reply)


@pytest.mark.slow
def test_standalone_serves_the_project_dags_and_stops_cleanly(tmp_path: Path) -> None:
    port = free_port()
    env = _standalone_env(tmp_path, port)
    log_file = Path(env["AIRFLOW_HOME"]) / "standalone.log"
    process = airflow_local.start_standalone(env, log_file)
    try:
        document = airflow_local.wait_until_healthy(process, port, log_file, timeout=300)
        assert {part["status"] for part in document.values()} == {"healthy"}

        login = airflow_local.login(Path(env["AIRFLOW_HOME"]), port)
        assert login.url == f"http://localhost:{port}" and login.user == "admin" and login.password
        token = _api(port, "/auth/token", body={"username": login.user, "password": login.password})["access_token"]

        dags = _api(port, "/api/v2/dags", token)
        assert {"gold_marts", "release", "run_day"} <= {dag["dag_id"] for dag in dags["dags"]}
        gold = next(dag for dag in dags["dags"] if dag["dag_id"] == "gold_marts")
        assert list(gold["owners"]) == ["data-platform"]
        assert _api(port, "/api/v2/importErrors", token)["total_entries"] == 0
        pool = _api(port, "/api/v2/pools/citydata_spark", token)
        assert pool["slots"] == airflow_local.spark_pool_slots() and "run Spark" in pool["description"]
    finally:
        airflow_local.stop(process)

    assert process.poll() is not None
    deadline = time.monotonic() + 30
    while _live_group_members(process.pid) and time.monotonic() < deadline:
        time.sleep(0.5)  # SIGKILL is delivered asynchronously
    assert _live_group_members(process.pid) == []
    assert airflow_local.health(port, timeout=2) is None


def _wait_for(what: str, probe, timeout: float, log_file: Path):  # noqa: ANN001, ANN202 - a polling helper
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(3)
    raise AssertionError(f"{what}: not within {timeout:.0f} s; see {log_file}")


def _runs(port: int, token: str, dag_id: str) -> list[dict]:
    return _api(port, f"/api/v2/dags/{dag_id}/dagRuns?order_by=-run_after", token)["dag_runs"]


@pytest.mark.slow
def test_an_ingest_run_triggers_its_silver_dag_by_asset_event(tmp_path: Path) -> None:
    """Data-aware scheduling for real: trigger `ingest_credit_licences` through the REST API; the scheduler
    queues `silver_credit_licences` from the asset event of bronze.credit_licences, which builds silver. A
    tax run against an API page that keeps failing fails with a task log file naming source, page, cause."""
    from deltalake import DeltaTable

    from citydata.ingest.runner import run_key_of
    from citydata.sources.simulate import ApiServer, Fault, simulate

    from personal_values import collect

    # Outside the default delivery folders: unpausing a daily DAG also starts its latest scheduled run, which
    # then finds no delivery and skips (no asset event), so only the runs triggered here land anything.
    [day] = simulate(tmp_path / "deliveries", [1], persons=300, seed=1, period_days=30, page_size=10)
    port = free_port()
    env = _standalone_env(tmp_path, port)
    env.update({"CITYDATA_AIRFLOW_RETRIES": "0", "AIRFLOW__CORE__UNIT_TEST_MODE": "False"})
    airflow_home = Path(env["AIRFLOW_HOME"])
    log_file = airflow_home / "standalone.log"
    wanted = ("ingest_credit_licences", "silver_credit_licences", "ingest_tax_payments")
    with ApiServer(day.folder, port=0, faults=[Fault("tax", 2, times=-1)]) as server:
        process = airflow_local.start_standalone(env, log_file)
        try:
            airflow_local.wait_until_healthy(process, port, log_file, timeout=300)
            login = airflow_local.login(airflow_home, port)
            token = _api(port, "/auth/token", body={"username": login.user, "password": login.password})["access_token"]
            _wait_for("the generated DAGs parsed", lambda: set(wanted) <= {
                d["dag_id"] for d in _api(port, "/api/v2/dags?limit=100", token)["dags"]}, 180, log_file)
            for dag_id in wanted:
                _api(port, f"/api/v2/dags/{dag_id}", token, {"is_paused": False}, method="PATCH")
            started = time.monotonic()
            licences = _api(port, "/api/v2/dags/ingest_credit_licences/dagRuns", token, {
                "logical_date": None, "conf": {"delivery_folder": str(day.folder / "delivery")}})
            tax = _api(port, "/api/v2/dags/ingest_tax_payments/dagRuns", token, {
                "logical_date": None, "conf": {"api_url": server.url, "page_size": 10}})

            def state(dag_id: str, run_id: str) -> str | None:
                run = next(r for r in _runs(port, token, dag_id) if r["dag_run_id"] == run_id)
                return run["state"] if run["state"] in ("success", "failed") else None

            assert _wait_for("ingest_credit_licences run", lambda: state(
                "ingest_credit_licences", licences["dag_run_id"]), 600, log_file) == "success"
            silver = _wait_for("silver_credit_licences run by asset event", lambda: [
                r for r in _runs(port, token, "silver_credit_licences") if r["run_type"] == "asset_triggered"],
                120, log_file)[0]
            assert _wait_for("silver_credit_licences run", lambda: state(
                "silver_credit_licences", silver["dag_run_id"]), 600, log_file) == "success"
            assert _wait_for("ingest_tax_payments run", lambda: state(
                "ingest_tax_payments", tax["dag_run_id"]), 600, log_file) == "failed"
            print(f"ingest -> asset event -> silver, and the failing tax run: {time.monotonic() - started:.0f} s")
            events = _api(port, "/api/v2/assets/events?limit=100", token)["asset_events"]
            assert sorted(e["uri"] for e in events if e["uri"].startswith("citydata://bronze/")) == [
                "citydata://bronze/credit_licences", "citydata://bronze/credit_licences_rejects"]
            assert [r["run_type"] for r in _runs(port, token, "silver_credit_licences")] == ["asset_triggered"]
            [event] = [e for e in events if e["uri"] == "citydata://bronze/credit_licences"]
            # the event of the run triggered here created the silver run
            assert (event["source_dag_id"], event["source_run_id"]) == (
                "ingest_credit_licences", licences["dag_run_id"])
            assert [(r["dag_id"], r["run_id"]) for r in event["created_dagruns"]] == [
                ("silver_credit_licences", silver["dag_run_id"])]
        finally:
            airflow_local.stop(process)

    silver_table = DeltaTable(str(tmp_path / "lakehouse" / "silver" / "administrative_licence"))
    assert silver_table.to_pyarrow_table().num_rows == 18
    assert not (tmp_path / "lakehouse" / "bronze" / "tax_payments").exists()  # the failed fetch landed nothing
    fetched = tmp_path / "data" / "landing" / "api" / "tax_payments" / run_key_of(tax["dag_run_id"])
    assert (fetched / "pages" / "page-00001.json").is_file() and not (fetched / "api.json").exists()
    logs = [p for p in (airflow_home / "logs").rglob("*.log") if p.is_file()]
    tax_logs = "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in logs
                         if "dag_id=ingest_tax_payments" in str(p) and tax["dag_run_id"].split("+")[0] in str(p))
    assert "tax_payments: page 2 failed after 5 attempt(s): HTTP 500" in tax_logs
    values = collect([day.folder])
    assert len(values) > 600
    for path in logs:
        found = values.masked_in(path.read_bytes().decode("utf-8", errors="replace"))  # masked: a failure shows these
        assert found == [], path

