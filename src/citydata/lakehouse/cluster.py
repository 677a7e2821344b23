"""A Spark standalone cluster on this machine: one master and its workers, from the pyspark installation.

`start` launches `spark-class org.apache.spark.deploy.master.Master` and `...worker.Worker` (the pyspark
wheel's `bin/spark-class`) bound to 127.0.0.1, each in a session of its own so it outlives the command that
started it, with logs, pid files and the workers' work folders under `<home>/.cluster/`; it waits until every
worker has registered with the master. `stop` ends them by their pid files and then every process that still
carries the cluster's marker in its environment (executors and their Python workers inherit the worker's
environment), so no JVM is left. A session uses the cluster with `CITYDATA_SPARK_MASTER=<master URL>`
(`get_spark`). Sizes come from the machine (`size_workers`) unless set by environment variables; the ports
avoid the platform's own (Airflow, the SQL endpoint, the portal) and a busy port is refused before anything
starts. Linux only (/proc).
Must not: know about sources, tables or the SparkSession's settings (session.py owns those).
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

from citydata.lakehouse import lifeline
from citydata.ports import port_is_free

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
DEFAULT_WORKERS = 2
DEFAULT_MASTER_PORT = 7077  # Spark's own default; workers take the next ports (7078, 7079, …)
DEFAULT_UI_PORT = 8180  # not Spark's 8080 (Airflow's UI); workers' UIs take the next ports (8181, 8182, …)
DAEMON_MEMORY = "512m"  # heap of the master and worker daemons themselves (Spark's default is 1g)
MIN_WORKER_MEMORY_MB = 1024
MAX_WORKER_MEMORY_MB = 8192
MARKER_VARIABLE = "CITYDATA_CLUSTER"  # in every cluster process's environment: the cluster folder

# Ports the rest of the platform listens on: the cluster never takes them.
PLATFORM_PORTS: dict[int, str] = {
    8080: "the Airflow UI and API (`make airflow`)",
    8793: "Airflow's worker log server",
    8794: "Airflow's triggerer log server",
    8974: "Airflow's scheduler health check",
    10000: "the SQL endpoint (`make sql`)",
    8090: "the open-data portal (`make portal`)",
}


class ClusterError(RuntimeError):
    """The cluster cannot start, or is in a state the command cannot handle (the message says the fix)."""


class ClusterPortError(ClusterError):
    """A port the cluster needs is the platform's own, taken twice, or busy: refused before anything starts."""


@dataclass(frozen=True)
class ClusterConfig:
    """One cluster on this machine: where its files live, its size and its ports."""

    folder: Path  # <home>/.cluster: logs/, pids/, work/ (executors' folders and stderr), local/ (shuffle)
    workers: int = DEFAULT_WORKERS
    worker_cores: int = 1
    worker_memory_mb: int = MIN_WORKER_MEMORY_MB
    master_port: int = DEFAULT_MASTER_PORT
    ui_port: int = DEFAULT_UI_PORT
    host: str = HOST

    @property
    def master_url(self) -> str:
        return f"spark://{self.host}:{self.master_port}"

    @property
    def ui_url(self) -> str:
        return f"http://{self.host}:{self.ui_port}"

    def daemons(self) -> list[str]:
        """Names of the daemons, master first (their pid and log files are named after them)."""
        return ["master", *[f"worker-{i}" for i in range(1, self.workers + 1)]]

    def ports(self) -> dict[int, str]:
        """Every port the cluster binds -> what binds it; raises ClusterPortError when two daemons would share
        one."""
        wanted = [(self.master_port, "the Spark master"), (self.ui_port, "the Spark master's web UI")]
        for i in range(1, self.workers + 1):
            wanted += [(self.master_port + i, f"Spark worker {i}"), (self.ui_port + i, f"Spark worker {i}'s web UI")]
        ports: dict[int, str] = {}
        for port, what in wanted:
            if port in ports:
                raise ClusterPortError(
                    f"port {port} would serve both {ports[port]} and {what}. Fix: set CITYDATA_CLUSTER_MASTER_PORT "
                    f"and CITYDATA_CLUSTER_UI_PORT at least {self.workers + 1} apart")
            ports[port] = what
        return ports

    @classmethod
    def from_env(cls, home: Path, env: Mapping[str, str] | None = None, cores: int | None = None,
                 memory_bytes: int | None = None) -> ClusterConfig:
        """The cluster of the platform home `home`, sized to this machine (`size_workers`) unless
        CITYDATA_CLUSTER_WORKERS / _WORKER_CORES / _WORKER_MEMORY (e.g. 3g, 3072m) / _MASTER_PORT / _UI_PORT
        say otherwise."""
        env = os.environ if env is None else env
        workers = _whole(env, "CITYDATA_CLUSTER_WORKERS", DEFAULT_WORKERS, minimum=1)
        sized_cores, sized_memory = size_workers(workers, cores, memory_bytes)
        memory_text = env.get("CITYDATA_CLUSTER_WORKER_MEMORY")
        return cls(
            folder=Path(home).resolve() / ".cluster",
            workers=workers,
            worker_cores=_whole(env, "CITYDATA_CLUSTER_WORKER_CORES", sized_cores, minimum=1),
            worker_memory_mb=parse_memory_mb(memory_text, "CITYDATA_CLUSTER_WORKER_MEMORY") if memory_text
            else sized_memory,
            master_port=_whole(env, "CITYDATA_CLUSTER_MASTER_PORT", DEFAULT_MASTER_PORT, minimum=1024),
            ui_port=_whole(env, "CITYDATA_CLUSTER_UI_PORT", DEFAULT_UI_PORT, minimum=1024),
        )


@dataclass(frozen=True)
class Daemon:
    """A daemon of a started cluster, as its pid file records it."""

    name: str
    pid: int
    alive: bool  # the recorded process still runs (same pid and start time: not a later process with its pid)


@dataclass(frozen=True)
class ClusterStatus:
    """What runs of a cluster: its daemons, and the workers the master counts as alive (None: master down)."""

    config: ClusterConfig
    daemons: list[Daemon]
    alive_workers: int | None

    @property
    def running(self) -> bool:
        return bool(self.daemons) and all(d.alive for d in self.daemons) and \
            self.alive_workers == self.config.workers


def size_workers(workers: int = DEFAULT_WORKERS, cores: int | None = None,
                 memory_bytes: int | None = None) -> tuple[int, int]:
    """(cores, memory in MiB) of each worker: the machine's cores shared out (at least 1 each), and a quarter
    of its memory shared out, between 1 and 8 GiB each — the rest stays for the driver (2 GiB), Airflow and
    the other engineers' processes. On 2 cores and 24 GiB: 1 core and 3 GiB per worker."""
    cores = cores if cores is not None else (os.cpu_count() or 1)
    if memory_bytes is None:
        memory_bytes = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    memory_mb = memory_bytes // (4 * workers) // (1024 * 1024)
    return max(1, cores // workers), max(MIN_WORKER_MEMORY_MB, min(MAX_WORKER_MEMORY_MB, memory_mb))


def parse_memory_mb(text: str, setting: str) -> int:
    """'3g', '3072m', '3072' (MiB) -> MiB; ValueError naming `setting` otherwise."""
    value = text.strip().lower()
    factor = 1024 if value.endswith("g") else 1
    digits = value[:-1] if value[-1:] in ("g", "m") else value
    if not digits.isdigit() or int(digits) * factor < 512:
        raise ValueError(f"{setting}={text!r} is not a memory size of at least 512 MiB. Fix: write it like 3g or "
                         "3072m")
    return int(digits) * factor


def _whole(env: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    text = env.get(name)
    if not text:
        return default
    if not text.strip().isdigit() or int(text) < minimum:
        raise ValueError(f"{name}={text!r} is not a whole number of at least {minimum}. Fix: unset it (default "
                         f"{default}) or set e.g. {max(default, minimum)}")
    return int(text)


def check_ports(config: ClusterConfig, reserved: Mapping[int, str] = PLATFORM_PORTS) -> list[int]:
    """Refuse (ClusterPortError naming the port, who has it and the fix) a port that is the platform's own or in
    use; else return the cluster's ports."""
    ports = config.ports()
    for port, what in sorted(ports.items()):
        if port in reserved:
            raise ClusterPortError(
                f"port {port}, wanted for {what}, is the port of {reserved[port]}. Fix: set "
                f"CITYDATA_CLUSTER_MASTER_PORT / CITYDATA_CLUSTER_UI_PORT to other ports (defaults "
                f"{DEFAULT_MASTER_PORT} and {DEFAULT_UI_PORT})")
    for port, what in sorted(ports.items()):
        if not port_is_free(port):
            raise ClusterPortError(
                f"port {port}, wanted for {what}, is in use by another process (a cluster already running? "
                f"`citydata cluster status`). Fix: stop that process (`ss -ltnp 'sport = :{port}'` names it) or set "
                f"CITYDATA_CLUSTER_MASTER_PORT / CITYDATA_CLUSTER_UI_PORT to free ports")
    return sorted(ports)


def spark_class() -> Path:
    """`bin/spark-class` of the pyspark installation this interpreter imports."""
    import pyspark

    path = Path(pyspark.__file__).resolve().parent / "bin" / "spark-class"
    if not path.exists():
        raise ClusterError(f"{path} is missing: this pyspark installation cannot start a standalone cluster. Fix: "
                           "reinstall the locked packages (`make venv`)")
    return path


def _pid_file(config: ClusterConfig, name: str) -> Path:
    return config.folder / "pids" / f"{name}.pid"


def log_file(config: ClusterConfig, name: str) -> Path:
    """The daemon's stdout and stderr (Spark's log lines)."""
    return config.folder / "logs" / f"{name}.log"


def _recorded(config: ClusterConfig) -> list[Daemon]:
    daemons = []
    for name in config.daemons():
        pid_file = _pid_file(config, name)
        if not pid_file.exists():
            continue
        pid_text, _, started = pid_file.read_text(encoding="ascii").strip().partition(" ")
        pid = int(pid_text)
        daemons.append(Daemon(name, pid, alive=lifeline._start_time(pid) == started))
    return daemons


def cluster_processes(config: ClusterConfig) -> list[int]:
    """Live processes carrying this cluster's marker: its daemons, their executors and the executors' Python
    workers."""
    return lifeline.holders(str(config.folder), variable=MARKER_VARIABLE)


def master_state(config: ClusterConfig, timeout: float = 2.0) -> dict | None:
    """The master's state (its web UI's /json/: workers, applications), or None when it does not answer."""
    try:
        with urllib.request.urlopen(f"{config.ui_url}/json/", timeout=timeout) as response:
            return json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError):
        return None


def _alive_workers(state: dict | None) -> int | None:
    if state is None:
        return None
    return sum(1 for worker in state.get("workers", []) if worker.get("state") == "ALIVE")


def status(config: ClusterConfig) -> ClusterStatus:
    """The recorded daemons (alive or not) and the master's count of alive workers (None: no master of this
    cluster answers; one not started from its folder is not asked)."""
    daemons = _recorded(config)
    return ClusterStatus(config, daemons, _alive_workers(master_state(config)) if daemons else None)


def _daemon_env(config: ClusterConfig, base: Mapping[str, str]) -> dict[str, str]:
    env = {k: v for k, v in base.items() if k != "CITYDATA_LIFELINE"}  # the cluster outlives its starter
    env.update({
        MARKER_VARIABLE: str(config.folder),
        "SPARK_LOCAL_IP": config.host,
        "SPARK_LOG_DIR": str(config.folder / "logs"),
        "SPARK_WORKER_DIR": str(config.folder / "work"),
        "SPARK_LOCAL_DIRS": str(config.folder / "local"),
        "SPARK_DAEMON_MEMORY": base.get("CITYDATA_CLUSTER_DAEMON_MEMORY", DAEMON_MEMORY),
        # executors' Python workers run the project's interpreter unless the session says otherwise
        "PYSPARK_PYTHON": base.get("PYSPARK_PYTHON", sys.executable),
    })
    return env


def _launch(config: ClusterConfig, name: str, args: list[str], env: Mapping[str, str]) -> int:
    log_path = log_file(config, name)
    with log_path.open("ab") as out:
        process = subprocess.Popen([str(spark_class()), *args], stdin=subprocess.DEVNULL, stdout=out,
                                   stderr=subprocess.STDOUT, env=dict(env), cwd=config.folder,
                                   start_new_session=True)  # spark-class execs java: this pid is the JVM's
    _pid_file(config, name).write_text(f"{process.pid} {lifeline._start_time(process.pid)}\n", encoding="ascii")
    return process.pid


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _wait(config: ClusterConfig, want_workers: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for daemon in _recorded(config):
            if not daemon.alive:
                raise ClusterError(f"Spark {daemon.name} exited while starting; its log "
                                   f"{log_file(config, daemon.name)} ends:\n{_tail(log_file(config, daemon.name))}")
        alive = _alive_workers(master_state(config))
        if alive is not None and alive >= want_workers:
            return
        time.sleep(0.5)
    raise ClusterError(
        f"the Spark master at {config.master_url} did not count {want_workers} alive workers within {timeout:.0f} s "
        f"(logs in {config.folder / 'logs'}). Fix: read the logs; a loaded machine may need a longer --timeout")


def start(config: ClusterConfig, timeout: float = 180.0, env: Mapping[str, str] | None = None) -> ClusterStatus:
    """Start the master and the workers (or return the running cluster) and wait until every worker registered.

    Raises ClusterPortError before starting anything when a port is the platform's own or busy, and
    ClusterError (after stopping what it started) when a daemon exits or the workers do not register in time.
    """
    current = status(config)
    if current.running:
        return current
    if any(d.alive for d in current.daemons):
        raise ClusterError(f"a part of the cluster in {config.folder} runs ("
                           f"{', '.join(d.name for d in current.daemons if d.alive)}) but not all of it. "
                           "Fix: `citydata cluster stop` (make cluster-stop), then start it again")
    check_ports(config)
    for sub in ("logs", "pids", "work", "local"):
        (config.folder / sub).mkdir(parents=True, exist_ok=True)
    daemon_env = _daemon_env(config, os.environ if env is None else env)
    try:
        _launch(config, "master", ["org.apache.spark.deploy.master.Master", "--host", config.host,
                                   "--port", str(config.master_port), "--webui-port", str(config.ui_port)],
                daemon_env)
        _wait(config, 0, timeout)
        for i in range(1, config.workers + 1):
            _launch(config, f"worker-{i}", [
                "org.apache.spark.deploy.worker.Worker", "--host", config.host,
                "--port", str(config.master_port + i), "--webui-port", str(config.ui_port + i),
                "--cores", str(config.worker_cores), "--memory", f"{config.worker_memory_mb}m",
                "--work-dir", str(config.folder / "work" / f"worker-{i}"), config.master_url], daemon_env)
        _wait(config, config.workers, timeout)
    except BaseException:
        stop(config)
        raise
    log.info("Spark cluster up at %s (%d workers)", config.master_url, config.workers)
    return status(config)


def stop(config: ClusterConfig, grace: float = 20.0) -> list[int]:
    """Stop the daemons by their pid files (SIGTERM: a worker kills its executors), give them `grace` seconds,
    then kill what is left of the cluster (SIGKILL to every process carrying its marker). Returns the pids
    ended; an already stopped cluster returns []."""
    daemons = [d for d in _recorded(config) if d.alive]
    for daemon in reversed(daemons):  # workers first: the master then has nobody to reschedule on
        with contextlib.suppress(ProcessLookupError):
            os.kill(daemon.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and cluster_processes(config):
        time.sleep(0.2)
    left = cluster_processes(config)
    for pid in left:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    if left:
        log.warning("killed %d cluster processes still running %.0f s after SIGTERM", len(left), grace)
    _reap([d.pid for d in daemons])
    for name in config.daemons():
        _pid_file(config, name).unlink(missing_ok=True)
    return sorted({d.pid for d in daemons} | set(left))


def _reap(pids: list[int], timeout: float = 5.0) -> None:
    """Collect the exit status of daemons this process started (`start` in a long-running process, a test), so
    none stays behind as a zombie; another process's daemons are its parent's (or init's) to collect."""
    deadline = time.monotonic() + timeout
    waiting = set(pids)
    while waiting and time.monotonic() < deadline:
        for pid in list(waiting):
            try:
                if os.waitpid(pid, os.WNOHANG)[0] == pid:
                    waiting.discard(pid)
            except ChildProcessError:  # not our child, or already collected
                waiting.discard(pid)
        if waiting:
            time.sleep(0.1)
