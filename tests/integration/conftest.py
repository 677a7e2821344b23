"""Shared fixtures of the integration tests: a lakehouse per test (the SparkSession is the session's, in
tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from citydata.lakehouse import Lakehouse


@pytest.fixture
def lakehouse(spark: SparkSession, tmp_path: Path) -> Lakehouse:
    """An empty Lakehouse rooted in this test's temp folder."""
    from citydata.lakehouse import Lakehouse

    return Lakehouse(spark, tmp_path / "lakehouse")
