"""dbt builds the population marts as Delta tables on the platform's Spark session (real dbt,
Spark, Delta). One dbt build is shared by the module: dbt start-up costs seconds per command."""

from __future__ import annotations

from pathlib import Path

import pytest

from citydata.lakehouse import Lakehouse
from citydata.release.gate import run_gate
from citydata.transform import DbtRunError, run_dbt

from silver_people import AS_OF, EXPECTED_AGES, EXPECTED_POPULATION, silver_person

MODELS = ("dim_resident", "population_by_district")


@pytest.fixture(scope="module")
def built(spark, tmp_path_factory):
    root = tmp_path_factory.mktemp("gold-lake") / "lakehouse"
    lh = Lakehouse(spark, root)
    lh.write(silver_person(spark), "silver", "person", mode="overwrite")
    target = tmp_path_factory.mktemp("dbt") / "target"
    result = run_dbt(spark, lh.root, command="build", vars={"as_of_date": AS_OF}, target_dir=target)
    return lh, result, target


def test_build_materializes_every_model_and_passes_every_test(built) -> None:
    lh, result, _ = built
    assert result.success
    models = {n.name: n.status for n in result.nodes if n.resource_type == "model"}
    assert models == {"dim_resident": "success", "population_by_district": "success"}
    tests = [n for n in result.nodes if n.resource_type == "test"]
    assert len(tests) >= 20 and {n.status for n in tests} == {"pass"}
    for model in MODELS:
        assert lh.exists("gold", model)
        assert lh.version("gold", model) == 0  # one build = one Delta commit per model


def test_population_by_district_counts_each_district_at_the_date(built, spark) -> None:
    lh, _, _ = built
    rows = lh.read("gold", "population_by_district").orderBy("district_code").collect()
    assert [tuple(r) for r in rows] == EXPECTED_POPULATION
    # the materialization re-registered the model's view: same rows by name in Spark SQL
    by_view = spark.sql("select * from gold_population_by_district order by district_code").collect()
    assert [tuple(r) for r in by_view] == EXPECTED_POPULATION


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
    # a resident of the merged district keeps the code silver recorded
    assert {r["district_code"] for r in rows if r["name"] == "周七"} == {"339906"}
    assert any(r["id_number"].endswith("X") for r in rows)


def test_release_gate_passes_on_the_built_gold(built, spark, tmp_path) -> None:
    lh, _, _ = built
    gate = run_gate(spark, lh, list(MODELS), data_docs_dir=tmp_path / "data-docs")
    assert gate.success, gate.results
    assert {d: r["delta_version"] for d, r in gate.results.items()} == {m: 0 for m in MODELS}


def test_rerun_on_the_same_input_writes_nothing_and_a_changed_input_one_version(built, spark) -> None:
    lh, _, target = built
    before = {m: sorted(tuple(r) for r in lh.read("gold", m).collect()) for m in MODELS}
    versions = {m: lh.version("gold", m) for m in MODELS}
    result = run_dbt(spark, lh.root, command="run", vars={"as_of_date": AS_OF}, target_dir=target)
    assert result.names("model") == sorted(MODELS)
    for model in MODELS:
        # same silver, same date: same rows, so no new Delta version (the release stays as it is)
        assert lh.version("gold", model) == versions[model]
        assert sorted(tuple(r) for r in lh.read("gold", model).collect()) == before[model]

    # two days later 赵四 (registered 2026-07-01) lives in 西山区: one new version per model
    run_dbt(spark, lh.root, command="run", vars={"as_of_date": "2026-07-02"}, target_dir=target)
    assert {m: lh.version("gold", m) for m in MODELS} == {m: versions[m] + 1 for m in MODELS}
    rows = {r["district_code"]: tuple(r) for r in lh.read("gold", "population_by_district").collect()}
    assert rows["339902"] == ("339902", "西山区", 1, 1, 0)
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
    for view in ("silver_person", "standards_divisions", "gold_dim_resident",
                 "gold_population_by_district"):
        spark.catalog.dropTempView(view)
    with pytest.raises(DbtRunError) as failure:
        run_dbt(spark, lh.root, command="test", select=list(MODELS), view_layers=None,
                vars={"as_of_date": AS_OF}, target_dir=target)
    assert [n.name for n in failure.value.failed] == ["unique_dim_resident_id_number"]
    assert "unique_dim_resident_id_number [fail] (1 failing rows)" in str(failure.value)
    tests = [n for n in failure.value.result.nodes if n.resource_type == "test"]
    assert len(tests) >= 20
    assert {n.status for n in tests if n.name != "unique_dim_resident_id_number"} == {"pass"}
    assert spark.catalog.tableExists("gold_population_by_district")
    assert not spark.catalog.tableExists("silver_person")  # none of these tests reads it
