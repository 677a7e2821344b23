"""`citydata airflow`'s engine: a real `airflow standalone` serves the project's DAGs on loopback."""

from __future__ import annotations

import json
import socket
import time
import urllib.request
from pathlib import Path

import pytest

from citydata import airflow_local
from citydata.pipeline import airflow_env


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


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


def _api(port: int, path: str, token: str | None = None, body: dict | None = None) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})},
        method="GET" if body is None else "POST",
    )
    with urllib.request.urlopen(request, timeout=30) as reply:
        return json.load(reply)


@pytest.mark.slow
def test_standalone_serves_the_project_dags_and_stops_cleanly(tmp_path: Path) -> None:
    port = _free_port()
    env = airflow_local.standalone_env(airflow_env(tmp_path), port)
    log_file = Path(env["AIRFLOW_HOME"]) / "standalone.log"
    process = airflow_local.start_standalone(env, log_file)
    try:
        document = airflow_local.wait_until_healthy(process, port, log_file, timeout=300)
        assert {part["status"] for part in document.values()} == {"healthy"}

        login = airflow_local.login(Path(env["AIRFLOW_HOME"]), port)
        assert login.url == f"http://localhost:{port}" and login.user == "admin" and login.password
        token = _api(port, "/auth/token", body={"username": login.user, "password": login.password})["access_token"]

        dags = _api(port, "/api/v2/dags", token)
        assert "skeleton_chain" in {dag["dag_id"] for dag in dags["dags"]}
        skeleton = next(dag for dag in dags["dags"] if dag["dag_id"] == "skeleton_chain")
        assert [owner for owner in skeleton["owners"]] == ["data-platform"]
        assert _api(port, "/api/v2/importErrors", token)["total_entries"] == 0
    finally:
        airflow_local.stop(process)

    assert process.poll() is not None
    deadline = time.monotonic() + 30
    while _live_group_members(process.pid) and time.monotonic() < deadline:
        time.sleep(0.5)  # SIGKILL is delivered asynchronously
    assert _live_group_members(process.pid) == []
    assert airflow_local.health(port, timeout=2) is None
