"""Every DAG file imports cleanly, without cycles, with an owner, retries with backoff, a timeout, the alerts
callback and docs; every task that runs Spark is in the Spark pool; the generated ingest and silver DAGs match
the contracts and the silver step registry, and are wired by assets."""

from __future__ import annotations

import time
from itertools import pairwise

import pytest

from citydata.airflow_local import dags_folder


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    started = time.monotonic()
    bag = DagBag(dag_folder=str(dags_folder()))
    bag.parse_seconds = time.monotonic() - started
    print(f"\nparsed {len(bag.dags)} DAGs from {len(bag.dagbag_stats)} file(s) in {bag.parse_seconds:.2f} s")
    return bag


def test_every_dag_file_imports(dagbag) -> None:
    assert dagbag.import_errors == {}
    assert {"gold_marts", "release", "run_day"} <= set(dagbag.dags)


HEAVY_MODULES = {"pyspark", "pandas", "dbt", "great_expectations", "deltalake"}


def test_dag_files_import_no_heavy_module_in_a_fresh_interpreter(tmp_path) -> None:
    """What the DAG processor pays per file: a new interpreter importing Airflow and parsing it. No Spark,
    pandas, dbt, GX or delta-rs at import time (the scheduler parses DAG files constantly). Checked in a
    fresh interpreter because this test process has imported them for other tests; the parse time is
    printed, not asserted (timings belong to benchmarks)."""
    import subprocess
    import sys

    from citydata.airflow_local import airflow_env

    env = airflow_env(tmp_path)
    for name in ("ingest_sources.py", "silver_steps.py", "day.py"):
        code = ("import sys, time, runpy; import airflow.sdk; t = time.monotonic(); "
                f"runpy.run_path({str(dags_folder() / name)!r}); print(time.monotonic() - t); "
                "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))")
        done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        seconds, modules = done.stdout.strip().splitlines()[-2:]
        print(f"{name}: {float(seconds):.2f} s after `import airflow.sdk`")
        assert not HEAVY_MODULES & set(modules.split()), f"{name} imports {HEAVY_MODULES & set(modules.split())}"


# verdicts on the data, not transient errors: no retries
NO_RETRY = {"gate", "check_delivery", "check_deliveries"}
NO_SPARK = {"portal", "check_delivery", "check_deliveries"}


def test_every_task_has_an_owner_retries_a_timeout_a_pool_and_the_alerts_callback(dagbag) -> None:
    from datetime import timedelta

    from citydata.dag_factory import SPARK_POOL

    pools = {}
    for dag in dagbag.dags.values():
        assert dag.doc_md, dag.dag_id
        for task in dag.tasks:
            where = (dag.dag_id, task.task_id)
            assert task.owner and task.owner != "airflow", where
            assert task.retries is not None, where
            if task.task_id in NO_RETRY:
                assert task.retries == 0, where
            else:
                assert task.retries >= 1 and task.retry_exponential_backoff, where
                assert timedelta(0) < task.retry_delay <= task.max_retry_delay, where
            assert timedelta(0) < task.execution_timeout <= timedelta(hours=1), where
            assert task.on_failure_callback, where  # a failure writes an alert line
            pools[where] = task.pool
    assert {where for where, pool in pools.items() if pool == SPARK_POOL} == {
        where for where in pools if where[1] not in NO_SPARK}  # every task that starts Spark, and no other
    assert {pools[("run_day", "portal")], pools[("run_day", "check_deliveries")]} == {"default_pool"}


def test_no_dag_has_a_cycle(dagbag) -> None:
    for dag in dagbag.dags.values():
        dag.check_cycle()  # raises AirflowDagCycleException


def _assets(condition) -> set[str]:
    """URIs of the assets of a schedule condition (AssetAny / AssetAll nest)."""
    if hasattr(condition, "objects"):
        return set().union(*(_assets(o) for o in condition.objects))
    return {condition.uri}


def test_every_contract_has_its_ingest_dag(dagbag) -> None:
    from citydata.catalog.contracts import load_contracts
    from citydata.dag_factory import asset_uri

    contracts = load_contracts()
    ingest = {d for d in dagbag.dags if d.startswith("ingest_")}
    assert ingest == {f"ingest_{s}" for s in contracts}
    for source, contract in contracts.items():
        dag = dagbag.dags[f"ingest_{source}"]
        _assert_chain(dag, ["land_bronze", "check_delivery"])  # rejects over the threshold: alert, run failed
        task = dag.get_task("land_bronze")
        assert task.owner == contract.department
        assert {a.uri for a in task.outlets} == {asset_uri("bronze", contract.tables.bronze),
                                                 asset_uri("bronze", contract.tables.rejects)}
        assert set(dag.tags) >= {contract.theme, contract.department, contract.delivery.format}
        assert contract.title in dag.doc_md
        assert "delivery_folder" in dag.params
        assert ("api_url" in dag.params) == (contract.delivery.format == "json_api")


def test_every_silver_dag_runs_on_exactly_its_inputs_ingest_outlets(dagbag) -> None:
    from citydata.catalog.contracts import load_contracts
    from citydata.dag_factory import asset_uri
    from citydata.ingest.runner import silver_steps

    contracts = load_contracts()
    steps = silver_steps(contracts)
    assert {d for d in dagbag.dags if d.startswith("silver_")} == {f"silver_{n}" for n in steps}
    fed = [s for step in steps.values() for s in step.sources]
    assert sorted(fed) == sorted(contracts)  # every source's bronze feeds exactly one silver DAG
    for name, step in steps.items():
        dag = dagbag.dags[f"silver_{name}"]
        # the bronze-table outlet of each input's ingest DAG (its rejects table does not trigger silver)
        produced = {uri for source in step.sources for uri in (
                    a.uri for a in dagbag.dags[f"ingest_{source}"].get_task("land_bronze").outlets)
                    if not uri.endswith("_rejects")}
        assert type(dag.timetable.asset_condition).__name__ == "AssetAny", name  # any input updated -> run
        assert _assets(dag.timetable.asset_condition) == produced, name
        [task] = dag.tasks
        assert {a.uri for a in task.outlets} == {asset_uri("silver", t) for t in step.outputs}
        assert task.owner == "data-platform" and task.retries >= 1


def test_gold_marts_runs_on_every_silver_asset_and_emits_the_marts(dagbag) -> None:
    from citydata.dag_factory import asset_uri, gold_outlets

    silver = {a.uri for dag_id, dag in dagbag.dags.items() if dag_id.startswith("silver_")
              for task in dag.tasks for a in task.outlets}
    dag = dagbag.dags["gold_marts"]
    assert type(dag.timetable.asset_condition).__name__ == "AssetAny"
    assert _assets(dag.timetable.asset_condition) == silver  # any silver table updated -> a build
    [task] = dag.tasks
    assert {a.uri for a in task.outlets} == {asset_uri("gold", t) for t in gold_outlets()}
    assert {"dim_resident", "population_by_district"} <= set(gold_outlets())


def test_release_runs_on_the_released_gold_datasets_gate_release_export_portal(dagbag) -> None:
    from citydata.dag_factory import asset_uri
    from citydata.release.gate import suite_datasets

    dag = dagbag.dags["release"]
    released = {asset_uri("gold", t) for t in suite_datasets()}
    assert _assets(dag.timetable.asset_condition) == released
    emitted = {a.uri for task in dagbag.dags["gold_marts"].tasks for a in task.outlets}
    assert released <= emitted  # every released dataset is a mart gold_marts writes: the day flows on
    _assert_chain(dag, ["gate", "release", "export", "portal"])
    assert dag.get_task("gate").retries == 0


def test_run_day_runs_the_six_stages_in_order_and_emits_no_asset(dagbag) -> None:
    dag = dagbag.dags["run_day"]
    assert type(dag.timetable).__name__ == "NullTimetable"  # triggered by hand only
    _assert_chain(dag, ["ingest", "gold", "gate", "release", "export", "portal"], also=["check_deliveries"])
    # the delivery check beside gold: a refused delivery fails the run with an alert, the day goes on
    assert dag.get_task("check_deliveries").upstream_task_ids == {"ingest"}
    assert dag.get_task("check_deliveries").downstream_task_ids == set()
    assert [a for task in dag.tasks for a in task.outlets] == []  # the scheduled DAGs do not run again
    assert set(dag.params) == {"day_folder", "as_of", "api_url"}


def _assert_chain(dag, order: list[str], also: list[str] = ()) -> None:
    assert sorted(t.task_id for t in dag.tasks) == sorted([*order, *also])
    for upstream, downstream in pairwise(order):
        assert dag.get_task(downstream).upstream_task_ids == {upstream}


def test_airflow_env_keeps_airflow_inside_the_project(tmp_path) -> None:
    from citydata.airflow_local import airflow_env

    env = airflow_env(tmp_path, base={"PATH": "/usr/bin"})
    assert env["AIRFLOW_HOME"] == str(tmp_path / ".airflow")
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == f"sqlite:///{tmp_path / '.airflow' / 'airflow.db'}"
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == str(dags_folder())
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"
    assert env["CITYDATA_HOME"] == str(tmp_path)
    assert env["PATH"].endswith(":/usr/bin")
