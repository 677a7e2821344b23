"""The silver step registry and where deliveries are looked for (no Spark: runner builds these from files)."""

from __future__ import annotations

from pathlib import Path

import pytest

from citydata.catalog.contracts import load_contracts
from citydata.config import Paths
from citydata.ingest import runner
from citydata.ingest.runner import (
    GENERIC_SILVER,
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


@pytest.fixture
def master_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Write a real importable module `citydata_test_master_<n>` declaring SOURCES; return its name."""
    monkeypatch.syspath_prepend(str(tmp_path))
    made = []

    def make(sources: str) -> str:
        name = f"citydata_test_master_{len(made)}"
        (tmp_path / f"{name}.py").write_text(f"SOURCES = {sources}\n\ndef build(spark, lakehouse):\n    return None\n")
        made.append(name)
        return name

    return make


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


def test_a_master_takes_over_its_sources_and_writes_their_silver_too(master_module) -> None:
    module = master_module('("household_register", "births")')
    register, births = CONTRACTS["household_register"].tables.silver, CONTRACTS["births"].tables.silver
    # the master names one of its sources' silver tables among its own: it is an output once
    steps = silver_steps(CONTRACTS, (Master("population", module, "build", "SOURCES", ("person", births)),))
    population = steps["population"]
    assert population.master and population.target == f"{module}:build"
    assert population.sources == ("household_register", "births")
    assert population.inputs == ("household_register", "births")
    # its own tables first, then each source's silver table once
    assert population.outputs == ("person", births, register)
    assert population.theme == "population"
    assert "household_register" not in steps and "births" not in steps
    assert steps["deaths"].target == GENERIC_SILVER
    assert len(steps) == len(CONTRACTS) - 1


def test_a_master_whose_module_is_not_written_yet_leaves_its_sources_generic() -> None:
    steps = silver_steps(CONTRACTS, (Master("nowhere", "citydata.ingest.no_such_master", "f", "S", (), ("births",)),))
    assert "nowhere" not in steps and steps["births"].target == GENERIC_SILVER


def test_a_master_without_the_constant_uses_its_default_sources(master_module) -> None:
    module = master_module('("births",)')
    steps = silver_steps(CONTRACTS, (Master("poi", module, "build", "POI_SOURCES", (), ("internet_poi",)),))
    assert steps["poi"].sources == ("internet_poi",) and steps["poi"].outputs == ("poi",)


def test_a_source_claimed_by_two_masters_is_refused(master_module) -> None:
    first, second = master_module('("births",)'), master_module('("births", "deaths")')
    with pytest.raises(SilverRegistryError, match=r"'births' is claimed by both the a and the b masters.*Fix"):
        silver_steps(CONTRACTS, (Master("a", first, "build", "SOURCES"), Master("b", second, "build", "SOURCES")))


def test_a_master_naming_an_unknown_source_is_refused(master_module) -> None:
    module = master_module('("births", "weather")')
    with pytest.raises(SilverRegistryError, match=r"SOURCES names 'weather'.*Fix: add schemas/weather.yml"):
        silver_steps(CONTRACTS, (Master("m", module, "build", "SOURCES"),))


def test_the_registry_is_built_without_importing_the_masters(master_module) -> None:
    import sys

    module = master_module('("births",)')
    silver_steps(CONTRACTS, (Master("m", module, "build", "SOURCES"),))
    assert module not in sys.modules  # read from the source text: DAG parsing stays cheap


def test_silver_steps_constant_is_the_registry() -> None:
    assert set(runner.SILVER_STEPS) == set(silver_steps())


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
