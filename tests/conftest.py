"""Marks each test by its folder so `-m unit` selects the fast ones; the session's SparkSession and its
shared simulated city (shared_city.py) for the tests that need them."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pyspark.sql import SparkSession
    from shared_city import SharedCity

# Spark's Python workers must run this interpreter (the `delta` data source lives in its path).
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
# A developer's CITYDATA_AIRFLOW_DB would point every Airflow run of the tests at one database: the PostgreSQL
# tests pass their own server's URL explicitly; the others run on their own SQLite.
os.environ.pop("CITYDATA_AIRFLOW_DB", None)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        parts = item.path.parts
        for kind in ("unit", "integration", "e2e"):
            if kind in parts:
                item.add_marker(getattr(pytest.mark, kind))


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SparkSession]:
    """The platform's SparkSession (citydata.lakehouse.get_spark), warehouse in a temp folder."""
    os.environ.setdefault("CITYDATA_SPARK_WAREHOUSE", str(tmp_path_factory.mktemp("spark-warehouse")))
    from citydata.lakehouse import get_spark

    session = get_spark(app_name="citydata-tests")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def shared_city(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> SharedCity:
    """Seed 7's city, days 1-3 through run_day, built once per session (shared_city.py says what it holds)."""
    from shared_city import build_shared_city

    return build_shared_city(spark, tmp_path_factory.mktemp("shared-city"))
