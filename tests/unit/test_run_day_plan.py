"""The pure parts of run-day: a day's dates, the released datasets, a release's lineage (no Spark)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from citydata.orchestration.plan import (
    DayFolderError,
    build_is_current,
    files_fingerprint,
    mart_models,
    period_after,
    previous_as_of,
    resolve_day,
    upstream_tables,
)


def _day(tmp_path: Path, name: str = "day-002", manifest: dict | None = None) -> Path:
    folder = tmp_path / name
    (folder / "delivery").mkdir(parents=True)
    if manifest is not None:
        (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return folder


def test_a_simulated_day_takes_its_dates_from_its_manifest(tmp_path: Path) -> None:
    day = _day(tmp_path, manifest={"as_of": "2025-01-31", "period": ["2025-01-02", "2025-01-31"]})
    for given in (day, day / "delivery"):  # the day folder or its delivery folder
        plan = resolve_day(given, release_as_ofs=["2024-12-01"])  # the manifest wins over the releases
        assert (plan.delivery_folder, plan.day, plan.as_of, plan.period_start, plan.dates_from) == (
            day / "delivery", "day-002", date(2025, 1, 31), date(2025, 1, 2), "manifest.json")
    assert plan.dbt_vars() == {"as_of_date": "2025-01-31", "period_start": "2025-01-02"}
    assert resolve_day(day, as_of=date(2025, 1, 31)).as_of == date(2025, 1, 31)  # agreeing is fine


def test_an_as_of_that_contradicts_the_manifest_is_refused(tmp_path: Path) -> None:
    day = _day(tmp_path, manifest={"as_of": "2025-01-31", "period": ["2025-01-02", "2025-01-31"]})
    with pytest.raises(DayFolderError, match=r"as of 2025-01-31, not 2025-02-01.*Fix: drop --as-of"):
        resolve_day(day, as_of=date(2025, 2, 1))


def test_without_a_manifest_the_period_starts_the_day_after_the_previous_release(tmp_path: Path) -> None:
    landing = tmp_path / "landing" / "2026-11-25"
    landing.mkdir(parents=True)
    first = resolve_day(landing, as_of=date(2026, 11, 25))
    assert (first.day, first.period_start, first.dates_from) == ("2026-11-25", date(2026, 11, 25), "--as-of")
    later = resolve_day(landing, as_of=date(2026, 11, 25), release_as_ofs=["2026-11-20", None, "2026-11-22"])
    assert later.period_start == date(2026, 11, 23)  # the day after the latest earlier release
    # a rerun of the day: its own release (same as-of) is not "the previous one"
    rerun = resolve_day(landing, as_of=date(2026, 11, 25), release_as_ofs=["2026-11-24", "2026-11-25"])
    assert rerun.period_start == date(2026, 11, 25)
    today = resolve_day(landing, today=date(2026, 12, 1), release_as_ofs=["2026-11-25"])
    assert (today.as_of, today.period_start, today.dates_from) == (date(2026, 12, 1), date(2026, 11, 26),
                                                                   "today (UTC)")


def test_period_rules() -> None:
    assert period_after(None, date(2025, 1, 1)) == date(2025, 1, 1)
    assert period_after(date(2024, 12, 31), date(2025, 1, 1)) == date(2025, 1, 1)
    assert period_after(date(2025, 1, 5), date(2025, 1, 1)) == date(2025, 1, 1)  # never after as_of
    assert previous_as_of(["2025-01-01", date(2025, 1, 31), "2025-03-01"], date(2025, 2, 1)) == date(2025, 1, 31)
    assert previous_as_of([], date(2025, 2, 1)) is None


def test_a_missing_day_folder_says_what_to_pass(tmp_path: Path) -> None:
    with pytest.raises(DayFolderError, match="no such folder. Fix: pass a day folder"):
        resolve_day(tmp_path / "day-009")


def test_the_marts_are_the_sql_files_under_models_marts(tmp_path: Path) -> None:
    for rel in ("models/marts/population/dim_resident.sql", "models/marts/geo/dim_district.sql",
                "models/marts/geo/_geo.yml", "models/staging/stg_silver__person.sql"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("select 1", encoding="utf-8")
    assert mart_models(tmp_path) == ["dim_district", "dim_resident"]


def test_a_releases_inputs_are_the_lakehouse_sources_its_models_read_transitively() -> None:
    manifest = {
        "nodes": {
            "model.citydata.population_by_district": {"resource_type": "model", "name": "population_by_district"},
            "model.citydata.int_residents": {"resource_type": "model", "name": "int_residents"},
            "model.citydata.stg_silver__person": {"resource_type": "model", "name": "stg_silver__person"},
            "model.citydata.poi_by_district": {"resource_type": "model", "name": "poi_by_district"},
        },
        "sources": {
            "source.citydata.silver.person": {"source_name": "silver", "name": "person", "identifier": "person"},
            "source.citydata.silver.poi": {"source_name": "silver", "name": "poi", "identifier": "poi"},
            "source.citydata.standards.divisions": {"source_name": "standards", "name": "divisions"},
        },
        "parent_map": {
            "model.citydata.population_by_district": ["model.citydata.int_residents",
                                                      "source.citydata.standards.divisions"],
            "model.citydata.int_residents": ["model.citydata.stg_silver__person"],
            "model.citydata.stg_silver__person": ["source.citydata.silver.person"],
            "model.citydata.poi_by_district": ["source.citydata.silver.poi"],
        },
    }
    assert upstream_tables(manifest, ["population_by_district"]) == ["silver/person"]  # reference data left out
    assert upstream_tables(manifest, ["population_by_district", "poi_by_district"]) == ["silver/person", "silver/poi"]
    assert upstream_tables(manifest, ["no_such_model"]) == []


def test_the_project_fingerprint_follows_what_dbt_builds_from_not_what_it_writes(tmp_path: Path) -> None:
    project = tmp_path / "dbt_project"
    (project / "models").mkdir(parents=True)
    (project / "models" / "m.sql").write_text("select 1", encoding="utf-8")
    first = files_fingerprint([project])
    for output in ("target/manifest.json", "logs/dbt.log", ".user.yml"):
        (project / output).parent.mkdir(parents=True, exist_ok=True)
        (project / output).write_text("x", encoding="utf-8")
    assert files_fingerprint([project]) == first
    (project / "models" / "m.sql").write_text("select 2", encoding="utf-8")
    assert files_fingerprint([project]) != first


def test_a_build_is_current_only_with_the_same_vars_project_silver_and_gold() -> None:
    build = {"vars": {"as_of_date": "2025-01-31"}, "project": "abc", "silver": {"silver/person": 3},
             "gold": {"gold/dim_resident": 1}}
    assert build_is_current({**build, "tests": 380}, build)
    assert not build_is_current(None, build)
    for key, other in (("vars", {"as_of_date": "2025-03-02"}), ("project", "abd"), ("silver", {"silver/person": 4}),
                       ("gold", {"gold/dim_resident": 2})):
        assert not build_is_current(build, {**build, key: other}), key
