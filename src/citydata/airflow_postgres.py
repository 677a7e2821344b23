"""A project-local PostgreSQL for Airflow's metadata database: Debian's server programs (`initdb`, `pg_ctl`) run a
server on a free loopback port with its data, unix socket, password and log in one folder of the project's home
(default `$CITYDATA_HOME/.postgres`), never a system service. `citydata airflow` with `CITYDATA_AIRFLOW_DB=local`,
`citydata postgres start|stop|status` and the e2e test share it.

Owns starting, stopping and addressing that server; it knows nothing of Airflow (`citydata.airflow_local` turns
the URL into Airflow's settings). PostgreSQL refuses to run as root: as root the server runs as the `postgres`
user the Debian package creates (CITYDATA_POSTGRES_USER overrides), which then owns the folder.
"""

from __future__ import annotations

import logging
import os
import pwd
import re
import secrets
import shutil
import stat
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from citydata.ports import LOOPBACK, free_port, port_is_free

log = logging.getLogger(__name__)

SUPERUSER = "citydata"  # the server's one role; scram-sha-256 password in <root>/password
DATABASE = "airflow"
FOLDER_NAME = ".postgres"
DEBIAN_SERVER_ROOT = Path("/usr/lib/postgresql")


class PostgresError(RuntimeError):
    """The project-local PostgreSQL could not be set up, started, reached or stopped."""


class PostgresNotInstalledError(PostgresError):
    """Debian's PostgreSQL server programs are not on this machine."""


def server_bin_dir(env: Mapping[str, str] | None = None) -> Path:
    """The folder holding `initdb`, `pg_ctl` and `postgres`: CITYDATA_POSTGRES_BIN, else the newest
    /usr/lib/postgresql/<version>/bin (Debian puts them there, off PATH), else `pg_ctl` on PATH."""
    env = os.environ if env is None else env
    if env.get("CITYDATA_POSTGRES_BIN"):
        folder = Path(env["CITYDATA_POSTGRES_BIN"])
        if not (folder / "pg_ctl").is_file():
            raise PostgresNotInstalledError(f"CITYDATA_POSTGRES_BIN={folder} holds no pg_ctl. Fix: point it at the "
                                            f"folder of initdb and pg_ctl, or unset it")
        return folder

    def version(pg_ctl: Path) -> tuple[int, ...]:
        return tuple(int(part) for part in re.findall(r"\d+", pg_ctl.parent.parent.name)) or (0,)

    found = sorted(DEBIAN_SERVER_ROOT.glob("*/bin/pg_ctl"), key=version)
    if found:
        return found[-1].parent
    on_path = shutil.which("pg_ctl")
    if on_path and shutil.which("initdb"):
        return Path(on_path).resolve().parent
    raise PostgresNotInstalledError(
        f"PostgreSQL's server programs (initdb, pg_ctl) are neither in {DEBIAN_SERVER_ROOT}/<version>/bin nor on "
        f"PATH. Fix: `make postgres` (apt-get install postgresql), or set CITYDATA_POSTGRES_BIN")


def default_root(home: Path, env: Mapping[str, str] | None = None) -> Path:
    """Where the project's server lives: CITYDATA_POSTGRES_DIR, else <home>/.postgres."""
    env = os.environ if env is None else env
    return Path(env.get("CITYDATA_POSTGRES_DIR") or Path(home) / FOLDER_NAME).resolve()


def mask_url(url: str) -> str:
    """`url` with its password replaced by ***, for messages, logs and files."""
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", url)


@dataclass(frozen=True)
class LocalPostgres:
    """The server in `root`: data/ (the cluster), run/ (unix socket, 0700), password, port, postgres.log."""

    root: Path

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "run"

    @property
    def log_file(self) -> Path:
        return self.root / "postgres.log"

    @property
    def password_file(self) -> Path:
        return self.root / "password"

    @property
    def port_file(self) -> Path:
        return self.root / "port"

    @property
    def port(self) -> int | None:
        """The port the server was last started on (None before its first start)."""
        return int(self.port_file.read_text(encoding="utf-8")) if self.port_file.is_file() else None

    def url(self, database: str = DATABASE) -> str:
        """SQLAlchemy URL of `database` on the running server (psycopg2; Airflow derives its asyncpg one)."""
        if not self.running():
            raise PostgresError(f"the project's PostgreSQL in {self.root} is not running. Fix: `citydata postgres "
                                f"start` (or `citydata airflow` with CITYDATA_AIRFLOW_DB=local, which starts it)")
        password = self.password_file.read_text(encoding="utf-8").strip()
        return f"postgresql://{SUPERUSER}:{password}@127.0.0.1:{self.port}/{database}"

    def running(self) -> bool:
        """`pg_ctl status`: a server runs on this data folder."""
        if not (self.data / "PG_VERSION").is_file():
            return False
        return self._pg_ctl(["status"], check=False).returncode == 0

    def start(self, port: int | None = None, timeout: float = 120) -> int:
        """Create the cluster on first use (role `citydata`, scram-sha-256, UTF-8), start the server on loopback
        `port` (default: a free one) unless it already runs, and create the `airflow` database. Returns the port."""
        self._prepare()
        if self.running():
            log.info("PostgreSQL already running in %s on port %s", self.root, self.port)
        else:
            # the last port again when it is free, so an operator's URL stays the same across restarts
            port = port or (self.port if self.port and port_is_free(self.port, LOOPBACK) else free_port())
            options = f"-p {port} -k {self.socket_dir} -c listen_addresses=127.0.0.1"
            started = self._pg_ctl(["-l", str(self.log_file), "-w", "-t", str(int(timeout)), "-o", options, "start"],
                                   check=False, timeout=timeout + 30)
            if started.returncode != 0:
                raise PostgresError(f"pg_ctl start on {self.data} (port {port}) failed ({started.returncode}): "
                                    f"{(started.stderr or started.stdout).strip()[-2000:]}; see {self.log_file}. "
                                    f"Fix: read the log; another server on that port or folder must stop first")
            self.port_file.write_text(str(port), encoding="utf-8")
            log.info("PostgreSQL started in %s on 127.0.0.1:%s", self.root, port)
        self._create_database(DATABASE)
        assert self.port is not None
        return self.port

    def stop(self, timeout: float = 60) -> bool:
        """Stop the server (fast shutdown: open sessions are ended). False when none was running."""
        if not self.running():
            return False
        stopped = self._pg_ctl(["-m", "fast", "-w", "-t", str(int(timeout)), "stop"], check=False,
                               timeout=timeout + 30)
        if stopped.returncode != 0:
            raise PostgresError(f"pg_ctl stop on {self.data} failed ({stopped.returncode}): "
                                f"{(stopped.stderr or stopped.stdout).strip()[-2000:]}; see {self.log_file}")
        return True

    def tables(self, database: str = DATABASE) -> set[str]:
        """Names of the tables in `database`'s public schema (what a migration created there)."""
        import psycopg2

        with psycopg2.connect(self.url(database)) as connection, connection.cursor() as cursor:
            cursor.execute("select table_name from information_schema.tables where table_schema = 'public'")
            return {name for (name,) in cursor.fetchall()}

    # -- internals ---------------------------------------------------------------------------------------

    def _server_user(self) -> pwd.struct_passwd | None:
        """The account the server runs as: None (this one) unless we are root, which PostgreSQL refuses."""
        if os.geteuid() != 0:
            return None
        name = os.environ.get("CITYDATA_POSTGRES_USER", "postgres")
        try:
            return pwd.getpwnam(name)
        except KeyError:
            raise PostgresError(f"PostgreSQL refuses to run as root and there is no user {name!r} to run it as. "
                                f"Fix: `make postgres` (Debian's package creates `postgres`), or set "
                                f"CITYDATA_POSTGRES_USER to an existing unprivileged user") from None

    def _prepare(self) -> None:
        """Folder, password and cluster, owned by the server's account; initdb on first use."""
        user = self._server_user()
        self.root.mkdir(parents=True, exist_ok=True)
        if user is not None:
            self._check_reachable(user)
        if not self.password_file.is_file():
            self.password_file.write_text(secrets.token_urlsafe(24), encoding="utf-8")
        for path in (self.root, self.socket_dir):
            path.mkdir(exist_ok=True)
            path.chmod(0o700)
        self.password_file.chmod(0o600)
        if user is not None:
            for path in (self.root, self.socket_dir, self.password_file, *self.root.glob("*")):
                os.chown(path, user.pw_uid, user.pw_gid)
        if (self.data / "PG_VERSION").is_file():
            return
        done = self._run(["initdb", "-D", str(self.data), "-U", SUPERUSER, "-A", "scram-sha-256",
                          f"--pwfile={self.password_file}", "-E", "UTF8", "--no-locale"], check=False, timeout=300)
        if done.returncode != 0:
            raise PostgresError(f"initdb -D {self.data} failed ({done.returncode}): "
                                f"{(done.stderr or done.stdout).strip()[-2000:]}. Fix: remove {self.data} if a "
                                f"previous initdb was cut off, then start again")

    def _check_reachable(self, user: pwd.struct_passwd) -> None:
        """Every folder above root must let the server's account through, or initdb fails obscurely."""
        for folder in self.root.parents:
            mode = os.stat(folder)
            if mode.st_mode & stat.S_IXOTH or mode.st_uid == user.pw_uid or (
                    mode.st_gid == user.pw_gid and mode.st_mode & stat.S_IXGRP):
                continue
            raise PostgresError(f"{folder} (mode {stat.filemode(mode.st_mode)}) is closed to {user.pw_name!r}, the "
                                f"account PostgreSQL runs as (it refuses root), so it cannot reach {self.root}. "
                                f"Fix: put the server elsewhere with CITYDATA_POSTGRES_DIR=/var/tmp/citydata-postgres, "
                                f"or `chmod o+x {folder}`")

    def _pg_ctl(self, args: list[str], check: bool, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return self._run(["pg_ctl", "-D", str(self.data), *args], check=check, timeout=timeout)

    def _run(self, command: list[str], check: bool, timeout: float) -> subprocess.CompletedProcess[str]:
        user = self._server_user()
        program = str(server_bin_dir() / command[0])
        extra = {} if user is None else {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
        if user is not None:
            env["HOME"] = user.pw_dir
        # with -l, pg_ctl starts the server with its output in the log file, so the pipes here close with pg_ctl
        with open(os.devnull, "rb") as stdin:
            return subprocess.run([program, *command[1:]], stdin=stdin, capture_output=True, text=True,
                                  timeout=timeout, check=check, cwd=self.root, env=env, **extra)

    def _create_database(self, database: str) -> None:
        import psycopg2

        password = self.password_file.read_text(encoding="utf-8").strip()
        connection = psycopg2.connect(host="127.0.0.1", port=self.port, user=SUPERUSER, password=password,
                                      dbname="postgres", connect_timeout=30)
        try:
            connection.autocommit = True  # CREATE DATABASE cannot run inside a transaction
            with connection.cursor() as cursor:
                cursor.execute("select 1 from pg_database where datname = %s", (database,))
                if cursor.fetchone() is None:
                    cursor.execute(f'create database "{database}"')
        finally:
            connection.close()
