"""The alerts log: a refused delivery and rejects above the threshold become one JSON line each with source, day,
reason and counts; the failure callback adds a line only for failures that wrote none; `citydata alerts`
prints them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from citydata.orchestration import alerts

REFUSAL = ("/data/day-001/delivery/civil_affairs/marriages.csv: delivery refused (FILE_ENCODING): neither UTF-8 "
           "nor GBK. Fix: ask 市民政局 for a UTF-8 or GBK file")


def _landing(delivered: int, rejected: int, new: bool = True) -> dict:
    return {"delivered": delivered, "landed": delivered - rejected, "rejected": rejected, "new": new,
            "rejects_by_reason": {"ID_CHECKSUM": rejected} if rejected else {}}


def test_a_refused_delivery_and_rejects_above_the_threshold_are_alerts() -> None:
    landed = {"household_register": _landing(300, 5),   # 1.7 %: under 5 %
              "deaths": _landing(1, 1),                  # a truncated file: 100 %
              "births": _landing(20, 1),                 # exactly 5 %: not above
              "credit_penalties": _landing(10, 9, new=False)}  # landed before: judged then, not again
    found = alerts.delivery_alerts(landed, {"marriages": REFUSAL}, threshold=0.05, day="day-001", dag="run_day",
                                   task="check_deliveries", run_id="manual__1", try_number=1)
    assert [(a.reason, a.source) for a in found] == [("DELIVERY_REFUSED", "marriages"),
                                                     ("REJECTS_ABOVE_THRESHOLD", "deaths")]
    refused, deaths = found
    assert refused.counts == {"code": "FILE_ENCODING", "landed": 0} and refused.message == REFUSAL
    assert deaths.counts == {"delivered": 1, "landed": 0, "rejected": 1, "share": 1.0, "threshold": 0.05,
                             "rejects_by_reason": {"ID_CHECKSUM": 1}}
    assert deaths.message.startswith("deaths: 1 of 1 delivered rows rejected (100.0% > 5.0%); the rest landed")
    line = json.loads(deaths.line())
    assert list(line) == ["time", "dag", "task", "run_id", "try_number", "source", "day", "reason", "counts",
                          "message"]
    assert (line["dag"], line["task"], line["day"], line["try_number"]) == ("run_day", "check_deliveries",
                                                                           "day-001", 1)


def test_the_threshold_is_configurable_and_checked() -> None:
    assert alerts.reject_share_threshold({}) == 0.05
    assert alerts.reject_share_threshold({"CITYDATA_ALERT_REJECT_SHARE": "0.2"}) == 0.2
    for bad in ("1.5", "-0.1", "five"):
        with pytest.raises(ValueError, match="Fix: unset it"):
            alerts.reject_share_threshold({"CITYDATA_ALERT_REJECT_SHARE": bad})
    assert alerts.delivery_alerts({"births": _landing(20, 3)}, {}, threshold=0.2) == []


def test_the_log_lives_under_the_platform_home(tmp_path: Path) -> None:
    assert alerts.alerts_file(tmp_path, env={}) == tmp_path.resolve() / "data" / "alerts.jsonl"
    assert alerts.alerts_file(env={"CITYDATA_HOME": str(tmp_path)}) == tmp_path.resolve() / "data" / "alerts.jsonl"
    assert alerts.alerts_file(tmp_path, env={"CITYDATA_ALERTS": "/var/log/city.jsonl"}) == Path("/var/log/city.jsonl")
    assert (alerts.day_label("/x/day-003/delivery"), alerts.day_label("/x/2026-11-25/"), alerts.day_label("")) == (
        "day-003", "2026-11-25", None)


def test_the_failure_callback_writes_a_line_unless_the_failure_wrote_its_own(tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CITYDATA_HOME", str(tmp_path))
    monkeypatch.delenv("CITYDATA_ALERTS", raising=False)
    ti = SimpleNamespace(dag_id="silver_population", task_id="build_silver", run_id="asset_triggered__2", try_number=3)
    callback = alerts.failure_callback()
    callback({"ti": ti, "exception": RuntimeError("silver/person: MERGE failed\nstack"),
              "params": {"day_folder": "/d/day-002"}})
    written = RuntimeError("written already")
    setattr(written, alerts.ALERTED, True)
    callback({"ti": ti, "exception": written, "params": {}})
    alerts.failure_callback("tax_payments")({"ti": ti, "exception": TimeoutError("x" * 900), "params": {}})
    first, timeout = alerts.read_alerts(tmp_path / "data" / "alerts.jsonl")
    assert (first["reason"], first["dag"], first["task"], first["run_id"], first["try_number"], first["day"]) == (
        "TASK_FAILED", "silver_population", "build_silver", "asset_triggered__2", 3, "day-002")
    assert first["message"] == "RuntimeError: silver/person: MERGE failed"  # the first line only
    assert timeout["source"] == "tax_payments" and len(timeout["message"]) == len("TimeoutError: ") + 500


def test_citydata_alerts_prints_the_latest(tmp_path: Path) -> None:
    found = alerts.delivery_alerts({}, {"marriages": REFUSAL}, threshold=0.05, day="day-001", dag="ingest_marriages",
                                   task="land_bronze")
    alerts.write_alerts(found * 3, tmp_path / "data" / "alerts.jsonl")
    done = subprocess.run([sys.executable, "-m", "citydata.cli", "alerts", "--home", str(tmp_path), "-n", "2"],
                          capture_output=True, text=True, timeout=30, check=True)
    lines = done.stdout.splitlines()
    assert lines[0] == f"alerts in {tmp_path.resolve() / 'data' / 'alerts.jsonl'} (2 latest):"
    assert len(lines) == 3
    assert ("DELIVERY_REFUSED  ingest_marriages/land_bronze  source=marriages  day=day-001  code=FILE_ENCODING "
            "landed=0") in lines[1]
