"""Suite generation from the catalog items and the dbt YAML, without Spark or GX."""

from __future__ import annotations

from dataclasses import replace

import pytest

from citydata.catalog.items import load_item, released_items
from citydata.release.gate import default_expectations_dir, load_suite_spec, suite_datasets
from citydata.release.suites import (
    SuiteError,
    build_suite,
    dbt_models,
    generated_suites,
    main,
    render,
    stale_files,
)


def _by_type(spec: dict) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for e in spec["expectations"]:
        out.setdefault(e["type"], []).append(e["kwargs"])
    return out


def test_committed_generated_suites_equal_generation() -> None:
    problems = stale_files(default_expectations_dir(), generated_suites())
    assert problems == [], "run: python -m citydata.release.suites --write"
    assert main(["--check"]) == 0


def test_the_released_datasets_are_the_catalog_items() -> None:
    assert suite_datasets() == sorted(item.table for item in released_items())
    assert set(suite_datasets()) == set(generated_suites())


def test_population_by_district_suite() -> None:
    spec = generated_suites()["population_by_district"]
    kinds = _by_type(spec)
    assert spec["expectations"][0] == {"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 1},
                                       "description": "at least one row"}
    assert kinds["expect_table_columns_to_match_ordered_list"] == [
        {"column_list": ["district_code", "district_name", "residents", "male", "female"]}]
    assert kinds["expect_column_values_to_be_unique"] == [{"column": "district_code"}]  # key, not twice
    assert {"column": "district_code", "value_set": {"$PARAMETER": "city_district_codes"}} in kinds[
        "expect_column_values_to_be_in_set"]
    assert sorted(k["column"] for k in kinds["expect_column_values_to_not_be_null"]) == [
        "district_code", "district_name", "female", "male", "residents"]
    assert {"column": "male", "min_value": 0} in kinds["expect_column_values_to_be_between"]
    assert kinds["unexpected_rows_expectation"] == [{"unexpected_rows_query": (
        "select district_code, residents, male, female from {batch} where residents <> male + female")}]
    drift = [e for e in spec["expectations"] if "drift" in e.get("meta", {})]
    assert [e["meta"]["drift"] for e in drift] == [{"rows": 0.2}, {"column": "residents", "band": 0.05},
                                                   {"column": "male", "band": 0.05},
                                                   {"column": "female", "band": 0.05}]
    assert drift[1]["kwargs"] == {"column": "residents", "min_value": {"$PARAMETER": "drift_sum_min__residents"},
                                  "max_value": {"$PARAMETER": "drift_sum_max__residents"}}


def test_compound_keys_codes_of_the_standards_and_listings_that_may_be_empty() -> None:
    suites = generated_suites()
    tax = _by_type(suites["tax_by_section_district_month"])
    assert tax["expect_compound_columns_to_be_unique"] == [
        {"column_list": ["section", "district_code", "tax_period", "tax_type"], "ignore_row_if": "never"}]
    assert {"column": "section", "value_set": {"$PARAMETER": "industry_sections"}} in tax[
        "expect_column_values_to_be_in_set"]
    assert {"column": "tax_type", "value_set": ["增值税", "企业所得税"]} in tax["expect_column_values_to_be_in_set"]
    assert "expect_column_sum_to_be_between" not in tax  # cumulative history: no drift band
    entity = _by_type(suites["dim_legal_entity"])
    assert {"column": "industry_code", "value_set": {"$PARAMETER": "industry_divisions"}} in entity[
        "expect_column_values_to_be_in_set"]
    assert {"column": "street_code", "value_set": {"$PARAMETER": "city_street_codes"}} in entity[
        "expect_column_values_to_be_in_set"]
    credit = _by_type(suites["credit_status"])
    assert {"column": "red_list", "value_set": [0, 1]} in credit["expect_column_values_to_be_in_set"]
    penalties = suites["double_publicity_penalties"]["expectations"]
    assert penalties[0]["type"] == "expect_table_columns_to_match_ordered_list"  # may hold no row on a day
    indicators = _by_type(suites["economic_indicators"])
    assert {"column": "division_code", "value_set": {"$PARAMETER": "city_division_codes"}} in indicators[
        "expect_column_values_to_be_in_set"]


def test_an_item_that_differs_from_its_model_is_refused() -> None:
    item = load_item("population_by_district")
    model = dbt_models()["population_by_district"]
    with pytest.raises(SuiteError, match="differ from dbt model population_by_district's columns"):
        build_suite(replace(item, fields=item.fields[::-1]), model)


def test_generated_and_hand_written_suites_are_merged() -> None:
    spec = load_suite_spec("population_by_district", default_expectations_dir())
    generated = generated_suites()["population_by_district"]["expectations"]
    assert spec["expectations"][: len(generated)] == generated
    hand = spec["expectations"][len(generated):]
    assert [e["description"] for e in hand] == [
        "residents, male and female of each district = the residents of dim_resident in it",
        "the city's residents (sum over districts) = the residents of silver.person at the as_of_date"]
    assert "generated/population_by_district.json" in spec["_path"]


def test_render_is_stable_json() -> None:
    import json

    spec = generated_suites()["dim_district"]
    assert json.loads(render(spec)) == spec
    assert render(spec) == render(json.loads(render(spec)))
