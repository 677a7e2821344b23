"""Same seed -> byte-identical trees (CSV, XLSX, JSON, truth); another seed -> another city."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

from citydata.sources.simulate import simulate

from simcity_helpers import DEFECTS, PERIOD, PERSONS, SEED


def tree_hash(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_gives_the_same_bytes(city: Path, tmp_path: Path) -> None:
    time.sleep(1.1)  # a clock stamp in any file (zip entry dates, XLSX properties) would now differ
    simulate(tmp_path, [1, 2], persons=PERSONS, seed=SEED, period_days=PERIOD, defects=DEFECTS)
    first, second = tree_hash(city), tree_hash(tmp_path)
    assert any(name.endswith(".xlsx") for name in first)
    assert first == second


def test_a_day_alone_equals_the_same_day_of_a_longer_run(city: Path, tmp_path: Path) -> None:
    simulate(tmp_path, [2], persons=PERSONS, seed=SEED, period_days=PERIOD, defects=DEFECTS)
    assert tree_hash(tmp_path / "day-002") == tree_hash(city / "day-002")


def test_another_seed_gives_another_city(city: Path, tmp_path: Path) -> None:
    simulate(tmp_path, [1], persons=PERSONS, seed=SEED + 1, period_days=PERIOD, defects=DEFECTS)
    register = "day-001/delivery/police/household_register.csv"
    assert (tmp_path / register).read_bytes() != (city / register).read_bytes()


def test_same_bytes_across_processes_with_different_hash_seeds(tmp_path: Path) -> None:
    """Nothing depends on set or dict-of-str iteration order (PYTHONHASHSEED) either."""
    import os
    import subprocess
    import sys

    code = ("import sys; from citydata.sources.simulate import simulate; "
            "simulate(sys.argv[1], [1, 2], persons=300, seed=3, period_days=30)")
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        subprocess.run([sys.executable, "-c", code, str(tmp_path / hash_seed)], check=True, env=env, timeout=120)
    assert tree_hash(tmp_path / "1") == tree_hash(tmp_path / "2")
