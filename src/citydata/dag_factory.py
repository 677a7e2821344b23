"""Airflow 3 DAGs generated from the source contracts, the silver step registry and the released datasets.

`build_ingest_dags()` gives one DAG per contract (`ingest_<source>`: land the day's delivery into
bronze; outlets: the source's bronze and rejects tables as assets); `build_silver_dags()` one DAG per
silver step (`silver_<step>`: scheduled when any of its bronze input assets is updated; outlets: its
silver tables); `build_day_dags()` the rest of a day: `gold_marts` (dbt build, scheduled when any silver
asset is updated; outlets: the gold marts), `release` (gate -> release -> export, scheduled when a released
gold dataset is updated) and `run_day` (a whole day in one run, triggered by hand: replays and backfills).
Their tasks call citydata.orchestration's stages. The DAG files in dags/ only call these. Building imports
no Spark and reads only the contracts, the names of the suites and of the mart files; the tasks import the
library when they run.

Assets are named by table, not by place: URI `citydata://<layer>/<table>` (name `<layer>.<table>`), so the
same DAGs schedule the same way whatever CITYDATA_HOME or lakehouse root (a folder, s3://, hdfs://) holds
the tables. Retries: CITYDATA_AIRFLOW_RETRIES (default 2) and CITYDATA_AIRFLOW_RETRY_DELAY seconds
(default 300, doubling per attempt) — read when the DAG files are parsed. Every task that runs Spark runs in
the pool `SPARK_POOL` (citydata.airflow_local creates it, sized to the machine) with an `execution_timeout`
(`TASK_TIMEOUTS` x CITYDATA_AIRFLOW_TIMEOUT_FACTOR). Every task's failure writes an alert line
(citydata.orchestration.alerts); a delivery refused whole, or rejected above the threshold, writes its own
and fails its task without retries (`check_delivery` / `check_deliveries` tasks: the valid rows flow on).
Must not: hold data logic (citydata.ingest.runner does the work).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from citydata.catalog.contracts import SourceContract, load_contract, load_contracts
from citydata.ingest.runner import SilverStep, silver_steps
from citydata.orchestration import alerts
from citydata.orchestration.plan import mart_models
from citydata.release.gate import suite_datasets

if TYPE_CHECKING:
    from airflow.sdk import DAG, Asset

PLATFORM_OWNER = "data-platform"  # owner of the silver, gold and release DAGs (they serve every department)
GOLD_DAG_ID, RELEASE_DAG_ID, RUN_DAY_DAG_ID = "gold_marts", "release", "run_day"
DBT_PROJECT = Path(__file__).resolve().parents[2] / "dbt_project"
ASSET_SCHEME = "citydata"
START_DATE = datetime(2026, 1, 1, tzinfo=UTC)
# A contract's update_cycle -> the ingest DAG's schedule; cycles not listed (on_change) run when triggered.
SCHEDULES: dict[str, str] = {
    "hourly": "@hourly", "daily": "@daily", "weekly": "@weekly", "monthly": "@monthly",
    "quarterly": "@quarterly", "yearly": "@yearly", "annually": "@yearly",
}
DEFAULT_RETRIES = 2
DEFAULT_RETRY_DELAY = 300.0  # seconds
SPARK_POOL = "citydata_spark"  # every task that starts Spark; slots: citydata.airflow_local.spark_pool_slots
# execution_timeout of each kind of task: ~4x what a day of 1,000,000 residents took on a 2-core machine
# (docs/benchmarks.md: ingest 712 s, gold 130 s, export 30 s), so only a hung task meets it.
TASK_TIMEOUTS: dict[str, timedelta] = {
    "land": timedelta(minutes=30),     # one source into bronze
    "silver": timedelta(minutes=30),   # one silver step
    "ingest": timedelta(hours=1),      # every source and silver step of a day (run_day)
    "gold": timedelta(hours=1),        # dbt build + docs
    "gate": timedelta(minutes=30),
    "release": timedelta(minutes=10),
    "export": timedelta(minutes=30),
    "portal": timedelta(minutes=10),   # no Spark
    "check": timedelta(minutes=5),     # no Spark: reads the landing's counts
}


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


def timeout_factor(env: Mapping[str, str] | None = None) -> float:
    """CITYDATA_AIRFLOW_TIMEOUT_FACTOR (default 1): every execution_timeout times this (a larger city)."""
    env = os.environ if env is None else env
    raw = env.get("CITYDATA_AIRFLOW_TIMEOUT_FACTOR", "")
    try:
        factor = float(raw) if raw.strip() else 1.0
    except ValueError:
        factor = 0.0
    if factor <= 0:
        raise ValueError(f"CITYDATA_AIRFLOW_TIMEOUT_FACTOR={raw!r} is not a positive number. Fix: unset it or "
                         f"set e.g. 4 for a city four times the size")
    return factor


def task_args(kind: str, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Pool and execution_timeout of a task of `kind` (a key of TASK_TIMEOUTS): Spark tasks share SPARK_POOL;
    the portal and the delivery checks start no Spark and stay in Airflow's default pool."""
    args: dict[str, Any] = {"execution_timeout": TASK_TIMEOUTS[kind] * timeout_factor(env)}
    if kind not in ("portal", "check"):
        args["pool"] = SPARK_POOL
    return args


def check_args(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """A delivery check's arguments: a verdict on the data, so no retries (the same counts give the same
    verdict)."""
    return {**task_args("check", env), "retries": 0}


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
        (f"- **writes**: `bronze/{contract.tables.bronze}`, `bronze/{contract.tables.rejects}` "
        f"(assets `{asset_uri('bronze', contract.tables.bronze)}`, `{asset_uri('bronze', contract.tables.rejects)}`)"),
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
        "- **runs when** any of its bronze inputs is updated (assets): "
        + ", ".join(f"`{asset_uri('bronze', t)}`" for t in step.inputs),
        "- **inputs** (ingest DAGs): " + ", ".join(f"`{ingest_dag_id(s)}`" for s in step.sources),
        "- **writes**: " + ", ".join(f"`silver/{t}`" for t in step.outputs),
        f"- **calls**: `{step.target}`" + ("" if step.master else " with the contract"),
        "",
        ("Idempotent: a rerun on the same bronze changes nothing. A failure leaves silver at its version. "
        "Runbook: docs/airflow.md."),
    ]
    return "\n".join(lines) + "\n"


# --- DAG objects (Airflow imported here, not at module import) ---------------------------------------

def table_asset(layer: str, table: str) -> Asset:
    from airflow.sdk import Asset

    return Asset(name=f"{layer}.{table}", uri=asset_uri(layer, table), group=layer)


def run_ingest_task(source: str, params: Mapping[str, Any], run_id: str | None = None,
                    where: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The ingest task: land the source; skip (no asset event) when nothing new was delivered. A delivery
    refused whole writes a DELIVERY_REFUSED alert and fails the task without retries (the same file is refused
    again). `where`: the task's dag, task, run_id and try_number for the alert."""
    from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

    from citydata.config import Paths
    from citydata.ingest import runner
    from citydata.ingest.bronze import DeliveryRejectedError
    from citydata.lakehouse import Lakehouse, get_spark

    paths = Paths.from_env()
    contract = load_contract(source)  # only its own contract: another one being edited can't fail this task
    api_url = (params.get("api_url") or "").strip() or None
    folder = (params.get("delivery_folder") or "").strip() or None
    try:
        if not api_url:  # nothing delivered: skip before starting Spark
            folder = folder or str(runner.default_delivery_folder(paths))
            runner.delivery_of(contract, folder)
        spark = get_spark(app_name=f"citydata-{ingest_dag_id(source)}")
        result = runner.land_source(spark, Lakehouse(spark, paths.lakehouse), contract, delivery_folder=folder,
                                    api_url=api_url, landing_dir=runner.default_landing_dir(paths),
                                    page_size=params.get("page_size") or None,
                                    # a retry of the run resumes its fetch; a new run fetches afresh
                                    run_key=runner.run_key_of(run_id) if run_id else None)
    except runner.DeliveryMissingError as error:
        raise AirflowSkipException(str(error)) from error
    except DeliveryRejectedError as error:
        alert = alerts.refusal_alert(source, str(error), day=alerts.day_label(folder), **dict(where or {}))
        raise _alerted(AirflowFailException(str(error)), [alert]) from error
    if not result.delivered:
        raise AirflowSkipException(f"{source}: {result.file} holds no rows: nothing to land, no asset event")
    if result.already_landed:
        raise AirflowSkipException(f"{source}: batch {result.batch_id} ({result.delivered} rows) was landed "
                                   f"before: nothing new, no asset event")
    return {"source": source, "day": alerts.day_label(folder) if folder else runner.run_key_of(run_id or "api"),
            "batch_id": result.batch_id, "file": result.file, "encoding": result.encoding,
            "delivered": result.delivered, "landed": result.landed, "rejected": result.rejected,
            "rejects_by_reason": result.rejects_by_reason, "bronze_version": result.bronze_version,
            "rejects_version": result.rejects_version}


def _alerted(error: BaseException, written: list[alerts.Alert]) -> BaseException:
    """`error` after writing its alert lines, marked so the failure callback does not write another."""
    alerts.write_alerts(written)
    setattr(error, alerts.ALERTED, True)
    return error


def run_delivery_check(landed: Mapping[str, Mapping[str, Any]], refused: Mapping[str, str], day: str | None,
                       where: Mapping[str, Any]) -> dict[str, Any]:
    """The delivery check task: an alert line per refused delivery and per new delivery rejected above the
    threshold (CITYDATA_ALERT_REJECT_SHARE), then the task fails without retries (AirflowFailException);
    with none it returns what it judged."""
    from airflow.sdk.exceptions import AirflowFailException

    threshold = alerts.reject_share_threshold()
    found = alerts.delivery_alerts(landed, refused, threshold=threshold, day=day, **dict(where))
    if found:
        lines = "; ".join(a.message for a in found)
        raise _alerted(AirflowFailException(f"{len(found)} delivery alert(s) written to {alerts.alerts_file()}: "
                                            f"{lines}"), found)
    return {"sources": sorted(landed), "threshold": threshold, "alerts": 0}


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
        default_args={"owner": contract.department, **retry_args(),
                      "on_failure_callback": alerts.failure_callback(source)},
        params=params,
        tags=ingest_tags(contract),
        doc_md=ingest_doc_md(contract),
    ) as dag:
        @task(task_id="land_bronze", **task_args("land"),
              outlets=[table_asset("bronze", contract.tables.bronze), table_asset("bronze", contract.tables.rejects)])
        def land_bronze(params: dict[str, Any] | None = None, run_id: str | None = None, ti: Any = None
                        ) -> dict[str, Any]:
            return run_ingest_task(source, params or {}, run_id, alerts.task_where({"ti": ti, "run_id": run_id}))

        @task(task_id="check_delivery", **check_args())
        def check_delivery(landed: dict[str, Any], ti: Any = None) -> dict[str, Any]:
            return run_delivery_check({source: {**landed, "new": True}}, {}, landed.get("day"),
                                      alerts.task_where({"ti": ti}))

        check_delivery(land_bronze())
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
        default_args={"owner": PLATFORM_OWNER, **retry_args(), "on_failure_callback": alerts.failure_callback()},
        tags=list(dict.fromkeys(t for t in ("citydata", "silver", step.theme, "master" if step.master else "")
                                if t)),
        doc_md=silver_doc_md(step, contracts),
    ) as dag:
        name = step.name

        @task(task_id="build_silver", **task_args("silver"), outlets=[table_asset("silver", t) for t in step.outputs])
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


# --- the rest of a day: gold, release, and a whole day in one run --------------------------------------

def silver_outlets(steps: Mapping[str, SilverStep]) -> list[str]:
    """Every silver table a silver DAG emits an asset event for (sorted, once each)."""
    return sorted({table for step in steps.values() for table in step.outputs})


def gold_outlets(project_dir: Path | None = None) -> list[str]:
    """The gold tables `gold_marts` writes: one per mart of the dbt project (`models/marts/**/<name>.sql`)."""
    return mart_models(project_dir or dbt_project_dir())


def dbt_project_dir() -> Path:
    """The dbt project beside dags/ ($CITYDATA_HOME/dbt_project when there is one)."""
    home = os.environ.get("CITYDATA_HOME")
    if home and (Path(home) / "dbt_project" / "dbt_project.yml").is_file():
        return Path(home) / "dbt_project"
    return DBT_PROJECT


def day_param_specs() -> dict[str, dict[str, Any]]:
    """Params of the gold, release and run_day DAGs: which day, at which date."""
    return {
        "day_folder": {
            "default": "", "type": "string",
            "description": "the day folder (holding delivery/ and manifest.json) or its delivery folder; empty: "
                           "the newest day under CITYDATA_LANDING, else under $CITYDATA_HOME/data/simulated"},
        "as_of": {
            "default": "", "type": "string",
            "description": "YYYY-MM-DD gold is computed at when the day has no manifest.json; empty: today (UTC)"},
    }


def _params(specs: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    from airflow.sdk import Param

    return {name: Param(spec.pop("default"), **spec) for name, spec in ((n, dict(s)) for n, s in specs.items())}


def _day(params: Mapping[str, Any]) -> tuple[Any, Any, Any]:
    """The platform's paths, lakehouse and the day's plan for a gold/release/run_day task. The lakehouse starts
    Spark when something first needs it: a stage that reads only Delta logs (release, an export done before)
    starts no JVM."""
    from datetime import date

    from citydata.config import Paths
    from citydata.ingest.runner import default_delivery_folder
    from citydata.lakehouse import Lakehouse, get_spark
    from citydata.orchestration import plan_day

    paths = Paths.from_env()
    folder = (params.get("day_folder") or "").strip() or default_delivery_folder(paths)
    as_of = (params.get("as_of") or "").strip()
    plan = plan_day(folder, paths=paths, as_of=date.fromisoformat(as_of) if as_of else None)
    return paths, Lakehouse(lambda: get_spark(app_name="citydata-day"), paths.lakehouse), plan


def run_day_task(stage: str, params: Mapping[str, Any], upstream: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """One stage of the day in an Airflow task (`ingest`, `gold`, `gate`, `release`, `export`, `portal`): the
    same stage functions `citydata run-day` calls. `upstream` is the previous task's return value where a stage
    needs it (release: the gate's summary). A failed gate raises GateFailed (each failed expectation of each
    dataset, with masked sample rows, in the task log). The portal stage starts no Spark."""
    from citydata import orchestration
    from citydata.config import Paths

    if stage not in orchestration.STAGES:
        raise ValueError(f"unknown stage {stage!r}: one of {', '.join(orchestration.STAGES)}")
    if stage == "portal":
        return orchestration.portal_stage(Paths.from_env()).as_dict()
    paths, lakehouse, plan = _day(params)
    if stage == "ingest":
        api_url = (params.get("api_url") or "").strip() or None
        done = orchestration.ingest_stage(lakehouse.spark, lakehouse, plan, api_url=api_url)
    elif stage == "gold":
        done = orchestration.gold_stage(lakehouse.spark, lakehouse, plan, paths=paths)
    elif stage == "gate":
        done, gate = orchestration.gate_stage(lakehouse.spark, lakehouse, paths=paths, plan=plan)
        gate.raise_for_failure()
    elif stage == "release":
        done = orchestration.release_stage(lakehouse, plan, dict(upstream or {})["details"], paths=paths)
    else:
        done = orchestration.export_stage(lakehouse, paths=paths)
    return {"plan": plan.as_dict(), **done.as_dict()}


def day_doc_md(dag_id: str) -> str:
    """The gold / release / run_day DAG's documentation in the UI."""
    what = {
        GOLD_DAG_ID: "`dbt build` of every model of dbt_project/ (models and their tests) at the day's dates, "
                     "then `dbt docs generate`. Runs when any silver table is updated (assets). Unchanged "
                     "models write no new Delta version.",
        RELEASE_DAG_ID: "The Great Expectations gate over every dataset of the catalog (each catalog item's gold "
                        "table, its suite from expectations/), then a numbered release manifest pinning the gated "
                        "versions with their catalog items and validation (only if the gate passed and something "
                        "changed), then the open data of the current release (CSV, JSON, Parquet, DCAT, CKAN API) "
                        "and the portal built from it. Runs when a released gold dataset is updated (assets). A "
                        "failed gate fails the run, names each failed expectation in the gate task's log and "
                        "publishes nothing.",
        RUN_DAY_DAG_ID: "A whole day in one run, triggered by hand (replays, backfills, `make demo-airflow`): "
                        "ingest (every source, then silver) -> gold -> gate -> release -> export -> portal, the same "
                        "stages as `citydata run-day`. Emits no asset events: the scheduled DAGs do not run again.",
    }[dag_id]
    return (f"### {dag_id}\n\n{what}\n\nParams: `day_folder` (empty: the newest day), `as_of` (when the day has "
            "no manifest.json). Every task calls a stage of `citydata.orchestration`. Runbook: docs/run-day.md, "
            "docs/airflow.md.\n")


def build_gold_dag(steps: Mapping[str, SilverStep]) -> DAG:
    """`gold_marts`: scheduled on any silver asset; outlets: every gold mart."""
    from airflow.sdk import DAG, AssetAny, task

    with DAG(
        dag_id=GOLD_DAG_ID,
        description="silver -> dbt build (gold marts and their tests) -> dbt docs",
        schedule=AssetAny(*[table_asset("silver", t) for t in silver_outlets(steps)]),
        start_date=START_DATE,
        catchup=False,
        max_active_runs=1,  # two builds must not race on the gold tables
        default_args={"owner": PLATFORM_OWNER, **retry_args(), "on_failure_callback": alerts.failure_callback()},
        params=_params(day_param_specs()),
        tags=["citydata", "gold", "dbt"],
        doc_md=day_doc_md(GOLD_DAG_ID),
    ) as dag:
        @task(task_id="dbt_build", **task_args("gold"), outlets=[table_asset("gold", t) for t in gold_outlets()])
        def dbt_build(params: dict[str, Any] | None = None) -> dict[str, Any]:
            return run_day_task("gold", params or {})

        dbt_build()
    return dag


def _gate_task(task: Any) -> Any:
    # a failed gate is a verdict on the data, not a transient error: no retries
    @task(task_id="gate", **{**task_args("gate"), "retries": 0})
    def gate(params: dict[str, Any] | None = None) -> dict[str, Any]:
        return run_day_task("gate", params or {})

    return gate


def _release_after(task: Any, gate: Any) -> Any:
    """The release task on the gate's verdict, then the export of the current release and the portal built
    from it (inside a DAG context)."""
    @task(task_id="release", **task_args("release"))
    def release(verdict: dict[str, Any], params: dict[str, Any] | None = None) -> dict[str, Any]:
        return run_day_task("release", params or {}, verdict)

    @task(task_id="export", **task_args("export"))
    def export(released: dict[str, Any], params: dict[str, Any] | None = None) -> dict[str, Any]:
        return run_day_task("export", params or {}, released)

    @task(task_id="portal", **task_args("portal"))
    def portal(exported: dict[str, Any], params: dict[str, Any] | None = None) -> dict[str, Any]:
        return run_day_task("portal", params or {}, exported)

    return portal(export(release(gate)))


def build_release_dag(released: list[str]) -> DAG:
    """`release`: scheduled on any released gold dataset; gate -> release -> export -> portal."""
    from airflow.sdk import DAG, AssetAny, task

    with DAG(
        dag_id=RELEASE_DAG_ID,
        description="gold -> Great Expectations gate -> release manifest -> open-data export -> portal",
        schedule=AssetAny(*[table_asset("gold", t) for t in released]) if released else None,
        start_date=START_DATE,
        catchup=False,
        max_active_runs=1,  # release numbers are taken in order
        default_args={"owner": PLATFORM_OWNER, **retry_args(), "on_failure_callback": alerts.failure_callback()},
        params=_params(day_param_specs()),
        tags=["citydata", "release"],
        doc_md=day_doc_md(RELEASE_DAG_ID),
    ) as dag:
        _release_after(task, _gate_task(task)())
    return dag


def build_run_day_dag() -> DAG:
    """`run_day`: a whole day in one run (ingest -> gold -> gate -> release -> export -> portal), by hand."""
    from airflow.sdk import DAG, task

    specs = day_param_specs()
    specs["api_url"] = {"default": "", "type": "string",
                        "description": "fetch the JSON API sources from this base URL; empty: the day folder's pages"}
    with DAG(
        dag_id=RUN_DAY_DAG_ID,
        description="one day end to end: ingest -> silver -> dbt build -> gate -> release -> export -> portal",
        schedule=None,
        start_date=START_DATE,
        catchup=False,
        max_active_runs=1,
        default_args={"owner": PLATFORM_OWNER, **retry_args(), "on_failure_callback": alerts.failure_callback()},
        params=_params(specs),
        tags=["citydata", "day"],
        doc_md=day_doc_md(RUN_DAY_DAG_ID),
    ) as dag:
        @task(task_id="ingest", **task_args("ingest"))
        def ingest(params: dict[str, Any] | None = None) -> dict[str, Any]:
            return run_day_task("ingest", params or {})

        # beside gold, not before it: a refused delivery is reported and the day goes on (as in run-day), but
        # the run ends failed with the alert lines written
        @task(task_id="check_deliveries", **check_args())
        def check_deliveries(ingested: dict[str, Any], ti: Any = None) -> dict[str, Any]:
            details = ingested["details"]
            return run_delivery_check(details["landed"], details["refused"],
                                      alerts.day_label(details.get("delivery_folder")), alerts.task_where({"ti": ti}))

        @task(task_id="gold", **task_args("gold"))
        def gold(ingested: dict[str, Any], params: dict[str, Any] | None = None) -> dict[str, Any]:
            return run_day_task("gold", params or {})

        ingested = ingest()
        check_deliveries(ingested)
        gate = _gate_task(task)()
        gold(ingested) >> gate
        _release_after(task, gate)
    return dag


def build_day_dags(contracts: Mapping[str, SourceContract] | None = None) -> dict[str, DAG]:
    """`gold_marts`, `release` and `run_day`, by DAG id."""
    contracts = load_contracts() if contracts is None else contracts
    return {GOLD_DAG_ID: build_gold_dag(silver_steps(contracts)),
            RELEASE_DAG_ID: build_release_dag(suite_datasets()),
            RUN_DAY_DAG_ID: build_run_day_dag()}
