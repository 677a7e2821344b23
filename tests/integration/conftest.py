"""Shared fixtures of the integration tests: one real SparkSession per test run, a lakehouse per test."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# Spark's Python workers must run this interpreter (the `delta` data source lives in its path).
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SparkSession]:  # noqa: F821
    """The platform's SparkSession (citydata.lakehouse.get_spark), warehouse in a temp folder."""
    os.environ.setdefault(
        "CITYDATA_SPARK_WAREHOUSE", str(tmp_path_factory.mktemp("spark-warehouse"))
    )
    from citydata.lakehouse import get_spark

    session = get_spark(app_name="citydata-tests")
    yield session
    session.stop()


@pytest.fixture
def lakehouse(spark: SparkSession, tmp_path: Path) -> Lakehouse:  # noqa: F821
    """An empty Lakehouse rooted in this test's temp folder."""
    from citydata.lakehouse import Lakehouse

    return Lakehouse(spark, tmp_path / "lakehouse")
