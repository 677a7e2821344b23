"""A small simulated city shared by the simulator's tests (fixed seed; days 1 and 2, monthly deliveries
so a small city still has births, deaths and moves in its increments)."""

from __future__ import annotations

from pathlib import Path

import pytest

from citydata.sources.simulate import simulate

from simcity_helpers import DEFECTS, PERIOD, PERSONS, SEED


@pytest.fixture(scope="session")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("city")
    simulate(out, [1, 2], persons=PERSONS, seed=SEED, period_days=PERIOD, defects=DEFECTS)
    return out
