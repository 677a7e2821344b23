"""The portal's unit tests build from a tiny released and exported city (portal_city.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from portal_city import TinyCity, write_city


@pytest.fixture
def tiny_city(tmp_path: Path) -> TinyCity:
    return write_city(tmp_path / "home")
