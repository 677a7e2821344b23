"""A small simulated city for the connector tests, generated once per session (fixed seed, days 1 and 2).

Day 1 breaks three files: marriages (UTF-16: FILE_ENCODING), deaths and the credit licences (cut in the
middle of a row: FILE_TRUNCATED; the licences are UTF-8 with BOM and have many rows, so the cut row
has rows before it). Day 2 breaks nothing. API pages of 40 records, so the tax source has many pages.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from citydata.sources.simulate import simulate

from connector_helpers import DEFECTS, PAGE_SIZE, PERIOD, PERSONS, SEED


@pytest.fixture(scope="session")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("connector-city")
    simulate(out, [1, 2], persons=PERSONS, seed=SEED, period_days=PERIOD, page_size=PAGE_SIZE, defects=DEFECTS)
    return out
