"""Transform: runs dbt inside the platform's Spark session; must not contain model logic.

Owns: invoking dbt (dbt-core's programmatic `dbtRunner`, in this process, so dbt-spark's
`session` method picks up the platform's SparkSession), the vars it passes (lakehouse root, as-of
date, the shipped division table) and turning dbt's results into a `DbtResult` or a `DbtRunError`.
Must not: hold SQL or business rules — those live in `dbt_project/`.
"""

from citydata.transform.runner import (
    DbtInvocationError,
    DbtNodeResult,
    DbtResult,
    DbtRunError,
    default_project_dir,
    run_dbt,
)

__all__ = [
    "DbtInvocationError",
    "DbtNodeResult",
    "DbtResult",
    "DbtRunError",
    "default_project_dir",
    "run_dbt",
]
