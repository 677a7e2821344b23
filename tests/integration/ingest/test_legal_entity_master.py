"""The legal-entity master, its status history and the tax payments linked to it, on real Spark + Delta,
against the simulated city's truth.

Seed 66 (300 persons, 30-day periods, 5 % wrong credit codes) is chosen because its day 2 holds one new
registration and two deregistrations, and day 1 rejects three registry rows: the counts below are
exact, not "more than zero". 80 % of the taxpayers registered before 2015-10-01 pay under their legacy
tax number. Day 1 lands and builds; then day 2; then everything runs again.

The history rules the simulated city never exercises run on a hand-written registry (three rows, each
there for one rule): a 注销 row without a 注销日期, an address outside the city, a deregistration the
registry takes back (the deregistered period is withdrawn), and a status word the master does not know.
"""

from __future__ import annotations

import csv
import json
from collections import Counter, defaultdict
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from citydata.catalog.contracts import load_contracts
from citydata.ingest.batches import APPLIED_TABLE
from citydata.ingest.bronze import BRONZE, land_delivery
from citydata.ingest.legal_entity import (
    HISTORY,
    LEGAL_ENTITY_SOURCES,
    MASTER,
    TAX_STAGING,
    LegalEntityError,
    build_legal_entities,
    empty_tables,
)
from citydata.ingest.silver import SILVER
from citydata.lakehouse import Lakehouse
from citydata.sources.connectors import delivery_path
from citydata.sources.simulate import DefectRates, simulate
from citydata.sources.simulate.writers import write_xlsx
from citydata.standards import idcard, uscc

SEED = 66
DAY1_AT = datetime(2025, 1, 2, tzinfo=UTC)
DAY2_AT = datetime(2025, 2, 1, tzinfo=UTC)
CONTRACTS = load_contracts()


def _truth(folder: Path, name: str) -> list[dict]:
    with (folder / "truth" / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _registrations(folder: Path) -> tuple[int, int]:
    rows = _truth(folder, "registrations_by_month.csv")
    return sum(int(r["registrations"]) for r in rows), sum(int(r["deregistrations"]) for r in rows)


def _active_truth(folder: Path) -> Counter:
    return Counter({(r["section"], r["district_code"], r["entity_type"]): int(r["active"])
                    for r in _truth(folder, "legal_entities_active.csv")})


def _land(spark, lakehouse: Lakehouse, folder: Path, at: datetime) -> dict[str, str]:
    batches = {}
    for source in LEGAL_ENTITY_SOURCES:
        contract = CONTRACTS[source]
        result = land_delivery(spark, lakehouse, contract, delivery_path(contract, folder / "delivery"), ingested_at=at)
        batches[source] = result.batch_id
    return batches


def _versions(lakehouse: Lakehouse) -> dict[str, int]:
    tables = [(SILVER, MASTER), (SILVER, HISTORY), (SILVER, APPLIED_TABLE), (SILVER, TAX_STAGING)]
    tables += [(SILVER, CONTRACTS[s].tables.silver) for s in LEGAL_ENTITY_SOURCES]
    tables += [(BRONZE, CONTRACTS[s].tables.bronze) for s in LEGAL_ENTITY_SOURCES]
    return {f"{layer}.{table}": lakehouse.version(layer, table) for layer, table in tables}


def _active_in_master(lakehouse: Lakehouse) -> Counter:
    rows = (lakehouse.read(SILVER, MASTER).where(F.col("status") == "active")
            .groupBy("industry_section", "district_code", "entity_type").count().collect())
    return Counter({(r["industry_section"], r["district_code"], r["entity_type"]): r["count"] for r in rows})


@pytest.fixture(scope="module")
def run(spark, tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("legal-entity")
    day1, day2 = simulate(root / "sim", [1, 2], persons=300, seed=SEED, period_days=30,
                          defects=DefectRates(uscc_checksum=0.05, tax_legacy=0.8))
    lakehouse = Lakehouse(spark, root / "lakehouse")
    out: dict = {"lakehouse": lakehouse, "day1": day1.folder, "day2": day2.folder}
    out["batches1"] = _land(spark, lakehouse, day1.folder, DAY1_AT)
    out["result1"] = build_legal_entities(spark, lakehouse, applied_at=DAY1_AT)
    out["master1"] = {r["credit_code"]: r.asDict() for r in lakehouse.read(SILVER, MASTER).collect()}
    out["history1"] = lakehouse.read(SILVER, HISTORY).collect()
    out["active1"] = _active_in_master(lakehouse)
    out["batches2"] = _land(spark, lakehouse, day2.folder, DAY2_AT)
    out["result2"] = build_legal_entities(spark, lakehouse, applied_at=DAY2_AT)
    out["master2"] = {r["credit_code"]: r.asDict() for r in lakehouse.read(SILVER, MASTER).collect()}
    out["history2"] = lakehouse.read(SILVER, HISTORY).collect()
    out["active2"] = _active_in_master(lakehouse)
    out["versions2"] = _versions(lakehouse)
    _land(spark, lakehouse, day2.folder, DAY2_AT)
    out["result3"] = build_legal_entities(spark, lakehouse, applied_at=DAY2_AT)
    out["versions3"] = _versions(lakehouse)
    return out


def test_the_seed_still_has_what_this_test_is_about(run) -> None:
    (r1, d1), (r2, d2) = _registrations(run["day1"]), _registrations(run["day2"])
    assert (r1, d1, r2 - r1, d2 - d1) == (43, 6, 1, 2)
    rejected = [r for r in _truth(run["day1"], "rejects.csv") if "legal_entities" in r["file"]]
    assert [r["reason_code"] for r in rejected] == ["USCC_CHECKSUM"] * 3


def test_day1_master_holds_every_entity_the_truth_knows_and_the_active_ones_by_type_and_district(run) -> None:
    registered, deregistered = _registrations(run["day1"])
    master = run["master1"]
    assert len(master) == registered == run["result1"].master.rows == run["result1"].master.inserted
    assert Counter(r["status"] for r in master.values()) == {"active": registered - deregistered,
                                                            "deregistered": deregistered}
    assert run["active1"] == _active_truth(run["day1"])
    truth = _active_truth(run["day1"])
    by_type, by_district = Counter(), Counter()
    for (_, district, kind), n in truth.items():
        by_type[kind] += n
        by_district[district] += n
    active = [r for r in master.values() if r["status"] == "active"]
    assert Counter(r["entity_type"] for r in active) == by_type
    assert Counter(r["district_code"] for r in active) == by_district


def test_master_columns_follow_the_standards(run) -> None:
    master = run["master1"].values()
    assert {r["entity_type"] for r in master} == {"企业", "个体工商户", "社会组织"}
    assert all(r["org_code"] == r["credit_code"][8:17] for r in master)
    assert all(r["street_code"] and r["street_code"][:6] == r["district_code"] for r in master)
    assert run["result1"].ungeocoded == 0
    # retired 新港区 339906 never survives: its entities' authority is 中和区 339905 today
    assert "339906" not in {r["authority_district_code"] for r in master}
    assert {r["source"] for r in master if r["credit_code"][:1] == "5"} == {"social_organizations"}
    assert {r["source"] for r in master if r["credit_code"][:1] == "9"} == {"legal_entities"}
    assert all(str(r["registered_capital"]).endswith(".00") and r["registered_capital"] >= 1000 for r in master)
    assert all((r["status"] == "deregistered") == (r["deregistered_on"] is not None) for r in master)


def test_day1_history_has_one_active_period_per_entity_and_a_deregistered_one_after_each_deregistration(run) -> None:
    master, history = run["master1"], run["history1"]
    _, deregistered = _registrations(run["day1"])
    assert len(history) == len(master) + deregistered
    assert sum(r["is_current"] for r in history) == len(master)
    for row in history:
        entity = master[row["credit_code"]]
        if row["status"] == "active":
            assert (row["valid_from"], row["valid_to"]) == (entity["established_on"], entity["deregistered_on"])
        else:
            assert (row["valid_from"], row["valid_to"], row["is_current"]) == (entity["deregistered_on"], None, True)


def test_day2_adds_the_registration_and_closes_each_deregistered_entity(run) -> None:
    (r1, d1), (r2, d2) = _registrations(run["day1"]), _registrations(run["day2"])
    result = run["result2"]
    assert len(run["master2"]) == r2 == result.master.rows
    assert run["active2"] == _active_truth(run["day2"])
    before = run["master1"]
    gone = {c for c, r in run["master2"].items()
            if r["status"] == "deregistered" and c in before and before[c]["status"] == "active"}
    assert len(gone) == d2 - d1 == 2
    # history: each deregistration closes one active row (update) and opens one deregistered row (insert);
    # the new entity opens one active row
    assert (result.history.updated, result.history.inserted) == (d2 - d1, (d2 - d1) + (r2 - r1))
    assert len(run["history2"]) == len(run["history1"]) + (d2 - d1) + (r2 - r1)
    for code in gone:
        rows = sorted((r for r in run["history2"] if r["credit_code"] == code), key=lambda r: r["valid_from"])
        dereg_on = run["master2"][code]["deregistered_on"]
        assert [(r["status"], r["valid_to"], r["is_current"]) for r in rows] == [
            ("active", dereg_on, False), ("deregistered", None, True)]
        assert rows[1]["valid_from"] == dereg_on
        assert {r["_batch_id"] for r in rows} == {run["batches2"]["legal_entities"]}


def test_day2_recomputes_only_the_entities_its_batches_touch(run) -> None:
    lakehouse = run["lakehouse"]
    market = lakehouse.read(BRONZE, "legal_entities").where(F.col("_batch_id") == run["batches2"]["legal_entities"])
    changed = market.where(F.col("change_type") == "变更").count()
    # the registry delivers only its changes; civil affairs its full list, here the same bytes as on day 1
    # (no organization changed), so the same batch: nothing of it is pending
    assert run["batches2"]["social_organizations"] == run["batches1"]["social_organizations"]
    assert run["result2"].batches == {"legal_entities": [run["batches2"]["legal_entities"]],
                                      "tax_payments": [run["batches2"]["tax_payments"]]}
    assert run["result2"].touched == market.select("credit_code").distinct().count() == 3
    assert run["result2"].touched < len(run["master2"])
    assert (run["result2"].master.inserted, run["result2"].master.updated) == (1, 2 + changed)
    unchanged_before = [c for c, r in run["master1"].items() if run["master2"][c] == r]
    assert len(unchanged_before) == len(run["master1"]) - 2 - changed


def test_a_rerun_changes_no_table(run) -> None:
    assert run["versions3"] == run["versions2"]
    result = run["result3"]
    assert result.touched == 0 and result.batches == {}
    written = (result.master.inserted, result.master.updated, result.history.inserted, result.history.updated)
    assert written == (0, 0, 0, 0)


def _legacy_vouchers(folder: Path) -> set[str]:
    """Vouchers whose records the simulator delivered under the legacy tax number (truth/defects.csv)."""
    vouchers = set()
    for row in _truth(folder, "defects.csv"):
        if row["defect"] == "TAX_LEGACY_NUMBER":
            assert row["action"] == "link"
            page = json.loads((folder / row["file"]).read_text(encoding="utf-8"))
            vouchers.add(page["records"][int(row["row"]) - 1]["tax_voucher_no"])
    return vouchers


def test_an_empty_tax_payment_table_has_the_columns_the_step_writes(run) -> None:
    """Before any tax page, ensure_silver_tables creates silver.tax_payment empty with `empty_tables()`' columns:
    those the step writes."""
    [(table, schema)] = empty_tables().items()
    held = run["lakehouse"].schema(SILVER, table)
    assert [(f.name, f.dataType) for f in schema.fields] == [(f.name, f.dataType) for f in held.fields]


def test_tax_payments_link_legacy_numbers_and_sum_to_the_truth_by_section_and_district(run) -> None:
    payments = run["lakehouse"].read(SILVER, "tax_payment").collect()
    master = run["master2"]
    legacy = [p for p in payments if len(p["taxpayer_id"]) == 15]
    assert {p["tax_voucher_no"] for p in legacy} == _legacy_vouchers(run["day1"]) | _legacy_vouchers(run["day2"])
    assert len(legacy) == 23
    by_org = {r["org_code"]: code for code, r in master.items()}
    for p in legacy:  # linked through the organization code; unlinked only when the entity was rejected
        assert p["credit_code"] == by_org.get(p["taxpayer_id"][6:])
        if p["credit_code"]:
            assert p["credit_code"][2:17] == p["taxpayer_id"]
    assert run["result2"].tax_unlinked == sum(p["credit_code"] is None for p in payments)
    assert all(p["credit_code"] == p["taxpayer_id"] for p in payments if len(p["taxpayer_id"]) == 18)
    sums: dict[tuple, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for p in payments:
        entity = master.get(p["credit_code"])
        where = (entity["industry_section"], entity["district_code"]) if entity else ("", "")
        acc = sums[(*where, p["tax_period"], p["tax_type"])]
        acc[0] += p["amount"]
        acc[1] += p["revenue"]
    truth = {(r["section"], r["district_code"], r["tax_period"], r["tax_type"]):
             [Decimal(r["amount_yuan"]), Decimal(r["revenue_yuan"])]
             for r in _truth(run["day2"], "tax_by_section_district_month.csv")}
    assert dict(sums) == truth


# --- history rules on a hand-written registry ---------------------------------------------------------

REGISTRY_HEADER = [f.column for f in CONTRACTS["legal_entities"].fields]
REP_ID = idcard.make("339901", date(1980, 1, 1), 17)
A = uscc.make("9", "1", "339901", "MA2B3C4D")   # established 2010, deregistered on day 2, reinstated on day 3
B = uscc.make("9", "2", "339906", "MA2B3C4E")   # 注销 without a 注销日期: dated by its 变更日期; 新港区 authority
C = uscc.make("9", "1", "339902", "MA2B3C4F")   # an address outside the city: not geocoded


def _row(code: str, status: str, dereg: str, address: str, authority: str, change: str, changed: str) -> list:
    return [code, "示范市测试有限公司", "企业", "51", "50万元", "张三", REP_ID, "2010-05-01", status, dereg, address,
            authority, change, changed]


def _registry(path: Path, rows: list[list]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_xlsx(path, "市场主体登记信息", REGISTRY_HEADER, rows)
    return path


@pytest.fixture(scope="module")
def hand(spark, tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("legal-entity-rules")
    lakehouse = Lakehouse(spark, root / "lakehouse")
    contract = CONTRACTS["legal_entities"]
    days = [
        [_row(A, "存续", "", "东湖区湖滨街道中山路1号", "339901", "全量", "2010-05-01"),
         _row(B, "注销", "", "中和区新港街道海港路2号", "339906", "全量", "2020-03-04"),
         _row(C, "存续", "", "上海市静安区南京西路1号", "339902", "全量", "2010-05-01")],
        [_row(A, "注销", "2025-01-20", "东湖区湖滨街道中山路1号", "339901", "注销", "2025-01-20")],
        [_row(A, "存续", "", "东湖区湖滨街道中山路1号", "339901", "变更", "2025-02-15")],
        [_row(C, "迁出", "", "上海市静安区南京西路1号", "339902", "变更", "2025-03-10")],
    ]
    out: dict = {"lakehouse": lakehouse, "results": [], "history": []}
    for day, rows in enumerate(days[:3], start=1):
        at = datetime(2025, day, 2, tzinfo=UTC)
        land_delivery(spark, lakehouse, contract, _registry(root / f"day{day}" / "registry.xlsx", rows), ingested_at=at)
        out["results"].append(build_legal_entities(spark, lakehouse, applied_at=at))
        out["history"].append({(r["credit_code"], r["valid_from"]): r.asDict()
                               for r in lakehouse.read(SILVER, HISTORY).collect()})
    out["master"] = {r["credit_code"]: r.asDict() for r in lakehouse.read(SILVER, MASTER).collect()}
    out["version"] = lakehouse.version(SILVER, MASTER)
    land_delivery(spark, lakehouse, contract, _registry(root / "day4" / "registry.xlsx", days[3]),
                  ingested_at=datetime(2025, 4, 2, tzinfo=UTC))
    with pytest.raises(LegalEntityError) as error:
        build_legal_entities(spark, lakehouse)
    out["error"] = str(error.value)
    out["version_after_error"] = lakehouse.version(SILVER, MASTER)
    return out


def _periods(history: dict, code: str) -> list[tuple]:
    return [(r["valid_from"], r["valid_to"], r["is_current"], r["status"], r["change_reason"])
            for _, r in sorted((k, v) for k, v in history.items() if k[0] == code)]


def test_a_deregistration_without_date_is_dated_by_its_change_and_divisions_are_todays(hand) -> None:
    b = hand["master"][B]
    assert (b["status"], b["deregistered_on"], b["authority_district_code"]) == \
        ("deregistered", date(2020, 3, 4), "339905")
    assert (b["district_code"], b["street_code"]) == ("339905", "339905005")
    assert _periods(hand["history"][0], B) == [
        (date(2010, 5, 1), date(2020, 3, 4), False, "active", "established"),
        (date(2020, 3, 4), None, True, "deregistered", "deregistered")]


def test_an_address_outside_the_city_is_counted_not_guessed(hand) -> None:
    c = hand["master"][C]
    assert (c["district_code"], c["street_code"]) == (None, None)
    assert hand["results"][0].ungeocoded == 1 and hand["results"][0].touched == 3


def test_a_reinstated_entity_withdraws_its_deregistered_period(hand) -> None:
    assert _periods(hand["history"][1], A) == [
        (date(2010, 5, 1), date(2025, 1, 20), False, "active", "established"),
        (date(2025, 1, 20), None, True, "deregistered", "deregistered")]
    assert _periods(hand["history"][2], A) == [
        (date(2010, 5, 1), None, True, "active", "established"),
        (date(2025, 1, 20), date(2025, 1, 20), False, "deregistered", "withdrawn")]
    assert (hand["master"][A]["status"], hand["master"][A]["deregistered_on"]) == ("active", None)
    third = hand["results"][2]
    assert (third.touched, third.master.updated, third.history.updated, third.history.inserted) == (1, 1, 2, 0)


def test_an_unknown_status_word_stops_the_step_and_names_the_entity_and_the_fix(hand) -> None:
    assert C in hand["error"] and "'迁出'" in hand["error"] and "STATUS_WORDS" in hand["error"]
    assert hand["version_after_error"] == hand["version"]
