"""Every DAG file imports cleanly, without cycles, with an owner and retries on every task."""

from __future__ import annotations

import time

import pytest

from citydata.pipeline import dags_folder


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    started = time.monotonic()
    bag = DagBag(dag_folder=str(dags_folder()))
    bag.parse_seconds = time.monotonic() - started
    return bag


def test_every_dag_file_imports(dagbag) -> None:
    assert dagbag.import_errors == {}
    assert "skeleton_chain" in dagbag.dags


def test_dag_files_parse_fast_without_heavy_imports(dagbag) -> None:
    # No Spark, dbt or GX at import time: the scheduler parses DAG files constantly.
    assert dagbag.parse_seconds < 10


def test_every_task_has_an_owner_and_retries(dagbag) -> None:
    for dag in dagbag.dags.values():
        assert dag.doc_md, dag.dag_id
        for task in dag.tasks:
            assert task.owner and task.owner != "airflow", (dag.dag_id, task.task_id)
            assert task.retries is not None, (dag.dag_id, task.task_id)


def test_skeleton_chain_runs_its_steps_in_order(dagbag) -> None:
    dag = dagbag.dags["skeleton_chain"]
    order = ["land_bronze", "build_silver", "build_gold", "gate", "release", "export"]
    assert sorted(t.task_id for t in dag.tasks) == sorted(order)
    for upstream, downstream in zip(order, order[1:]):
        assert dag.get_task(downstream).upstream_task_ids == {upstream}
    assert dag.get_task("gate").retries == 0  # a failed gate is a verdict, not a transient error
    assert dag.get_task("land_bronze").retries == 1


def test_airflow_env_keeps_airflow_inside_the_project(tmp_path) -> None:
    from citydata.pipeline import airflow_env

    env = airflow_env(tmp_path, base={"PATH": "/usr/bin"})
    assert env["AIRFLOW_HOME"] == str(tmp_path / ".airflow")
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == f"sqlite:///{tmp_path / '.airflow' / 'airflow.db'}"
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == str(dags_folder())
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"
    assert env["CITYDATA_HOME"] == str(tmp_path)
    assert env["PATH"].endswith(":/usr/bin")
