"""The pure parts of a day: which dates it is built at, what it releases and exports, what a release pins.

Nothing here reads a table or imports Spark: the CLI resolves a day before starting Spark, the Airflow DAG
files list the released datasets while they are parsed, and the unit tests call these directly.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

STAGES = ("ingest", "gold", "gate", "release", "export", "portal")
DELIVERY = "delivery"
DAY_MANIFEST = "manifest.json"
# dbt sources in these schemas are lakehouse tables (a release pins them as its inputs); others are reference data.
LAKEHOUSE_LAYERS = ("bronze", "silver", "gold")


class DayFolderError(ValueError):
    """The day folder does not exist, or its manifest.json disagrees with what was asked."""


@dataclass(frozen=True)
class DayPlan:
    """A day to run: where its deliveries are and the dates gold is computed at."""

    delivery_folder: Path
    day: str  # the day folder's name (`day-002`, `2026-11-25`): API pages are fetched under it
    as_of: date  # dbt var as_of_date: "current" figures are computed at this date
    period_start: date  # dbt var period_start: first day of the delivery period (events in [start, as_of])
    dates_from: str  # where the dates come from: the day's manifest.json, --as-of, or today

    def dbt_vars(self) -> dict[str, str]:
        """The dbt vars of the day's build."""
        return {"as_of_date": self.as_of.isoformat(), "period_start": self.period_start.isoformat()}

    def as_dict(self) -> dict[str, str]:
        """JSON-ready (an Airflow XCom, a release manifest)."""
        return {"delivery_folder": str(self.delivery_folder), "day": self.day, "as_of": self.as_of.isoformat(),
                "period_start": self.period_start.isoformat(), "dates_from": self.dates_from}


def delivery_folder_of(day_folder: str | Path) -> Path:
    """A day folder (`day-002`, holding `delivery/`) or the delivery folder itself -> the delivery folder."""
    folder = Path(day_folder)
    return folder / DELIVERY if (folder / DELIVERY).is_dir() else folder


def day_manifest(delivery_folder: Path) -> dict[str, Any] | None:
    """The simulated city's (or a sender's) `manifest.json` beside `delivery/`, if there is one."""
    if delivery_folder.name != DELIVERY:
        return None
    path = delivery_folder.parent / DAY_MANIFEST
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def period_after(previous_as_of: date | None, as_of: date) -> date:
    """First day of the period ending at `as_of`: the day after the previous release's as-of date, or
    `as_of` itself for the first day (a one-day period)."""
    if previous_as_of is None or previous_as_of >= as_of:
        return as_of
    return previous_as_of + timedelta(days=1)


def previous_as_of(release_as_ofs: Iterable[date | str | None], as_of: date) -> date | None:
    """The latest as-of date of the releases before `as_of` (a rerun of the same day ignores its own release)."""
    earlier = [d if isinstance(d, date) else date.fromisoformat(d) for d in release_as_ofs if d]
    earlier = [d for d in earlier if d < as_of]
    return max(earlier) if earlier else None


def resolve_day(day_folder: str | Path, *, as_of: date | None = None,
                release_as_ofs: Iterable[date | str | None] = (), today: date | None = None) -> DayPlan:
    """The day's plan. With a `manifest.json` beside `delivery/`: as_of = its `as_of`, period_start = its
    `period[0]` (an `as_of` argument must agree). Otherwise as_of = the argument, else today (UTC), and the
    period starts the day after the latest earlier release's as-of date (`release_as_ofs`), else at as_of."""
    folder = delivery_folder_of(day_folder)
    if not folder.is_dir():
        raise DayFolderError(f"{folder}: no such folder. Fix: pass a day folder (e.g. data/simulated/day-001) "
                             f"or its delivery/ folder (citydata simulate writes them)")
    name = folder.parent.name if folder.name == DELIVERY else folder.name
    manifest = day_manifest(folder)
    if manifest is not None:
        declared = date.fromisoformat(manifest["as_of"])
        if as_of is not None and as_of != declared:
            raise DayFolderError(
                f"{folder.parent / DAY_MANIFEST} says this day is as of {declared}, not {as_of}: gold would describe "
                f"deliveries at a date they were not made for. Fix: drop --as-of (the manifest's date is used)")
        period = manifest.get("period") or [declared.isoformat()]
        return DayPlan(folder, name, declared, date.fromisoformat(period[0]), DAY_MANIFEST)
    chosen = as_of or today or datetime.now(UTC).date()
    start = period_after(previous_as_of(release_as_ofs, chosen), chosen)
    return DayPlan(folder, name, chosen, start, "--as-of" if as_of else "today (UTC)")


def upstream_tables(dbt_manifest: Mapping[str, Any], models: Iterable[str]) -> list[str]:
    """The lakehouse tables (`silver/person`, ...) the given dbt models read, directly or through other
    models, from dbt's `manifest.json` (its `parent_map`, `nodes` and `sources`): a release's lineage."""
    nodes, sources = dbt_manifest.get("nodes", {}), dbt_manifest.get("sources", {})
    parents: Mapping[str, list[str]] = dbt_manifest.get("parent_map", {})
    wanted = set(models)
    todo = [uid for uid, node in nodes.items() if node.get("resource_type") == "model" and node["name"] in wanted]
    seen: set[str] = set()
    found: set[str] = set()
    while todo:
        uid = todo.pop()
        if uid in seen:
            continue
        seen.add(uid)
        if uid in sources:
            source = sources[uid]
            if source.get("source_name") in LAKEHOUSE_LAYERS:
                found.add(f"{source['source_name']}/{source.get('identifier') or source['name']}")
            continue
        todo.extend(parents.get(uid, ()))
    return sorted(found)


def mart_models(project_dir: Path) -> list[str]:
    """Names of the dbt project's marts (`models/marts/**/<name>.sql`), read from the file names only: the gold
    tables a full build writes (the DAG files list them while parsing)."""
    return sorted({path.stem for path in (Path(project_dir) / "models" / "marts").rglob("*.sql")})


# Folders of a dbt project that hold what dbt writes, not what it builds from.
DBT_OUTPUT_FOLDERS = {"target", "logs", "dbt_packages"}


def files_fingerprint(folders: Iterable[Path]) -> str:
    """SHA-256 over the relative paths and bytes of every file under the folders (dbt's own output folders and
    hidden files left out): the same models, macros, tests and reference data give the same fingerprint."""
    digest = hashlib.sha256()
    for folder in folders:
        root = Path(folder)
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            rel = path.relative_to(root)
            if rel.parts[0] in DBT_OUTPUT_FOLDERS or any(part.startswith(".") for part in rel.parts):
                continue
            digest.update(f"{root.name}/{rel.as_posix()}\0".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def build_is_current(previous: Mapping[str, Any] | None, current: Mapping[str, Any]) -> bool:
    """Whether the last successful gold build (`previous`: its inputs and the gold versions it left) was made
    from the same inputs as a build now would be (`current`): same dbt vars, project files and reference
    data, silver at the same versions, and gold still at the versions that build left. Then `dbt build`
    would write nothing and test the same data again: the gold stage skips it."""
    if not previous:
        return False
    keys = ("vars", "project", "silver", "gold")
    return all(previous.get(k) == current.get(k) for k in keys)
