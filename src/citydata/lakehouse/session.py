"""The platform's SparkSession: one place that decides master, time zone, partitions and folders, and that
the JVM it starts ends with the process that started it (citydata.lakehouse.lifeline)."""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from pathlib import Path

from pyspark.sql import SparkSession

from citydata.lakehouse import lifeline

log = logging.getLogger(__name__)

DEFAULT_MASTER = "local[*]"
DEFAULT_SHUFFLE_PARTITIONS = 4
# The JVM's own log: errors only unless CITYDATA_SPARK_LOG_LEVEL says otherwise. Its warnings are about
# the platform's known choices (no native Hadoop library, a session reused by dbt, Python data sources)
# and drown what a run prints; a failure still reaches the caller as an exception.
DEFAULT_LOG_LEVEL = "ERROR"


def _warehouse_dir() -> str:
    """`spark.sql.warehouse.dir`: inside the project (CITYDATA_HOME) or the temp folder, never ~."""
    explicit = os.environ.get("CITYDATA_SPARK_WAREHOUSE")
    if explicit:
        return explicit
    home = os.environ.get("CITYDATA_HOME")
    base = Path(home) if home else Path(tempfile.gettempdir()) / "citydata"
    return str((base / "spark-warehouse").resolve())


def get_spark(
    app_name: str = "citydata",
    master: str | None = None,
    shuffle_partitions: int | None = None,
    extra_conf: dict[str, str] | None = None,
) -> SparkSession:
    """Return the configured SparkSession (getOrCreate: an active session is reused).

    Master: `master`, else CITYDATA_SPARK_MASTER, else local[*]. Shuffle partitions:
    `shuffle_partitions`, else CITYDATA_SHUFFLE_PARTITIONS, else 4. Driver memory for a new local
    JVM: CITYDATA_SPARK_DRIVER_MEMORY (default 2g). Python workers run this interpreter unless
    PYSPARK_PYTHON is already set (the `delta` data source must be importable there). On a cluster master
    (`spark://…`), see `_cluster_conf`. A JVM started here is killed, with its Python workers, when this process
    ends without stopping it (lifeline); a cluster's executors belong to its workers, which end them when this
    driver goes away (its commits run in the driver's own Python workers, so none lands after).
    """
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    master = master or os.environ.get("CITYDATA_SPARK_MASTER") or DEFAULT_MASTER
    cluster_conf = _cluster_conf(master)
    if master.startswith("local") or "spark.driver.host" in cluster_conf:
        # a local driver (or one whose executors run on this machine's cluster) listens on this machine only
        # (and Spark stops warning that the host name resolves to a loopback address)
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    partitions = shuffle_partitions or int(
        os.environ.get("CITYDATA_SHUFFLE_PARTITIONS", DEFAULT_SHUFFLE_PARTITIONS)
    )
    warehouse = _warehouse_dir()
    builder = (
        SparkSession.builder.appName(app_name)
        .master(master)
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", str(partitions))
        .config("spark.sql.warehouse.dir", warehouse)
        .config("spark.driver.memory", os.environ.get("CITYDATA_SPARK_DRIVER_MEMORY", "2g"))
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.ui.enabled", os.environ.get("CITYDATA_SPARK_UI", "false"))
        .config("spark.sql.adaptive.enabled", "true")
        # native Parquet writes (gold models staged by dbt) in the type delta-rs and pyarrow read, not INT96
        .config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
        # Spark 4.3's partitioning-aware UNION, inside a cached plan that AQE re-optimized, concatenated
        # its children's partitions (3 x 4 = 12) while still reporting hash partitioning by the key, so
        # the join above it failed with "Can't zip RDDs with unequal numbers of partitions: List(4, 12)"
        # (population master at 1M residents; passes with this off). A union then costs a shuffle more.
        .config("spark.sql.unionOutputPartitioning", "false")
        # Lakehouse.read hands Spark explicit file lists: list them on the driver, no extra job.
        .config("spark.sql.sources.parallelPartitionDiscovery.threshold", "1024")
        # Timestamps are stored in UTC; keep the JVM's own zone out of the way too.
        .config("spark.driver.extraJavaOptions", "-Duser.timezone=UTC")
        .config("spark.executor.extraJavaOptions", "-Duser.timezone=UTC")
    )
    for key, value in {**cluster_conf, **(extra_conf or {})}.items():
        builder = builder.config(key, value)
    with lifeline.launching():  # a JVM started here (and its Python workers) dies with this process
        spark = builder.getOrCreate()
    # py4j logs every gateway connection at INFO, some from __del__ at interpreter exit, when the
    # handlers' streams may already be closed ("--- Logging error ---"): keep it to warnings.
    logging.getLogger("py4j").setLevel(logging.WARNING)
    level = os.environ.get("CITYDATA_SPARK_LOG_LEVEL", DEFAULT_LOG_LEVEL)
    spark.sparkContext.setLogLevel(level)
    _quiet_session_reuse(spark, level)
    log.info("SparkSession %s on %s (shuffle partitions %d)", app_name, master, partitions)
    return spark


def _cluster_conf(master: str) -> dict[str, str]:
    """Settings a driver needs on a cluster master (spark://, yarn, k8s://): executors in other processes
    connect back to the driver (spark.driver.host: CITYDATA_SPARK_DRIVER_HOST, else 127.0.0.1 when the master
    is on this machine's loopback, e.g. `citydata cluster start`'s), run the driver's Python for its Python
    workers (spark.pyspark.python; the `delta` data source and citydata must import there) and get
    CITYDATA_SPARK_EXECUTOR_MEMORY / CITYDATA_SPARK_CORES_MAX when set (else Spark's 1g per executor, every
    core of the cluster)."""
    if master.startswith("local"):
        return {}
    conf = {"spark.pyspark.python": os.environ["PYSPARK_PYTHON"]}
    host = master.split("://", 1)[-1].split(":", 1)[0].split(",", 1)[0]
    driver_host = os.environ.get("CITYDATA_SPARK_DRIVER_HOST") or (
        "127.0.0.1" if host in ("127.0.0.1", "localhost") else None)
    if driver_host:
        conf["spark.driver.host"] = driver_host
    for variable, key in (("CITYDATA_SPARK_EXECUTOR_MEMORY", "spark.executor.memory"),
                          ("CITYDATA_SPARK_CORES_MAX", "spark.cores.max")):
        if os.environ.get(variable):
            conf[key] = os.environ[variable]
    return conf


def _quiet_session_reuse(spark: SparkSession, level: str) -> None:
    """dbt-spark asks `SparkSession.builder.enableHiveSupport().getOrCreate()` before every query; the JVM then
    warns "Using an existing Spark session; only runtime SQL configurations will take effect" each time —
    hundreds of lines per build that are not a problem. Only that logger is raised to ERROR."""
    if level.upper() in ("DEBUG", "INFO", "ALL", "TRACE"):
        return
    jvm = spark.sparkContext._jvm  # noqa: SLF001 - log4j is only reachable through the gateway
    if jvm is None:
        return
    configurator = jvm.org.apache.logging.log4j.core.config.Configurator
    error = jvm.org.apache.logging.log4j.Level.ERROR
    for logger in ("org.apache.spark.sql.SparkSession", "org.apache.spark.sql.classic.SparkSession"):
        configurator.setLevel(logger, error)
