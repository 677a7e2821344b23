"""The release gate on real Delta tables with real Great Expectations (Spark data source): generated and
hand-written suites merged, reconciliations with silver and between marts, drift against the previous
release, masked sample rows."""

from __future__ import annotations

import json
from datetime import date

import pytest

from citydata.lakehouse import Lakehouse
from citydata.release.gate import GateError, GateFailed, default_expectations_dir, load_suite_spec, run_gate
from citydata.standards import idcard

DIM_SCHEMA = (
    "id_number string, name string, gender string, birth_date date, age int, household_id string, "
    "relation_to_head string, district_code string, street_code string, address string, "
    "phone string, registered_on date, as_of_date date"
)
SILVER_SCHEMA = "id_number string, birth_date date, registered_on date, status string, died_on date"
POP_SCHEMA = "district_code string, district_name string, residents bigint, male bigint, female bigint"
PORTRAIT_SCHEMA = (
    "district_code string, district_name string, residents bigint, households bigint, working_age_residents bigint, "
    "active_entities bigint, active_entities_per_10k_residents decimal(20,2), tax_yuan_12_months decimal(20,2), "
    "tax_yuan_per_resident decimal(20,2), insured_employees bigint, insured_per_100_working_age decimal(20,2), "
    "active_entities_with_penalty bigint, active_entities_with_penalty_pct decimal(20,2), "
    "black_listed_entities bigint, pois bigint, area_km2 decimal(20,3), pois_per_km2 decimal(20,2), as_of_date date"
)
AS_OF = date(2026, 6, 30)
MAN = idcard.make("339901", date(1990, 1, 1), 11)
WOMAN = idcard.make("339905", date(1985, 5, 5), 22)
RETIRED = idcard.make("339906", date(1960, 5, 5), 33)
DEAD = idcard.make("339901", date(1950, 1, 1), 45)
MAN_NAME = "陈建国"
RELEASED = ["city_portrait_district", "dim_resident", "population_by_district"]


def _resident(number: str, gender: str, birth: date, age: int, district: str) -> tuple:
    return (number, MAN_NAME, gender, birth, age, "H1", "户主", district, district + "001", "某路1号",
            "13800000000", date(2000, 1, 1), AS_OF)


GOOD_RESIDENTS = [
    _resident(MAN, "M", date(1990, 1, 1), 36, "339901"),
    _resident(WOMAN, "F", date(1985, 5, 5), 41, "339905"),
    _resident(RETIRED, "M", date(1960, 5, 5), 66, "339906"),  # a retired district's code still passes
]
SILVER_PERSONS = [
    (MAN, date(1990, 1, 1), date(2000, 1, 1), "active", None),
    (WOMAN, date(1985, 5, 5), date(2000, 1, 1), "active", None),
    (RETIRED, date(1960, 5, 5), None, "active", None),  # no registration date: counts
    (DEAD, date(1950, 1, 1), date(2000, 1, 1), "deceased", date(2026, 1, 1)),  # died before the as-of date
]
GOOD_POPULATION = [("339901", "东湖区", 1, 1, 0), ("339904", "北塘区", 0, 0, 0),  # an empty district counts 0
                   ("339905", "中和区", 1, 0, 1), ("339906", "新港区", 1, 1, 0)]


def _portrait(district: str, name: str, residents: int, households: int, working: int, active: int,
              insured: int, pois: int, area: str) -> tuple:
    from decimal import Decimal

    return (district, name, residents, households, working, active, None, Decimal("0.00"), None, insured, None,
            0, None, 0, pois, Decimal(area), None, AS_OF)


GOOD_PORTRAIT = [_portrait("339901", "东湖区", 1, 1, 1, 2, 3, 4, "100.123"),
                 _portrait("339905", "中和区", 1, 1, 1, 0, 0, 0, "50.000")]  # nothing but residents there


def _write_city(spark, root, residents, population, portrait) -> Lakehouse:
    lake = Lakehouse(spark, root)
    frames = {
        ("silver", "person"): spark.createDataFrame(SILVER_PERSONS, SILVER_SCHEMA),
        ("gold", "dim_resident"): spark.createDataFrame(residents, DIM_SCHEMA),
        ("gold", "population_by_district"): spark.createDataFrame(population, POP_SCHEMA),
        ("gold", "city_portrait_district"): spark.createDataFrame(portrait, PORTRAIT_SCHEMA),
        # the marts the portrait's figures come from: only the columns its reconciliations read
        ("gold", "households_by_street"): spark.createDataFrame(
            [("339901", "339901001", 1), ("339905", "339905001", 1)],
            "district_code string, street_code string, households bigint"),
        ("gold", "population_by_street_age_gender"): spark.createDataFrame(
            [("339901", "35-39", 1), ("339905", "40-44", 1), ("339906", "65-69", 1)],
            "district_code string, age_band string, residents bigint"),
        ("gold", "legal_entities_active"): spark.createDataFrame(
            [("339901", "I", 1), ("339901", "C", 1)], "district_code string, section string, active bigint"),
        ("gold", "employment_by_section_district"): spark.createDataFrame(
            [("339901", 3), (None, 7)], "district_code string, insured bigint"),  # employer not in the register
        ("gold", "poi_by_district"): spark.createDataFrame([("339901", 4)], "district_code string, pois bigint"),
        ("gold", "dim_district"): spark.createDataFrame(
            [("339901", "100.1234"), ("339905", "50")], "district_code string, area_km2 string")
        .selectExpr("district_code", "cast(area_km2 as decimal(18,6)) as area_km2"),
    }
    for (layer, table), frame in frames.items():
        lake.write(frame, layer, table, mode="overwrite")
    return lake


@pytest.fixture(scope="module")
def lakes(spark, tmp_path_factory):
    good = _write_city(spark, tmp_path_factory.mktemp("good") / "lakehouse", GOOD_RESIDENTS, GOOD_POPULATION,
                       GOOD_PORTRAIT)
    bad = _write_city(
        spark, tmp_path_factory.mktemp("bad") / "lakehouse",
        GOOD_RESIDENTS + GOOD_RESIDENTS[:1],  # the same man twice: identity number no longer unique
        [("339901", "东湖区", 2, 1, 0),   # male + female <> residents: a district total off by one
         ("339905", "中和区", 1, 0, 1), ("339906", "新港区", 1, 1, 0)],
        [_portrait("339901", "东湖区", 1, 1, 1, 2, 3, 4, "100.123"),  # 1 resident, but its mart says 2
         GOOD_PORTRAIT[1]])
    return good, bad


def _suite_size(dataset: str) -> int:
    return len(load_suite_spec(dataset, default_expectations_dir())["expectations"])


def test_gate_passes_on_good_gold_and_writes_data_docs(spark, lakes, tmp_path) -> None:
    good, _ = lakes
    docs = tmp_path / "releases" / "data-docs"
    result = run_gate(spark, good, RELEASED, data_docs_dir=docs, as_of=AS_OF)
    assert result.success, result.results
    for dataset in RELEASED:
        outcome = result.results[dataset]
        assert outcome["success"] and outcome["failed_expectations"] == []
        drift_rules = sum(1 for e in load_suite_spec(dataset, default_expectations_dir())["expectations"]
                          if "drift" in (e.get("meta") or {}))
        assert drift_rules  # every one of these has drift rules, left out without a previous release
        assert outcome["statistics"]["evaluated_expectations"] == _suite_size(dataset) - drift_rules
        assert outcome["statistics"]["successful_expectations"] == _suite_size(dataset) - drift_rules
        assert outcome["drift"] == {"checked": False, "previous_version": None,
                                    "note": "no previous release: drift not checked"}
        assert outcome["skipped"] == []
        assert outcome["delta_version"] == good.version("gold", dataset) == 0
        assert list((docs / "validations" / dataset).glob(f"{result.run_name}/**/*.html"))
    assert result.data_docs == docs.resolve() and (docs / "index.html").is_file()
    assert "339906" in result.parameters["city_district_codes"]
    assert "C" in result.parameters["industry_sections"]
    result.raise_for_failure()  # passes silently


def test_without_an_as_of_date_the_silver_total_is_omitted_and_said_so(spark, lakes, tmp_path) -> None:
    good, _ = lakes
    result = run_gate(spark, good, ["population_by_district"], data_docs_dir=tmp_path / "docs")
    assert result.success
    [note] = result.results["population_by_district"]["skipped"]
    assert "residents of silver.person" in note and "no as_of" in note


def test_gate_fails_on_broken_gold_naming_dataset_expectation_and_masked_samples(spark, lakes, tmp_path) -> None:
    _, bad = lakes
    docs = tmp_path / "data-docs"
    result = run_gate(spark, bad, RELEASED, data_docs_dir=docs, as_of=AS_OF)
    assert not result.success
    failed = {d: {f["description"]: f for f in r["failed_expectations"]} for d, r in result.results.items()}
    assert result.failed_expectations("dim_resident") == [
        "expect_column_values_to_be_unique(id_number)", "unexpected_rows_expectation"]
    duplicate = failed["dim_resident"]["one row per id_number (key)"]
    assert duplicate["unexpected_count"] == 2  # both rows of the duplicated number
    # the rows whose key repeats, masked by the catalog item: sensitive masked, internal withheld
    assert len(duplicate["sample_rows"]) == 2
    sample = duplicate["sample_rows"][0]
    assert sample["id_number"] == MAN[:6] + "********" + MAN[-4:]
    assert sample["name"] == "陈**" and sample["phone"] == "138****0000" and sample["birth_date"] == "1990"
    assert sample["household_id"] == "<withheld>" and sample["district_code"] == "339901"
    silver = failed["dim_resident"]["one row per resident of silver.person at the as_of_date (born, registered, alive)"]
    assert silver["sample_rows"] == [{"dim_resident_rows": 4, "silver_residents": 3}]

    total = failed["population_by_district"]["male + female = residents (dbt sum_of_columns_equals)"]
    assert total["expectation"] == "unexpected_rows_expectation" and total["unexpected_count"] == 1
    assert total["sample_rows"] == [{"district_code": "339901", "residents": 2, "male": 1, "female": 0}]
    assert "residents, male and female of each district = the residents of dim_resident in it" in failed[
        "population_by_district"]
    figure = failed["city_portrait_district"]["residents of each district = residents in population_by_district"]
    assert figure["sample_rows"] == [{"district_code": "339901", "residents": 1, "mart_residents": 2}]
    assert list(failed["city_portrait_district"]) == [
        "residents of each district = residents in population_by_district"]

    with pytest.raises(GateFailed) as failure:
        result.raise_for_failure()
    message = str(failure.value)
    assert "dim_resident: expect_column_values_to_be_unique(id_number): one row per id_number (key)" in message
    assert "population_by_district: unexpected_rows_expectation: male + female = residents" in message
    assert "city_portrait_district: unexpected_rows_expectation: residents of each district" in message
    assert f'"id_number": "{MAN[:6]}********{MAN[-4:]}"' in message
    assert '"district_code": "339901", "residents": 2, "male": 1, "female": 0' in message
    # the failures are documented, but no personal value is quoted anywhere
    for raw in (MAN, MAN_NAME, "13800000000", "某路1号"):
        assert raw not in message
    pages = list(docs.rglob("*.html"))
    assert pages and not any(raw in page.read_text(encoding="utf-8") for page in pages for raw in (MAN, MAN_NAME))


def test_drift_beyond_the_band_fails_and_within_it_passes(spark, tmp_path) -> None:
    lake = _write_city(spark, tmp_path / "lakehouse", GOOD_RESIDENTS,
                       # the previous release: ten times the residents of 东湖区
                       [("339901", "东湖区", 20, 10, 10)] + GOOD_POPULATION[1:], GOOD_PORTRAIT)
    population = spark.createDataFrame(GOOD_POPULATION, POP_SCHEMA)
    lake.write(population, "gold", "population_by_district", mode="overwrite")  # version 1
    lake.write(population, "gold", "population_by_district", mode="overwrite")  # version 2, same rows
    result = run_gate(spark, lake, ["gold/population_by_district"], data_docs_dir=tmp_path / "docs", as_of=AS_OF,
                      previous_versions={"gold/population_by_district": 0})
    outcome = result.results["gold/population_by_district"]
    assert outcome["drift"]["checked"] and outcome["drift"]["previous_version"] == 0
    assert sorted(result.failed_expectations("gold/population_by_district")) == [
        "expect_column_sum_to_be_between(female)", "expect_column_sum_to_be_between(male)",
        "expect_column_sum_to_be_between(residents)"]
    [residents] = [f for f in outcome["failed_expectations"] if f["column"] == "residents"]
    assert residents["description"] == "sum of residents within 5% of the previous release (drift)"
    assert residents["observed_value"] == 3 and residents["sample_rows"] == []  # table-level: no rows
    assert "gold/population_by_district: expect_column_sum_to_be_between(residents)" in str(
        pytest.raises(GateFailed, result.raise_for_failure).value)

    within = run_gate(spark, lake, ["population_by_district"], data_docs_dir=tmp_path / "docs", as_of=AS_OF,
                      previous_versions={"gold/population_by_district": 1})
    assert within.success and within.results["population_by_district"]["drift"]["checked"]
    drift = sum(1 for e in load_suite_spec("population_by_district", default_expectations_dir())["expectations"]
                if "drift" in (e.get("meta") or {}))
    assert within.results["population_by_district"]["statistics"]["evaluated_expectations"] == _suite_size(
        "population_by_district")
    assert drift == 4  # rows and the three totals


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
    (suites / "dim_resident.json").write_text(json.dumps({"name": "dim_resident", "expectations": [
        {"type": "unexpected_rows_expectation",
         "kwargs": {"unexpected_rows_query": "select * from {batch} join silver_household using (id_number)"}}]}))
    with pytest.raises(GateError, match="reads silver_household, but there is no table .*silver/household"):
        run_gate(spark, good, ["dim_resident"], expectations_dir=suites, data_docs_dir=tmp_path / "docs")


def test_validated_several_at_a_time_the_gate_says_what_it_says_one_at_a_time(spark, lakes, tmp_path,
                                                                               monkeypatch) -> None:
    import shutil

    # the broken city's released datasets (hand-written queries: validated in one lane, GX's `tmp_view`) and two
    # marts without queries, with suites of their own columns here (one of them fails: samples taken beside)
    _, bad = lakes
    suites = tmp_path / "suites"
    shutil.copytree(default_expectations_dir(), suites)
    own = {"poi_by_district": [("district_code", "expect_column_values_to_not_be_null", {}),
                               ("pois", "expect_column_values_to_be_between", {"min_value": 0, "max_value": 3})],
           "households_by_street": [("street_code", "expect_column_values_to_be_unique", {}),
                                    ("households", "expect_column_values_to_be_between", {"min_value": 1})]}
    for table, rules in own.items():
        spec = {"name": table, "expectations": [{"type": kind, "kwargs": {"column": column, **kwargs}}
                                                for column, kind, kwargs in rules]}
        (suites / "generated" / f"{table}.json").write_text(json.dumps(spec), encoding="utf-8")
    datasets = [*RELEASED, *own]
    runs = {}
    for threads in ("1", "3"):
        monkeypatch.setenv("CITYDATA_GATE_THREADS", threads)
        result = run_gate(spark, bad, datasets, expectations_dir=suites, data_docs_dir=tmp_path / f"docs-{threads}",
                          as_of=AS_OF)
        runs[threads] = (result.success, {d: {k: v for k, v in r.items() if k != "seconds"}
                                          for d, r in result.results.items()})
    assert runs["1"] == runs["3"]
    success, results = runs["3"]
    assert not success and list(results) == datasets
    assert results["dim_resident"]["failed_expectations"][0]["unexpected_count"] == 2
    assert [(f["expectation"], f["sample_rows"]) for f in results["poi_by_district"]["failed_expectations"]] == [
        ("expect_column_values_to_be_between(pois)", [{"district_code": "339901", "pois": 4}])]
    assert results["households_by_street"]["success"]
