"""`citydata airflow` refuses, before starting anything, a port Airflow binds for itself or one in use, and says
which port, what needs it and the fix; the Spark pool's size follows the machine."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from citydata import airflow_local as a
from citydata.ports import free_port


@pytest.fixture
def listening() -> Iterator[int]:
    """A port something listens on (this test's socket), on loopback only."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield server.getsockname()[1]


def _env(tmp_path: Path, **settings: str) -> dict[str, str]:
    return {"AIRFLOW_HOME": str(tmp_path), **settings}


def test_standalone_binds_the_api_port_and_airflows_own_log_server_ports(tmp_path: Path) -> None:
    ports = a.standalone_ports(_env(tmp_path, AIRFLOW__API__PORT="8080"))
    assert sorted(ports) == [8080, 8793, 8794]
    assert ports[8793][0] == "Airflow's worker log server"
    assert "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT" in ports[8793][1]
    with_health = a.standalone_ports(_env(tmp_path, AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK="True"))
    assert 8974 in with_health


def test_ports_come_from_airflow_cfg_unless_the_environment_says_otherwise(tmp_path: Path) -> None:
    (tmp_path / "airflow.cfg").write_text("[logging]\nworker_log_server_port = 18793\n", encoding="utf-8")
    assert 18793 in a.standalone_ports(_env(tmp_path))
    assert 28793 in a.standalone_ports(_env(tmp_path, AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT="28793"))


def test_the_api_on_airflows_log_server_port_is_refused_with_the_fix(tmp_path: Path) -> None:
    with pytest.raises(a.PortUnavailableError) as refused:
        a.check_ports(_env(tmp_path, AIRFLOW__API__PORT="8793"))
    message = str(refused.value)
    assert message.startswith("port 8793 is Airflow's worker log server's port")
    assert "citydata airflow --port 8080" in message


def test_a_busy_port_is_refused_naming_what_needs_it(tmp_path: Path, listening: int) -> None:
    free = {"AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port())}
    with pytest.raises(a.PortUnavailableError, match=rf"port {listening}, needed for the Airflow UI and API, is in "
                                                     r"use .* `citydata airflow --port N`"):
        a.check_ports(_env(tmp_path, AIRFLOW__API__PORT=str(listening), **free))
    log_server = {**free, "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(listening)}
    with pytest.raises(a.PortUnavailableError, match=rf"port {listening}, needed for Airflow's worker log server"):
        a.check_ports(_env(tmp_path, AIRFLOW__API__PORT=str(free_port()), **log_server))
    api = free_port()
    assert api in a.check_ports(_env(tmp_path, AIRFLOW__API__PORT=str(api), **free))


def test_the_cli_refuses_port_8793_within_seconds(tmp_path: Path) -> None:
    """The real command, as a user types it (measured ~1 s; before, it waited 300 s for a health that never
    came)."""
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "citydata.cli", "airflow", "--port", "8793", "--home",
                           str(tmp_path)], capture_output=True, text=True, timeout=30, check=False)
    seconds = time.monotonic() - started
    assert done.returncode == 2, done.stdout + done.stderr
    assert "port 8793 is Airflow's worker log server's port" in " ".join(done.stdout.split())
    assert seconds < 5, seconds
    assert not (tmp_path / ".airflow" / "airflow.db").exists()  # nothing started


@pytest.mark.parametrize(("cores", "gib", "slots"), [(2, 23, 1), (1, 4, 1), (8, 64, 4), (16, 8, 2), (64, 2, 1)])
def test_the_spark_pool_holds_what_the_machine_holds(cores: int, gib: int, slots: int) -> None:
    # min(cores // 2, (memory - 2 GiB) // 3 GiB), at least 1
    assert a.spark_pool_slots(cores, gib * 1024**3, env={}) == slots


def test_the_spark_pool_size_can_be_set(tmp_path: Path) -> None:
    assert a.spark_pool_slots(2, 4 * 1024**3, env={"CITYDATA_AIRFLOW_SPARK_SLOTS": "3"}) == 3
    with pytest.raises(ValueError, match="at least 1 slot"):
        a.spark_pool_slots(env={"CITYDATA_AIRFLOW_SPARK_SLOTS": "0"})
    with pytest.raises(ValueError, match="not a whole number"):
        a.spark_pool_slots(env={"CITYDATA_AIRFLOW_SPARK_SLOTS": "two"})


def test_the_run_id_of_a_finished_dags_test_run() -> None:
    output = ("[2026-12-07T11:50:52] INFO - DagRun Finished: dag_id=run_day, logical_date=2026-12-07 11:49:26+00:00, "
              "run_id=manual__2026-12-07T11:49:26.151420+00:00, run_start_date=2026-12-07 11:49:27+00:00, "
              "state=failed, run_type=manual,\n")
    assert a.finished_run_id(output, "run_day") == "manual__2026-12-07T11:49:26.151420+00:00"
    assert a.finished_run_id(output, "release") is None
