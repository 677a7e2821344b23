"""The generated ingest and silver DAGs run with `airflow dags test` (subprocess, project-local AIRFLOW_HOME,
SQLite, data in tmp) on a simulated 300-person city (seed 1, period 30 days, API pages of 10 records).

(b) `ingest_credit_licences` then `silver_credit_licences` land and build the counts the delivery implies.
(c) Day 1's marriages file is undecodable: `ingest_marriages` fails at once (no retry) with one
    DELIVERY_REFUSED line in the alerts log (source, day, code); the failing tax run of (a) adds a TASK_FAILED
    line from the failure callback.
(a) After day 1's tax pages were landed by `ingest_tax_payments` (from the day folder), the same DAG run
    against the simulator's real API server serving day 2 with page 2 failing every time fails (after its
    Airflow retry): every table of the lakehouse keeps its Delta version, the task log names the source,
    the page and the cause, and neither the logs nor any file under AIRFLOW_HOME/logs holds a raw personal
    value of the city. `airflow dags test` runs tasks in its own process and streams their task log to its
    output (it writes no per-task log file); the task log files a scheduler writes under AIRFLOW_HOME/logs
    are checked the same way in test_airflow_standalone.py.
Tables are read with delta-rs (real Delta logs).
"""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path

import pytest
from deltalake import DeltaTable

from citydata.airflow_local import airflow, airflow_env
from citydata.sources.simulate import ApiServer, Fault, simulate

from personal_values import collect

pytestmark = pytest.mark.slow
PERSONS, SEED, PERIOD, PAGE = 300, 1, 30, 10


def _dags_test(env: dict[str, str], dag_id: str, conf: dict) -> tuple[int, str, float]:
    started = time.monotonic()
    done = airflow(["dags", "test", dag_id, "--conf", json.dumps(conf)], env)
    seconds = time.monotonic() - started
    print(f"airflow dags test {dag_id}: {seconds:.1f} s, exit {done.returncode}")
    return done.returncode, done.stdout + done.stderr, seconds


def _table(home: Path, layer: str, table: str) -> DeltaTable:
    return DeltaTable(str(home / "lakehouse" / layer / table))


def _versions(home: Path) -> dict[str, int]:
    """The Delta version of every table under the lakehouse."""
    return {f"{log.parent.parent.name}/{log.parent.name}": DeltaTable(str(log.parent)).version()
            for log in sorted((home / "lakehouse").glob("*/*/_delta_log"))}


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> dict:
    home = tmp_path_factory.mktemp("ingest-dags")
    days = simulate(home / "data" / "simulated", [1, 2], persons=PERSONS, seed=SEED, period_days=PERIOD,
                    page_size=PAGE)
    env = airflow_env(home, home / ".airflow")
    # one quick Airflow retry, so a failing run shows the retry and still ends within the test
    env.update({"AIRFLOW__CORE__UNIT_TEST_MODE": "False", "CITYDATA_AIRFLOW_RETRIES": "1",
                "CITYDATA_AIRFLOW_RETRY_DELAY": "1"})
    migrated = airflow(["db", "migrate"], env)
    assert migrated.returncode == 0, migrated.stderr[-3000:]
    return {"home": home, "env": env, "day1": days[0].folder, "day2": days[1].folder}


@pytest.fixture(scope="module")
def licences(city: dict) -> dict:
    """(b): ingest_credit_licences on day 1, then its silver DAG."""
    conf = {"delivery_folder": str(city["day1"] / "delivery")}
    landed = _dags_test(city["env"], "ingest_credit_licences", conf)
    silver = _dags_test(city["env"], "silver_credit_licences", {})
    return {"landed": landed, "silver": silver}


@pytest.fixture(scope="module")
def failing_tax(city: dict, licences: dict) -> dict:
    """(a): day 1's tax pages landed from the folder, then day 2 over HTTP with page 2 failing forever."""
    landed = _dags_test(city["env"], "ingest_tax_payments", {"delivery_folder": str(city["day1"] / "delivery")})
    assert landed[0] == 0, landed[1][-4000:]
    before = _versions(city["home"])
    with ApiServer(city["day2"], port=0, faults=[Fault("tax", 2, times=-1)]) as server:
        failed = _dags_test(city["env"], "ingest_tax_payments", {"api_url": server.url, "page_size": PAGE})
        requests = dict(server.requests)
    return {"landed": landed, "before": before, "after": _versions(city["home"]), "failed": failed,
            "requests": requests}


@pytest.fixture(scope="module")
def refused_marriages(city: dict) -> dict:
    """(c): day 1's marriages delivery, refused whole (FILE_ENCODING)."""
    run = _dags_test(city["env"], "ingest_marriages", {"delivery_folder": str(city["day1"] / "delivery")})
    return {"run": run, "alerts": _alerts(city["home"])}


def _alerts(home: Path) -> list[dict]:
    path = home / "data" / "alerts.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.is_file() else []


def _delivered_rows(day: Path, rel: str) -> int:
    files = json.loads((day / "manifest.json").read_text(encoding="utf-8"))["files"]
    return sum(f["rows"] for f in files if f["path"] == rel or f["path"].startswith(f"{rel}/pages/"))


def test_ingest_then_silver_dag_land_and_build_the_delivered_licences(city: dict, licences: dict) -> None:
    for code, output, _ in licences.values():
        assert code == 0, output[-4000:]
    home, day1 = city["home"], city["day1"]
    delivered = _delivered_rows(day1, "credit/licences.csv")
    with (day1 / "truth" / "rejects.csv").open(encoding="utf-8", newline="") as handle:
        expected_rejects = [r for r in csv.DictReader(handle) if r["file"] == "delivery/credit/licences.csv"]
    bronze = _table(home, "bronze", "credit_licences").to_pyarrow_table().to_pylist()
    rejects = _table(home, "bronze", "credit_licences_rejects").to_pyarrow_table().num_rows
    assert delivered == 18 and (len(bronze), rejects) == (delivered - len(expected_rejects), len(expected_rejects))
    silver = _table(home, "silver", "administrative_licence").to_pyarrow_table().to_pylist()
    assert len(silver) == len({r["decision_no"].strip() for r in bronze}) == 18
    assert "DagRun Finished: dag_id=silver_credit_licences" in licences["silver"][1]
    assert "'tables': {'silver/administrative_licence': 18}" in licences["silver"][1]  # the task's return value


def test_a_page_that_keeps_failing_fails_the_run_and_changes_no_table(city: dict, failing_tax: dict) -> None:
    home = city["home"]
    assert failing_tax["landed"][0] == 0
    day1_tax = _delivered_rows(city["day1"], "tax")
    tax = _table(home, "bronze", "tax_payments").to_pyarrow_table().num_rows
    tax_rejects = _table(home, "bronze", "tax_payments_rejects").to_pyarrow_table().num_rows
    assert tax + tax_rejects == day1_tax > 0  # day 1 landed from the folder
    code, output, _ = failing_tax["failed"]
    assert code != 0 or "state=failed" in output, output[-4000:]
    assert "DagRun Finished: dag_id=ingest_tax_payments" in output and "state=failed" in output
    assert failing_tax["after"] == failing_tax["before"]  # every table keeps its version
    assert set(failing_tax["before"]) >= {"bronze/tax_payments", "bronze/tax_payments_rejects",
                                          "bronze/credit_licences", "silver/administrative_licence"}
    # page 1 was fetched once per try (then kept), page 2 asked for until the retries ran out, page 3 never
    assert failing_tax["requests"].get(("tax", 3), 0) == 0
    assert failing_tax["requests"][("tax", 2)] >= 2


def test_the_task_log_names_source_page_and_cause(failing_tax: dict) -> None:
    text = failing_tax["failed"][1]
    assert "ApiFetchError: tax_payments: page 2 failed after 5 attempt(s): HTTP 500" in text
    assert "the fetch resumes at page 2" in text  # the fix, with what is kept
    assert text.count("[DAG TEST] starting task_id=land_bronze") == 2  # the Airflow retry ran, and failed too


def test_a_refused_delivery_fails_its_run_at_once_with_one_alert_line(city: dict, refused_marriages: dict) -> None:
    code, output, _ = refused_marriages["run"]
    assert "DagRun Finished: dag_id=ingest_marriages" in output and "state=failed" in output, output[-4000:]
    assert output.count("[DAG TEST] starting task_id=land_bronze") == 1  # refused again on a retry: none
    [alert] = [a for a in refused_marriages["alerts"] if a["dag"] == "ingest_marriages"]
    assert {k: alert[k] for k in ("task", "source", "day", "reason", "counts", "try_number")} == {
        "task": "land_bronze", "source": "marriages", "day": "day-001", "reason": "DELIVERY_REFUSED",
        "counts": {"code": "FILE_ENCODING", "landed": 0}, "try_number": 1}
    assert "marriages.csv: delivery refused (FILE_ENCODING)" in alert["message"] and "Fix:" in alert["message"]
    assert not (city["home"] / "lakehouse" / "bronze" / "marriages").exists()


def test_a_task_that_fails_for_good_writes_a_task_failed_alert(city: dict, failing_tax: dict) -> None:
    [alert] = [a for a in _alerts(city["home"]) if a["dag"] == "ingest_tax_payments"]
    assert (alert["reason"], alert["task"], alert["source"], alert["try_number"]) == (
        "TASK_FAILED", "land_bronze", "tax_payments", 2)  # once, after its retry
    assert alert["message"].startswith("ApiFetchError: tax_payments: page 2 failed after 5 attempt(s): HTTP 500")


def test_no_log_holds_a_personal_value(city: dict, licences: dict, failing_tax: dict,
                                       refused_marriages: dict) -> None:
    values = collect([city["day1"], city["day2"]])
    assert len(values) > 600  # 300 residents' ID numbers, names and phones at least
    files = [p for p in (city["home"] / ".airflow" / "logs").rglob("*") if p.is_file()]
    for path in files:
        found = values.masked_in(path.read_bytes().decode("utf-8", errors="replace"))  # masked: a failure shows these
        assert found == [], path
    for number, (_, output, _) in enumerate((failing_tax["landed"], failing_tax["failed"], refused_marriages["run"],
                                             *licences.values())):
        found = values.masked_in(output)
        assert found == [], f"CLI output {number}"
    alerts = (city["home"] / "data" / "alerts.jsonl").read_text(encoding="utf-8")
    found = values.masked_in(alerts)
    assert alerts.count("\n") >= 2, "alerts.jsonl holds fewer than 2 alerts"
    assert found == [], "alerts.jsonl"
