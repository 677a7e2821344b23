"""`citydata sql serve` as analysts use it: a real Thrift JDBC server in its own process, real beeline.

One server for the module (a JVM start costs tens of seconds here); the tests run in file order and
only the last one changes the lakehouse. Every beeline call is a JVM too, so each test sends its
statements in one call and reads one outcome per statement.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from jdbc_client import beeline, serving
from pyspark.sql import functions as F

from citydata.catalog.access import Audience
from citydata.lakehouse import Lakehouse
from citydata.sql import LakehouseViews, run_query

READ_ONLY = "citydata SQL endpoint is read-only"

# silver.person: who lives where (the columns analysts group by); every row is there for a reason
PERSONS = [
    ("110101199001010011", "张一", "M", "339901"),  # 东湖区: two men and a woman
    ("110101199002020022", "李二", "F", "339901"),
    ("110101199003030033", "王三", "M", "339901"),
    ("110101198001010044", "赵四", "F", "339902"),  # 西山区: one woman
    ("110101197001010055", "钱五", "M", "339903"),  # 南江区: a man and a woman
    ("110101197002020066", "孙六", "F", "339903"),
]
# gold.credit_status: the truth file's columns (credit_code, licences_valid, penalties_in_publicity,
# red_list, black_list)
CREDIT = [
    ("91339901MA0000001X", 2, 0, 1, 0),  # red-listed only
    ("91339901MA0000002Y", 0, 3, 0, 1),  # black-listed, penalties in publicity
    ("91339902MA0000003A", 1, 0, 0, 0),  # clean
    ("91339903MA0000004B", 0, 1, 0, 1),  # black-listed
]


def _files(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): p.stat().st_size for p in root.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def lake(spark, tmp_path_factory) -> Lakehouse:
    lh = Lakehouse(spark, tmp_path_factory.mktemp("sql-lake") / "lakehouse")
    people = spark.createDataFrame(PERSONS, "id_number string, name string, gender string, district_code string")
    lh.write(people, "silver", "person", mode="overwrite")
    by_district = people.groupBy("district_code").agg(F.count("*").alias("residents"))
    lh.write(by_district, "gold", "population_by_district", mode="overwrite")
    credit = spark.createDataFrame(CREDIT, "credit_code string, licences_valid int, penalties_in_publicity int, "
                                           "red_list int, black_list int")
    lh.write(credit, "gold", "credit_status", mode="overwrite")
    return lh


@pytest.fixture(scope="module")
def endpoint(lake, tmp_path_factory):
    """`citydata sql serve` on a free port (polling every second), stopped with Ctrl-C at the end."""
    logs = tmp_path_factory.mktemp("sql-serve")
    with serving(lake.root, logs, "--poll", "1") as port:
        yield port, logs


def test_analysts_answer_residents_per_district_and_black_listed_entities(endpoint, lake, tmp_path) -> None:
    port, logs = endpoint
    out = (logs / "stdout").read_text()
    assert f"jdbc:hive2://127.0.0.1:{port}/default" in out and "beeline" in out
    views, residents, from_silver, black = beeline(port, [
        "show views",
        "select district_code, residents from gold_population_by_district order by district_code",
        "select district_code, count(*) as residents from silver_person group by district_code order by 1",
        "select credit_code from gold_credit_status where black_list = 1 order by credit_code",
    ], tmp_path)
    names = {row[1] for row in views.rows}
    assert {"silver_person", "gold_population_by_district", "gold_credit_status", "standards_divisions"} <= names
    expected = sorted([r["district_code"], str(r["residents"])] for r in lake.read("gold", "population_by_district")
                      .collect())
    assert residents.header == ["district_code", "residents"]
    assert residents.rows == expected == [["339901", "3"], ["339902", "1"], ["339903", "2"]]
    assert from_silver.rows == expected
    assert black.rows == [[r["credit_code"]] for r in lake.read("gold", "credit_status", where="black_list = 1")
                          .orderBy("credit_code").collect()]
    assert black.rows == [["91339901MA0000002Y"], ["91339903MA0000004B"]]


def test_analysts_may_describe_cache_and_keep_their_own_views(endpoint, tmp_path) -> None:
    port, _ = endpoint
    outcomes = beeline(port, [
        "describe gold_credit_status",
        "explain select count(*) from gold_credit_status",
        "cache table gold_credit_status",
        "uncache table gold_credit_status",
        "set spark.sql.shuffle.partitions=2",
        "create temporary view my_black_list as select credit_code from gold_credit_status where black_list = 1",
        ("create or replace temporary view my_black_list as select count(*) as n from gold_credit_status "
         "where black_list = 1"),
        "select n from my_black_list",
        "drop view my_black_list",
    ], tmp_path)
    assert [o.error for o in outcomes] == [None] * len(outcomes)
    assert [row[0] for row in outcomes[0].rows] == [
        "credit_code", "licences_valid", "penalties_in_publicity", "red_list", "black_list"]
    assert outcomes[7].rows == [["2"]]


REFUSED = {
    "drop view gold_population_by_district": "DROP VIEW gold_population_by_district refused",
    "insert into gold_credit_status values ('91339909MA0000009C', 0, 0, 0, 1)":
        "INSERT INTO gold_credit_status refused",
    "insert overwrite gold_credit_status select * from gold_credit_status":
        "INSERT OVERWRITE gold_credit_status refused",
    "create or replace temporary view gold_credit_status as select 1 as credit_code":
        "CREATE VIEW gold_credit_status refused (gold_credit_status is a lakehouse view",
    "drop table silver_person": "DROP TABLE silver_person refused",
    "truncate table gold_credit_status": "TRUNCATE TABLE gold_credit_status refused",
    "delete from gold_credit_status where black_list = 1": "DELETE FROM gold_credit_status refused",
    "update gold_credit_status set black_list = 0": "UPDATE gold_credit_status refused",
    ("merge into gold_credit_status t using gold_credit_status s on t.credit_code = s.credit_code "
     "when matched then delete"): "MERGE INTO gold_credit_status refused",
    "alter view gold_credit_status as select 1 as x": "ALTER VIEW gold_credit_status refused",
    "create table copy_of_credit as select * from gold_credit_status": "CREATE TABLE copy_of_credit refused",
    "execute immediate 'drop view gold_credit_status'": "DROP VIEW gold_credit_status refused",
    "with b as (select * from gold_credit_status) insert into gold_credit_status select * from b":
        "INSERT INTO gold_credit_status refused",
    "select transform(credit_code) using 'cat' as (x) from gold_credit_status": "TRANSFORM … USING refused",
    "select reflect('java.lang.System', 'getProperty', 'user.dir')": "reflect(…) refused",
    "add jar /tmp/none.jar": "ADD JAR refused",
}


def test_statements_that_would_change_the_lakehouse_are_refused_and_nothing_changes(
        endpoint, lake, tmp_path) -> None:
    port, _ = endpoint
    root = Path(lake.root)
    versions = {t: lake.version(*t) for t in lake.tables()}
    files = _files(root)
    # the lakehouse's own folders, written through paths instead of views
    by_path = {
        f"create temporary view sink using delta options (path '{root}/gold/credit_status')":
            "CREATE TEMPORARY VIEW … USING sink refused",
        f"insert overwrite directory '{root}/gold/credit_status' using parquet select 1 as x":
            "INSERT OVERWRITE DIRECTORY refused",
    }
    statements = [*REFUSED, *by_path, "select count(*) from gold_population_by_district"]
    outcomes = beeline(port, statements, tmp_path, force=True)
    for statement, expected, outcome in zip(statements, [*REFUSED.values(), *by_path.values()], outcomes):
        assert outcome.error and f"{READ_ONLY}: {expected}" in outcome.error, (statement, outcome)
    assert outcomes[-1].error is None and outcomes[-1].rows == [["3"]]  # the view still answers
    assert {t: lake.version(*t) for t in lake.tables()} == versions
    assert _files(root) == files


def test_a_newly_committed_version_becomes_visible(endpoint, lake, spark, tmp_path) -> None:
    port, logs = endpoint
    listed = spark.createDataFrame([("91339902MA0000005D", 0, 2, 0, 1)], lake.read("gold", "credit_status").schema)
    lake.write(listed, "gold", "credit_status", mode="append")  # version 1
    # a table that did not exist; its catalog item classifies every column but `remark`, which analysts
    # therefore do not see (docs/security.md: a column nobody classified is left out)
    fresh = spark.createDataFrame([("339901", "339901001", 7, "checked by hand")],
                                  "district_code string, street_code string, households int, remark string")
    lake.write(fresh, "gold", "households_by_street", mode="overwrite")
    deadline = time.monotonic() + 120
    while True:
        black, new, remark = beeline(port, ["select count(*) from gold_credit_status where black_list = 1",
                                            "select households from gold_households_by_street",
                                            "select remark from gold_households_by_street"], tmp_path, force=True)
        if black.rows == [["3"]] and new.rows == [["7"]]:
            break
        assert time.monotonic() < deadline, (black, new)
        time.sleep(1)
    assert remark.error and "remark" in remark.error, remark
    out = (logs / "stdout").read_text()
    assert "gold_credit_status: re-registered (version 0 -> 1)" in out
    assert "gold_households_by_street: registered (version 0)" in out
    assert ("gold_households_by_street: columns without a classification left out of the analysts' view: remark"
            in (logs / "stderr").read_text())


def test_run_query_keeps_at_most_the_limit_and_says_when_it_cut(lake, spark) -> None:
    # as stored: the session is the test session's, whose other tests read the raw views the platform registers
    LakehouseViews(lake, audience=Audience.PRIVILEGED).refresh()
    statement = "select district_code, residents from gold_population_by_district order by district_code"
    cut = run_query(spark, statement, limit=2)
    assert cut.columns == ["district_code", "residents"]
    assert cut.rows == [("339901", 3), ("339902", 1)] and cut.truncated
    whole = run_query(spark, statement, limit=3)
    assert len(whole.rows) == 3 and not whole.truncated


def test_one_query_from_the_command_line_is_read_only_too(lake) -> None:
    env = {**os.environ, "CITYDATA_SPARK_WAREHOUSE": str(Path(lake.root).parent / "warehouse")}
    # a SQL script is checked statement by statement (like EXECUTE IMMEDIATE): nothing of it runs
    done = subprocess.run(
        [sys.executable, "-m", "citydata.cli", "sql", "--lakehouse", lake.root, "--format", "csv",
         "BEGIN SELECT 1; DROP VIEW gold_credit_status; END"],
        capture_output=True, text=True, env=env, timeout=600, check=False)
    assert done.returncode == 1, done.stderr[-3000:]
    assert f"{READ_ONLY}: DROP VIEW gold_credit_status refused" in " ".join(done.stderr.split())
    assert done.stdout == ""
