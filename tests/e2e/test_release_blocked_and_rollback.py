"""A defective day is blocked by the gate, and a rollback makes an earlier release current again.

On a copy of the shared city's home after its three releases (tests/shared_city.py), two mart defects are
injected as new Delta versions of gold — a district's residents off by one in population_by_district and a
duplicated street in dim_street — and the `release` DAG runs through Airflow (`airflow dags test release`) as
the scheduler would after gold changed. The run fails in its gate task, the log names each dataset and failed
expectation, and nothing is published: no release, release 3 stays current, no export, the portal as it was.
Then `citydata release rollback 1` makes release 1 current: the portal is rebuilt from release 1's export, and
`release list | show | diff` say so.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import re
import shutil
from pathlib import Path

import pytest
from pyspark.sql import functions as F
from shared_city import SharedCity

from citydata.airflow_local import airflow_env, dags_test
from citydata.config import Paths
from citydata.lakehouse import Lakehouse

pytestmark = pytest.mark.slow


def _tree_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _cli(*args: str) -> tuple[int, str]:
    from citydata.cli.main import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(list(args))
    return code, out.getvalue()


@pytest.fixture(scope="module")
def blocked(shared_city: SharedCity, spark, tmp_path_factory: pytest.TempPathFactory) -> dict:
    home = tmp_path_factory.mktemp("defective-day") / "home"
    shutil.copytree(shared_city.home, home, ignore=shutil.ignore_patterns(".airflow"))
    paths = Paths.from_env(home)
    lakehouse = Lakehouse(spark, paths.lakehouse)

    districts = lakehouse.read("gold", "population_by_district")
    first = sorted(r.district_code for r in districts.select("district_code").collect())[0]
    lakehouse.write(districts.withColumn(
        "residents", F.when(F.col("district_code") == first, F.col("residents") + 1).otherwise(F.col("residents"))),
        "gold", "population_by_district")
    streets = lakehouse.read("gold", "dim_street")
    lakehouse.write(streets.unionByName(streets.orderBy("street_code").limit(1)), "gold", "dim_street")

    before = {"releases": sorted(p.name for p in paths.releases.iterdir()),
              "current": (paths.releases / "CURRENT").read_text(encoding="utf-8"),
              "exports": sorted(p.name for p in paths.exports.iterdir()),
              "portal": _tree_digest(home / "data" / "portal" / "site")}
    env = airflow_env(home, shared_city.home / ".airflow")
    env.update({"AIRFLOW__CORE__UNIT_TEST_MODE": "False", "CITYDATA_AIRFLOW_RETRIES": "0"})
    run = dags_test(env, "release", {"day_folder": str(shared_city.days[-1])})
    return {"home": home, "paths": paths, "district": first, "before": before, "run": run}


def test_the_gate_task_fails_naming_each_dataset_and_expectation(blocked: dict) -> None:
    output = blocked["run"].stdout + blocked["run"].stderr
    assert "DagRun Finished: dag_id=release" in output and "state=failed" in output, output[-6000:]
    assert "release gate FAILED: nothing may be published" in output, output[-6000:]
    failed = [line for line in output.splitlines() if line.strip().startswith("- ")]
    assert any("population_by_district" in line and "expect" in line for line in failed), failed
    assert any("dim_street" in line and "street_code" in line for line in failed), failed
    assert blocked["district"] in output  # the masked sample rows show the district that is off


def test_nothing_is_published_and_the_previous_release_stays_current(blocked: dict) -> None:
    paths, before = blocked["paths"], blocked["before"]
    assert sorted(p.name for p in paths.releases.iterdir()) == before["releases"]
    assert (paths.releases / "CURRENT").read_text(encoding="utf-8") == before["current"] == "3\n"
    assert sorted(p.name for p in paths.exports.iterdir()) == before["exports"]
    assert _tree_digest(blocked["home"] / "data" / "portal" / "site") == before["portal"]


def test_rollback_makes_release_one_current_and_the_portal_shows_it(blocked: dict) -> None:
    home, paths = blocked["home"], blocked["paths"]
    code, out = _cli("release", "rollback", "1", "--home", str(home))
    assert code == 0, out
    assert "release 1 is current again (was 3)" in out
    assert (paths.releases / "CURRENT").read_text(encoding="utf-8") == "1\n"
    site = home / "data" / "portal" / "site"
    assert sorted(p.name for p in (site / "download").iterdir()) == ["release-0001"]
    catalog = json.loads((site / "catalog.jsonld").read_text(encoding="utf-8"))
    assert "release-0001" in json.dumps(catalog) and "release-0003" not in json.dumps(catalog)

    code, listing = _cli("release", "list", "--home", str(home))
    marked = [line.split()[1] for line in listing.splitlines() if re.match(r"\*\s+\d", line)]
    assert code == 0 and marked == ["1"], listing
    code, shown = _cli("release", "show", "1", "--json", "--home", str(home))
    pins = json.loads(shown)["datasets"]
    assert pins["gold/population_by_district"]["catalog_item"]["opening_attribute"] == "无条件开放"
    assert pins["gold/population_by_district"]["validation"]["success"] is True
    code, change = _cli("release", "diff", "1", "3", "--json", "--home", str(home))
    changed = json.loads(change)["changed"]
    assert changed["gold/dim_resident"]["delta_version"] == [0, 2]


def test_an_unknown_release_is_a_clear_error(blocked: dict, capsys) -> None:
    code, _ = _cli("release", "rollback", "9", "--home", str(blocked["home"]))
    assert code == 2
    assert "no release 9" in capsys.readouterr().err
    assert (blocked["paths"].releases / "CURRENT").read_text(encoding="utf-8") == "1\n"
