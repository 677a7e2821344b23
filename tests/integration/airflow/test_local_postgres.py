"""The project-local PostgreSQL (`citydata.airflow_postgres`) on Debian's server programs: created, started on a
loopback port with the `airflow` database, reachable with its password only, restarted on the same port, stopped.
As root it runs as `postgres`, which must be able to reach its folder: refused before initdb otherwise."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

import psycopg2
import pytest

from citydata.airflow_postgres import LocalPostgres, PostgresError


@pytest.fixture
def server() -> LocalPostgres:
    # /tmp itself, not tmp_path: tmp_path's parents are 0700, closed to `postgres` when the tests run as root
    server = LocalPostgres(Path(tempfile.mkdtemp(prefix="citydata-postgres-")))
    yield server
    server.stop()
    shutil.rmtree(server.root, ignore_errors=True)


def test_start_stop_and_restart_on_the_same_port(server: LocalPostgres) -> None:
    started = time.monotonic()
    port = server.start()
    print(f"initdb + start: {time.monotonic() - started:.1f} s")
    assert server.running() and server.url().endswith(f"@127.0.0.1:{port}/airflow")
    with psycopg2.connect(server.url()) as connection, connection.cursor() as cursor:
        cursor.execute("select current_database(), current_user, inet_server_port()")
        assert cursor.fetchone() == ("airflow", "citydata", port)
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        psycopg2.connect(server.url().replace(":" + server.password_file.read_text().strip() + "@", ":wrong@"))
    assert oct(server.password_file.stat().st_mode & 0o777) == "0o600"
    assert server.tables() == set()

    assert server.start() == port  # already running: the same server
    assert server.stop() is True and not server.running() and server.stop() is False
    assert server.start() == port  # the last port again, the cluster and its database kept
    with psycopg2.connect(server.url()) as connection, connection.cursor() as cursor:
        cursor.execute("select count(*) from pg_database where datname = 'airflow'")
        assert cursor.fetchone() == (1,)


@pytest.mark.skipif(os.geteuid() != 0, reason="only root hands the server to another account")
def test_a_folder_the_server_account_cannot_reach_is_refused_before_initdb(tmp_path: Path) -> None:
    closed = tmp_path / "closed"
    closed.mkdir(mode=0o700)
    server = LocalPostgres(closed / "pg")
    with pytest.raises(PostgresError, match=r"closed to 'postgres'.*Fix: put the server elsewhere with "
                                            r"CITYDATA_POSTGRES_DIR"):
        server.start()
    assert not (server.root / "data").exists()
