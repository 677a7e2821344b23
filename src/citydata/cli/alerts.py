"""`citydata alerts`: print the platform's alerts log (refused deliveries, rejects above the threshold, failed
Airflow tasks), newest last; `--follow` keeps printing new alerts as they are written."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "alerts", help="print (or follow) the alerts log: refused deliveries, rejects over the threshold, failed tasks",
        description="Prints the last alerts of $CITYDATA_HOME/data/alerts.jsonl (CITYDATA_ALERTS overrides), one "
                    "line each: time, dag/task, source, day, reason, counts, message. The Airflow tasks write them "
                    "(docs/airflow.md, 'Alerts').")
    parser.add_argument("--home", type=Path, default=None,
                        help="platform home; default: $CITYDATA_HOME or the current folder")
    parser.add_argument("-n", "--last", type=int, default=20, help="how many of the latest alerts (default 20)")
    parser.add_argument("-f", "--follow", action="store_true", help="then keep printing new alerts until Ctrl-C")
    parser.add_argument("--json", action="store_true", help="print the JSON lines as they are in the log")
    parser.set_defaults(handler=run)


def alert_line(alert: dict[str, Any]) -> str:
    """One alert as a line for people: time, reason, dag/task, source, day, counts, message."""
    where = "/".join(str(alert[k]) for k in ("dag", "task") if alert.get(k)) or "-"
    counts = " ".join(f"{k}={v}" for k, v in (alert.get("counts") or {}).items() if v not in (None, {}, []))
    parts = [alert.get("time", ""), alert.get("reason", ""), where, f"source={alert.get('source') or '-'}",
             f"day={alert.get('day') or '-'}", counts, alert.get("message", "")]
    return "  ".join(p for p in parts if p)


def run(args: argparse.Namespace) -> int:
    import json

    from citydata.orchestration import alerts

    path = alerts.alerts_file(args.home.resolve() if args.home else None)
    shown = alerts.read_alerts(path)[-args.last:] if args.last > 0 else []
    if not shown and not args.follow:
        print(f"no alerts in {path}")
        return 0
    print(f"alerts in {path} ({len(shown)} latest):" if shown else f"following {path}:")
    for alert in shown:
        print(json.dumps(alert, ensure_ascii=False) if args.json else alert_line(alert))
    if args.follow:
        try:
            for alert in alerts.follow_alerts(path):
                print(json.dumps(alert, ensure_ascii=False) if args.json else alert_line(alert), flush=True)
        except KeyboardInterrupt:
            return 0
    return 0
