"""`citydata simulate` writes the day folders and prints a summary."""

from __future__ import annotations

import json
from pathlib import Path

from citydata.cli.main import main
from citydata.cli.simulate import parse_days


def test_parse_days() -> None:
    assert parse_days("3") == [3]
    assert parse_days("1-3") == [1, 2, 3]
    assert parse_days("1,4") == [1, 4]


def test_simulate_command_writes_days(tmp_path: Path, capsys) -> None:
    assert main(["simulate", "--persons", "300", "--seed", "4", "--day", "1-2", "--out", str(tmp_path)]) == 0
    for day in (1, 2):
        manifest = json.loads((tmp_path / f"day-{day:03d}" / "manifest.json").read_text(encoding="utf-8"))
        assert manifest["day"] == day and manifest["seed"] == 4 and manifest["persons"] == 300
        assert manifest["kind"] == ("full" if day == 1 else "increment")
        for info in manifest["files"]:
            assert (tmp_path / f"day-{day:03d}" / "delivery" / info["path"]).stat().st_size == info["bytes"]
    assert "household_register.csv" in capsys.readouterr().out
