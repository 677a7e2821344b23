"""An empty Delta table (0 rows, no data file) read through a `USING delta` view — what dbt's tests do on a
mart that is empty at a date, e.g. no penalty has left publicity yet — returns no rows instead of failing."""

from __future__ import annotations


def test_a_view_over_an_empty_table_reads_no_rows(spark, lakehouse) -> None:
    lakehouse.write(spark.createDataFrame([], "credit_code string, decided_on date"), "gold", "credit_repair")
    spark.sql(f"create or replace temporary view gold_credit_repair_test using delta "
              f"options (path '{lakehouse.path('gold', 'credit_repair')}')")
    assert spark.sql("select count(*) as n from gold_credit_repair_test where credit_code is null").first()["n"] == 0
    assert spark.sql("select * from gold_credit_repair_test").collect() == []
