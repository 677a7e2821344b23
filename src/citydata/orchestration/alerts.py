"""Alerts an operator watches: one JSON line per event in the platform's alerts log
(`$CITYDATA_HOME/data/alerts.jsonl`, or CITYDATA_ALERTS), printed and followed by `citydata alerts`.

Three reasons, stable codes: `DELIVERY_REFUSED` (a delivery refused whole, e.g. FILE_ENCODING),
`REJECTS_ABOVE_THRESHOLD` (a new delivery whose rejected rows exceed CITYDATA_ALERT_REJECT_SHARE of its rows,
default 0.05) and `TASK_FAILED` (the failure callback of every task of the generated DAGs, once a task has no
retry left). A line: time (UTC), dag, task, run_id, try_number, source, day, reason, counts, message.
Messages are the platform's own error messages, which quote masked values only.
Must not: import Airflow or Spark (the callback reads Airflow's context as a mapping), decide task states (the
DAG factory fails the task after writing the line).
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

DELIVERY_REFUSED = "DELIVERY_REFUSED"
REJECTS_ABOVE_THRESHOLD = "REJECTS_ABOVE_THRESHOLD"
TASK_FAILED = "TASK_FAILED"
DEFAULT_REJECT_SHARE = 0.05
MESSAGE_CHARS = 500  # an alert names the failure; the task log holds all of it
# Set on an exception whose alert line is written already: the failure callback adds no second line.
ALERTED = "citydata_alert_written"
_REFUSED_CODE = re.compile(r"delivery refused \(([A-Z_]+)\)")


@dataclass(frozen=True)
class Alert:
    """One line of the alerts log."""

    reason: str
    message: str
    source: str | None = None
    day: str | None = None
    dag: str | None = None
    task: str | None = None
    run_id: str | None = None
    try_number: int | None = None
    counts: dict[str, Any] = field(default_factory=dict)
    time: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    def line(self) -> str:
        fields = asdict(self)
        ordered = {key: fields[key] for key in ("time", "dag", "task", "run_id", "try_number", "source", "day",
                                                "reason", "counts", "message")}
        return json.dumps(ordered, ensure_ascii=False, sort_keys=False)


def alerts_file(home: Path | None = None, env: Mapping[str, str] | None = None) -> Path:
    """The alerts log: CITYDATA_ALERTS, else `<platform home>/data/alerts.jsonl`."""
    env = os.environ if env is None else env
    if env.get("CITYDATA_ALERTS"):
        return Path(env["CITYDATA_ALERTS"])
    root = Path(home or env.get("CITYDATA_HOME") or Path.cwd()).resolve()
    return root / "data" / "alerts.jsonl"


def reject_share_threshold(env: Mapping[str, str] | None = None) -> float:
    """CITYDATA_ALERT_REJECT_SHARE (0..1): a new delivery with a larger share of rejected rows raises an alert."""
    env = os.environ if env is None else env
    raw = env.get("CITYDATA_ALERT_REJECT_SHARE", "")
    try:
        share = float(raw) if raw.strip() else DEFAULT_REJECT_SHARE
    except ValueError:
        share = -1.0
    if not 0 <= share <= 1:
        raise ValueError(f"CITYDATA_ALERT_REJECT_SHARE={raw!r} is not a share between 0 and 1. Fix: unset it "
                         f"(default {DEFAULT_REJECT_SHARE}) or set e.g. 0.1")
    return share


def write_alerts(alerts: list[Alert], path: Path | None = None) -> Path:
    """Append the alerts as JSON lines (one write per alert, each whole: concurrent tasks do not interleave)."""
    path = path or alerts_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as log:
        for alert in alerts:
            log.write(alert.line() + "\n")
            log.flush()
    return path


def read_alerts(path: Path | None = None) -> list[dict[str, Any]]:
    """Every alert of the log, oldest first (none when there is no log yet)."""
    path = path or alerts_file()
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def follow_alerts(path: Path, poll_seconds: float = 1.0,
                  keep_going: Callable[[], bool] = lambda: True) -> Iterator[dict[str, Any]]:
    """Alerts appended to the log from now on, as they arrive (`citydata alerts --follow`)."""
    offset = path.stat().st_size if path.is_file() else 0
    pending = ""
    while keep_going():
        if path.is_file() and path.stat().st_size > offset:
            with path.open(encoding="utf-8") as log:
                log.seek(offset)
                pending += log.read()
                offset = log.tell()
            *complete, pending = pending.split("\n")
            for line in complete:
                if line.strip():
                    yield json.loads(line)
        else:
            time.sleep(poll_seconds)


def day_label(folder: str | Path | None) -> str | None:
    """The day of a day folder or its delivery/ folder (`day-003`, `2026-11-25`)."""
    if not folder:
        return None
    folder = Path(str(folder).rstrip("/"))
    return folder.parent.name if folder.name == "delivery" else folder.name


def short(message: str) -> str:
    """The first line of an error message, cut to MESSAGE_CHARS."""
    first = message.strip().splitlines()[0] if message.strip() else ""
    return first if len(first) <= MESSAGE_CHARS else first[:MESSAGE_CHARS - 1] + "…"


def refusal_alert(source: str, message: str, **where: Any) -> Alert:
    """A delivery refused whole; its reason code from DeliveryRejectedError's message."""
    code = _REFUSED_CODE.search(message)
    return Alert(DELIVERY_REFUSED, short(message), source=source,
                 counts={"code": code.group(1) if code else None, "landed": 0}, **where)


def delivery_alerts(landed: Mapping[str, Mapping[str, Any]], refused: Mapping[str, str], *,
                    threshold: float | None = None, **where: Any) -> list[Alert]:
    """The alerts of a day's (or one source's) landing: every refused delivery, and every new delivery whose
    rejected rows exceed `threshold` (a share of its delivered rows; default CITYDATA_ALERT_REJECT_SHARE).
    `landed`: source -> delivered, landed, rejected, rejects_by_reason and `new` (a batch landed before is
    not judged again); `refused`: source -> the refusal message."""
    threshold = reject_share_threshold() if threshold is None else threshold
    alerts = [refusal_alert(source, message, **where) for source, message in sorted(refused.items())]
    for source, landing in sorted(landed.items()):
        delivered, rejected = int(landing.get("delivered") or 0), int(landing.get("rejected") or 0)
        if not landing.get("new", True) or not delivered or rejected / delivered <= threshold:
            continue
        counts = {"delivered": delivered, "landed": int(landing.get("landed") or 0), "rejected": rejected,
                  "share": round(rejected / delivered, 4), "threshold": threshold,
                  "rejects_by_reason": dict(landing.get("rejects_by_reason") or {})}
        message = (f"{source}: {rejected:,} of {delivered:,} delivered rows rejected ({rejected / delivered:.1%} > "
                   f"{threshold:.1%}); the rest landed. Fix: read the source's rejects table in bronze (reason_code, "
                   f"raw_masked) and ask the department for a corrected delivery, or raise "
                   f"CITYDATA_ALERT_REJECT_SHARE")
        alerts.append(Alert(REJECTS_ABOVE_THRESHOLD, message, source=source, counts=counts, **where))
    return alerts


def task_where(context: Mapping[str, Any]) -> dict[str, Any]:
    """dag, task, run_id and try_number of an Airflow task from its context (or a TaskFlow `ti`)."""
    ti = context.get("ti") or context.get("task_instance")
    return {"dag": getattr(ti, "dag_id", None), "task": getattr(ti, "task_id", None),
            "run_id": getattr(ti, "run_id", None) or context.get("run_id"),
            "try_number": getattr(ti, "try_number", None)}


def failure_callback(source: str | None = None) -> Callable[[Mapping[str, Any]], None]:
    """An Airflow `on_failure_callback`: a TASK_FAILED line for a task that failed with no retry left, unless
    the failure wrote its own alert (a refused delivery, rejects above the threshold)."""
    def on_task_failure(context: Mapping[str, Any]) -> None:
        error = context.get("exception")
        if getattr(error, ALERTED, False):
            return
        params = context.get("params") or {}
        folder = params.get("delivery_folder") or params.get("day_folder")
        message = f"{type(error).__name__}: {short(str(error))}" if error is not None else "failed"
        write_alerts([Alert(TASK_FAILED, message, source=source, day=day_label(folder),
                            **task_where(context))])

    return on_task_failure
