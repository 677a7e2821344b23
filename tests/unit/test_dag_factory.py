"""The pure parts of the DAG factory: asset URIs, schedules, retries, params, docs built from contracts."""

from __future__ import annotations

from datetime import timedelta

import pytest

from citydata import dag_factory as f
from citydata.catalog.contracts import load_contract, load_contracts


def test_assets_are_named_by_layer_and_table() -> None:
    assert f.asset_uri("bronze", "tax_payments") == "citydata://bronze/tax_payments"
    assert (f.ingest_dag_id("births"), f.silver_dag_id("population")) == ("ingest_births", "silver_population")


@pytest.mark.parametrize(("cycle", "schedule"), [("daily", "@daily"), ("quarterly", "@quarterly"),
                                                 (" Daily ", "@daily"), ("on_change", None)])
def test_update_cycles_become_schedules(cycle: str, schedule: str | None) -> None:
    assert f.schedule_for(cycle) == schedule


def test_every_contracts_cycle_is_understood() -> None:
    cycles = {c.update_cycle for c in load_contracts().values()}
    assert {c for c in cycles if f.schedule_for(c) is None} <= {"on_change"}


def test_retries_come_from_the_environment_with_defaults() -> None:
    assert f.retry_args({}) == {"retries": 2, "retry_delay": timedelta(minutes=5), "retry_exponential_backoff": True,
                                "max_retry_delay": timedelta(hours=1)}
    quick = f.retry_args({"CITYDATA_AIRFLOW_RETRIES": "1", "CITYDATA_AIRFLOW_RETRY_DELAY": "2"})
    assert (quick["retries"], quick["retry_delay"]) == (1, timedelta(seconds=2))
    with pytest.raises(ValueError, match="Fix: unset them"):
        f.retry_args({"CITYDATA_AIRFLOW_RETRIES": "two"})


def test_api_sources_take_an_api_url_and_a_page_size() -> None:
    tax = f.ingest_param_specs(load_contract("tax_payments"))
    assert set(tax) == {"delivery_folder", "api_url", "page_size"}
    assert tax["api_url"]["default"] == "" and "/api/tax" in tax["api_url"]["description"]
    assert tax["page_size"]["type"] == ["null", "integer"] and "500" in tax["page_size"]["description"]
    assert set(f.ingest_param_specs(load_contract("births"))) == {"delivery_folder"}


def test_tags_name_theme_department_and_format() -> None:
    assert f.ingest_tags(load_contract("household_register")) == ["citydata", "ingest", "population", "市公安局", "csv"]


def test_the_ingest_doc_says_what_arrives_and_classifies_every_field() -> None:
    contract = load_contract("household_register")
    doc = f.ingest_doc_md(contract)
    assert doc.startswith("### ingest_household_register — 户籍人口登记")
    for text in ("市公安局", "police/household_register.csv", "(csv, GBK)", "update cycle**: daily (schedule: @daily)",
                 "citydata://bronze/household_register", "citydata://bronze/household_register_rejects",
                 "schemas/household_register.yml", "docs/airflow.md"):
        assert text in doc, text
    rows = [line for line in doc.splitlines() if line.startswith("| `")]
    assert len(rows) == len(contract.fields)
    assert "| `id_number` | 公民身份号码 | string | sensitive | id_number | id_number |" in rows
    tax = f.ingest_doc_md(load_contract("tax_payments"))
    assert "`GET /api/tax` paged JSON API (pages of 500; on disk `tax/`)" in tax


def test_the_silver_doc_names_its_trigger_assets_and_outputs() -> None:
    from citydata.ingest.runner import silver_steps

    contracts = load_contracts()
    doc = f.silver_doc_md(silver_steps(contracts)["credit_penalties"], contracts)
    assert "`citydata://bronze/credit_penalties`" in doc and "`ingest_credit_penalties`" in doc
    assert "`silver/administrative_penalty`" in doc and "citydata.ingest.silver:build_silver" in doc


def test_gold_runs_on_every_silver_table_and_emits_every_mart(tmp_path) -> None:
    from citydata.ingest.runner import silver_steps

    steps = silver_steps(load_contracts())
    outlets = f.silver_outlets(steps)
    assert {"person", "person_history", "legal_entity", "poi", "birth", "administrative_licence"} <= set(outlets)
    assert len(outlets) == len(set(outlets))
    for rel in ("models/marts/credit/credit_status.sql", "models/marts/population/dim_resident.sql",
                "models/staging/stg_silver__person.sql"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("select 1", encoding="utf-8")
    assert f.gold_outlets(tmp_path) == ["credit_status", "dim_resident"]  # staging writes no table


def test_the_day_dags_take_a_day_folder_and_an_as_of_date() -> None:
    specs = f.day_param_specs()
    assert set(specs) == {"day_folder", "as_of"} and specs["day_folder"]["default"] == ""
    for dag_id in (f.GOLD_DAG_ID, f.RELEASE_DAG_ID, f.RUN_DAY_DAG_ID):
        assert f.day_doc_md(dag_id).startswith(f"### {dag_id}\n") and "docs/run-day.md" in f.day_doc_md(dag_id)


def test_an_unknown_stage_is_refused_before_spark_starts() -> None:
    with pytest.raises(ValueError, match="unknown stage 'silver'"):
        f.run_day_task("silver", {"day_folder": "/nonexistent"})


def test_spark_tasks_share_the_pool_and_every_task_has_a_timeout() -> None:
    assert f.task_args("land", {}) == {"execution_timeout": timedelta(minutes=30), "pool": f.SPARK_POOL}
    assert f.task_args("gold", {"CITYDATA_AIRFLOW_TIMEOUT_FACTOR": "4"})["execution_timeout"] == timedelta(hours=4)
    assert f.task_args("portal", {}) == {"execution_timeout": timedelta(minutes=10)}  # no Spark: default pool
    assert f.check_args({}) == {"execution_timeout": timedelta(minutes=5), "retries": 0}  # a verdict: no retry
    for bad in ("0", "-1", "fast"):
        with pytest.raises(ValueError, match="CITYDATA_AIRFLOW_TIMEOUT_FACTOR"):
            f.timeout_factor({"CITYDATA_AIRFLOW_TIMEOUT_FACTOR": bad})


def test_the_delivery_check_writes_its_alerts_then_fails_without_a_retry(tmp_path, monkeypatch) -> None:
    from airflow.sdk.exceptions import AirflowFailException

    from citydata.orchestration import alerts

    monkeypatch.setenv("CITYDATA_HOME", str(tmp_path))
    monkeypatch.delenv("CITYDATA_ALERTS", raising=False)
    monkeypatch.delenv("CITYDATA_ALERT_REJECT_SHARE", raising=False)
    where = {"dag": "run_day", "task": "check_deliveries", "run_id": "manual__1", "try_number": 1}
    # the shape of the ingest stage's details (citydata.orchestration.stages.ingest_summary)
    landed = {"births": {"delivered": 40, "landed": 40, "rejected": 0, "rejects_by_reason": {}, "new": True},
              "deaths": {"delivered": 4, "landed": 3, "rejected": 1, "rejects_by_reason": {"FILE_TRUNCATED": 1},
                         "new": True}}
    assert f.run_delivery_check({"births": landed["births"]}, {}, "day-001", where)["alerts"] == 0
    assert not alerts.alerts_file().exists()
    with pytest.raises(AirflowFailException, match="2 delivery alert") as failed:
        f.run_delivery_check(landed, {"marriages": "x.csv: delivery refused (FILE_ENCODING): y. Fix: z"}, "day-001",
                             where)
    assert getattr(failed.value, alerts.ALERTED)  # the failure callback adds no third line
    written = alerts.read_alerts()
    assert [(a["reason"], a["source"], a["day"], a["task"]) for a in written] == [
        ("DELIVERY_REFUSED", "marriages", "day-001", "check_deliveries"),
        ("REJECTS_ABOVE_THRESHOLD", "deaths", "day-001", "check_deliveries")]
