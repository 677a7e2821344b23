"""Airflow 3 DAGs generated from the source contracts and the silver step registry.

`build_ingest_dags()` gives one DAG per contract (`ingest_<source>`: land the day's delivery into
bronze; outlets: the source's bronze and rejects tables as assets); `build_silver_dags()` one DAG per
silver step (`silver_<step>`: scheduled when any of its bronze input assets is updated; outlets: its
silver tables). The DAG files in dags/ only call these. Building imports no Spark and reads only the
contracts; the tasks import the library when they run.

Assets are named by table, not by place: URI `citydata://<layer>/<table>` (name `<layer>.<table>`), so the
same DAGs schedule the same way whatever CITYDATA_HOME or lakehouse root (a folder, s3://, hdfs://) holds
the tables. Retries: CITYDATA_AIRFLOW_RETRIES (default 2) and CITYDATA_AIRFLOW_RETRY_DELAY seconds
(default 300, doubling per attempt) — read when the DAG files are parsed.
Must not: hold data logic (citydata.ingest.runner does the work).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from citydata.catalog.contracts import SourceContract, load_contract, load_contracts
from citydata.ingest.runner import SilverStep, silver_steps

if TYPE_CHECKING:
    from airflow.sdk import DAG, Asset

PLATFORM_OWNER = "data-platform"  # owner of the silver DAGs (they serve every department)
ASSET_SCHEME = "citydata"
START_DATE = datetime(2026, 1, 1, tzinfo=timezone.utc)
# A contract's update_cycle -> the ingest DAG's schedule; cycles not listed (on_change) run when triggered.
SCHEDULES: dict[str, str] = {
    "hourly": "@hourly", "daily": "@daily", "weekly": "@weekly", "monthly": "@monthly",
    "quarterly": "@quarterly", "yearly": "@yearly", "annually": "@yearly",
}
DEFAULT_RETRIES = 2
DEFAULT_RETRY_DELAY = 300.0  # seconds


def ingest_dag_id(source: str) -> str:
    return f"ingest_{source}"


def silver_dag_id(step: str) -> str:
    return f"silver_{step}"


def asset_uri(layer: str, table: str) -> str:
    """The asset URI of a lakehouse table: `citydata://<layer>/<table>`."""
    return f"{ASSET_SCHEME}://{layer}/{table}"


def schedule_for(update_cycle: str) -> str | None:
    """The ingest DAG's schedule for a contract's update cycle (None: runs when triggered)."""
    return SCHEDULES.get(update_cycle.strip().lower())


def retry_args(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Task retries from CITYDATA_AIRFLOW_RETRIES / CITYDATA_AIRFLOW_RETRY_DELAY (seconds), else the defaults."""
    env = os.environ if env is None else env
    try:
        retries = int(env.get("CITYDATA_AIRFLOW_RETRIES", DEFAULT_RETRIES))
        delay = float(env.get("CITYDATA_AIRFLOW_RETRY_DELAY", DEFAULT_RETRY_DELAY))
    except ValueError as error:
        raise ValueError(f"CITYDATA_AIRFLOW_RETRIES / CITYDATA_AIRFLOW_RETRY_DELAY must be numbers: {error}. "
                         f"Fix: unset them or set e.g. 2 and 300") from None
    return {"retries": max(retries, 0), "retry_delay": timedelta(seconds=delay),
            "retry_exponential_backoff": True, "max_retry_delay": timedelta(hours=1)}


def ingest_tags(contract: SourceContract) -> list[str]:
    """Tags of an ingest DAG: the platform, the layer, theme, department, format."""
    tags = ["citydata", "ingest", contract.theme, contract.department, contract.delivery.format]
    return list(dict.fromkeys(t for t in tags if t))


def ingest_param_specs(contract: SourceContract) -> dict[str, dict[str, Any]]:
    """The ingest DAG's params as plain specs (default, JSON-schema type, description)."""
    specs: dict[str, dict[str, Any]] = {
        "delivery_folder": {
            "default": "", "type": "string",
            "description": "a day's delivery folder (the contract's delivery.path lies under it); empty: the "
                           "newest day under CITYDATA_LANDING (YYYY-MM-DD or day-NNN), else the newest simulated "
                           "day under $CITYDATA_HOME/data/simulated"},
    }
    if contract.delivery.format == "json_api":
        specs["api_url"] = {
            "default": "", "type": "string",
            "description": f"API base URL (GET <url>{contract.delivery.endpoint}?page=N); empty: read the "
                           f"pages saved in the delivery folder ({contract.delivery.path}/)"}
        specs["page_size"] = {
            "default": None, "type": ["null", "integer"], "minimum": 1,
            "description": f"records per request; empty: the contract's ({contract.delivery.page_size})"}
    return specs


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def ingest_doc_md(contract: SourceContract) -> str:
    """The ingest DAG's documentation in the UI, from the contract (no data, no personal value)."""
    d = contract.delivery
    where = (f"`GET {d.endpoint}` paged JSON API (pages of {d.page_size or 'the server default'}; "
             f"on disk `{d.path}/`)" if d.format == "json_api" else f"`{d.path}` ({d.format}, {d.encoding})")
    schedule = schedule_for(contract.update_cycle) or "none: trigger it when a delivery arrives"
    lines = [
        f"### {ingest_dag_id(contract.source)} — {contract.title}",
        "",
        _cell(contract.description) if contract.description else "",
        "",
        f"- **department**: {contract.department}" + (f" (`{contract.department_code}`)"
                                                     if contract.department_code else ""),
        f"- **theme**: {contract.theme or '—'}; **update cycle**: {contract.update_cycle} (schedule: {schedule})",
        f"- **delivery**: {where}",
        f"- **key**: {', '.join(contract.key)}" + (f" (latest `{contract.latest_by}` wins)"
                                                   if contract.latest_by else ""),
        f"- **writes**: `bronze/{contract.tables.bronze}`, `bronze/{contract.tables.rejects}` "
        f"(assets `{asset_uri('bronze', contract.tables.bronze)}`, `{asset_uri('bronze', contract.tables.rejects)}`)",
        f"- **then**: the silver DAG reading `bronze/{contract.tables.bronze}` runs on the asset update",
        f"- **contract**: `schemas/{contract.source}.yml`",
        "",
        "Params: `delivery_folder` (empty: the newest day)" + (
            ", `api_url` (fetch over HTTP), `page_size`" if d.format == "json_api" else "") + ". "
        "A delivery landed before or absent from the folder skips the task (no asset event); one refused whole "
        "(e.g. FILE_ENCODING) fails it with the file, reason and fix; an API page that keeps failing fails it "
        "naming source, page and cause, and leaves every table at its version. Runbook: docs/airflow.md.",
        "",
        "| field | column | type | classification | mask | check |",
        "|---|---|---|---|---|---|",
    ]
    for f in contract.fields:
        lines.append(f"| `{f.name}` | {_cell(f.column)} | {f.type} | {f.classification.value} | "
                     f"{f.mask or ''} | {f.check} |")
    return "\n".join(lines) + "\n"


def silver_doc_md(step: SilverStep, contracts: Mapping[str, SourceContract]) -> str:
    """The silver DAG's documentation in the UI."""
    lines = [
        f"### {silver_dag_id(step.name)} — " + ("master records: " if step.master else "") + ", ".join(
            contracts[s].title for s in step.sources),
        "",
        f"- **runs when** any of its bronze inputs is updated (assets): "
        + ", ".join(f"`{asset_uri('bronze', t)}`" for t in step.inputs),
        f"- **inputs** (ingest DAGs): " + ", ".join(f"`{ingest_dag_id(s)}`" for s in step.sources),
        f"- **writes**: " + ", ".join(f"`silver/{t}`" for t in step.outputs),
        f"- **calls**: `{step.target}`" + ("" if step.master else " with the contract"),
        "",
        "Idempotent: a rerun on the same bronze changes nothing. A failure leaves silver at its version. "
        "Runbook: docs/airflow.md.",
    ]
    return "\n".join(lines) + "\n"


# --- DAG objects (Airflow imported here, not at module import) ---------------------------------------

def table_asset(layer: str, table: str) -> Asset:
    from airflow.sdk import Asset

    return Asset(name=f"{layer}.{table}", uri=asset_uri(layer, table), group=layer)


def run_ingest_task(source: str, params: Mapping[str, Any], run_id: str | None = None) -> dict[str, Any]:
    """The ingest task: land the source; skip (no asset event) when nothing new was delivered."""
    from airflow.sdk.exceptions import AirflowSkipException

    from citydata.config import Paths
    from citydata.ingest import runner
    from citydata.lakehouse import Lakehouse, get_spark

    paths = Paths.from_env()
    contract = load_contract(source)  # only its own contract: another one being edited can't fail this task
    api_url = (params.get("api_url") or "").strip() or None
    folder = (params.get("delivery_folder") or "").strip() or None
    try:
        if not api_url:  # nothing delivered: skip before starting Spark
            runner.delivery_of(contract, folder)
        spark = get_spark(app_name=f"citydata-{ingest_dag_id(source)}")
        result = runner.land_source(spark, Lakehouse(spark, paths.lakehouse), contract, delivery_folder=folder,
                                    api_url=api_url, landing_dir=runner.default_landing_dir(paths),
                                    page_size=params.get("page_size") or None,
                                    # a retry of the run resumes its fetch; a new run fetches afresh
                                    run_key=runner.run_key_of(run_id) if run_id else None)
    except runner.DeliveryMissingError as error:
        raise AirflowSkipException(str(error)) from error
    if not result.delivered:
        raise AirflowSkipException(f"{source}: {result.file} holds no rows: nothing to land, no asset event")
    if result.already_landed:
        raise AirflowSkipException(f"{source}: batch {result.batch_id} ({result.delivered} rows) was landed "
                                   f"before: nothing new, no asset event")
    return {"source": source, "batch_id": result.batch_id, "file": result.file, "encoding": result.encoding,
            "delivered": result.delivered, "landed": result.landed, "rejected": result.rejected,
            "rejects_by_reason": result.rejects_by_reason, "bronze_version": result.bronze_version,
            "rejects_version": result.rejects_version}


def run_silver_task(step: str) -> dict[str, Any]:
    """The silver task: run the step on the platform's lakehouse."""
    from citydata.config import Paths
    from citydata.ingest.runner import run_silver_step
    from citydata.lakehouse import Lakehouse, get_spark

    spark = get_spark(app_name=f"citydata-{silver_dag_id(step)}")
    return run_silver_step(spark, Lakehouse(spark, Paths.from_env().lakehouse), step)


def build_ingest_dag(contract: SourceContract) -> DAG:
    """`ingest_<source>`: one task landing the day's delivery; outlets: its bronze and rejects assets."""
    from airflow.sdk import DAG, Param, task

    source = contract.source
    params = {name: Param(spec.pop("default"), **spec)
              for name, spec in ((n, dict(s)) for n, s in ingest_param_specs(contract).items())}
    with DAG(
        dag_id=ingest_dag_id(source),
        description=f"{contract.title} ({contract.department}) -> bronze.{contract.tables.bronze}",
        schedule=schedule_for(contract.update_cycle),
        start_date=START_DATE,
        catchup=False,
        max_active_runs=1,  # two landings of one source must not race on its tables
        default_args={"owner": contract.department, **retry_args()},
        params=params,
        tags=ingest_tags(contract),
        doc_md=ingest_doc_md(contract),
    ) as dag:
        @task(task_id="land_bronze",
              outlets=[table_asset("bronze", contract.tables.bronze), table_asset("bronze", contract.tables.rejects)])
        def land_bronze(params: dict[str, Any] | None = None, run_id: str | None = None) -> dict[str, Any]:
            return run_ingest_task(source, params or {}, run_id)

        land_bronze()
    return dag


def build_silver_dag(step: SilverStep, contracts: Mapping[str, SourceContract]) -> DAG:
    """`silver_<step>`: scheduled on any update of its bronze inputs; outlets: its silver tables."""
    from airflow.sdk import DAG, AssetAny, task

    with DAG(
        dag_id=silver_dag_id(step.name),
        description=f"bronze {', '.join(step.inputs)} -> silver {', '.join(step.outputs)}",
        schedule=AssetAny(*[table_asset("bronze", t) for t in step.inputs]),
        start_date=START_DATE,
        catchup=False,
        max_active_runs=1,
        default_args={"owner": PLATFORM_OWNER, **retry_args()},
        tags=list(dict.fromkeys(t for t in ("citydata", "silver", step.theme, "master" if step.master else "")
                                if t)),
        doc_md=silver_doc_md(step, contracts),
    ) as dag:
        name = step.name

        @task(task_id="build_silver", outlets=[table_asset("silver", t) for t in step.outputs])
        def build_silver() -> dict[str, Any]:
            return run_silver_task(name)

        build_silver()
    return dag


def build_ingest_dags(contracts: Mapping[str, SourceContract] | None = None) -> dict[str, DAG]:
    """One ingest DAG per contract, by DAG id."""
    contracts = load_contracts() if contracts is None else contracts
    return {ingest_dag_id(s): build_ingest_dag(c) for s, c in sorted(contracts.items())}


def build_silver_dags(contracts: Mapping[str, SourceContract] | None = None) -> dict[str, DAG]:
    """One silver DAG per silver step, by DAG id."""
    contracts = load_contracts() if contracts is None else contracts
    return {silver_dag_id(n): build_silver_dag(s, contracts) for n, s in silver_steps(contracts).items()}
