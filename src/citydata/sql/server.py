"""The JDBC endpoint: Spark's Thrift server started inside the platform's own driver.

`sql_session` builds the platform's session (`get_spark`) with the Thrift server's single-session
mode (every JDBC connection shares the session's temporary views) and the read-only extension.
`SqlEndpoint` registers the lakehouse views (masked for analysts, as stored for a privileged endpoint:
docs/security.md), starts `HiveThriftServer2.startWithContext` on host:port and re-registers views when
their tables get a newer Delta version (`poll`).
"""

from __future__ import annotations

import getpass
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pyspark.sql import SparkSession

from citydata.catalog.access import Audience
from citydata.lakehouse import Lakehouse, get_spark
from citydata.sql.extension import EXTENSION_CLASS, extension_classpath
from citydata.sql.views import LakehouseViews, ViewChange

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 10000
DEFAULT_POLL_SECONDS = 5.0


class SqlEndpointError(RuntimeError):
    """The endpoint cannot start (port taken, a session without the extension, server not listening)."""


def beeline_path() -> Path:
    """`bin/beeline` of the pyspark wheel (Hive's JDBC command-line client)."""
    import pyspark

    return Path(pyspark.__file__).resolve().parent / "bin" / "beeline"


def sql_session(app_name: str, thrift: bool = False) -> SparkSession:
    """The platform's session with the read-only extension (and the Thrift single session if `thrift`).

    Both are static settings: they only take effect on a new session, so this raises if this
    process already runs a session without them.
    """
    conf = {
        "spark.sql.extensions": EXTENSION_CLASS,
        "spark.driver.extraClassPath": str(extension_classpath()),
        # `select * from parquet.`<table folder>`` would read around the masked views; set at build, so
        # RESET restores it too (the extension refuses an analyst's SET of it)
        "spark.sql.runSQLOnFiles": "false",
    }
    if thrift:
        conf["spark.sql.hive.thriftServer.singleSession"] = "true"
    spark = get_spark(app_name=app_name, extra_conf=conf)
    missing = [key for key, value in conf.items()
               if key != "spark.driver.extraClassPath" and spark.conf.get(key, None) != value]
    if missing:
        raise SqlEndpointError(
            f"this process already runs a SparkSession without {', '.join(missing)} (static settings): the SQL "
            "endpoint needs its own process. Fix: run `citydata sql` / `citydata sql serve` on its own.")
    return spark


def _check_port_free(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError as error:
            raise SqlEndpointError(
                f"cannot listen on {host}:{port}: {error.strerror}. Fix: pass another --port (or stop what uses it)."
            ) from error


def _wait_listening(host: str, port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=1.0):
                return
        except OSError:
            time.sleep(0.2)
    raise SqlEndpointError(f"the Thrift server did not listen on {host}:{port} within {timeout:.0f} s "
                           "(see the Spark log above)")


def log_privileged(what: str, lakehouse_root: str) -> None:
    """Record that a session shows raw personal values: who, which process, which lakehouse."""
    log.warning("PRIVILEGED %s: raw personal values visible (user %s, pid %d, lakehouse %s)", what,
                getpass.getuser(), os.getpid(), lakehouse_root)


class SqlEndpoint:
    """Spark's Thrift JDBC server over the lakehouse views of one lakehouse root, for one audience."""

    def __init__(self, lakehouse_root: str | Path, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
                 app_name: str = "citydata-sql", audience: Audience = Audience.ANALYST) -> None:
        self.lakehouse_root = str(lakehouse_root)
        self.host = host
        self.port = port
        self.app_name = app_name
        self.audience = audience
        self.spark: SparkSession | None = None
        self.views: LakehouseViews | None = None
        self._server: Any = None  # the JVM's HiveThriftServer2

    @property
    def jdbc_url(self) -> str:
        return f"jdbc:hive2://{self.host}:{self.port}/default"

    def start(self, timeout: float = 120.0) -> list[str]:
        """Build the session, register every lakehouse view and the reference tables, start the server;
        returns the views' names once the server listens."""
        from citydata.transform.runner import register_reference_views

        _check_port_free(self.host, self.port)
        spark = sql_session(self.app_name, thrift=True)
        self.spark = spark
        if self.audience is Audience.PRIVILEGED:
            log_privileged(f"SQL endpoint on {self.jdbc_url}", self.lakehouse_root)
        self.views = LakehouseViews(Lakehouse(spark, self.lakehouse_root), audience=self.audience)
        self.views.refresh()
        references = register_reference_views(spark)
        context = spark._jsparkSession.sqlContext()
        context.setConf("hive.server2.thrift.port", str(self.port))
        context.setConf("hive.server2.thrift.bind.host", self.host)
        self._server = spark._jvm.org.apache.spark.sql.hive.thriftserver.HiveThriftServer2.startWithContext(
            context)
        _wait_listening(self.host, self.port, timeout)
        log.info("SQL endpoint on %s: %d lakehouse views", self.jdbc_url, len(self.views.names))
        return self.views.names + references

    def poll(self, stop: threading.Event, seconds: float = DEFAULT_POLL_SECONDS,
             on_change: Callable[[ViewChange], None] | None = None) -> None:
        """Until `stop` is set: every `seconds`, re-register the views whose table has a newer version."""
        if self.views is None:
            raise SqlEndpointError("poll() before start()")
        while not stop.wait(seconds):
            for change in self.views.refresh():
                if on_change:
                    on_change(change)

    def stop(self) -> None:
        """Stop the Thrift server and the session."""
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self.spark is not None:
            self.spark.stop()
            self.spark = None
