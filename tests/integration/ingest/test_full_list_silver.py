"""A full-list source's silver marks the keys of the latest list (`in_latest_list`), on real Spark + Delta.

Social insurance delivers its whole list every day (contract `full_list: true`) and silver never
deletes, so a contribution dropped from a later list must turn `in_latest_list` false. Three tiny
hand-written lists, landed one after the other:

- list 1: A, B, C1, C2 (C1 and C2: one person at one employer under two insurance types);
- list 2: A unchanged, B with a new contribution base, C1 dropped (C2 stays: the flag is per key), D new;
- list 3: C1 back, unchanged since list 1 (listed again: a change of the flag alone), D dropped (a key
  inserted by one list and dropped by the next).

Then a rerun (nothing pending) and a silver table left by an older version (without the column).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from pyspark.sql import DataFrame, Row
from pyspark.sql import functions as F

from citydata.catalog.contracts import load_contract
from citydata.ingest.batches import APPLIED_TABLE, STATE_LAYER
from citydata.ingest.bronze import BRONZE, land_delivery
from citydata.ingest.delivery_day import DELIVERY_DAY
from citydata.ingest.silver import (
    LISTED,
    SILVER,
    DeliveredBatch,
    bronze_deliveries,
    build_silver,
    latest_delivered,
    standardize,
)
from citydata.lakehouse import Lakehouse
from citydata.standards import idcard, uscc

CONTRACT = load_contract("social_insurance_employment")
TABLE = CONTRACT.tables.silver
AT = [datetime(2025, 1, day, 6, tzinfo=UTC) for day in (1, 2, 3)]
PENSION, MEDICAL = "城镇职工基本养老保险", "城镇职工基本医疗保险"
HEADER = ",".join(CONTRACT.columns)


def _person(sequence: int) -> str:
    return idcard.make("339901", date(1980, 1, sequence), sequence * 2 + 1)


EMPLOYER = uscc.make("9", "1", "339901", "MA0000A1")
KEYS = {  # row name -> (id_number, employer_credit_code, insurance_type)
    "A": (_person(1), EMPLOYER, PENSION),
    "B": (_person(2), EMPLOYER, PENSION),
    "C1": (_person(3), EMPLOYER, PENSION),
    "C2": (_person(3), EMPLOYER, MEDICAL),
    "D": (_person(4), EMPLOYER, PENSION),
}


def _row(name: str, base: int = 8000) -> str:
    id_number, employer, insurance = KEYS[name]
    return f"{id_number},某某,{employer},示范市甲有限公司,{insurance},2024-03-01,{base},正常参保"


LISTS = [
    [_row("A"), _row("B"), _row("C1"), _row("C2")],
    [_row("A"), _row("B", 9000), _row("C2"), _row("D")],
    [_row("A"), _row("B", 9000), _row("C1"), _row("C2")],
]


def _silver(lakehouse: Lakehouse) -> dict[str, dict]:
    """Silver rows by row name (KEYS), with the batch that last changed them."""
    by_key = {tuple(r[k] for k in CONTRACT.key): r.asDict() for r in lakehouse.read(SILVER, TABLE).collect()}
    return {name: by_key[key] for name, key in KEYS.items() if key in by_key}


@pytest.fixture(scope="module")
def run(spark, tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("full-list")
    lakehouse = Lakehouse(spark, root / "lakehouse")
    out: dict = {"lakehouse": lakehouse, "batches": [], "results": [], "silver": []}
    for number, (rows, at) in enumerate(zip(LISTS, AT), start=1):
        path = root / f"list-{number}" / "employment.csv"
        path.parent.mkdir()
        path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
        landed = land_delivery(spark, lakehouse, CONTRACT, path, ingested_at=at)
        assert (landed.landed, landed.rejected) == (len(rows), 0)  # every hand-written row is valid
        out["batches"].append(landed.batch_id)
        out["results"].append(build_silver(spark, lakehouse, CONTRACT))
        out["silver"].append(_silver(lakehouse))
    tables = [(SILVER, TABLE), (STATE_LAYER, APPLIED_TABLE)]
    before = [lakehouse.version(*t) for t in tables]
    out["rerun"] = build_silver(spark, lakehouse, CONTRACT)
    out["versions"] = (before, [lakehouse.version(*t) for t in tables])
    return out


def test_silver_has_the_column_between_the_fields_and_the_lineage(run: dict) -> None:
    columns = run["lakehouse"].read(SILVER, TABLE).columns
    assert columns == [*CONTRACT.field_names, LISTED, "_batch_id", "_updated_at"]


def test_list_one_lists_every_key(run: dict) -> None:
    first = run["silver"][0]
    assert {name: row[LISTED] for name, row in first.items()} == {"A": True, "B": True, "C1": True, "C2": True}
    assert (run["results"][0].inserted, run["results"][0].updated) == (4, 0)


def test_a_contribution_dropped_from_list_two_is_kept_but_not_listed(run: dict) -> None:
    second, list1, list2 = run["silver"][1], run["batches"][0], run["batches"][1]
    assert {name: row[LISTED] for name, row in second.items()} == {
        "A": True, "B": True, "C1": False, "C2": True, "D": True}
    # dropped: the same values, dated by the list that dropped it
    assert second["C1"]["contribution_base"] == run["silver"][0]["C1"]["contribution_base"]
    assert second["C1"]["_batch_id"] == list2
    assert second["C1"]["_updated_at"] == second["B"]["_updated_at"]  # B's new row: list 2's landing
    # A and C2 unchanged: not rewritten, they keep list 1 as lineage
    assert (second["A"]["_batch_id"], second["C2"]["_batch_id"]) == (list1, list1)
    assert (second["B"]["_batch_id"], second["B"]["contribution_base"]) == (list2, 9000)
    assert (run["results"][1].inserted, run["results"][1].updated, run["results"][1].unchanged) == (1, 2, 2)


def test_a_contribution_listed_again_unchanged_is_listed_again(run: dict) -> None:
    third, list3 = run["silver"][2], run["batches"][2]
    assert {name: row[LISTED] for name, row in third.items()} == {
        "A": True, "B": True, "C1": True, "C2": True, "D": False}
    assert (third["C1"]["_batch_id"], third["D"]["_batch_id"]) == (list3, list3)
    assert third["A"]["_batch_id"] == run["batches"][0]  # still untouched
    assert (run["results"][2].inserted, run["results"][2].updated) == (0, 2)


def test_a_rerun_writes_no_new_version(run: dict) -> None:
    before, after = run["versions"]
    assert after == before
    rerun = run["rerun"]
    assert (rerun.batches, rerun.standardized, rerun.inserted, rerun.updated) == ((), 0, 0, 0)


def test_a_silver_table_without_the_column_is_rebuilt_from_every_list(run: dict) -> None:
    """A lakehouse of an older version: the table is rewritten whole, the flags as if built now."""
    lakehouse = run["lakehouse"]
    lakehouse.write(lakehouse.read(SILVER, TABLE).drop(LISTED), SILVER, TABLE, mode="overwrite")
    result = build_silver(lakehouse.spark, lakehouse, CONTRACT)
    assert result.batches == tuple(sorted(run["batches"]))
    rebuilt = _silver(lakehouse)
    assert {name: row[LISTED] for name, row in rebuilt.items()} == {
        "A": True, "B": True, "C1": True, "C2": True, "D": False}
    assert (result.rows, result.inserted) == (5, 5)
    assert lakehouse.read(SILVER, TABLE).columns == [*CONTRACT.field_names, LISTED, "_batch_id", "_updated_at"]


def _land_lists(spark, root: Path, lakehouse: Lakehouse, numbers: list[int], *, silver_each: bool) -> list[str]:
    """Land lists 1-3 (by number, in the order given) as deliveries of day-00N, silver after each or at the end."""
    batches = []
    for number in numbers:
        path = root / f"day-00{number}" / "delivery" / "employment.csv"
        path.parent.mkdir(parents=True)
        path.write_text("\n".join([HEADER, *LISTS[number - 1]]) + "\n", encoding="utf-8")
        batches.append(land_delivery(spark, lakehouse, CONTRACT, path).batch_id)
        if silver_each:
            build_silver(spark, lakehouse, CONTRACT)
    if not silver_each:
        build_silver(spark, lakehouse, CONTRACT)
    return batches


def _compared(lakehouse: Lakehouse) -> set[tuple]:
    """Silver rows without their landing time (which differs between runs)."""
    return {tuple(v for k, v in r.asDict().items() if k != "_updated_at")
            for r in lakehouse.read(SILVER, TABLE).collect()}


def test_lists_landed_out_of_day_order_give_the_silver_of_day_order(spark, tmp_path: Path) -> None:
    """Two runs of different days at once can land (and apply) day 2's list before day 1's, or land both before
    one silver step applies them: silver must still be what applying day 1 then day 2 gives, lineage included."""
    sequential = Lakehouse(spark, tmp_path / "sequential" / "lakehouse")
    order = _land_lists(spark, tmp_path / "sequential", sequential, [1, 2], silver_each=True)
    expected = _compared(sequential)
    # row C1 (only in list 1) is dated by list 2, which dropped it; A (unchanged in both) keeps list 1
    by_name = _silver(sequential)
    assert (by_name["C1"]["_batch_id"], by_name["C1"][LISTED]) == (order[1], False)
    assert by_name["A"]["_batch_id"] == order[0]

    reversed_ = Lakehouse(spark, tmp_path / "reversed" / "lakehouse")
    _land_lists(spark, tmp_path / "reversed", reversed_, [2, 1], silver_each=True)  # day 2 applied first
    assert _compared(reversed_) == expected
    together = Lakehouse(spark, tmp_path / "together" / "lakehouse")
    _land_lists(spark, tmp_path / "together", together, [2, 1], silver_each=False)  # one step, both days
    assert _compared(together) == expected


def delivered_batches(bronze: DataFrame) -> dict[str, DeliveredBatch]:
    """What bronze_deliveries reads on the driver, computed by Spark: the oracle of the tests below."""
    day = F.max(DELIVERY_DAY) if DELIVERY_DAY in bronze.columns else F.lit(None).cast("string")
    rows = bronze.groupBy("_batch_id").agg(day.alias("day"), F.max("_ingested_at").alias("landed_at")).collect()
    return {r["_batch_id"]: DeliveredBatch(r["_batch_id"], r["day"], r["landed_at"]) for r in rows}


def latest_list(bronze: DataFrame) -> Row | None:
    """latest_delivered's answer computed by Spark: the batch of the latest day, then landing, then id."""
    latest = max(delivered_batches(bronze).values(), key=lambda b: b.order, default=None)
    return None if latest is None else Row(_batch_id=latest.batch_id, _updated_at=latest.landed_at)


def test_the_driver_reads_the_batches_landing_times_as_spark_does(run: dict) -> None:
    """bronze_deliveries (three lineage columns on the driver, no Spark job) = delivered_batches (a Spark job)."""
    lakehouse, bronze = run["lakehouse"], CONTRACT.tables.bronze
    read = bronze_deliveries(lakehouse, bronze)
    assert read == delivered_batches(lakehouse.read(BRONZE, bronze))
    # landing times as Spark's collect gives them: naive, in the driver's local time
    assert [read[b].landed_at for b in run["batches"]] == [datetime.fromtimestamp(at.timestamp()) for at in AT]
    assert latest_delivered(lakehouse, bronze) == latest_list(lakehouse.read(BRONZE, bronze))
    assert latest_delivered(lakehouse, bronze)["_batch_id"] == run["batches"][2]


def test_days_read_on_the_driver_equal_sparks(spark, tmp_path: Path) -> None:
    lakehouse = Lakehouse(spark, tmp_path / "lakehouse")
    batches = _land_lists(spark, tmp_path, lakehouse, [2, 1], silver_each=False)
    read = bronze_deliveries(lakehouse, CONTRACT.tables.bronze)
    assert read == delivered_batches(lakehouse.read(BRONZE, CONTRACT.tables.bronze))
    assert [read[b].day for b in batches] == ["day-002", "day-001"]


def test_a_list_standardized_by_the_caller_gives_the_same_silver(spark, tmp_path: Path) -> None:
    """The population master standardizes the latest list once and hands it to build_silver (`prepared`):
    silver, lineage and counts are those of build_silver standardizing it itself."""
    plain = Lakehouse(spark, tmp_path / "plain" / "lakehouse")
    prepared = Lakehouse(spark, tmp_path / "prepared" / "lakehouse")
    results: dict[str, list] = {"plain": [], "prepared": []}
    for number in (1, 2, 3):
        for name, lakehouse in (("plain", plain), ("prepared", prepared)):
            path = tmp_path / name / f"day-00{number}" / "delivery" / "employment.csv"
            path.parent.mkdir(parents=True)
            path.write_text("\n".join([HEADER, *LISTS[number - 1]]) + "\n", encoding="utf-8")
            batch = land_delivery(spark, lakehouse, CONTRACT, path, ingested_at=AT[number - 1]).batch_id
            if name == "plain":
                results[name].append(build_silver(spark, lakehouse, CONTRACT))
                continue
            rows = standardize(CONTRACT, lakehouse.read(BRONZE, CONTRACT.tables.bronze)
                               .where(f"_batch_id = '{batch}'")).cache()
            try:
                results[name].append(build_silver(spark, lakehouse, CONTRACT, prepared={batch: rows}))
                assert rows.is_cached  # the caller's to unpersist
            finally:
                rows.unpersist()
    counts = {name: [(r.inserted, r.updated, r.standardized) for r in rs] for name, rs in results.items()}
    assert counts["prepared"] == counts["plain"] == [(4, 0, 4), (1, 2, 4), (0, 2, 4)]
    assert ({tuple(sorted(r.asDict().items())) for r in prepared.read(SILVER, TABLE).collect()}
            == {tuple(sorted(r.asDict().items())) for r in plain.read(SILVER, TABLE).collect()})
