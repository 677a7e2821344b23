"""The release gate on real Delta tables with real Great Expectations (Spark data source)."""

from __future__ import annotations

import json
from datetime import date

import pytest

from citydata.lakehouse import Lakehouse
from citydata.release.gate import GateError, GateFailed, default_expectations_dir, run_gate
from citydata.standards import idcard

DIM_SCHEMA = (
    "id_number string, name string, gender string, birth_date date, age int, household_id string, "
    "relation_to_head string, district_code string, street_code string, address string, "
    "phone string, registered_on date, as_of_date date"
)
POP_SCHEMA = "district_code string, district_name string, residents bigint, male bigint, female bigint"
AS_OF = date(2026, 6, 30)
MAN = idcard.make("339901", date(1990, 1, 1), 11)
WOMAN = idcard.make("339905", date(1985, 5, 5), 22)
RETIRED = idcard.make("339906", date(1960, 5, 5), 33)


def _resident(number: str, gender: str, birth: date, age: int, district: str) -> tuple:
    return (number, "某某", gender, birth, age, "H1", "户主", district, district + "001", "某路1号",
            "13800000000", date(2000, 1, 1), AS_OF)


GOOD_RESIDENTS = [
    _resident(MAN, "M", date(1990, 1, 1), 36, "339901"),
    _resident(WOMAN, "F", date(1985, 5, 5), 41, "339905"),
    _resident(RETIRED, "M", date(1960, 5, 5), 66, "339906"),  # a retired district's code still passes
]
GOOD_POPULATION = [("339901", "东湖区", 1, 1, 0), ("339904", "北塘区", 0, 0, 0),
                   ("339905", "中和区", 2, 1, 1)]


def _suite_size(dataset: str) -> int:
    return len(json.loads((default_expectations_dir() / f"{dataset}.json").read_text())["expectations"])


@pytest.fixture(scope="module")
def lakes(spark, tmp_path_factory):
    good = Lakehouse(spark, tmp_path_factory.mktemp("good") / "lakehouse")
    good.write(spark.createDataFrame(GOOD_RESIDENTS, DIM_SCHEMA), "gold", "dim_resident", mode="overwrite")
    good.write(spark.createDataFrame(GOOD_POPULATION, POP_SCHEMA), "gold", "population_by_district",
               mode="overwrite")
    bad = Lakehouse(spark, tmp_path_factory.mktemp("bad") / "lakehouse")
    # the same man twice: identity number no longer unique
    bad.write(spark.createDataFrame(GOOD_RESIDENTS + GOOD_RESIDENTS[:1], DIM_SCHEMA),
              "gold", "dim_resident", mode="overwrite")
    bad.write(spark.createDataFrame([
        ("339901", "东湖区", 3, 1, 1),   # male + female <> residents
        ("339999", "不存在区", 1, 1, 0),  # not a district of the city
        ("339905", "中和区", 2, 1, 1),   # fine
    ], POP_SCHEMA), "gold", "population_by_district", mode="overwrite")
    return good, bad


def test_gate_passes_on_good_gold_and_writes_data_docs(spark, lakes, tmp_path) -> None:
    good, _ = lakes
    docs = tmp_path / "releases" / "data-docs"
    result = run_gate(spark, good, ["dim_resident", "population_by_district"], data_docs_dir=docs)
    assert result.success
    for dataset in ("dim_resident", "population_by_district"):
        outcome = result.results[dataset]
        assert outcome["success"] and outcome["failed_expectations"] == []
        assert outcome["statistics"]["evaluated_expectations"] == _suite_size(dataset)
        assert outcome["statistics"]["successful_expectations"] == _suite_size(dataset)
        assert outcome["delta_version"] == good.version("gold", dataset) == 0
        assert list((docs / "validations" / dataset).glob(f"{result.run_name}/**/*.html"))
    assert result.data_docs == docs.resolve() and (docs / "index.html").is_file()
    assert "339906" in result.parameters["city_district_codes"]
    result.raise_for_failure()  # passes silently


def test_gate_fails_on_broken_gold_and_names_each_failing_expectation(spark, lakes, tmp_path) -> None:
    _, bad = lakes
    docs = tmp_path / "data-docs"
    result = run_gate(spark, bad, ["dim_resident", "population_by_district"], data_docs_dir=docs)
    assert not result.success
    assert result.failed_expectations("dim_resident") == ["expect_column_values_to_be_unique(id_number)"]
    [duplicate] = result.results["dim_resident"]["failed_expectations"]
    assert duplicate["unexpected_count"] == 2  # both rows of the duplicated number
    assert sorted(result.failed_expectations("population_by_district")) == [
        "expect_column_values_to_be_in_set(district_code)", "unexpected_rows_expectation"]
    with pytest.raises(GateFailed) as failure:
        result.raise_for_failure()
    message = str(failure.value)
    assert "dim_resident: expect_column_values_to_be_unique(id_number): one row per resident" in message
    assert "population_by_district: unexpected_rows_expectation: male + female = residents" in message
    # the failures are documented, but no personal value is quoted anywhere
    assert MAN not in message
    pages = list(docs.rglob("*.html"))
    assert pages and not any(MAN in page.read_text(encoding="utf-8") for page in pages)


def test_gate_refuses_to_run_without_a_valid_suite(spark, lakes, tmp_path) -> None:
    good, _ = lakes
    with pytest.raises(GateError, match="no expectation suite for dataset 'population_by_street'"):
        run_gate(spark, good, ["population_by_street"], data_docs_dir=tmp_path / "docs")
    suites = tmp_path / "expectations"
    suites.mkdir()
    (suites / "dim_resident.json").write_text(json.dumps({"name": "dim_resident", "expectations": [
        {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "id_number"}},
        {"type": "expect_column_values_to_be_uniq", "kwargs": {"column": "id_number"}},  # typo
    ]}))
    with pytest.raises(GateError, match=r"invalid expectation\(s\) \['expect_column_values_to_be_uniq'\]"):
        run_gate(spark, good, ["dim_resident"], expectations_dir=suites, data_docs_dir=tmp_path / "docs")
