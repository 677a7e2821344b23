"""Airflow 3 DAG: the household register end to end (bronze -> silver -> gold -> gate -> release -> export).

Thin: every task calls one step of `citydata.pipeline`; the library is imported inside the tasks so
parsing this file stays cheap. Data folders come from CITYDATA_HOME (see citydata.config.Paths).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from airflow.sdk import Param, dag, task

DOC_MD = """
### skeleton_chain — 户籍人口登记 end to end

One delivery of the household register (市公安局, GBK CSV) through every layer:

1. **land_bronze** — decode, validate each line against `schemas/household_register.yml`; valid lines to
   `bronze/household_register` (with lineage), the others to `bronze/household_register_rejects` with a
   reason code and masked values. Re-landing the same file changes nothing.
2. **build_silver** — standardize and MERGE into `silver/person` by identity number.
3. **build_gold** — `dbt build` (dim_resident, population_by_district) in the task's Spark session.
4. **gate** — Great Expectations suites in `expectations/`; a failure stops the run: nothing is published.
5. **release** — `release-NNNN.json` pinning the Delta version of every released table.
6. **export** — open-data CSVs (personal fields masked, small counts suppressed) + catalog metadata.

Params: `delivery` (a file path; empty = the embedded sample), `as_of` (YYYY-MM-DD; empty = today, UTC).
Runbook: docs/skeleton-chain.md.
"""


def _config(params: dict[str, Any]) -> Any:
    from citydata.pipeline import ChainConfig

    return ChainConfig.from_env(delivery=params.get("delivery") or None, as_of=params.get("as_of") or None)


@dag(
    dag_id="skeleton_chain",
    description="Household register: bronze -> silver -> dbt gold -> GX gate -> release manifest -> open data",
    schedule="@daily",
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    max_active_runs=1,  # steps are idempotent, but two runs must not race on the same tables
    default_args={"owner": "data-platform", "retries": 1, "retry_delay": timedelta(minutes=2)},
    params={
        "delivery": Param("", type="string", description="delivery file; empty: the embedded sample"),
        "as_of": Param("", type="string", description="YYYY-MM-DD the gold layer is computed at; empty: today"),
    },
    tags=["citydata", "population", "skeleton"],
    doc_md=DOC_MD,
)
def skeleton_chain() -> None:
    @task
    def land_bronze(params: dict[str, Any] | None = None) -> dict[str, Any]:
        from citydata import pipeline

        return pipeline.land_bronze(_config(params or {}))

    @task
    def build_silver(landed: dict[str, Any], params: dict[str, Any] | None = None) -> dict[str, Any]:
        from citydata import pipeline

        return pipeline.build_silver(_config(params or {}))

    @task
    def build_gold(silver: dict[str, Any], params: dict[str, Any] | None = None) -> dict[str, Any]:
        from citydata import pipeline

        return pipeline.build_gold(_config(params or {}))

    @task(retries=0)  # a failed gate is a verdict on the data, not a transient error
    def gate(gold: dict[str, Any], params: dict[str, Any] | None = None) -> dict[str, Any]:
        from citydata import pipeline

        return pipeline.gate(_config(params or {}))

    @task
    def release(gate_result: dict[str, Any], params: dict[str, Any] | None = None) -> dict[str, Any]:
        from citydata import pipeline

        return pipeline.release(_config(params or {}), gate_result)

    @task
    def export(release_info: dict[str, Any], params: dict[str, Any] | None = None) -> dict[str, Any]:
        from citydata import pipeline

        return pipeline.export(_config(params or {}), release_info)

    export(release(gate(build_gold(build_silver(land_bronze())))))


skeleton_chain()
