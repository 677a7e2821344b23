"""run-day on the session's shared city (tests/shared_city.py: 500 residents, seed 7, 30-day periods): days 1
and 2 through `run_day`, day 3 through the Airflow DAGs on the same home, then day 3 again through the `run_day`
DAG and through the CLI. Real Spark, Delta, dbt and GX.

- every contract's silver table exists after ingest, also for 0-row and refused deliveries;
- gold is built over the whole dbt project with every test passing; population_by_district equals the truth;
- the gate passes, releases 1, 2 and 3 pin the gated versions, the day's dates and the silver inputs;
- the dbt docs (lineage graph) are kept beside each release and load: static page, or served over HTTP;
- the open-data files of each release are exported;
- rerunning day 3 writes no new Delta version anywhere and no new release (and skips dbt: nothing it builds
  from changed).
"""

from __future__ import annotations

import csv
import io
import json
import re
import threading
import urllib.request
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from shared_city import PERIOD_DAYS, PERSONS, SEED, SharedCity
from truth import mart_differences

from citydata.catalog.contracts import load_contracts
from citydata.catalog.items import open_items
from citydata.orchestration import STAGES
from citydata.release.gate import suite_datasets

RELEASES = (1, 2, 3)


@pytest.fixture(scope="module")
def city(shared_city: SharedCity) -> dict:
    return {"home": shared_city.home, "paths": shared_city.paths, "lakehouse": shared_city.lakehouse,
            "days": shared_city.days, "results": shared_city.results}


@pytest.fixture(scope="module")
def rerun(shared_city: SharedCity) -> dict:
    return shared_city.rerun


def _manifest(day: Path) -> dict:
    return json.loads((day / "manifest.json").read_text(encoding="utf-8"))


def test_every_stage_ran_in_order_on_every_day(city: dict) -> None:
    for name, result in city["results"].items():
        assert list(result.stages) == list(STAGES), name
        assert all(stage.seconds >= 0 and stage.summary for stage in result.stages.values())
        manifest = _manifest(result.plan.delivery_folder.parent)
        assert (result.plan.as_of.isoformat(), result.plan.period_start.isoformat()) == (
            manifest["as_of"], manifest["period"][0])


def test_ingest_lands_the_day_and_every_silver_table_exists(city: dict) -> None:
    day1 = city["results"]["day-001"].stages["ingest"].details
    delivered = {f["path"]: f["rows"] for f in _manifest(city["days"][0])["files"]}
    register = day1["landed"]["household_register"]
    assert register["delivered"] == delivered["police/household_register.csv"] == PERSONS
    assert register["landed"] + register["rejected"] == PERSONS and register["new"]
    assert "marriages" in day1["refused"]  # the simulator's undecodable file of day 1
    lakehouse = city["lakehouse"]
    for contract in load_contracts().values():
        assert lakehouse.exists("silver", contract.tables.silver), contract.tables.silver
    assert "marriage_registration" in day1["created_empty"]
    assert lakehouse.count("silver", "marriage_registration", version=0) == 0


def test_gold_builds_every_model_and_passes_every_test(city: dict) -> None:
    for result in city["results"].values():
        gold = result.stages["gold"].details
        assert gold["tests"] > 0 and gold["tests_passed"] == gold["tests"]
        assert {"gold/dim_resident", "gold/population_by_district"} <= set(gold["versions"])
    assert city["results"]["day-001"].stages["gold"].details["new_versions"]["gold/dim_resident"] == 0
    for day, result in enumerate(city["results"].values()):
        assert result.stages["gold"].details["new_versions"]["gold/dim_resident"] == day  # one version a day
    differences = mart_differences(city["lakehouse"], "population_by_district",
                                   city["days"][-1] / "truth" / "population_by_district.csv")
    assert differences == []


def test_each_day_releases_the_gated_versions_with_its_dates_and_inputs(city: dict) -> None:
    released = suite_datasets()
    for number, (_, result) in enumerate(city["results"].items(), start=1):
        gate, release = result.stages["gate"].details, result.stages["release"].details
        assert gate["success"] and sorted(gate["datasets"]) == released
        assert (release["release"], release["new"]) == (number, True)
        manifest = json.loads(Path(release["manifest"]).read_text(encoding="utf-8"))
        assert manifest["datasets"] == {f"gold/{d}": manifest["datasets"][f"gold/{d}"] for d in released}
        for dataset in released:
            assert manifest["datasets"][f"gold/{dataset}"]["delta_version"] == gate["versions"][dataset]
        assert (manifest["as_of"], manifest["period_start"]) == (result.plan.as_of.isoformat(),
                                                                  result.plan.period_start.isoformat())
        assert "silver/person" in manifest["inputs"] and all(i.startswith("silver/") for i in manifest["inputs"])
    third = json.loads((city["paths"].releases / "release-0003.json").read_text(encoding="utf-8"))
    assert third["datasets"]["gold/dim_resident"]["delta_version"] == 2  # day 3 (through Airflow): one more


def test_the_dbt_docs_are_kept_beside_each_release_and_load(city: dict) -> None:
    releases = city["paths"].releases
    for number in RELEASES:
        docs = releases / f"release-{number:04d}" / "dbt-docs"
        assert sorted(p.name for p in docs.iterdir()) == ["catalog.json", "index.html", "manifest.json",
                                                          "static_index.html"]
    docs = releases / "release-0003" / "dbt-docs"
    catalog = json.loads((docs / "catalog.json").read_text(encoding="utf-8"))
    resident = catalog["nodes"]["model.citydata.dim_resident"]
    assert {"id_number", "age", "as_of_date"} <= set(resident["columns"])
    assert resident["stats"]["num_rows"]["value"] == city["lakehouse"].count("gold", "dim_resident")
    assert "source.citydata.silver.person" in catalog["sources"]
    static = (docs / "static_index.html").read_text(encoding="utf-8")
    assert '"MANIFEST.JSON INLINE DATA"' not in static and '"model.citydata.population_by_district"' in static
    # index.html fetches manifest.json and catalog.json from beside it: what a browser asks for, served
    handler = partial(SimpleHTTPRequestHandler, directory=str(docs))
    with ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_address[1]}"
        try:
            page = urllib.request.urlopen(f"{base}/index.html", timeout=30).read().decode("utf-8")
            assert "manifest.json" in page and "catalog.json" in page
            manifest = json.load(urllib.request.urlopen(f"{base}/manifest.json", timeout=30))
            assert "model.citydata.population_by_district" in manifest["nodes"]
            assert json.load(urllib.request.urlopen(f"{base}/catalog.json", timeout=30))["nodes"]
        finally:
            server.shutdown()


def test_each_release_exports_its_open_catalog_items(city: dict) -> None:
    opened = [item.name for item in open_items()]
    assert "population_by_district" in opened and "resident_extract" not in opened  # 有条件开放 stays in
    expected = sorted([f"{name}{suffix}" for name in opened for suffix in (".csv", ".json", ".parquet",
                                                                            ".metadata.json")]
                      + ["SHA256SUMS", "api", "catalog.jsonld"])
    for number in RELEASES:
        folder = city["paths"].exports / f"release-{number:04d}"
        assert sorted(p.name for p in folder.iterdir()) == expected
    export = city["results"]["day-002"].stages["export"].details
    files = export["datasets"]["population_by_district"]["files"]
    with open(files["csv"]["path"], encoding="utf-8-sig", newline="") as handle:
        districts = list(csv.DictReader(handle))
    pinned = city["results"]["day-002"].stages["gate"].details["versions"]["population_by_district"]
    assert len(districts) == city["lakehouse"].count("gold", "population_by_district", version=pinned)
    meta = json.loads(Path(export["datasets"]["population_by_district"]["metadata"]).read_text(encoding="utf-8"))
    assert meta["provenance"] == {"release": 2, "table": "gold/population_by_district", "delta_version": pinned}


def test_rerunning_a_day_writes_no_new_version_and_no_new_release(city: dict, rerun: dict) -> None:
    assert rerun["code"] == 0
    assert rerun["after"] == rerun["before"]  # bronze, silver and gold: every table at its version
    assert sorted(p.name for p in city["paths"].releases.glob("release-*.json")) == [
        f"release-{number:04d}.json" for number in RELEASES]
    out = " ".join(rerun["out"].split())  # rich wraps long lines
    assert "release 3 unchanged: nothing new to publish" in out
    assert "at the versions release 3 validated" in out  # the gate did not validate the same versions again
    assert "0 new deliveries" in out and "0 new table versions" in out
    assert "gold" in out and "dbt not run" in out  # nothing gold is built from changed: no dbt build at all


def test_the_demo_prints_the_tables_and_the_city_from_the_same_lakehouse(city: dict, monkeypatch) -> None:
    from rich.console import Console

    from citydata.cli import demo

    out = io.StringIO()
    console = Console(file=out, width=200)
    demo.print_tables(console, city["lakehouse"])
    demo.print_city_portrait(console, city["lakehouse"])
    text = out.getvalue()
    version = city["lakehouse"].version("silver", "person")
    assert re.search(rf"silver\.person\s+│\s+{version}\s+│", text), text
    with open(city["days"][-1] / "truth" / "population_by_district.csv", encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            assert row["district_code"] in text
    # the demo reuses a simulated city that is there (same persons, seed and period): no second simulation
    monkeypatch.setattr("citydata.sources.simulate.simulate", lambda *a, **k: pytest.fail("simulated again"))
    assert demo.simulated_days(city["paths"], len(city["days"]), PERSONS, SEED, PERIOD_DAYS) == city["days"]
