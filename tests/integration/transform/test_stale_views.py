"""run_dbt registers a view per lakehouse table; views another lakehouse left in the session must go, else
the delta_table materialization would compare a model with the other lakehouse's table."""

from __future__ import annotations

import pytest

from citydata.transform.runner import drop_stale_views

pytestmark = pytest.mark.integration

MADE = ("gold_kept", "gold_left_behind", "silver_left_behind", "analyst_scratch")


def test_views_of_tables_this_lakehouse_lacks_are_dropped_others_kept(spark) -> None:
    # views earlier tests of the session registered are kept: this test leaves the session as it found it
    earlier = {t.name for t in spark.catalog.listTables() if t.isTemporary}
    for name in MADE:
        spark.range(1).createOrReplaceTempView(name)
    try:
        dropped = drop_stale_views(spark, ["silver", "gold"], keep=[*earlier, "gold_kept"])
        views = {t.name for t in spark.catalog.listTables() if t.isTemporary}
        assert sorted(dropped) == ["gold_left_behind", "silver_left_behind"]
        assert {"gold_kept", "analyst_scratch"} | earlier <= views
        assert not {"gold_left_behind", "silver_left_behind"} & views
    finally:
        for name in MADE:
            spark.catalog.dropTempView(name)
