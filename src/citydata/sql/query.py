"""One analyst query on a session with the lakehouse views: the rows, cut at a limit, and whether more exist."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pyspark.sql import SparkSession

from citydata.sql.extension import ANALYST_PROPERTY


@dataclass(frozen=True)
class QueryResult:
    """Columns and rows of a query; `truncated` when the query returned more than `limit` rows."""

    columns: list[str]
    rows: list[tuple[Any, ...]]
    limit: int
    truncated: bool


def run_query(spark: SparkSession, statement: str, limit: int = 100) -> QueryResult:
    """Run `statement` as an analyst (the read-only extension checks it) and keep at most `limit` rows.

    The statement is marked with the thread-local property the extension reads, for this call only:
    the platform's own statements on the same thread stay unchecked.
    """
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    context = spark.sparkContext
    previous = context.getLocalProperty(ANALYST_PROPERTY)
    context.setLocalProperty(ANALYST_PROPERTY, "true")
    try:
        df = spark.sql(statement)
        rows = [tuple(row) for row in df.limit(limit + 1).collect()]
    finally:
        context.setLocalProperty(ANALYST_PROPERTY, previous)  # type: ignore[arg-type]  # None clears it
    return QueryResult(columns=list(df.columns), rows=rows[:limit], limit=limit, truncated=len(rows) > limit)
