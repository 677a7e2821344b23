"""Spark SQL for analysts: the JDBC endpoint (`citydata sql serve`) and one-off queries (`citydata sql`).

Owns: the session the endpoint runs on (the platform's `get_spark` with the Thrift server's single
session and the read-only extension), the lakehouse views it serves (`<layer>_<table>`, personal values
masked for analysts by `citydata.catalog.access`, re-registered when a newer Delta version is committed),
the read-only extension's build, and running one query.
Must not: write to the lakehouse — analysts read; tables change only through the pipeline.
"""

from citydata.sql.extension import (
    ANALYST_PROPERTY,
    EXTENSION_CLASS,
    ExtensionBuildError,
    extension_classpath,
)
from citydata.sql.query import QueryResult, run_query
from citydata.sql.server import SqlEndpoint, SqlEndpointError, beeline_path, log_privileged, sql_session
from citydata.sql.views import LakehouseViews, ViewChange, audience_view, masked

__all__ = [
    "ANALYST_PROPERTY",
    "EXTENSION_CLASS",
    "ExtensionBuildError",
    "LakehouseViews",
    "QueryResult",
    "SqlEndpoint",
    "SqlEndpointError",
    "ViewChange",
    "audience_view",
    "beeline_path",
    "extension_classpath",
    "log_privileged",
    "masked",
    "run_query",
    "sql_session",
]
