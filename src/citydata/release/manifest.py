"""Release manifests: a numbered JSON file pinning the Delta version of every dataset of the catalog.

A manifest is written only for a passed gate, and pins the versions the gate validated, with each
dataset's catalog item (GB/T 21063.3 core metadata, sharing and opening attributes) and its validation
summary. Its content is deterministic (sorted keys, no git or host information) except `released_at`; a
release whose content equals the current release's is not written again, so rerunning a day that changed
nothing publishes nothing new. Releases are `release-0001.json`, `release-0002.json`, ... in the releases
folder; a manifest records the day's `as_of` date and `period_start` when the caller knows them (run-day
does). The CURRENT release is the number in `CURRENT` beside them (absent: the highest number): publishing
makes the new release current, `set_current` (rollback) makes an earlier one current again.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

_RELEASE_FILE = re.compile(r"^release-(\d{4,})\.json$")
CATALOG = "示范市公共数据资源目录"
CURRENT_FILE = "CURRENT"


class ReleaseBlockedError(RuntimeError):
    """The gate did not pass (or did not cover a dataset): no manifest was written."""


class ReleaseNotFoundError(LookupError):
    """No release of that number in the releases folder."""


@dataclass(frozen=True)
class Release:
    number: int
    path: Path
    content: dict[str, Any]
    new: bool  # False when the current release already had this content


def split_dataset(dataset: str) -> tuple[str, str]:
    """`dim_resident` -> ("gold", "dim_resident"); `silver/person` -> ("silver", "person")."""
    layer, _, table = dataset.rpartition("/")
    return (layer or "gold"), table


def gate_summary(gate_result: Any) -> dict[str, Any]:
    """A JSON-ready summary of a GateResult (or of a summary dict, e.g. from an Airflow XCom)."""
    if isinstance(gate_result, Mapping):
        return {"success": bool(gate_result["success"]), "run_name": gate_result.get("run_name", ""),
                "datasets": dict(gate_result["datasets"]),
                **({"suites": gate_result["suites"]} if gate_result.get("suites") else {})}
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


def _numbered(releases_dir: str | Path) -> list[tuple[int, Path]]:
    folder = Path(releases_dir)
    if not folder.is_dir():
        return []
    return sorted((int(m.group(1)), p) for p in folder.iterdir() if (m := _RELEASE_FILE.match(p.name)))


def list_releases(releases_dir: str | Path) -> list[Path]:
    """The release manifests, lowest number first."""
    return [p for _, p in _numbered(releases_dir)]


def release_numbers(releases_dir: str | Path) -> list[int]:
    return [n for n, _ in _numbered(releases_dir)]


def release_path(releases_dir: str | Path, number: int) -> Path:
    return Path(releases_dir) / f"release-{int(number):04d}.json"


def read_release(releases_dir: str | Path, number: int) -> Release:
    """Release `number`; ReleaseNotFoundError (naming the releases there are) when there is none."""
    path = release_path(releases_dir, number)
    if not path.is_file():
        known = release_numbers(releases_dir)
        raise ReleaseNotFoundError(f"no release {number} in {releases_dir}"
                                   + (f" (releases: {', '.join(map(str, known))})" if known else " (no release yet)"))
    content = json.loads(path.read_text(encoding="utf-8"))
    return Release(int(content["release"]), path, content, new=False)


def latest_release(releases_dir: str | Path) -> Release | None:
    """The release with the highest number (not necessarily the current one: see current_release)."""
    releases = list_releases(releases_dir)
    if not releases:
        return None
    content = json.loads(releases[-1].read_text(encoding="utf-8"))
    return Release(int(content["release"]), releases[-1], content, new=False)


def current_number(releases_dir: str | Path) -> int | None:
    """The number in CURRENT, else the highest release's number, else None (no release yet)."""
    pointer = Path(releases_dir) / CURRENT_FILE
    if pointer.is_file():
        return int(pointer.read_text(encoding="utf-8").strip())
    numbers = release_numbers(releases_dir)
    return numbers[-1] if numbers else None


def current_release(releases_dir: str | Path) -> Release | None:
    """The release the platform publishes now (what export and the portal show)."""
    number = current_number(releases_dir)
    return None if number is None else read_release(releases_dir, number)


def set_current(releases_dir: str | Path, number: int) -> Release:
    """Make release `number` current (atomically); returns it. ReleaseNotFoundError when it does not exist."""
    release = read_release(releases_dir, number)
    pointer = Path(releases_dir) / CURRENT_FILE
    tmp = pointer.with_suffix(".tmp")
    tmp.write_text(f"{release.number}\n", encoding="utf-8")
    tmp.replace(pointer)
    return release


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
    catalog_items: Mapping[str, Mapping[str, Any]] | None = None,
) -> Path:
    """Write the next release manifest (or return the latest one if nothing changed); its path.

    `datasets` are the released tables (`table` in gold or `layer/table`), each pinned at the version
    the gate validated; `inputs` are upstream tables pinned at their current version for lineage.
    Raises ReleaseBlockedError, writing nothing, when the gate failed or did not cover a dataset.
    """
    return publish_release(lakehouse, datasets, gate_result, releases_dir, inputs=inputs,
                           released_at=released_at, catalog_items=catalog_items).path


def catalog_items_by_table() -> dict[str, dict[str, Any]]:
    """`layer/table` -> the catalog item's metadata (with its fields) of every shipped catalog item."""
    from citydata.catalog.items import load_items

    return {"/".join(split_dataset(item.source_table)): item.metadata() for item in load_items()}


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
    catalog_items: Mapping[str, Mapping[str, Any]] | None = None,
) -> Release:
    """Like write_manifest, returning the Release (number, content, whether it is new). `as_of` and
    `period_start` (the dates gold was computed at) are recorded when given. `catalog_items` maps
    `layer/table` to its catalog item metadata (default: the shipped catalog items); every released dataset
    must have one. The new release becomes current."""
    gate = gate_summary(gate_result)
    names = list(datasets)
    if not gate["success"]:
        failing = {n: d.get("failed_expectations") for n, d in gate["datasets"].items() if not d.get("success")}
        raise ReleaseBlockedError(f"release gate failed, nothing published: {failing}")
    missing = [n for n in names if n not in gate["datasets"]]
    if missing:
        raise ReleaseBlockedError(f"datasets {missing} were not validated by the gate: nothing published")
    items = catalog_items_by_table() if catalog_items is None else catalog_items
    keys = {n: "/".join(split_dataset(n)) for n in names}
    uncatalogued = sorted(key for key in keys.values() if key not in items)
    if uncatalogued:
        raise ReleaseBlockedError(f"datasets {uncatalogued} have no catalog item: nothing published. Fix: add "
                                  "src/citydata/catalog/items/<name>.yml with `source_table: <layer>/<table>`")
    pins = {}
    for name, key in keys.items():
        validation = {k: v for k, v in gate["datasets"][name].items() if k != "delta_version"}
        pins[key] = {**_pin(lakehouse, name, gate["datasets"][name].get("delta_version")),
                     "catalog_item": dict(items[key]), "validation": validation}
    # Upstream tables are lineage, not released: one that does not exist (yet) is left out, not fatal.
    upstream = {"/".join(split_dataset(n)): _pin(lakehouse, n, None) for n in inputs
                if lakehouse.exists(*split_dataset(n))}
    body = {
        "catalog": CATALOG,
        "lakehouse": str(lakehouse.root),
        "datasets": dict(sorted(pins.items())),
        "inputs": dict(sorted(upstream.items())),
        **({"as_of": as_of.isoformat()} if as_of else {}),
        **({"period_start": period_start.isoformat()} if period_start else {}),
        "gate": {"success": True, **({"suites": gate["suites"]} if gate.get("suites") else {})},
    }
    folder = Path(releases_dir)
    current = current_release(folder)
    if current is not None and _body(current.content) == body:
        log.info("release %d already pins these versions: nothing new to publish (%s)", current.number, current.path)
        return current
    numbers = release_numbers(folder)
    number = (numbers[-1] if numbers else 0) + 1
    at = (released_at or datetime.now(UTC)).replace(microsecond=0)
    content = {"release": number, "released_at": at.isoformat().replace("+00:00", "Z"), **body}
    folder.mkdir(parents=True, exist_ok=True)
    path = release_path(folder, number)
    tmp = path.with_suffix(f".json.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(content, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    try:
        os.link(tmp, path)  # atomic, and never over a release another run published meanwhile
    except FileExistsError:
        raise ReleaseBlockedError(f"release {number} was published by another run meanwhile ({path}): nothing "
                                  "published by this one. Fix: rerun the release step") from None
    finally:
        tmp.unlink(missing_ok=True)
    set_current(folder, number)
    log.info("release %d: %s", number, ", ".join(f"{n}@v{p['delta_version']}" for n, p in pins.items()))
    return Release(number, path, content, new=True)


def _body(content: Mapping[str, Any]) -> dict[str, Any]:
    """A manifest without its number and time: what two releases are compared by."""
    return {k: v for k, v in content.items() if k not in ("release", "released_at")}
