"""e2e tests: Airflow in this process (DagBag) gets a throw-away AIRFLOW_HOME, never the user's home."""

from __future__ import annotations

import os
import tempfile

# Set before anything imports airflow (it reads AIRFLOW_HOME and its config once, at import).
if "airflow" not in __import__("sys").modules:
    os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="citydata-airflow-")
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "True"
