"""Release manifests: a numbered JSON file pinning the Delta version and path of every released table.

A manifest is written only for a passed gate, and pins the versions the gate validated. Its content
is deterministic (sorted keys, no git or host information) except `released_at`; a release whose
content equals the latest release's is not written again, so rerunning a day that changed nothing
publishes nothing new. Releases are `release-0001.json`, `release-0002.json`, ... in the releases folder;
a manifest records the day's `as_of` date and `period_start` when the caller knows them (run-day does).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

_RELEASE_FILE = re.compile(r"^release-(\d{4,})\.json$")
CATALOG = "示范市公共数据资源目录"


class ReleaseBlockedError(RuntimeError):
    """The gate did not pass (or did not cover a dataset): no manifest was written."""


@dataclass(frozen=True)
class Release:
    number: int
    path: Path
    content: dict[str, Any]
    new: bool  # False when the latest release already had this content


def split_dataset(dataset: str) -> tuple[str, str]:
    """`dim_resident` -> ("gold", "dim_resident"); `silver/person` -> ("silver", "person")."""
    layer, _, table = dataset.rpartition("/")
    return (layer or "gold"), table


def gate_summary(gate_result: Any) -> dict[str, Any]:
    """A JSON-ready summary of a GateResult (or of a summary dict, e.g. from an Airflow XCom)."""
    if isinstance(gate_result, Mapping):
        return {"success": bool(gate_result["success"]), "run_name": gate_result.get("run_name", ""),
                "datasets": dict(gate_result["datasets"])}
    datasets = {}
    for name, outcome in gate_result.results.items():
        stats = outcome.get("statistics", {})
        datasets[name] = {
            "success": bool(outcome["success"]),
            "delta_version": outcome.get("delta_version"),
            "evaluated_expectations": stats.get("evaluated_expectations"),
            "successful_expectations": stats.get("successful_expectations"),
            "failed_expectations": [f["expectation"] for f in outcome.get("failed_expectations", [])],
        }
    return {"success": bool(gate_result.success), "run_name": getattr(gate_result, "run_name", ""),
            "datasets": datasets}


def list_releases(releases_dir: str | Path) -> list[Path]:
    folder = Path(releases_dir)
    if not folder.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in folder.iterdir() if (m := _RELEASE_FILE.match(p.name))]
    return [p for _, p in sorted(found)]


def latest_release(releases_dir: str | Path) -> Release | None:
    releases = list_releases(releases_dir)
    if not releases:
        return None
    path = releases[-1]
    content = json.loads(path.read_text(encoding="utf-8"))
    return Release(int(content["release"]), path, content, new=False)


def release_as_ofs(releases_dir: str | Path) -> list[str]:
    """The `as_of` date of every release that records one (run-day derives the next period from them)."""
    dates = []
    for path in list_releases(releases_dir):
        as_of = json.loads(path.read_text(encoding="utf-8")).get("as_of")
        if as_of:
            dates.append(str(as_of))
    return dates


def _pin(lakehouse: Any, dataset: str, version: int | None) -> dict[str, Any]:
    layer, table = split_dataset(dataset)
    if not lakehouse.exists(layer, table):
        raise ReleaseBlockedError(f"dataset {dataset!r}: no Delta table at {lakehouse.path(layer, table)}")
    pinned = lakehouse.version(layer, table) if version is None else int(version)
    rows = lakehouse.count(layer, table, version=pinned)
    return {"layer": layer, "table": table, "path": lakehouse.path(layer, table), "delta_version": pinned,
            "rows": rows}


def write_manifest(
    lakehouse: Any,
    datasets: Iterable[str],
    gate_result: Any,
    releases_dir: str | Path,
    *,
    inputs: Iterable[str] = (),
    released_at: datetime | None = None,
) -> Path:
    """Write the next release manifest (or return the latest one if nothing changed); its path.

    `datasets` are the released tables (`table` in gold or `layer/table`), each pinned at the version
    the gate validated; `inputs` are upstream tables pinned at their current version for lineage.
    Raises ReleaseBlockedError, writing nothing, when the gate failed or did not cover a dataset.
    """
    return publish_release(lakehouse, datasets, gate_result, releases_dir, inputs=inputs,
                           released_at=released_at).path


def publish_release(
    lakehouse: Any,
    datasets: Iterable[str],
    gate_result: Any,
    releases_dir: str | Path,
    *,
    inputs: Iterable[str] = (),
    released_at: datetime | None = None,
    as_of: date | None = None,
    period_start: date | None = None,
) -> Release:
    """Like write_manifest, returning the Release (number, content, whether it is new). `as_of` and
    `period_start` (the dates gold was computed at) are recorded when given."""
    gate = gate_summary(gate_result)
    names = list(datasets)
    if not gate["success"]:
        failing = {n: d.get("failed_expectations") for n, d in gate["datasets"].items() if not d.get("success")}
        raise ReleaseBlockedError(f"release gate failed, nothing published: {failing}")
    missing = [n for n in names if n not in gate["datasets"]]
    if missing:
        raise ReleaseBlockedError(f"datasets {missing} were not validated by the gate: nothing published")
    pins = {f"{split_dataset(n)[0]}/{split_dataset(n)[1]}": _pin(lakehouse, n, gate["datasets"][n].get("delta_version"))
            for n in names}
    # Upstream tables are lineage, not released: one that does not exist (yet) is left out, not fatal.
    upstream = {f"{split_dataset(n)[0]}/{split_dataset(n)[1]}": _pin(lakehouse, n, None) for n in inputs
                if lakehouse.exists(*split_dataset(n))}
    body = {
        "catalog": CATALOG,
        "lakehouse": str(lakehouse.root),
        "datasets": dict(sorted(pins.items())),
        "inputs": dict(sorted(upstream.items())),
        **({"as_of": as_of.isoformat()} if as_of else {}),
        **({"period_start": period_start.isoformat()} if period_start else {}),
        "gate": {"success": True, "datasets": {
            n: {k: v for k, v in d.items() if k != "delta_version"} for n, d in sorted(gate["datasets"].items())
        }},
    }
    folder = Path(releases_dir)
    latest = latest_release(folder)
    if latest is not None and {k: v for k, v in latest.content.items() if k not in ("release", "released_at")} == body:
        log.info("release %d already pins these versions: nothing new to publish (%s)", latest.number, latest.path)
        return latest
    number = (latest.number if latest else 0) + 1
    at = (released_at or datetime.now(UTC)).replace(microsecond=0)
    content = {"release": number, "released_at": at.isoformat().replace("+00:00", "Z"), **body}
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"release-{number:04d}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(content, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(path)  # atomic: a reader sees no manifest or a whole one
    log.info("release %d: %s", number, ", ".join(f"{n}@v{p['delta_version']}" for n, p in pins.items()))
    return Release(number, path, content, new=True)
