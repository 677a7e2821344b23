"""`citydata demo` (what `make demo` runs) in a subprocess on a fresh home: it finishes and says where things are."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path


def test_demo_runs_the_chain_and_prints_tables_manifest_and_exports(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "CITYDATA_"))}
    env.update({"CITYDATA_HOME": str(tmp_path), "PYSPARK_PYTHON": sys.executable, "COLUMNS": "200"})
    done = subprocess.run([sys.executable, "-m", "citydata.cli", "demo"], env=env, capture_output=True, text=True,
                          timeout=900, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    for table, rows in (("bronze.household_register", 21), ("bronze.household_register_rejects", 16),
                        ("silver.person", 20), ("gold.dim_resident", 20), ("gold.population_by_district", 5)):
        assert re.search(rf"{re.escape(table)}\s+│\s+0 │\s+{rows} │", out), table
    assert f"release manifest: {tmp_path}/data/releases/release-0001.json (release 1)" in out
    assert f"open-data export: {tmp_path}/exports/release-0001" in out
    assert "37 lines -> 21 bronze, 16 rejects" in out
    assert (tmp_path / "exports" / "release-0001" / "resident_extract.metadata.json").is_file()
