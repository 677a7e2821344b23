"""build_silver for every per-source (non-master) contract on a simulated day 1 + day 2, on real Spark + Delta.

A 300-person city (30-day periods; seed 41 is one whose two periods hold a marriage, a death, a birth
and a penalty, which a city this small rarely has). Day 1's marriages are undecodable (refused whole);
no file is cut, so the one death survives. Every source of both days is landed (API sources from their page files), and
build_silver runs per source after each day. Checked per source: the silver keys are exactly the keys
of the delivered rows the truth does not reject (each standardized by the contract, once, in plain
Python); day 2 standardizes only day 2's batch; a rerun commits nothing. Against the truth: tax amounts
and revenue per month and tax type (vouchers with their latest version), the statistics workbook's
figures, the POIs inside the city. Then the winner rule across days (a late, older tax correction does
not overwrite a newer one) and a dropped silver table rebuilt from every batch.
"""

from __future__ import annotations

import csv
import json
import shutil
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from citydata.catalog.contracts import SourceContract, load_contracts
from citydata.ingest.batches import APPLIED_TABLE, STATE_LAYER, bronze_batches
from citydata.ingest.bronze import DeliveryRejectedError, land_delivery
from citydata.ingest.silver import LISTED, SILVER, build_silver
from citydata.ingest.validate import validate_record
from citydata.lakehouse import Lakehouse
from citydata.sources.connectors import delivery_path, read_all
from citydata.sources.simulate import DefectRates, simulate

MASTERS = {"household_register", "household_register_changes", "legal_entities"}  # built by their own steps
CONTRACTS = {s: c for s, c in load_contracts().items() if s not in MASTERS}
AT = {1: datetime(2025, 1, 1, 6, tzinfo=UTC), 2: datetime(2025, 1, 31, 6, tzinfo=UTC)}


def _truth(day: Path, name: str) -> list[dict[str, str]]:
    with (day / "truth" / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _expected(contract: SourceContract, day: Path) -> dict[tuple, tuple]:
    """Per key of the day's delivered rows that the truth does not reject, standardized one by one:
    (latest_by value, every field's value) of the row that wins within the delivery."""
    path = delivery_path(contract, day / "delivery")
    if not path.exists():
        return {}
    rejects = _truth(day, "rejects.csv")
    rejected = {(Path(r["file"]).name, int(r["row"])) for r in rejects}
    if (path.name, 0) in rejected:
        return {}  # refused as a whole
    rows: dict[tuple, tuple] = {}
    for record in read_all(contract, path).records:
        if (Path(record.lineage.location).name, record.lineage.row) in rejected:
            continue
        result = validate_record(contract, {f.name: record.values[f.column] for f in contract.fields})
        assert result.ok, f"{contract.source}: a row the truth keeps fails {result.reason_code}"
        key = tuple(str(result.values[k]) for k in contract.key)
        latest = result.values[contract.latest_by] if contract.latest_by else None
        if key not in rows or _wins(latest, rows[key][0]):
            rows[key] = (latest, tuple(result.values[f.name] for f in contract.fields))
    return rows


def _wins(new, old) -> bool:
    """A later row against an earlier one of the same key: latest_by desc nulls last, then the later row."""
    return old is None or (new is not None and new >= old)


def _expected_keys(contract: SourceContract, day: Path) -> set[tuple]:
    return set(_expected(contract, day))


def _silver_keys(lakehouse: Lakehouse, contract: SourceContract) -> list[tuple]:
    rows = lakehouse.read(SILVER, contract.tables.silver).select(*contract.key).collect()
    return [tuple(str(v) for v in r) for r in rows]


def _land(spark, lakehouse: Lakehouse, contract: SourceContract, day: Path, at: datetime):
    """The landing result, the refusal, or None when the day has no such delivery."""
    path = delivery_path(contract, day / "delivery")
    if not path.exists():
        return None
    try:
        return land_delivery(spark, lakehouse, contract, path, ingested_at=at)
    except DeliveryRejectedError as error:
        return error


@pytest.fixture(scope="module")
def city(spark, tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("silver-every-source")
    days = {d.day: d.folder for d in simulate(root / "sim", [1, 2], persons=300, seed=41, period_days=30,
                                              defects=DefectRates(truncated=()))}
    lakehouse = Lakehouse(spark, root / "lakehouse")
    landed: dict[int, dict] = {}
    built: dict[int, dict] = {}
    keys_after: dict[int, dict] = {}
    for day in (1, 2):
        landed[day] = {s: _land(spark, lakehouse, c, days[day], AT[day]) for s, c in CONTRACTS.items()}
        built[day] = {s: build_silver(spark, lakehouse, c) for s, c in CONTRACTS.items()}
        keys_after[day] = {s: sorted(_silver_keys(lakehouse, c)) for s, c in CONTRACTS.items()}
    versions = {s: lakehouse.version(SILVER, c.tables.silver) for s, c in CONTRACTS.items()}
    applied_version = lakehouse.version(STATE_LAYER, APPLIED_TABLE)
    rerun = {s: build_silver(spark, lakehouse, c) for s, c in CONTRACTS.items()}
    return {"root": root, "days": days, "lakehouse": lakehouse, "landed": landed, "built": built,
            "keys_after": keys_after, "versions": versions, "applied_version": applied_version, "rerun": rerun,
            "rerun_versions": {s: lakehouse.version(SILVER, c.tables.silver) for s, c in CONTRACTS.items()},
            "rerun_applied_version": lakehouse.version(STATE_LAYER, APPLIED_TABLE)}


def test_the_city_covers_what_the_test_is_about(city: dict) -> None:
    assert len(CONTRACTS) == 14
    assert isinstance(city["landed"][1]["marriages"], DeliveryRejectedError)  # day 1 refused whole
    assert city["landed"][2]["geo_districts"] is None and city["landed"][2]["statistics_indicators"] is None
    empty = sorted(s for s in CONTRACTS if not city["keys_after"][2][s])
    assert empty == [], f"no silver rows for {empty}: the checks below would be empty for them"


@pytest.mark.parametrize("source", sorted(CONTRACTS))
def test_silver_holds_exactly_the_keys_of_the_valid_delivered_rows(city: dict, source: str) -> None:
    contract = CONTRACTS[source]
    day1 = _expected_keys(contract, city["days"][1])
    both = day1 | _expected_keys(contract, city["days"][2])
    assert city["keys_after"][1][source] == sorted(day1)
    assert city["keys_after"][2][source] == sorted(both)  # one row per key: no duplicates either
    assert (city["built"][1][source].rows, city["built"][2][source].rows) == (len(day1), len(both))
    result = city["built"][2][source]
    assert result.inserted + result.updated + result.unchanged == result.rows


@pytest.mark.parametrize("source", sorted(CONTRACTS))
def test_day_2_inserts_new_keys_and_updates_only_rows_whose_values_changed(city: dict, source: str) -> None:
    """A full list delivered again: rows equal to silver's keep their lineage and are not rewritten; a
    full-list source's key dropped from day 2's list is updated too (in_latest_list turns false)."""
    contract = CONTRACTS[source]
    current = _expected(contract, city["days"][1])
    day2 = _expected(contract, city["days"][2])
    inserted = updated = 0
    for key, (latest, values) in day2.items():
        if key not in current:
            inserted += 1
        elif _wins(latest, current[key][0]) and values != current[key][1]:
            updated += 1
    if contract.full_list and day2:
        updated += len(set(current) - set(day2))
    result = city["built"][2][source]
    assert (result.inserted, result.updated) == (inserted, updated)


@pytest.mark.parametrize("source", sorted(s for s, c in CONTRACTS.items() if c.full_list))
def test_a_full_list_source_lists_exactly_the_keys_of_the_latest_list(city: dict, source: str) -> None:
    """Seed 41 drops no contribution by day 2: test_full_list_silver.py covers a dropped one."""
    contract = CONTRACTS[source]
    rows = city["lakehouse"].read(SILVER, contract.tables.silver).select(*contract.key, LISTED).collect()
    listed = sorted(tuple(str(v) for v in r[:-1]) for r in rows if r[LISTED])
    assert listed == sorted(_expected_keys(contract, city["days"][2]))


@pytest.mark.parametrize("source", sorted(CONTRACTS))
def test_each_day_standardizes_only_its_own_batches(city: dict, source: str) -> None:
    for day in (1, 2):
        landed, result = city["landed"][day][source], city["built"][day][source]
        new = (landed is not None and not isinstance(landed, DeliveryRejectedError) and landed.landed > 0
               and not landed.already_landed)  # a full list delivered again unchanged is the same batch
        if not new:
            assert (result.batches, result.standardized, result.inserted, result.updated) == ((), 0, 0, 0)
            continue
        assert result.batches == (landed.batch_id,)
        assert result.standardized == landed.landed  # the batch's bronze rows, not the table's
    first, second = city["built"][1][source], city["built"][2][source]
    if not second.batches:  # nothing new on day 2: no commit
        assert second.version == first.version


def test_a_rerun_commits_nothing(city: dict) -> None:
    assert city["rerun_versions"] == city["versions"]
    assert city["rerun_applied_version"] == city["applied_version"]
    for source, result in city["rerun"].items():
        assert (result.standardized, result.batches, result.inserted, result.updated) == (0, (), 0, 0), source
        assert result.unchanged == result.rows == city["built"][2][source].rows


def test_tax_amounts_per_month_equal_the_truth(city: dict) -> None:
    """Day 2's truth: every tax record delivered so far, the latest version of each voucher."""
    truth: dict[tuple, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for row in _truth(city["days"][2], "tax_by_section_district_month.csv"):
        sums = truth[(row["tax_period"], row["tax_type"])]
        sums[0] += Decimal(row["amount_yuan"])
        sums[1] += Decimal(row["revenue_yuan"])
    silver = (city["lakehouse"].read(SILVER, "tax_payment").groupBy("tax_period", "tax_type")
              .agg(F.sum("amount").alias("amount"), F.sum("revenue").alias("revenue")).collect())
    assert {(r["tax_period"], r["tax_type"]): [r["amount"], r["revenue"]] for r in silver} == dict(truth)
    assert len(truth) >= 3


def test_statistics_figures_equal_the_truth(city: dict) -> None:
    truth = {(r["division_code"], r["indicator"]): Decimal(r["value"])
             for r in _truth(city["days"][1], "statistics_indicators.csv")}
    rows = city["lakehouse"].read(SILVER, "economic_indicator").collect()
    assert len(rows) == len({code for code, _ in truth}) >= 6
    for row in rows:
        assert row["gdp"] == truth[(row["division_code"], "地区生产总值")]
        assert row["retail_sales_growth"] == truth[(row["division_code"], "社会消费品零售总额同比增长")]


def test_pois_inside_the_city_equal_the_truth(city: dict) -> None:
    """The crawl is full every day: silver keeps every POI ever seen, today's crawl are the truth's."""
    day2 = _expected_keys(CONTRACTS["internet_poi"], city["days"][2])
    rows = city["lakehouse"].read(SILVER, "poi").where(F.col("poi_id").isin([k[0] for k in day2])).count()
    assert rows == sum(int(r["pois"]) for r in _truth(city["days"][2], "poi_by_district.csv"))


def _tax_page(folder: Path, records: list[dict]) -> Path:
    """A one-page tax delivery in the API folder layout."""
    (folder / "pages").mkdir(parents=True)
    (folder / "pages" / "page-00001.json").write_text(json.dumps(
        {"page": 1, "page_size": 500, "total": len(records), "total_pages": 1, "records": records},
        ensure_ascii=False), encoding="utf-8")
    (folder / "api.json").write_text(json.dumps(
        {"endpoint": "/api/tax", "page_size": 500, "total": len(records), "total_pages": 1,
         "pages": ["pages/page-00001.json"]}), encoding="utf-8")
    return folder


def test_a_late_older_correction_does_not_overwrite_a_newer_one(spark, city: dict, tmp_path: Path) -> None:
    tax = CONTRACTS["tax_payments"]
    lakehouse = Lakehouse(spark, tmp_path / "lakehouse")
    land_delivery(spark, lakehouse, tax, city["days"][1] / "delivery" / "tax", ingested_at=AT[1])
    build_silver(spark, lakehouse, tax)
    page = json.loads((city["days"][1] / "delivery" / "tax" / "pages" / "page-00001.json").read_text("utf-8"))
    original, other = page["records"][0], page["records"][1]
    voucher = original["tax_voucher_no"]

    def amount_of(no: str) -> Decimal:
        return lakehouse.read(SILVER, "tax_payment").where(F.col("tax_voucher_no") == no).first()["amount"]

    def correct(name: str, at: int, records: list[dict]):
        folder = _tax_page(tmp_path / name, records)
        landed = land_delivery(spark, lakehouse, tax, folder, ingested_at=datetime(2025, 2, at, tzinfo=UTC))
        return landed, build_silver(spark, lakehouse, tax)

    newer = {**original, "amount": "1.00", "correction": "1", "correction_date": "2025-01-20"}
    landed, result = correct("newer", 2, [newer])
    assert (result.batches, result.standardized, result.updated, result.inserted) == ((landed.batch_id,), 1, 1, 0)
    assert amount_of(voucher) == Decimal("1.00")
    newer_batch = landed.batch_id

    # Landed later, but corrected earlier: loses to silver's row. The original again loses too
    # (a null correction_date is older than any). A correction of another voucher in the same batch wins.
    older = {**original, "amount": "2.00", "correction": "1", "correction_date": "2025-01-10"}
    fix = {**other, "amount": "3.00", "correction": "1", "correction_date": "2025-01-25"}
    version = lakehouse.version(SILVER, "tax_payment")
    landed, result = correct("older", 3, [older, original, fix])
    assert (result.standardized, result.updated, result.inserted) == (3, 1, 0)
    assert (amount_of(voucher), amount_of(other["tax_voucher_no"])) == (Decimal("1.00"), Decimal("3.00"))
    assert lakehouse.version(SILVER, "tax_payment") == version + 1

    # Only losers: the batch is applied, silver gets no new version.
    landed, result = correct("oldest", 4, [{**older, "correction_date": "2025-01-05", "amount": "4.00"}])
    assert (result.batches, result.standardized, result.updated) == ((landed.batch_id,), 1, 0)
    assert lakehouse.version(SILVER, "tax_payment") == version + 1 and amount_of(voucher) == Decimal("1.00")

    # The newer correction again, beside a new voucher: it wins (same date, later landing) but equals
    # silver's row, so it keeps that row's lineage and the MERGE leaves it alone.
    landed, result = correct("again", 5, [newer, {**other, "tax_voucher_no": "33990000000000000009"}])
    assert (result.standardized, result.inserted, result.updated) == (2, 1, 0)
    row = lakehouse.read(SILVER, "tax_payment").where(F.col("tax_voucher_no") == voucher).first()
    assert (row["_batch_id"], row["amount"], row["_updated_at"]) == (newer_batch, Decimal("1.00"), datetime(2025, 2, 2))


def test_a_dropped_silver_table_is_rebuilt_from_every_batch(spark, city: dict, tmp_path: Path) -> None:
    """applied_batches still lists the batches, but a missing table is not taken for an empty one."""
    shutil.copytree(city["root"] / "lakehouse", tmp_path / "lakehouse")
    lakehouse = Lakehouse(spark, tmp_path / "lakehouse")
    contract = CONTRACTS["credit_licences"]
    before = sorted(tuple(r) for r in lakehouse.read(SILVER, contract.tables.silver).collect())
    shutil.rmtree(lakehouse.path(SILVER, contract.tables.silver))
    result = build_silver(spark, lakehouse, contract)
    assert result.batches == tuple(bronze_batches(lakehouse, contract.tables.bronze))
    assert result.inserted == result.rows == len(before) > 0
    assert result.standardized == sum(city["landed"][d]["credit_licences"].landed for d in (1, 2))
    assert sorted(tuple(r) for r in lakehouse.read(SILVER, contract.tables.silver).collect()) == before
