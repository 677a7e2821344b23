"""Where the lakehouse's tables live: a local folder or an object store (s3://bucket/prefix, oss://, hdfs://).

Owns the driver side of reaching a table root: delta-rs calls with the configured storage options (reading a
table's log, listing versions, committing), the pyarrow filesystem for listing folders and reading files on
the driver, and the early check that Spark can reach a non-local root at all. Spark reaches object stores only
through Hadoop connector jars (hadoop-aws, hadoop-aliyun) that this project's machines cannot download: without
them a read fails deep in the JVM ("No FileSystem for scheme"), so the lakehouse asks first and says what is
missing (docs/scale.md).
Must not: know about layers, tables or the platform's operations (citydata.lakehouse.core).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlparse

import pyarrow.fs as pafs
from deltalake import DeltaTable
from deltalake.exceptions import TableNotFoundError
from pyspark.sql import SparkSession

from pyspark_delta.errors import DeltaBridgeError, DeltaTableNotFoundError
from pyspark_delta.files import filesystem_for
from pyspark_delta.log import check_features, normalize_path

# Hadoop FileSystem classes Spark needs per URI scheme, and the jars that hold them (versions matching the
# Hadoop that pyspark 4.3 ships: hadoop-client-api-3.5.0). None of them is in the pyspark wheel.
SPARK_CONNECTORS: dict[str, str] = {
    "s3": "hadoop-aws-3.5.0.jar + the AWS SDK v2 bundle it was built with (software.amazon.awssdk:bundle), "
          "and spark.hadoop.fs.s3.impl=org.apache.hadoop.fs.s3a.S3AFileSystem",
    "s3a": "hadoop-aws-3.5.0.jar + the AWS SDK v2 bundle it was built with (software.amazon.awssdk:bundle)",
    "oss": "hadoop-aliyun-3.5.0.jar + aliyun-sdk-oss (and its jdom2/jettison dependencies), "
           "or the OSS S3-compatible endpoint through hadoop-aws as s3://",
    "gs": "gcs-connector-hadoop3 (shaded)",
    "abfs": "hadoop-azure-3.5.0.jar", "abfss": "hadoop-azure-3.5.0.jar",
    "hdfs": "nothing (hadoop-client-runtime-3.5.0 in pyspark's jars holds the HDFS client): check the namenode "
            "address and core-site.xml/hdfs-site.xml (HADOOP_CONF_DIR)",
}


class ObjectStoreConnectorError(DeltaBridgeError):
    """Spark was asked to read or write a table root its JVM has no Hadoop FileSystem for."""

    def __init__(self, root: str, scheme: str, detail: str) -> None:
        self.root = root
        self.scheme = scheme
        needed = SPARK_CONNECTORS.get(scheme, f"a Hadoop FileSystem implementation for {scheme}://")
        super().__init__(
            f"Spark cannot read or write the lakehouse root {root!r}: its JVM has no Hadoop FileSystem for "
            f"{scheme}:// ({detail}). Needed on the driver's and executors' classpath (spark.jars, or the "
            f"cluster image's jars/): {needed}. The delta-rs side (Lakehouse.exists/version/history/count/"
            "files/arrow_dataset/write_arrow) works without them; see docs/scale.md."
        )


def scheme_of(root: str) -> str:
    """URI scheme of a table root, lower-case ('' for a plain local path; 'file' for file://)."""
    return urlparse(root).scheme.lower() if "://" in root else ""


def is_local(root: str) -> bool:
    """True for a local folder (plain path or file://): no storage options, every engine reaches it."""
    return scheme_of(root) in ("", "file")


def _delta_options(root: str, options: Mapping[str, str]) -> dict[str, str] | None:
    # the options describe the object store: a local root is opened as it always was, whatever is configured
    return dict(options) if options and not is_local(root) else None


def table_exists(path: str, options: Mapping[str, str]) -> bool:
    """True when `path` holds a Delta table (a readable `_delta_log`), reached with `options`."""
    path = normalize_path(path)
    return DeltaTable.is_deltatable(path, storage_options=_delta_options(path, options))


def open_table(path: str, options: Mapping[str, str], version: int | None = None,
               without_files: bool = False) -> DeltaTable:
    """Open a Delta table with `options` (optionally at a version), refusing features the bridge cannot read."""
    path = normalize_path(path)
    try:
        table = DeltaTable(path, version=version, storage_options=_delta_options(path, options),
                           without_files=without_files)
    except TableNotFoundError as exc:
        raise DeltaTableNotFoundError(path) from exc
    check_features(table, path)
    return table


def _option(options: Mapping[str, str], *names: str) -> str | None:
    """The first of `names` set in `options` (delta-rs accepts its keys in any case and with aliases)."""
    lowered = {k.lower(): v for k, v in options.items()}
    for name in names:
        if name.lower() in lowered:
            return lowered[name.lower()]
    return None


def _true(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def s3_filesystem_arguments(options: Mapping[str, str]) -> dict[str, Any]:
    """pyarrow.fs.S3FileSystem arguments for delta-rs's S3 storage options, so the driver's own listings and
    reads reach the same store as delta-rs (absent keys: pyarrow's default AWS credential chain)."""
    args: dict[str, Any] = {}
    for arg, names in (("access_key", ("AWS_ACCESS_KEY_ID", "ACCESS_KEY_ID")),
                       ("secret_key", ("AWS_SECRET_ACCESS_KEY", "SECRET_ACCESS_KEY")),
                       ("session_token", ("AWS_SESSION_TOKEN", "AWS_TOKEN", "SESSION_TOKEN")),
                       ("region", ("AWS_REGION", "AWS_DEFAULT_REGION", "REGION"))):
        value = _option(options, *names)
        if value:
            args[arg] = value
    endpoint = _option(options, "AWS_ENDPOINT_URL", "AWS_ENDPOINT", "ENDPOINT_URL", "ENDPOINT")
    if endpoint:
        parsed = urlparse(endpoint if "://" in endpoint else f"https://{endpoint}")
        args["endpoint_override"] = parsed.netloc
        args["scheme"] = parsed.scheme
    if _true(_option(options, "AWS_VIRTUAL_HOSTED_STYLE_REQUEST", "VIRTUAL_HOSTED_STYLE_REQUEST")):
        args["force_virtual_addressing"] = True
    return args


def filesystem(uri: str, options: Mapping[str, str]) -> tuple[pafs.FileSystem, str]:
    """(pyarrow filesystem, path inside it) for a local folder or a URI, reached with the storage options."""
    scheme = scheme_of(uri)
    if scheme in ("s3", "s3a"):
        parsed = urlparse(uri)
        inner = f"{parsed.netloc}{parsed.path}".rstrip("/")
        return pafs.S3FileSystem(**s3_filesystem_arguments(options)), inner
    return filesystem_for(uri)


def check_spark_reaches(spark: SparkSession, root: str) -> None:
    """Raise ObjectStoreConnectorError when `root` is not local and Spark's JVM has no Hadoop FileSystem for
    its scheme (asked the way Hadoop itself resolves one: FileSystem.getFileSystemClass)."""
    if is_local(root):
        return
    scheme = scheme_of(root)
    jvm = getattr(spark, "_jvm", None)
    jsc = getattr(spark.sparkContext, "_jsc", None) if jvm is not None else None
    if jvm is None or jsc is None:
        return  # Spark Connect: the server resolves file systems; its own error reaches the caller
    from py4j.protocol import Py4JJavaError

    try:
        jvm.org.apache.hadoop.fs.FileSystem.getFileSystemClass(scheme, jsc.hadoopConfiguration())
    except Py4JJavaError as exc:
        java = exc.java_exception
        detail = f"{java.getClass().getSimpleName()}: {java.getMessage()}"
        # from None: the point is one line an operator can act on, not the JVM's stack trace
        raise ObjectStoreConnectorError(root, scheme, detail) from None
