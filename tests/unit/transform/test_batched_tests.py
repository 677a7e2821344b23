"""The batched data tests' two pure parts: the query of a batch (dbt's get_test_sql per test, a row each) and
dbt's rule for a test's status from its failures (TestRunner.build_test_run_result)."""

from __future__ import annotations

from citydata.transform.batched_tests import CompiledTest, batch_query, judge


def _test(name: str, sql: str, **config: object) -> CompiledTest:
    defaults = {"fail_calc": "count(*)", "warn_if": "!= 0", "error_if": "!= 0", "severity": "ERROR", "limit": None}
    return CompiledTest(f"test.citydata.{name}", name, "model.citydata.dim_resident", sql, **{**defaults, **config})


def test_a_batch_is_one_query_with_a_row_per_test_as_dbt_asks_each() -> None:
    unique = _test("unique_dim_resident_id_number",
                   "select id_number from gold_dim_resident group by id_number having count(*) > 1")
    # a compiled test may end in a line comment: what follows it starts on a new line
    limited = _test("not_null_dim_resident_name", "select name from gold_dim_resident where name is null -- why",
                    limit=10)
    assert batch_query([unique, limited]) == (
        "select 0 as test_index,\n"
        "      count(*) as failures,\n"
        "      count(*) != 0 as should_warn,\n"
        "      count(*) != 0 as should_error\n"
        "    from (\n"
        "select id_number from gold_dim_resident group by id_number having count(*) > 1\n"
        "    ) dbt_internal_test\n"
        "union all\n"
        "select 1 as test_index,\n"
        "      count(*) as failures,\n"
        "      count(*) != 0 as should_warn,\n"
        "      count(*) != 0 as should_error\n"
        "    from (\n"
        "select name from gold_dim_resident where name is null -- why\n"
        "      limit 10\n"
        "    ) dbt_internal_test")


def test_status_follows_dbts_rule() -> None:
    error = _test("t", "select 1")
    assert judge(error, 0, False, False) == ("pass", None)
    assert judge(error, 1, True, True) == ("fail", "Got 1 result, configured to fail if != 0")
    assert judge(error, 3, True, True) == ("fail", "Got 3 results, configured to fail if != 0")
    # severity warn: never fails, warns past warn_if
    warn = _test("t", "select 1", severity="warn")
    assert judge(warn, 2, True, True) == ("warn", "Got 2 results, configured to warn if != 0")
    # thresholds: error past 10 rows, warn past 0
    thresholds = _test("t", "select 1", warn_if="> 0", error_if="> 10")
    assert judge(thresholds, 4, True, False) == ("warn", "Got 4 results, configured to warn if > 0")
    assert judge(thresholds, 11, True, True) == ("fail", "Got 11 results, configured to fail if > 10")
