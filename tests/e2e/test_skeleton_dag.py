"""`airflow dags test skeleton_chain` in a subprocess (project-local AIRFLOW_HOME and data in tmp), twice.

Asserts exact row counts per table, reason codes, the manifest's pinned versions, that no exported
byte and no log line holds a raw personal value of the sample, and that the second run gives the
same gold content without duplicating any row. Tables are read with delta-rs (real Delta logs).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from deltalake import DeltaTable

from citydata.pipeline import airflow_env, run_dag_test
from citydata.sources.samples import sample_delivery

SAMPLE = sample_delivery("household_register")
TABLES = ("bronze/household_register", "bronze/household_register_rejects", "silver/person",
          "gold/dim_resident", "gold/population_by_district")


def personal_values() -> set[str]:
    """Raw ID numbers, names, phones and addresses of the sample, as delivered and as standardized."""
    values: set[str] = set()
    for cells in list(csv.reader(io.StringIO(SAMPLE.read_bytes().decode("gbk"))))[1:]:
        for index in (0, 1, 8, 9):
            if index < len(cells) and cells[index].strip():
                values.add(cells[index].strip())
    return values | {"339901198406180264", "33990119821130049X", "339901199001150176", "13805710008",
                     "339903196208151335"}


def snapshot(home: Path) -> dict[str, dict]:
    out = {}
    for name in TABLES:
        table = DeltaTable(str(home / "lakehouse" / name))
        rows = table.to_pyarrow_table().to_pylist()
        out[name] = {"version": table.version(), "rows": rows}
    return out


def gold_content(snap: dict[str, dict]) -> dict[str, list]:
    def canon(rows: list[dict]) -> list:
        return sorted(json.dumps(r, sort_keys=True, default=str, ensure_ascii=False) for r in rows)
    return {name: canon(snap[name]["rows"]) for name in ("gold/dim_resident", "gold/population_by_district")}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    home = tmp_path_factory.mktemp("platform")
    env = airflow_env(home, home / ".airflow")
    env["AIRFLOW__CORE__UNIT_TEST_MODE"] = "False"
    first = run_dag_test(env)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-6000:]
    snap1 = snapshot(home)
    snap1["exports"] = {p.name: p.read_bytes() for p in (home / "exports" / "release-0001").glob("*.csv")}
    second = run_dag_test(env)
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-6000:]
    snap2 = snapshot(home)
    return home, (first, snap1), (second, snap2)


def test_first_run_lands_exact_counts_in_every_layer(runs) -> None:
    _, (_, snap), _ = runs
    counts = {name: len(snap[name]["rows"]) for name in TABLES}
    assert counts == {"bronze/household_register": 21, "bronze/household_register_rejects": 16,
                      "silver/person": 20, "gold/dim_resident": 20, "gold/population_by_district": 5}
    reasons = sorted(r["reason_code"] for r in snap["bronze/household_register_rejects"]["rows"])
    assert reasons == sorted([
        "COLUMN_COUNT", "DATE_FORMAT", "DATE_IMPOSSIBLE", "DIVISION_EXPIRED", "DIVISION_UNKNOWN", "DUPLICATE_ROW",
        "ID_BIRTHDATE", "ID_BIRTHDATE_MISMATCH", "ID_CHARSET", "ID_CHECKSUM", "ID_DIVISION", "ID_GENDER_MISMATCH",
        "ID_LENGTH", "MOBILE_FORMAT", "REQUIRED_MISSING", "STREET_DISTRICT_MISMATCH"])
    population = {r["district_code"]: (r["residents"], r["male"], r["female"])
                  for r in snap["gold/population_by_district"]["rows"]}
    assert population == {"339901": (10, 5, 5), "339902": (5, 3, 2), "339903": (2, 1, 1), "339904": (1, 1, 0),
                          "339905": (2, 1, 1)}


def test_manifest_pins_the_gated_versions(runs) -> None:
    home, (_, snap), _ = runs
    manifest = json.loads((home / "data" / "releases" / "release-0001.json").read_text(encoding="utf-8"))
    assert manifest["release"] == 1 and manifest["gate"]["success"] is True
    for name in ("gold/dim_resident", "gold/population_by_district"):
        pin = manifest["datasets"][name]
        assert pin["path"] == str(home / "lakehouse" / name)
        assert pin["delta_version"] == 0 and pin["rows"] == len(snap[name]["rows"])
    assert {n: (p["delta_version"], p["rows"]) for n, p in manifest["inputs"].items()} == {
        "bronze/household_register": (0, 21), "bronze/household_register_rejects": (0, 16), "silver/person": (0, 20)}


def test_export_holds_no_raw_personal_value_and_masks_the_extract(runs) -> None:
    home, _, _ = runs
    exported = sorted((home / "exports").rglob("*"))
    files = [p for p in exported if p.is_file()]
    assert {p.name for p in files} >= {"population_by_district.csv", "population_by_district.metadata.json",
                                       "resident_extract.csv", "resident_extract.metadata.json"}
    values = personal_values()
    for path in files:
        data = path.read_bytes()
        leaked = sorted(v for v in values if v.encode("utf-8") in data)
        assert leaked == [], f"{path} holds raw personal values"
    extract = list(csv.DictReader(io.StringIO(
        (home / "exports" / "release-0001" / "resident_extract.csv").read_text(encoding="utf-8"))))
    assert len(extract) == 20
    by_id = {r["id_number"]: r for r in extract}
    assert by_id["339903********1335"]["name"] == "何**"
    assert by_id["339903********1335"]["phone"] == "137****0017"
    assert by_id["339903********1335"]["address"] == "示范市南江区江南街道"
    population = (home / "exports" / "release-0001" / "population_by_district.csv").read_text(encoding="utf-8")
    assert population.splitlines()[1] == "339901,东湖区,10,*,*"


def test_logs_of_both_runs_quote_no_personal_value(runs) -> None:
    home, (first, _), (second, _) = runs
    text = "\n".join([first.stdout, first.stderr, second.stdout, second.stderr])
    assert "DagRun Finished: dag_id=skeleton_chain" in text
    assert sorted(v for v in personal_values() if v in text) == []
    # log files too: Airflow's task logs, dbt's own log, the gate's Data Docs
    files = [p for folder in (home / ".airflow" / "logs", home / "data" / "dbt", home / "data" / "releases")
             for p in folder.rglob("*") if p.is_file() and p.suffix in (".log", ".json", ".html", "")]
    assert any(p.name == "dbt.log" for p in files)
    for path in files:
        data = path.read_bytes()
        assert sorted(v for v in personal_values() if v.encode("utf-8") in data) == [], path


def test_second_run_gives_the_same_gold_and_duplicates_nothing(runs) -> None:
    home, (_, snap1), (_, snap2) = runs
    for name in ("bronze/household_register", "bronze/household_register_rejects", "silver/person"):
        assert snap2[name]["version"] == snap1[name]["version"] == 0, name  # nothing rewritten
        assert len(snap2[name]["rows"]) == len(snap1[name]["rows"])
    assert gold_content(snap2) == gold_content(snap1)
    ids = [r["id_number"] for r in snap2["gold/dim_resident"]["rows"]]
    assert len(ids) == len(set(ids)) == 20
    releases = sorted((home / "data" / "releases").glob("release-*.json"))
    latest = json.loads(releases[-1].read_text(encoding="utf-8"))
    gold_versions = {n: snap2[n]["version"] for n in ("gold/dim_resident", "gold/population_by_district")}
    assert {n: p["delta_version"] for n, p in latest["datasets"].items()} == gold_versions
    if gold_versions == {n: snap1[n]["version"] for n in gold_versions}:
        assert len(releases) == 1  # nothing changed: nothing new published
    exported = home / "exports" / f"release-{latest['release']:04d}"
    assert {p.name: p.read_bytes() for p in exported.glob("*.csv")} == snap1["exports"]


def test_dag_params_choose_the_delivery_and_the_as_of_date(tmp_path: Path) -> None:
    lines = SAMPLE.read_bytes().decode("gbk").split("\r\n")
    delivery = tmp_path / "household_register_two_rows.csv"
    delivery.write_bytes(("\r\n".join(lines[:3]) + "\r\n").encode("gbk"))  # header + two valid rows
    env = airflow_env(tmp_path, tmp_path / ".airflow")
    done = run_dag_test(env, {"delivery": str(delivery), "as_of": "2026-06-30"})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-6000:]
    lake = tmp_path / "lakehouse"
    assert DeltaTable(str(lake / "bronze" / "household_register")).to_pyarrow_table().num_rows == 2
    assert DeltaTable(str(lake / "bronze" / "household_register_rejects")).to_pyarrow_table().num_rows == 0
    residents = DeltaTable(str(lake / "gold" / "dim_resident")).to_pyarrow_table().to_pylist()
    assert sorted((r["name"], str(r["as_of_date"]), r["age"]) for r in residents) == [
        ("林秀英", "2026-06-30", 55), ("陈建国", "2026-06-30", 58)]
    assert (tmp_path / "data" / "releases" / "release-0001.json").is_file()
