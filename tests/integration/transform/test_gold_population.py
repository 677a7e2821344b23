"""dbt builds the population marts as Delta tables on the platform's Spark session (real dbt,
Spark, Delta). One dbt build is shared by the module: dbt start-up costs seconds per command."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest
from silver_people import (
    AS_OF,
    EXPECTED_AGES,
    EXPECTED_HOUSEHOLDS,
    EXPECTED_POPULATION,
    EXPECTED_STREET_AGE_GENDER,
    EXPECTED_VITAL_EVENTS,
    EXPECTED_VITAL_EVENTS_LATER,
    EXPECTED_WEST_HILL_LATER,
    LATER,
    PERIOD_START,
    silver_person,
    silver_person_change,
)

from citydata.catalog.contracts import load_contracts
from citydata.lakehouse import Lakehouse
from citydata.release.gate import run_gate
from citydata.transform import DbtInvocationError, DbtRunError, run_dbt

MODELS = ("dim_resident", "households_by_street", "population_by_district", "population_by_street_age_gender",
          "vital_events_by_street")
SELECT = [f"+{m}" for m in MODELS]  # the population marts and what they read, not the other themes
RELEASED = ("dim_resident", "population_by_district")  # the datasets with a suite in expectations/
VARS = {"as_of_date": AS_OF, "period_start": PERIOD_START}


def _rows(lh: Lakehouse, mart: str) -> list[tuple]:
    return sorted(tuple(r) for r in lh.read("gold", mart).collect())


@pytest.fixture(scope="module")
def built(spark, tmp_path_factory):
    # A test of another theme's model on a shared staging model (stg_standards__divisions) is not ours to
    # run: run_dbt selects tests whose parents this build makes (indirect selection "buildable").
    root = tmp_path_factory.mktemp("gold-lake") / "lakehouse"
    lh = Lakehouse(spark, root)
    lh.write(silver_person(spark), "silver", "person", mode="overwrite")
    lh.write(silver_person_change(spark), "silver", "person_change", mode="overwrite")
    target = tmp_path_factory.mktemp("dbt") / "target"
    result = run_dbt(spark, lh.root, command="build", select=SELECT, vars=VARS, target_dir=target)
    yield lh, result, target


def test_build_materializes_every_model_and_passes_every_test(built) -> None:
    lh, result, _ = built
    assert result.success
    models = {n.name: n.status for n in result.nodes if n.resource_type == "model"}
    assert models == {m: "success" for m in MODELS}
    tests = [n for n in result.nodes if n.resource_type == "test"]
    assert len(tests) >= 60 and {n.status for n in tests} == {"pass"}
    for model in MODELS:
        assert lh.exists("gold", model)
        assert lh.version("gold", model) == 0  # one build = one Delta commit per model


def test_the_builds_batched_tests_give_each_test_the_result_dbt_gives_it(built, spark) -> None:
    # the build ran the data tests of a model as one query; `dbt test` runs each test itself, one query each
    lh, result, target = built
    versions = {m: lh.version("gold", m) for m in MODELS}
    by_dbt = run_dbt(spark, lh.root, command="test", select=SELECT, vars=VARS, target_dir=target)
    assert by_dbt.success
    batched = {n.unique_id: (n.name, n.status, n.failures) for n in result.nodes if n.resource_type == "test"}
    assert batched == {n.unique_id: (n.name, n.status, n.failures) for n in by_dbt.nodes if n.resource_type == "test"}
    assert {m: lh.version("gold", m) for m in MODELS} == versions


def test_population_by_district_counts_each_district_at_the_date(built, spark) -> None:
    lh, _, _ = built
    assert _rows(lh, "population_by_district") == EXPECTED_POPULATION
    # the materialization re-registered the model's view: same rows by name in Spark SQL
    by_view = spark.sql("select * from gold_population_by_district order by district_code").collect()
    assert [tuple(r) for r in by_view] == EXPECTED_POPULATION


def test_street_age_gender_households_and_vital_events(built) -> None:
    lh, _, _ = built
    assert _rows(lh, "population_by_street_age_gender") == EXPECTED_STREET_AGE_GENDER
    assert _rows(lh, "households_by_street") == EXPECTED_HOUSEHOLDS
    events = lh.read("gold", "vital_events_by_street")
    assert events.columns == ["district_code", "street_code", "births", "deaths", "moves_in", "moves_out",
                              "period_start", "period_end"]
    assert sorted(tuple(r)[:6] for r in events.collect()) == EXPECTED_VITAL_EVENTS
    assert {(str(r["period_start"]), str(r["period_end"])) for r in events.collect()} == {(PERIOD_START, AS_OF)}


def test_dim_resident_has_residents_at_the_date_with_their_age(built) -> None:
    lh, _, _ = built
    df = lh.read("gold", "dim_resident")
    assert df.columns == [
        "id_number", "name", "gender", "birth_date", "age", "household_id", "relation_to_head",
        "district_code", "street_code", "address", "phone", "registered_on", "as_of_date",
    ]
    rows = df.collect()
    assert {r["name"]: r["age"] for r in rows} == EXPECTED_AGES
    assert {str(r["as_of_date"]) for r in rows} == {AS_OF}
    # a resident recorded in the merged district 339906 is in today's codes
    assert {(r["district_code"], r["street_code"]) for r in rows if r["name"] == "周七"} == {("339905", "339905005")}
    assert any(r["id_number"].endswith("X") for r in rows)


def test_dim_resident_columns_carry_the_contract_classification(built) -> None:
    _, _, target = built
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    columns = manifest["nodes"]["model.citydata.dim_resident"]["columns"]
    register = {f.name: f for f in load_contracts()["household_register"].fields}
    assert set(columns) >= {"id_number", "name", "birth_date", "address", "phone", "age"}
    for name, column in columns.items():
        meta = column["meta"]
        assert meta["classification"] in ("public", "internal", "sensitive", "core"), name
        if "contract_field" in meta:
            field = register[meta["contract_field"].removeprefix("household_register.")]
            assert meta["classification"] == field.classification.value, name
            assert meta.get("mask") == field.mask, name
    assert {n for n, c in columns.items() if c["meta"]["classification"] == "sensitive"} == {
        "id_number", "name", "birth_date", "address", "phone"}


def test_release_gate_passes_on_the_built_gold(built, spark, tmp_path) -> None:
    lh, _, _ = built
    gate = run_gate(spark, lh, list(RELEASED), data_docs_dir=tmp_path / "data-docs")
    assert gate.success, gate.results
    assert {d: r["delta_version"] for d, r in gate.results.items()} == {m: 0 for m in RELEASED}


def test_period_start_after_as_of_date_is_refused(built, spark) -> None:
    lh, _, target = built
    with pytest.raises((DbtInvocationError, DbtRunError)) as failure:
        run_dbt(spark, lh.root, command="compile", select="vital_events_by_street", target_dir=target,
                vars={"as_of_date": AS_OF, "period_start": "2026-07-01"})
    assert "period_start (2026-07-01) is after as_of_date" in str(failure.value)


def test_rerun_on_the_same_input_writes_nothing_and_a_changed_input_one_version(built, spark) -> None:
    lh, _, target = built
    before = {m: _rows(lh, m) for m in MODELS}
    versions = {m: lh.version("gold", m) for m in MODELS}
    result = run_dbt(spark, lh.root, command="run", select=SELECT, vars=VARS, target_dir=target)
    assert set(MODELS) <= set(result.names("model"))
    for model in MODELS:
        # same silver, same dates: same rows, so no new Delta version (the release stays as it is)
        assert lh.version("gold", model) == versions[model]
        assert _rows(lh, model) == before[model]

    # two days later, period_start not given (a one-day period): 赵四 (registered 2026-07-01) lives in
    # 西山区 and 孙六 was born that day; one new version per model
    run_dbt(spark, lh.root, command="run", select=SELECT, vars={"as_of_date": LATER}, target_dir=target)
    assert {m: lh.version("gold", m) for m in MODELS} == {m: versions[m] + 1 for m in MODELS}
    rows = {r["district_code"]: tuple(r) for r in lh.read("gold", "population_by_district").collect()}
    assert rows["339902"] == EXPECTED_WEST_HILL_LATER
    assert sorted(tuple(r)[:6] for r in lh.read("gold", "vital_events_by_street").collect()) == \
        EXPECTED_VITAL_EVENTS_LATER
    # the previous version stays readable (time travel) until vacuumed
    old = lh.read("gold", "population_by_district", version=versions["population_by_district"])
    assert sorted(tuple(r) for r in old.collect()) == before["population_by_district"]


def test_dbt_test_alone_registers_its_views_and_names_the_failing_test(built, spark) -> None:
    lh, _, target = built
    # break gold/dim_resident behind dbt's back: one resident twice
    dim = lh.read("gold", "dim_resident")
    lh.write(dim.unionByName(dim.limit(1)), "gold", "dim_resident", mode="overwrite")
    # a fresh session has none of the views: with view_layers=None the on-run-start hook alone
    # registers them (`USING delta` for gold models built earlier, CSV for the division table)
    for view in ("silver_person", "silver_person_change", "standards_divisions",
                 *(f"gold_{m}" for m in MODELS)):
        spark.catalog.dropTempView(view)
    with pytest.raises(DbtRunError) as failure:
        run_dbt(spark, lh.root, command="test", select=list(MODELS), view_layers=None,
                vars={"as_of_date": LATER}, target_dir=target)
    assert [n.name for n in failure.value.failed] == ["unique_dim_resident_id_number"]
    assert "unique_dim_resident_id_number [fail] (1 failing rows)" in str(failure.value)
    tests = [n for n in failure.value.result.nodes if n.resource_type == "test"]
    assert len(tests) >= 40
    assert {n.status for n in tests if n.name != "unique_dim_resident_id_number"} == {"pass"}
    assert spark.catalog.tableExists("gold_population_by_district")
    assert not spark.catalog.tableExists("silver_person")  # none of these tests reads it


def test_dim_resident_has_no_statistics_on_its_personal_columns(built) -> None:
    """run_dbt commits the staged model with min/max only on the columns its YAML does not classify personal."""
    import pyarrow.parquet as pq
    from deltalake import DeltaTable

    lh, _, _ = built
    table = DeltaTable(lh.path("gold", "dim_resident"))
    listed = set(table.metadata().configuration["delta.dataSkippingStatsColumns"].split(","))
    personal = {"id_number", "name", "birth_date", "address", "phone"}
    assert not listed & personal and {"district_code", "street_code", "age"} <= listed
    adds = pa.table(table.get_add_actions(flatten=False)).to_pylist()
    assert adds and all(a["min"].get(c) is None and a["max"].get(c) is None for a in adds for c in personal)
    for add in adds:
        meta = pq.read_metadata(f"{lh.path('gold', 'dim_resident')}/{add['path']}")
        chunks = [meta.row_group(g).column(c) for g in range(meta.num_row_groups) for c in range(meta.num_columns)]
        with_statistics = {ch.path_in_schema for ch in chunks
                           if ch.statistics is not None and ch.statistics.has_min_max}
        assert not with_statistics & personal and "district_code" in with_statistics


def test_a_build_whose_test_fails_names_it_as_dbt_would_and_commits_no_model(built, spark) -> None:
    from pyspark.sql import functions as F

    lh, _, target = built
    versions = {m: lh.version("gold", m) for m in MODELS}
    person = lh.read("silver", "person")
    first = person.orderBy("id_number").first()["id_number"]
    # one resident of gender X, which no mart test accepts (dim_resident's accepted_values on one row)
    broken = person.withColumn("gender", F.when(F.col("id_number") == first, "X").otherwise(F.col("gender")))
    lh.write(broken, "silver", "person", mode="overwrite")
    with pytest.raises(DbtRunError) as failure:
        # another date: every model computes a new result, staged, then not committed
        run_dbt(spark, lh.root, command="build", select=SELECT, vars={"as_of_date": "2026-12-31"}, target_dir=target)
    failed = {n.name: n for n in failure.value.failed}
    assert "accepted_values_dim_resident_gender__M__F" in failed
    assert (failed["accepted_values_dim_resident_gender__M__F"].status,
            failed["accepted_values_dim_resident_gender__M__F"].failures) == ("fail", 1)
    # dbt's own message for a failing test (TestRunner.build_test_run_result)
    assert "accepted_values_dim_resident_gender__M__F [fail] (1 failing rows): Got 1 result, configured to fail " \
           "if != 0" in str(failure.value)
    result = failure.value.result
    assert {n.name for n in result.nodes if n.resource_type == "model" and n.status == "success"} >= {
        "dim_resident", "population_by_district"}  # written to staging before their tests failed
    assert {n.status for n in result.nodes if n.resource_type == "test" and n.name not in failed} == {"pass"}
    assert result.committed == {}
    assert {m: lh.version("gold", m) for m in MODELS} == versions
    staging = Path(lh.root) / "_staging" / "gold"
    assert not staging.exists() or not any(staging.iterdir())
