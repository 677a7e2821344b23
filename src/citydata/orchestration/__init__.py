"""One day of the platform, end to end: ingest -> silver -> gold (dbt) -> gate -> release -> export -> portal.

`run_day` is the one orchestration: the CLI (`citydata run-day`), `citydata demo`, the tests and the
Airflow DAGs (`gold_marts`, `release`, `run_day`) call its stage functions (`ingest_stage`, `gold_stage`,
`gate_stage`, `release_stage`, `export_stage`, `portal_stage`), never a copy of them. `plan` holds the pure parts (the
day's dates, the lineage of a release) and imports no Spark.
Must not: hold data logic (ingest, transform, release and export do the work) or Airflow code.
"""

from citydata.orchestration.plan import STAGES, DayFolderError, DayPlan, resolve_day
from citydata.orchestration.stages import (
    DayResult,
    StageResult,
    export_stage,
    gate_stage,
    gold_stage,
    ingest_stage,
    plan_day,
    portal_stage,
    release_stage,
    run_day,
)

__all__ = [
    "STAGES",
    "DayFolderError",
    "DayPlan",
    "DayResult",
    "StageResult",
    "export_stage",
    "gate_stage",
    "gold_stage",
    "ingest_stage",
    "plan_day",
    "portal_stage",
    "release_stage",
    "resolve_day",
    "run_day",
]
