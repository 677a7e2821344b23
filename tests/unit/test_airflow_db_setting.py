"""CITYDATA_AIRFLOW_DB picks Airflow's metadata database and executor: SQLite and Airflow's default executor when
unset, a PostgreSQL URL with LocalExecutor (psycopg2 named, SQLAlchemy 2.1 would pick psycopg 3), anything else
refused with the fix and no password quoted."""

from __future__ import annotations

from pathlib import Path

import pytest

from citydata.airflow_local import MetadataDatabaseError, airflow_env, metadata_database
from citydata.airflow_postgres import PostgresError, PostgresNotInstalledError, mask_url, server_bin_dir


def test_unset_means_sqlite_in_airflow_home_and_the_default_executor(tmp_path: Path) -> None:
    env = airflow_env(tmp_path, base={"PATH": "/usr/bin"})
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == f"sqlite:///{tmp_path.resolve() / '.airflow' / 'airflow.db'}"
    assert "AIRFLOW__CORE__EXECUTOR" not in env


@pytest.mark.parametrize("setting", ["postgresql://u:pw@db.example:5433/af", "postgresql+psycopg2://u:pw@db.example:5433/af",
                                     "postgres://u:pw@db.example:5433/af"])
def test_a_postgresql_url_runs_airflow_there_with_local_executor(tmp_path: Path, setting: str) -> None:
    env = airflow_env(tmp_path, base={"PATH": "/usr/bin", "CITYDATA_AIRFLOW_DB": setting})
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == "postgresql+psycopg2://u:pw@db.example:5433/af"
    assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"


def test_another_database_is_refused_with_the_fix_and_no_password(tmp_path: Path) -> None:
    with pytest.raises(MetadataDatabaseError) as refused:
        metadata_database(tmp_path, tmp_path, {"CITYDATA_AIRFLOW_DB": "mysql://airflow:s3cret@db/airflow"})
    assert "s3cret" not in str(refused.value)
    assert "CITYDATA_AIRFLOW_DB='mysql://airflow:***@db/airflow'" in str(refused.value)
    assert "Fix: unset it" in str(refused.value)


def test_local_needs_the_project_server_running(tmp_path: Path) -> None:
    with pytest.raises(PostgresError, match=r"is not running\. Fix: `citydata postgres start`"):
        metadata_database(tmp_path, tmp_path, {"CITYDATA_AIRFLOW_DB": "local",
                                               "CITYDATA_POSTGRES_DIR": str(tmp_path / "pg")})


def test_mask_url_hides_only_the_password() -> None:
    assert mask_url("postgresql://citydata:a-b_c@127.0.0.1:5432/airflow") == (
        "postgresql://citydata:***@127.0.0.1:5432/airflow")
    assert mask_url("postgresql://citydata@127.0.0.1/airflow") == "postgresql://citydata@127.0.0.1/airflow"


def test_a_bin_folder_without_pg_ctl_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PostgresNotInstalledError, match="holds no pg_ctl"):
        server_bin_dir({"CITYDATA_POSTGRES_BIN": str(tmp_path)})
