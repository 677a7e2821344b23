"""Airflow 3 on this machine: the project's environment for `airflow` commands, `airflow dags test`, and
`airflow standalone` with the project's DAGs — on SQLite for one person, or on PostgreSQL with LocalExecutor
when CITYDATA_AIRFLOW_DB says so (`metadata_database`).

Owns the environment (`airflow_env`: project-local AIRFLOW_HOME, the project's dags/, the metadata database and
executor), the metadata database (`migrate_once`: migrated, with the Spark pool the generated tasks run in), the
ports standalone binds (refused at once when busy or colliding), running `airflow` commands, and starting,
waiting for and stopping the embedded Airflow. The project-local PostgreSQL server itself is
`citydata.airflow_postgres`'s. Production runs the same DAG files on PostgreSQL with a distributed executor.
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

from citydata.ports import port_is_free

log = logging.getLogger(__name__)

DEFAULT_PORT = 8080
ADMIN_USER = "admin"
# Airflow 3's simple auth manager writes the generated password here on first start.
PASSWORDS_FILE = "simple_auth_manager_passwords.json.generated"


REPO = Path(__file__).resolve().parents[2]


class AirflowStartError(RuntimeError):
    """`airflow standalone` exited or did not become healthy in time."""


class PortUnavailableError(AirflowStartError):
    """A port standalone needs is busy, or the API port is one Airflow binds for itself: refused before starting."""


# Ports `airflow standalone` binds besides its API server: the log servers of the scheduler's LocalExecutor
# workers and of the triggerer, and the scheduler's health check when it is enabled (defaults of Airflow 3.3).
LOG_SERVER_PORTS: dict[tuple[str, str], tuple[int, str]] = {
    ("logging", "worker_log_server_port"): (8793, "Airflow's worker log server"),
    ("logging", "trigger_log_server_port"): (8794, "Airflow's triggerer log server"),
}
HEALTH_CHECK_PORT = (("scheduler", "scheduler_health_check_server_port"), (8974, "Airflow's scheduler health check"))

# One Spark task is a local[*] driver using every core, with a 2g heap (CITYDATA_SPARK_DRIVER_MEMORY) plus the
# JVM's own memory and its Python workers: 3 GiB each, 2 cores each (two local[*] drivers on 2 cores only thrash).
SPARK_TASK_CORES = 2
SPARK_TASK_MEMORY = 3 * 1024**3
AIRFLOW_RESERVED_MEMORY = 2 * 1024**3  # scheduler, API server, DAG processor and triggerer themselves
POOL_MARKER = "citydata_pool.json"  # in AIRFLOW_HOME: the pool size last set, so it is set once per change


@dataclass(frozen=True)
class AirflowLogin:
    url: str
    user: str
    password: str | None
    passwords_file: Path


def dags_folder() -> Path:
    """The project's `dags/` folder."""
    return REPO / "dags"


class MetadataDatabaseError(ValueError):
    """CITYDATA_AIRFLOW_DB names no database Airflow can run on here."""


def metadata_database(home: Path, airflow_home: Path, env: Mapping[str, str]) -> tuple[str, str | None]:
    """(sql_alchemy_conn, executor or None for Airflow's default) from CITYDATA_AIRFLOW_DB: empty means SQLite in
    AIRFLOW_HOME (one person); `postgresql://user:password@host:port/db` that server with LocalExecutor (tasks run
    in parallel, which SQLite's one writer cannot carry); `local` the project's own PostgreSQL
    (`citydata.airflow_postgres`, $CITYDATA_HOME/.postgres), which must be running."""
    setting = env.get("CITYDATA_AIRFLOW_DB", "").strip()
    if not setting or setting == "sqlite":
        return f"sqlite:///{airflow_home / 'airflow.db'}", None
    if setting == "local":
        from citydata.airflow_postgres import LocalPostgres, default_root

        setting = LocalPostgres(default_root(home, env)).url()
    if setting.split("://", 1)[0] in ("postgresql", "postgresql+psycopg2", "postgres"):
        # psycopg2 named: SQLAlchemy 2.1's default PostgreSQL driver is psycopg 3, which is not installed
        return "postgresql+psycopg2" + setting[setting.index("://"):], "LocalExecutor"
    from citydata.airflow_postgres import mask_url

    raise MetadataDatabaseError(
        f"CITYDATA_AIRFLOW_DB={mask_url(setting)!r}: not a database this project runs Airflow on. Fix: unset it "
        f"(SQLite in AIRFLOW_HOME), `local` (the project's PostgreSQL, `citydata postgres start`), or "
        f"postgresql://user:password@host:port/database")


def airflow_env(home: Path, airflow_home: Path | None = None,
                base: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for `airflow` commands on this project: project-local AIRFLOW_HOME, the metadata database and
    executor CITYDATA_AIRFLOW_DB names (default SQLite), the project's dags/, no examples, CITYDATA_HOME for the
    data, this interpreter for Spark."""
    env = dict(os.environ if base is None else base)
    airflow_home = Path(airflow_home or Path(home) / ".airflow").resolve()
    airflow_home.mkdir(parents=True, exist_ok=True)
    bin_dir = str(Path(sys.executable).parent)
    connection, executor = metadata_database(Path(home), airflow_home, env)
    if executor:
        env["AIRFLOW__CORE__EXECUTOR"] = executor
    env.update({
        "AIRFLOW_HOME": str(airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder()),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": connection,
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


def database_is_migrated(env: Mapping[str, str]) -> bool:
    """The metadata database exists and holds Airflow's tables (SQLite: the file; else `alembic_version`)."""
    connection = env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    if connection.startswith("sqlite:///"):
        return Path(connection.removeprefix("sqlite:///")).exists()
    import sqlalchemy

    engine = sqlalchemy.create_engine(connection, poolclass=sqlalchemy.pool.NullPool)
    try:
        return sqlalchemy.inspect(engine).has_table("alembic_version")
    finally:
        engine.dispose()


def migrate_once(env: Mapping[str, str], timeout: float = 900) -> None:
    """`airflow db migrate` when the metadata database is not migrated yet, then the Spark pool
    (`ensure_spark_pool`)."""
    if not database_is_migrated(env):
        migrated = airflow(["db", "migrate"], env, timeout)
        if migrated.returncode != 0:
            raise AirflowStartError(f"airflow db migrate failed ({migrated.returncode}):\n{migrated.stderr[-4000:]}")
        (Path(env["AIRFLOW_HOME"]) / POOL_MARKER).unlink(missing_ok=True)  # a new database has no pool yet
    ensure_spark_pool(env, timeout=timeout)


def spark_pool_slots(cores: int | None = None, memory_bytes: int | None = None,
                     env: Mapping[str, str] | None = None) -> int:
    """Slots of the Spark pool: CITYDATA_AIRFLOW_SPARK_SLOTS when set, else what the machine holds —
    min(cores // 2, (memory - 2 GiB for Airflow) // 3 GiB per Spark task), at least 1."""
    env = os.environ if env is None else env
    if env.get("CITYDATA_AIRFLOW_SPARK_SLOTS"):
        try:
            slots = int(env["CITYDATA_AIRFLOW_SPARK_SLOTS"])
        except ValueError:
            raise ValueError(f"CITYDATA_AIRFLOW_SPARK_SLOTS={env['CITYDATA_AIRFLOW_SPARK_SLOTS']!r} is not a whole "
                             f"number. Fix: unset it (the machine decides) or set e.g. 2") from None
        if slots < 1:
            raise ValueError(f"CITYDATA_AIRFLOW_SPARK_SLOTS={slots}: a pool needs at least 1 slot. Fix: set 1 or more")
        return slots
    cores = cores if cores is not None else (os.cpu_count() or 1)
    memory_bytes = memory_bytes if memory_bytes is not None else os.sysconf("SC_PAGE_SIZE") * os.sysconf(
        "SC_PHYS_PAGES")
    by_cores = cores // SPARK_TASK_CORES
    by_memory = (memory_bytes - AIRFLOW_RESERVED_MEMORY) // SPARK_TASK_MEMORY
    return max(1, min(by_cores, by_memory))


def ensure_spark_pool(env: Mapping[str, str], slots: int | None = None, timeout: float = 300) -> int:
    """Create or resize the pool every Spark-running task of the generated DAGs runs in (`airflow pools set`),
    when its size differs from the one last set in this AIRFLOW_HOME. Returns its slots."""
    from citydata.dag_factory import SPARK_POOL

    slots = spark_pool_slots(env=env) if slots is None else slots
    marker = Path(env["AIRFLOW_HOME"]) / POOL_MARKER
    from citydata.airflow_postgres import mask_url

    wanted = {"pool": SPARK_POOL, "slots": slots,
              "database": mask_url(env.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", ""))}  # no password in a file
    if marker.is_file() and json.loads(marker.read_text(encoding="utf-8")) == wanted:
        return slots
    description = (f"citydata tasks that run Spark: {slots} at once on this machine (docs/airflow.md, 'Pool'; "
                   f"CITYDATA_AIRFLOW_SPARK_SLOTS overrides)")
    done = airflow(["pools", "set", SPARK_POOL, str(slots), description], env, timeout)
    if done.returncode != 0:
        raise AirflowStartError(f"airflow pools set {SPARK_POOL} {slots} failed ({done.returncode}):\n"
                                f"{done.stderr[-4000:]}")
    marker.write_text(json.dumps(wanted), encoding="utf-8")
    return slots


def dags_test(env: Mapping[str, str], dag_id: str, conf: Mapping[str, Any] | None = None,
              timeout: float = 1800) -> subprocess.CompletedProcess[str]:
    """`airflow db migrate` (once per AIRFLOW_HOME) then `airflow dags test <dag_id> [--conf JSON]`: every task of
    one run, in this machine's processes, without a scheduler (asset-triggered DAGs do not follow)."""
    migrate_once(env, timeout)
    args = ["dags", "test", dag_id]
    if conf:
        args += ["--conf", json.dumps(dict(conf))]
    return airflow(args, env, timeout)


def finished_run_id(output: str, dag_id: str) -> str | None:
    """The run id in `airflow dags test`'s "DagRun Finished" line of `dag_id` (None if the run did not finish)."""
    import re

    found = re.findall(rf"DagRun Finished: dag_id={re.escape(dag_id)}, .*?run_id=([^,\s]+),", output)
    return found[-1] if found else None


def task_states(env: Mapping[str, str], dag_id: str, run_id: str, timeout: float = 300) -> dict[str, str]:
    """task id -> state of one run (`airflow tasks states-for-dag-run`)."""
    done = airflow(["tasks", "states-for-dag-run", dag_id, run_id, "--output", "json"], env, timeout)
    if done.returncode != 0:
        raise AirflowStartError(f"airflow tasks states-for-dag-run {dag_id} {run_id} failed ({done.returncode}):\n"
                                f"{done.stderr[-4000:]}")
    rows = json.loads(done.stdout[done.stdout.index("["):])
    return {row["task_id"]: row["state"] for row in rows}


def standalone_env(env: Mapping[str, str], port: int = DEFAULT_PORT) -> dict[str, str]:
    """`env` plus the API server's port, bound to loopback (this is a developer's Airflow)."""
    return {**env, "AIRFLOW__API__PORT": str(port), "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__BASE_URL": f"http://localhost:{port}"}


def airflow_setting(env: Mapping[str, str], section: str, option: str, default: str) -> str:
    """An Airflow setting as Airflow resolves it: AIRFLOW__<SECTION>__<OPTION>, else AIRFLOW_HOME/airflow.cfg,
    else `default` (read without importing Airflow: the port check must answer in a moment)."""
    import configparser

    name = f"AIRFLOW__{section.upper()}__{option.upper()}"
    if env.get(name):
        return env[name]
    cfg = Path(env.get("AIRFLOW_HOME", "")) / "airflow.cfg"
    if env.get("AIRFLOW_HOME") and cfg.is_file():
        parser = configparser.ConfigParser(interpolation=None)
        parser.read(cfg, encoding="utf-8")
        if parser.has_option(section, option) and parser.get(section, option).strip():
            return parser.get(section, option).strip()
    return default


def standalone_ports(env: Mapping[str, str]) -> dict[int, tuple[str, str]]:
    """Every port `airflow standalone` binds with `env` -> (what binds it, how to move it elsewhere)."""
    api = int(airflow_setting(env, "api", "port", str(DEFAULT_PORT)))
    ports = {api: ("the Airflow UI and API", "`citydata airflow --port N`")}
    own = dict(LOG_SERVER_PORTS)
    if airflow_setting(env, "scheduler", "enable_health_check", "False").strip().lower() == "true":
        own[HEALTH_CHECK_PORT[0]] = HEALTH_CHECK_PORT[1]
    for (section, option), (default, what) in own.items():
        port = int(airflow_setting(env, section, option, str(default)))
        setting = f"AIRFLOW__{section.upper()}__{option.upper()} (or [{section}] {option} in airflow.cfg)"
        if port in ports:
            raise PortUnavailableError(
                f"port {port} is {what}'s port: `airflow standalone` binds it itself, so it cannot also serve "
                f"{ports[port][0]}. Fix: choose another port, e.g. `citydata airflow --port {DEFAULT_PORT}`, "
                f"or move {what} with {setting}")
        ports[port] = (what, setting)
    return ports


def check_ports(env: Mapping[str, str]) -> list[int]:
    """Refuse, with PortUnavailableError naming the port, what needs it and the fix, a port standalone would bind
    twice or that is in use; else return them all. Answers in a moment, where Airflow would wait for health
    until its timeout (300 s) and then fail."""
    ports = standalone_ports(env)
    for port, (what, move) in ports.items():
        if not port_is_free(port):
            raise PortUnavailableError(
                f"port {port}, needed for {what}, is in use by another process (another Airflow?). Fix: stop that "
                f"process (`ss -ltnp 'sport = :{port}'` names it) or move {what} with {move}")
    return sorted(ports)


def start_standalone(env: Mapping[str, str], log_file: Path) -> subprocess.Popen[bytes]:
    """Start `airflow standalone` in its own process group, output to `log_file`, after checking its ports
    (PortUnavailableError) and preparing the metadata database with the Spark pool (`migrate_once`)."""
    check_ports(env)
    migrate_once(env)
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
