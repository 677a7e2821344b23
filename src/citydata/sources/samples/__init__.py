"""Tiny hand-written deliveries shipped with the package, each row there for a reason.

`sample_delivery(source)` gives the path of the embedded delivery of a source (used by `citydata
demo`, the Airflow DAG's default and the tests). Each source folder lists its rows' reasons in
`ROWS.md`, generated together with the file by its `build.py`.
"""

from __future__ import annotations

from pathlib import Path

SAMPLES_DIR = Path(__file__).resolve().parent


def sample_delivery(source: str) -> Path:
    """The embedded delivery file of a source, e.g. `sample_delivery("household_register")`."""
    folder = SAMPLES_DIR / source
    files = sorted(folder.glob("*.csv"))
    if len(files) != 1:
        raise FileNotFoundError(f"{folder}: expected exactly one embedded delivery (*.csv), found {len(files)}")
    return files[0]
