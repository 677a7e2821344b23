"""The bronze and silver jobs are thin: main(argv) runs the library step and prints its result."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

JOBS = Path(__file__).resolve().parents[3] / "jobs"


def _job(name: str):
    spec = importlib.util.spec_from_file_location(name, JOBS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_land_then_conform_jobs(spark, tmp_path: Path, capsys) -> None:
    assert _job("land_delivery").main(["--home", str(tmp_path)]) == 0
    landed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (landed["delivered"], landed["landed"], landed["rejected"]) == (37, 21, 16)
    assert _job("conform_silver").main(["--home", str(tmp_path)]) == 0
    silver = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (silver["table"], silver["rows"], silver["version"]) == ("silver/person", 20, 0)
    assert (tmp_path / "lakehouse" / "silver" / "person" / "_delta_log").is_dir()
