"""Airflow 3 on this machine: the project's environment for `airflow` commands, `airflow dags test`, and
`airflow standalone` (SQLite, LocalExecutor) with the project's DAGs.

Owns the environment (`airflow_env`: project-local AIRFLOW_HOME, the project's dags/), running `airflow`
commands, and starting, waiting for and stopping the embedded Airflow. Production runs the same DAG files
on Postgres with a distributed executor: nothing here is used there.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

DEFAULT_PORT = 8080
ADMIN_USER = "admin"
# Airflow 3's simple auth manager writes the generated password here on first start.
PASSWORDS_FILE = "simple_auth_manager_passwords.json.generated"


REPO = Path(__file__).resolve().parents[2]


class AirflowStartError(RuntimeError):
    """`airflow standalone` exited or did not become healthy in time."""


@dataclass(frozen=True)
class AirflowLogin:
    url: str
    user: str
    password: str | None
    passwords_file: Path


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


def airflow(args: list[str], env: Mapping[str, str], timeout: float = 1800) -> subprocess.CompletedProcess[str]:
    """Run the `airflow` command of this interpreter's environment with `env`."""
    command = [str(Path(sys.executable).parent / "airflow"), *args]
    return subprocess.run(command, env=dict(env), capture_output=True, text=True, timeout=timeout, check=False)


def migrate_once(env: Mapping[str, str], timeout: float = 900) -> None:
    """`airflow db migrate` when AIRFLOW_HOME has no metadata database yet."""
    if (Path(env["AIRFLOW_HOME"]) / "airflow.db").exists():
        return
    migrated = airflow(["db", "migrate"], env, timeout)
    if migrated.returncode != 0:
        raise AirflowStartError(f"airflow db migrate failed ({migrated.returncode}):\n{migrated.stderr[-4000:]}")


def dags_test(env: Mapping[str, str], dag_id: str, conf: Mapping[str, Any] | None = None,
              timeout: float = 1800) -> subprocess.CompletedProcess[str]:
    """`airflow db migrate` (once per AIRFLOW_HOME) then `airflow dags test <dag_id> [--conf JSON]`: every task of
    one run, in this machine's processes, without a scheduler (asset-triggered DAGs do not follow)."""
    migrate_once(env, timeout)
    args = ["dags", "test", dag_id]
    if conf:
        args += ["--conf", json.dumps(dict(conf))]
    return airflow(args, env, timeout)


def standalone_env(env: Mapping[str, str], port: int = DEFAULT_PORT) -> dict[str, str]:
    """`env` plus the API server's port, bound to loopback (this is a developer's Airflow)."""
    return {**env, "AIRFLOW__API__PORT": str(port), "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__BASE_URL": f"http://localhost:{port}"}


def start_standalone(env: Mapping[str, str], log_file: Path) -> subprocess.Popen[bytes]:
    """Start `airflow standalone` in its own process group, output to `log_file`."""
    airflow = Path(sys.executable).parent / "airflow"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as out:
        return subprocess.Popen([str(airflow), "standalone"], env=dict(env), stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)


def health(port: int, timeout: float = 5.0) -> dict | None:
    """The API server's health document, or None while it does not answer."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/monitor/health", timeout=timeout) as reply:
            return json.load(reply)
    except (urllib.error.URLError, ConnectionError, TimeoutError, json.JSONDecodeError):
        return None


def wait_until_healthy(process: subprocess.Popen[bytes], port: int, log_file: Path,
                       timeout: float = 300.0) -> dict:
    """Wait until metadatabase, scheduler, triggerer and DAG processor all report healthy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AirflowStartError(f"airflow standalone exited with code {process.returncode}; see {log_file}")
        document = health(port)
        if document and all(part.get("status") == "healthy" for part in document.values()):
            return document
        time.sleep(2)
    raise AirflowStartError(f"Airflow was not healthy on port {port} after {timeout:.0f} s; see {log_file}")


def login(airflow_home: Path, port: int) -> AirflowLogin:
    """URL and admin login of the embedded Airflow (the password exists once the API server started)."""
    passwords_file = airflow_home / PASSWORDS_FILE
    password = None
    if passwords_file.exists():
        password = json.loads(passwords_file.read_text(encoding="utf-8")).get(ADMIN_USER)
    return AirflowLogin(f"http://localhost:{port}", ADMIN_USER, password, passwords_file)


def stop(process: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    """Stop standalone and every component it started (they share its process group)."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout)
    # Components (scheduler, API server, workers) may outlive the parent: end the whole group.
    # ProcessLookupError means the group is already gone, which is what we want.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
