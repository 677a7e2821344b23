"""The population master on real Spark + Delta: days 1 and 2 of a simulated city (300 persons, a 30-day
period) through bronze into silver.person and silver.person_history, checked against the city's truth.

Seed 1077 gives day 1 a marriage (civil affairs and the change log's 婚姻状况变更) and day 2 one birth,
one death, two moves and, with every wrong check character corrected on day 2 (id_correction_days=1,
5 % of residents), eleven 更正公民身份号码 rows: every population source has rows on some day. The
day-1 files the simulator breaks by default (marriages undecodable, deaths truncated) are left whole
here: refusals are tested with the landing.
"""

from __future__ import annotations

import csv
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from citydata.catalog.contracts import load_contract
from citydata.ingest.bronze import DeliveryRejectedError, land_delivery
from citydata.ingest.population import POPULATION_SOURCES, build_population
from citydata.lakehouse import Lakehouse
from citydata.sources.connectors import delivery_path
from citydata.sources.simulate import DefectRates, simulate
from citydata.transform import run_dbt

SEED = 1077
DEFECTS = DefectRates(id_checksum=0.05, id_correction_days=1, undecodable=(), truncated=())
PERIOD_DAYS = 30


def _truth(folder: Path, name: str) -> list[dict[str, str]]:
    with (folder / "truth" / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _changes(folder: Path) -> list[dict[str, str]]:
    text = (folder / "delivery" / "police" / "household_register_changes.csv").read_bytes().decode("gbk")
    return list(csv.DictReader(text.splitlines()))


def _snapshot(lakehouse: Lakehouse) -> dict:
    return {
        "person": {r["id_number"]: r.asDict() for r in lakehouse.read("silver", "person").collect()},
        "history": [r.asDict() for r in lakehouse.read("silver", "person_history").collect()],
        "versions": {t: lakehouse.version(layer, t) for layer, t in lakehouse.tables(["silver"])},
    }


@pytest.fixture(scope="module")
def city(spark, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Days 1 and 2 landed and built one after the other, with a snapshot of silver after each."""
    root = tmp_path_factory.mktemp("population")
    days = simulate(root / "sim", [1, 2], persons=300, seed=SEED, period_days=PERIOD_DAYS, defects=DEFECTS)
    lakehouse = Lakehouse(spark, root / "lakehouse")
    out: dict = {"lakehouse": lakehouse, "days": days, "results": [], "snapshots": [], "refused": []}
    for n, day in enumerate(days, start=1):
        at = datetime(2025, 1, 1 + n, tzinfo=UTC)
        for source in POPULATION_SOURCES:
            contract = load_contract(source)
            try:
                land_delivery(spark, lakehouse, contract, delivery_path(contract, day.folder / "delivery"),
                              ingested_at=at)
            except DeliveryRejectedError as refused:  # a file without data rows: nothing to land
                out["refused"].append((n, source, str(refused)))
        out["results"].append(build_population(spark, lakehouse, applied_at=at))
        out["snapshots"].append(_snapshot(lakehouse))
    return out


def _registered_by_district(person: dict) -> dict[str, tuple[int, int, int]]:
    counts: dict[str, Counter] = {}
    for row in person.values():
        if row["status"] == "registered":
            counts.setdefault(row["district_code"], Counter())[row["gender"]] += 1
    return {d: (c["M"] + c["F"], c["M"], c["F"]) for d, c in sorted(counts.items())}


def _truth_by_district(folder: Path) -> dict[str, tuple[int, int, int]]:
    return {r["district_code"]: (int(r["residents"]), int(r["male"]), int(r["female"]))
            for r in _truth(folder, "population_by_district.csv") if int(r["residents"])}


@pytest.mark.parametrize("day", [1, 2])
def test_registered_persons_equal_the_truth_residents_per_district(city, day: int) -> None:
    folder = city["days"][day - 1].folder
    person = city["snapshots"][day - 1]["person"]
    truth = _truth_by_district(folder)
    assert sum(r["status"] == "registered" for r in person.values()) == sum(t[0] for t in truth.values())
    assert _registered_by_district(person) == truth
    assert city["refused"] == []


def test_day_1_builds_every_source_and_one_history_period_per_move(city) -> None:
    first, second = city["results"]
    # a file without data rows lands no row but leaves its tables, empty: day 1 has no birth or death
    assert set(first.sources) == set(second.sources) == set(POPULATION_SOURCES)
    assert first.sources["births"].rows == first.sources["deaths"].rows == 0
    person = city["snapshots"][0]["person"]
    history = city["snapshots"][0]["history"]
    assert first.person.inserted == first.person.rows == len(person) == first.touched
    # day 1's register names today's street; each move of day 1's period adds one period after the first
    moves = sum(int(r["moves_in"]) for r in _truth(city["days"][0].folder, "vital_events_by_street.csv"))
    deaths = sum(int(r["deaths"]) for r in _truth(city["days"][0].folder, "vital_events_by_street.csv"))
    assert len(history) == len(person) + moves + deaths
    assert sum(r["is_current"] for r in history) == len(person)
    assert Counter(r["status"] for r in person.values())["deceased"] == deaths


def test_day_2_moves_deaths_and_births_are_history_periods(city) -> None:
    before, after = (s["history"] for s in city["snapshots"])
    folder = city["days"][1].folder
    events = _truth(folder, "vital_events_by_street.csv")
    moves, deaths, births = (sum(int(r[k]) for r in events) for k in ("moves_in", "deaths", "births"))
    assert (moves, deaths, births) == (2, 1, 1)
    first_day = date(2025, 1, 2)  # day 2's period: (2025-01-01, 2025-01-31]
    old = {(r["id_number"], r["valid_from"]): r for r in before}
    new = [r for r in after if (r["id_number"], r["valid_from"]) not in old]
    closed = [r for r in after if (r["id_number"], r["valid_from"]) in old
              and old[(r["id_number"], r["valid_from"])]["valid_to"] is None and r["valid_to"] is not None]
    corrected = {r["公民身份号码"] for r in _changes(folder) if r["变动原因"] == "更正公民身份号码"}
    reasons = Counter(r["change_reason"] for r in new)
    # every move and the death close the person's open period on its date and open the next one;
    # the newborn and each corrected person open their first period
    assert len(closed) == moves + deaths
    assert all(first_day <= r["valid_to"] <= date(2025, 1, 31) for r in closed)
    assert reasons == Counter({"迁移": moves, "死亡": deaths, "出生": births, "更正": len(corrected)})
    assert len(new) == moves + deaths + births + len(corrected)
    dead = [r for r in new if r["change_reason"] == "死亡"]
    assert [r["status"] for r in dead] == ["deceased"] and dead[0]["is_current"]
    person = city["snapshots"][1]["person"]
    assert person[dead[0]["id_number"]]["status"] == "deceased"
    assert person[dead[0]["id_number"]]["died_on"] == dead[0]["valid_from"]
    assert person[dead[0]["id_number"]]["death_certificate_no"] is not None
    # the master's residence is the open period's
    current = {r["id_number"]: r for r in after if r["is_current"]}
    assert all((p["district_code"], p["street_code"]) == (current[i]["district_code"], current[i]["street_code"])
               for i, p in person.items())


def test_corrected_id_numbers_are_persons_and_the_wrong_ones_never_enter(city) -> None:
    rows = [r for r in _changes(city["days"][1].folder) if r["变动原因"] == "更正公民身份号码"]
    assert len(rows) == 11
    before, after = (s["person"] for s in city["snapshots"])
    for row in rows:
        assert row["公民身份号码"] not in before and after[row["公民身份号码"]]["status"] == "registered"
        assert row["原公民身份号码"] not in after
    history_ids = {r["id_number"] for r in city["snapshots"][1]["history"]}
    assert not {r["原公民身份号码"] for r in rows} & history_ids


def test_other_departments_facts_are_attached_by_id_number(city) -> None:
    lakehouse = city["lakehouse"]
    person = city["snapshots"][1]["person"]
    insured = {r["id_number"] for r in lakehouse.read("silver", "insured_employment").collect()}
    assert {i for i, p in person.items() if p["in_social_insurance"]} == insured & set(person)
    assert all(p["employer_credit_code"] for p in person.values() if p["insured"])
    spouses = {i for r in lakehouse.read("silver", "marriage_registration").collect()
               for i in (r["husband_id_number"], r["wife_id_number"])}
    assert {i for i, p in person.items() if p["in_civil_affairs"]} == spouses & set(person)
    assert all(person[i]["marital_status"] == "已婚" for i in spouses & set(person))
    # the day-2 newborn carries its birth certificate, its mother is in health's records too
    certificates = lakehouse.read("silver", "birth").collect()
    born = {p["birth_certificate_no"]: i for i, p in person.items() if p["birth_certificate_no"]}
    assert set(born) == {r["certificate_no"] for r in certificates
                         if r["mother_id_number"] in person}
    assert all(person[r["mother_id_number"]]["in_health"] for r in certificates if r["mother_id_number"] in person)


def test_day_2_recomputes_only_the_persons_it_names(city) -> None:
    _, second = city["results"]
    person = city["snapshots"][1]["person"]
    assert second.touched < len(person) // 5  # a day's events, not the population
    assert second.person.inserted == len(person) - len(city["snapshots"][0]["person"])
    assert second.person.updated <= second.touched


def test_a_rerun_on_the_same_bronze_makes_no_new_version_of_any_silver_table(spark, city) -> None:
    lakehouse = city["lakehouse"]
    again = build_population(spark, lakehouse)
    assert again.touched == 0
    assert {t: lakehouse.version(layer, t) for layer, t in lakehouse.tables(["silver"])} == \
        city["snapshots"][1]["versions"]


def test_gold_counts_exactly_the_registered_alive_residents(spark, city, tmp_path: Path) -> None:
    lakehouse = city["lakehouse"]
    day = city["days"][1]
    as_of = date(2025, 1, 1 + PERIOD_DAYS)
    # this city holds the population sources only: build the two population marts and what they read
    result = run_dbt(spark, lakehouse.root, "build", select=["+population_by_district", "+dim_resident"],
                     vars={"as_of_date": as_of.isoformat()}, target_dir=tmp_path / "target")
    assert result.success
    gold = {r["district_code"]: (r["residents"], r["male"], r["female"])
            for r in lakehouse.read("gold", "population_by_district").collect()}
    truth = {r["district_code"]: (int(r["residents"]), int(r["male"]), int(r["female"]))
             for r in _truth(day.folder, "population_by_district.csv")}
    assert gold == truth
    assert lakehouse.read("gold", "dim_resident").where(F.col("id_number").isNull()).count() == 0


def test_a_person_is_looked_up_by_the_keyed_hash_of_the_id_number(city) -> None:
    from citydata.ingest.population import lookup_person
    from citydata.standards.pseudonym import id_number_hash, platform_key

    lakehouse = city["lakehouse"]
    person = city["snapshots"][1]["person"]
    key = platform_key(lakehouse.root)
    assert all(row["id_hash"] == id_number_hash(id_number, key) for id_number, row in person.items())
    assert len({row["id_hash"] for row in person.values()}) == len(person)
    wanted = max(person)  # an ID number; looked up as typed with a lower-case check character
    found = lookup_person(lakehouse, f" {wanted.lower()} ").collect()
    assert [r.asDict() for r in found] == [person[wanted]]
    # the log has statistics on id_hash and none on id_number: the hash prunes at least as well
    by_hash = lakehouse.files("silver", "person", where=f"id_hash = '{person[wanted]['id_hash']}'")
    by_id = lakehouse.files("silver", "person", where=f"id_number = '{wanted}'")
    assert 1 <= len(by_hash) <= len(by_id) == len(lakehouse.files("silver", "person"))
