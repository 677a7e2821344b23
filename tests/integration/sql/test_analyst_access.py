"""Access classes over JDBC on the session's shared simulated city: as an analyst, every view of the lakehouse
shows no raw citizen ID number, phone, full name or exact address of the deliveries (days 1-3), the masks are
the standards' own, files cannot be read by path around the views, and the privileged switch shows the raw
values (the control that the scan finds them where they are).

One endpoint start and one beeline call for the module: a statement per view, then the checks. The privileged
`citydata sql --privileged` query runs while the endpoint starts.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from jdbc_client import Outcome, beeline, serving

from citydata.lakehouse import Lakehouse
from citydata.standards.masking import mask_value

E2E = Path(__file__).resolve().parents[2] / "e2e"  # personal_values: the privacy test's collector and scanner
HAN_RUN = re.compile(r"[\u4e00-\u9fff]+")
PERSON_MASKS = {"id_number": "id_number", "name": "name", "birth_date": "birth_date", "address": "address",
                "phone": "mobile"}
PRIVILEGED_QUERY = "select id_number, name, phone, address from silver_person"
# a file format by its class name: not one of the names the extension refuses, so only the session's
# spark.sql.runSQLOnFiles=false keeps it from reading the files
PARQUET_CLASS = "org.apache.spark.sql.execution.datasources.parquet.ParquetFileFormat"


def _collect(days: list[Path]) -> Any:
    if str(E2E) not in sys.path:
        sys.path.append(str(E2E))
    from personal_values import collect

    return collect(days)


def raw_values(personal: Personal, text: str) -> set[str]:
    """The personal values in `text`: IDs, phones and addresses wherever they occur, names as a whole run of
    Chinese characters (a 2-character name also occurs inside other words: a road such as 黄河大道 in a
    company's address is no one's name)."""
    values = personal.values
    found = {value for value in values.found_in(text) if value not in values.names}
    return found | (set(HAN_RUN.findall(text)) & values.names)


def _masked(hits: set[str]) -> list[str]:
    """Raw values found, masked by their shape for the failure message (never quoted raw)."""
    def kind(value: str) -> str:
        if len(value) == 18:
            return "id_number"
        if value.isdigit():
            return "mobile"
        return "address" if "号" in value else "name"
    return sorted(mask_value(kind(hit), hit) or "" for hit in hits)[:5]


@dataclass
class Served:
    views: list[str]
    outcomes: dict[str, Outcome]  # statement -> outcome
    stdout: str
    privileged: subprocess.CompletedProcess[str]  # its stdout holds raw values: never in a failure message

    def __repr__(self) -> str:
        return f"Served({len(self.views)} views, {len(self.outcomes)} statements)"


class Personal:
    """The deliveries' personal values (personal_values.PersonalValues), shown in a failure as counts only."""

    def __init__(self, values: Any) -> None:
        self.values = values

    def __repr__(self) -> str:
        v = self.values
        return f"Personal({len(v.ids)} IDs, {len(v.phones)} phones, {len(v.names)} names, {len(v)} in all)"


@pytest.fixture(scope="module")
def personal(shared_city) -> Personal:
    values = _collect(shared_city.days)
    # enough of each kind that a leak could not hide (every resident has an ID, a name and a phone)
    assert len(values.ids) >= 500 and len(values.names) >= 400 and len(values.phones) >= 400, len(values)
    return Personal(values)


@pytest.fixture(scope="module")
def served(shared_city, tmp_path_factory) -> Served:
    root = str(shared_city.paths.lakehouse)
    logs = tmp_path_factory.mktemp("analyst-endpoint")
    views = [Lakehouse.view_name(layer, table) for layer, table in shared_city.lakehouse.tables()]
    env = {**os.environ, "CITYDATA_SPARK_WAREHOUSE": str(logs / "query-warehouse")}
    privileged = subprocess.Popen(
        [sys.executable, "-m", "citydata.cli", "sql", "--privileged", "--lakehouse", root, "--format", "csv",
         "--limit", "100000", PRIVILEGED_QUERY], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    statements = [
        "show views",
        *(f"select * from {view}" for view in views),
        f"select {', '.join(PERSON_MASKS)} from silver_person",
        # around the views: files by path, and the setting that would allow it (also after RESET)
        f"select count(*) from parquet.`{root}/silver/person`",
        "set spark.sql.runSQLOnFiles=true",
        "reset",
        f"select count(*) as rows_after_reset from parquet.`{root}/silver/person`",
        f"select count(*) from `{PARQUET_CLASS}`.`{root}/silver/person`",
    ]
    try:
        with serving(root, logs, "--poll", "3600") as port:
            outcomes = beeline(port, statements, logs, force=True)
        out, err = privileged.communicate(timeout=600)
    finally:
        if privileged.poll() is None:
            privileged.kill()
    return Served(views, dict(zip(statements, outcomes, strict=True)), (logs / "stdout").read_text(),
                  subprocess.CompletedProcess(privileged.args, privileged.returncode, out, err))


def test_no_view_shows_an_analyst_a_raw_personal_value(served, personal) -> None:
    assert len(served.views) >= 60, served.views  # bronze, rejects, silver and gold of 17 sources
    listed = {row[1] for row in served.outcomes["show views"].rows}
    assert set(served.views) <= listed
    assert "access:    analysts" in served.stdout
    assert "not classified" not in served.stdout  # every column of every table has a class
    leaks: dict[str, list[str]] = {}
    rows = 0
    for view in served.views:
        outcome = served.outcomes[f"select * from {view}"]
        assert outcome.error is None, (view, outcome.error)
        rows += len(outcome.rows)
        if found := raw_values(personal, outcome.text):
            leaks[view] = _masked(found)
    assert rows >= 5000, rows
    assert leaks == {}


def test_analysts_see_the_standards_masks_of_the_raw_values(served, shared_city) -> None:
    """Every resident's masked fields over JDBC equal citydata.standards.masking applied to silver.person."""
    outcome = served.outcomes[f"select {', '.join(PERSON_MASKS)} from silver_person"]
    assert outcome.header == list(PERSON_MASKS), outcome
    raw = shared_city.lakehouse.read("silver", "person").select(*PERSON_MASKS).collect()
    expected = sorted([mask_value(kind, row[column]) or "NULL" for column, kind in PERSON_MASKS.items()]
                      for row in raw)
    assert len(expected) >= 400
    # beeline prints a null as NULL (and csv2 an empty string as nothing)
    assert sorted([cell or "NULL" for cell in row] for row in outcome.rows) == expected
    with_phone = next(row for row in expected if row[4] != "NULL")
    assert with_phone[0][6:14] == "********" and with_phone[4][3:7] == "****", with_phone  # masked, not passed


def test_files_cannot_be_read_by_path_around_the_views(served) -> None:
    by_path, setting, reset, after_reset, bare = (served.outcomes[s] for s in list(served.outcomes)[-5:])
    assert by_path.error and "reading files by path refused (parquet.`…`" in by_path.error, by_path
    assert setting.error and "SET spark.sql.runSQLOnFiles refused" in setting.error, setting
    assert reset.error is None
    assert after_reset.error and "reading files by path refused" in after_reset.error, after_reset
    # a format under another name is a missing view: spark.sql.runSQLOnFiles is still false after RESET
    assert bare.error and "TABLE_OR_VIEW_NOT_FOUND" in bare.error, bare


def test_the_privileged_switch_shows_the_raw_values_and_says_so(served, personal) -> None:
    done = served.privileged
    assert done.returncode == 0, done.stderr[-3000:]
    assert "PRIVILEGED citydata sql query: raw personal values visible" in done.stderr
    found = raw_values(personal, done.stdout)
    values = personal.values
    counts = {"ids": len(found & values.ids), "phones": len(found & values.phones),
              "names": len(found & values.names), "addresses": len(found - values.ids - values.phones - values.names)}
    assert min(counts["ids"], counts["phones"], counts["names"]) >= 400 and counts["addresses"] >= 100, counts
