"""The silver step registry and where deliveries are looked for (no Spark: runner builds these from files)."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

from citydata.catalog.contracts import load_contracts
from citydata.config import Paths
from citydata.ingest import runner
from citydata.ingest.runner import (
    GENERIC_SILVER,
    MASTERS,
    DeliveryMissingError,
    Master,
    SilverRegistryError,
    day_key_of,
    default_delivery_folder,
    delivery_of,
    run_key_of,
    silver_steps,
)

CONTRACTS = load_contracts()


def test_every_source_feeds_exactly_one_step() -> None:
    steps = silver_steps(CONTRACTS)
    fed = [source for step in steps.values() for source in step.sources]
    assert sorted(fed) == sorted(CONTRACTS)  # each contract once, none twice
    for step in steps.values():
        assert step.inputs == tuple(CONTRACTS[s].tables.bronze for s in step.sources)
        if not step.master:
            [source] = step.sources
            assert (step.name, step.target, step.outputs) == (
                source, GENERIC_SILVER, (CONTRACTS[source].tables.silver,))


@pytest.mark.parametrize("master", MASTERS, ids=lambda m: m.name)
def test_each_masters_sources_are_its_modules_constant(master: Master) -> None:
    module = importlib.import_module(master.module)
    assert master.sources == tuple(getattr(module, master.constant))
    assert callable(getattr(module, master.function))


def test_the_masters_take_over_their_sources() -> None:
    steps = silver_steps(CONTRACTS)
    assert [n for n, s in steps.items() if s.master] == ["population", "legal_entity", "poi"]
    assert steps["population"].outputs[:2] == ("person", "person_history")
    assert "birth" not in steps["population"].own_tables and "birth" in steps["population"].outputs
    assert steps["legal_entity"].own_tables == ("legal_entity", "legal_entity_status_history", "tax_payment")
    assert steps["poi"].outputs == ("poi",) and steps["poi"].target == "citydata.ingest.geo_features:build_pois"
    assert not {"household_register", "tax_payments", "internet_poi"} & set(steps)


def test_a_master_writes_its_sources_silver_tables_once() -> None:
    register, births = CONTRACTS["household_register"].tables.silver, CONTRACTS["births"].tables.silver
    # the master names one of its sources' silver tables among its own: it is an output once
    master = Master("population", "citydata_test_not_imported", "build", "SOURCES", ("household_register", "births"),
                    ("person", births))
    population = silver_steps(CONTRACTS, (master,))["population"]
    assert population.target == "citydata_test_not_imported:build"
    assert population.inputs == ("household_register", "births")
    assert population.outputs == ("person", births, register)  # its own tables first, then each source's once
    assert population.theme == "population"
    assert "citydata_test_not_imported" not in sys.modules  # the registry imports no master: DAG parsing stays cheap


def test_a_source_claimed_by_two_masters_is_refused() -> None:
    first = Master("a", "m1", "build", "SOURCES", ("births",))
    second = Master("b", "m2", "build", "SOURCES", ("births", "deaths"))
    with pytest.raises(SilverRegistryError, match=r"'births' is claimed by both the a and the b masters.*Fix"):
        silver_steps(CONTRACTS, (first, second))


def test_a_master_naming_an_unknown_source_is_refused() -> None:
    with pytest.raises(SilverRegistryError, match=r"m.SOURCES\) names 'weather'.*Fix: add schemas/weather.yml"):
        silver_steps(CONTRACTS, (Master("m", "m", "build", "SOURCES", ("births", "weather")),))


class _Tables:
    """A stand-in for Lakehouse.exists: which tables are there (no Spark)."""

    def __init__(self, *tables: str) -> None:
        self.tables = set(tables)

    def exists(self, layer: str, table: str) -> bool:
        return f"{layer}/{table}" in self.tables


def test_missing_silver_tables_are_the_per_source_ones_a_master_does_not_shape() -> None:
    every = {f"silver/{c.tables.silver}" for c in CONTRACTS.values()}
    assert runner.missing_silver_tables(_Tables(*every), CONTRACTS) == []
    # births and the black list delivered 0 rows; POIs and tax payments never landed: only their masters shape them
    lakehouse = _Tables(*(every - {"silver/birth", "silver/credit_black_list", "silver/poi", "silver/tax_payment"}))
    assert [c.source for c in runner.missing_silver_tables(lakehouse, CONTRACTS)] == ["births", "credit_black_list"]


def _paths(home: Path) -> Paths:
    return Paths(home=home, lakehouse=str(home / "lakehouse"), landing=home / "landing", exports=home / "exports",
                 releases=home / "releases")


def test_the_default_delivery_folder_is_the_newest_landed_day(tmp_path: Path) -> None:
    for day in ("2026-11-23", "2026-11-24", "api", "notes"):
        (tmp_path / "landing" / day).mkdir(parents=True)
    (tmp_path / "data" / "simulated" / "day-009" / "delivery").mkdir(parents=True)
    assert default_delivery_folder(_paths(tmp_path)) == tmp_path / "landing" / "2026-11-24"


def test_without_landed_days_it_is_the_newest_simulated_day(tmp_path: Path) -> None:
    (tmp_path / "landing" / "api").mkdir(parents=True)  # fetched API pages are not a day
    for day in ("day-001", "day-002"):
        (tmp_path / "data" / "simulated" / day / "delivery").mkdir(parents=True)
    assert default_delivery_folder(_paths(tmp_path)) == tmp_path / "data" / "simulated" / "day-002" / "delivery"


def test_without_any_day_it_says_what_to_pass(tmp_path: Path) -> None:
    with pytest.raises(DeliveryMissingError, match="Fix: pass the delivery folder"):
        default_delivery_folder(_paths(tmp_path))


def test_a_source_not_delivered_that_day_is_missing_not_an_error_of_the_data(tmp_path: Path) -> None:
    contract = CONTRACTS["geo_districts"]
    with pytest.raises(DeliveryMissingError, match=r"geo_districts: nothing delivered in .* \(expected "
                                                   r"geography/districts.geojson\)"):
        delivery_of(contract, tmp_path)
    (tmp_path / "geography").mkdir()
    (tmp_path / "geography" / "districts.geojson").write_text("{}", encoding="utf-8")
    assert delivery_of(contract, tmp_path) == tmp_path / "geography" / "districts.geojson"


def test_run_keys_are_folder_names() -> None:
    assert run_key_of("manual__2026-11-25T16:30:00.123+00:00") == "manual__2026-11-25T16_30_00.123_00_00"
    assert run_key_of("::") == "run"


def test_api_pages_of_a_day_are_fetched_under_the_days_name() -> None:
    assert day_key_of("/data/simulated/day-002/delivery") == "day-002"
    assert day_key_of("/data/landing/2026-11-25") == "2026-11-25"


def test_files_no_contract_reads_are_listed_and_the_delivered_ones_are_not(tmp_path: Path) -> None:
    from citydata.ingest.runner import unknown_files

    contracts = load_contracts()
    for contract in contracts.values():  # every contract's delivery, as a file or an API page folder
        where = tmp_path / contract.delivery.path
        if contract.delivery.format == "json_api":
            (where / "page-0001.json").parent.mkdir(parents=True, exist_ok=True)
            (where / "page-0001.json").write_text("{}", encoding="utf-8")
        else:
            where.parent.mkdir(parents=True, exist_ok=True)
            where.write_bytes(b"x")
    assert unknown_files(tmp_path, contracts) == []
    (tmp_path / "police" / "household_register (1).csv").write_bytes(b"x")  # a renamed delivery
    (tmp_path / "misc").mkdir()
    (tmp_path / "misc" / "readme.txt").write_text("?", encoding="utf-8")
    (tmp_path / ".DS_Store").write_bytes(b"")
    assert unknown_files(tmp_path, contracts) == ["misc/readme.txt", "police/household_register (1).csv"]
