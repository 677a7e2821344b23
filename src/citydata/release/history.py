"""The catalog's release history: list, show, diff, roll back, and read a release's data at its pinned versions.

Works on the manifests in the releases folder (citydata.release.manifest); checking that a release's data is
still readable opens the Delta logs with delta-rs on the driver (no Spark). Reading the data itself
(`read_dataset`) is Delta time travel through citydata.lakehouse.Lakehouse.
Must not: write table data (a rollback changes which release is current, nothing else).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from citydata.release.manifest import (
    Release,
    ReleaseNotFoundError,
    current_number,
    read_release,
    release_numbers,
    set_current,
    split_dataset,
)

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from citydata.lakehouse import Lakehouse


class ReleaseUnreadableError(RuntimeError):
    """A release pins a Delta version whose log or files are gone (vacuumed, deleted): it cannot be current."""


def releases(releases_dir: str | Path) -> list[Release]:
    """Every release, lowest number first."""
    return [read_release(releases_dir, n) for n in release_numbers(releases_dir)]


def summary(release: Release, current: int | None) -> dict[str, Any]:
    """One line of `release list`: number, times, dates, how many datasets and rows, whether current."""
    datasets = release.content["datasets"]
    opening = [d.get("catalog_item", {}).get("opening_attribute") for d in datasets.values()]
    return {"release": release.number, "current": release.number == current,
            "released_at": release.content["released_at"], "as_of": release.content.get("as_of"),
            "period_start": release.content.get("period_start"), "datasets": len(datasets),
            "open_datasets": sum(o == "无条件开放" for o in opening),
            "rows": sum(int(d.get("rows") or 0) for d in datasets.values())}


def list_summaries(releases_dir: str | Path) -> list[dict[str, Any]]:
    current = current_number(releases_dir)
    return [summary(r, current) for r in releases(releases_dir)]


def dataset_history(releases_dir: str | Path, dataset: str) -> list[dict[str, Any]]:
    """Every release that had `dataset` (`layer/table` or a gold table name): number, released_at, as_of,
    Delta version, rows, validation counts and whether it is the current release."""
    key = "/".join(split_dataset(dataset))
    current = current_number(releases_dir)
    rows = []
    for release in releases(releases_dir):
        pin = release.content["datasets"].get(key)
        if pin is None:
            continue
        validation = pin.get("validation", {})
        rows.append({"release": release.number, "released_at": release.content["released_at"],
                     "as_of": release.content.get("as_of"), "delta_version": pin["delta_version"],
                     "rows": pin.get("rows"), "current": release.number == current,
                     "evaluated_expectations": validation.get("evaluated_expectations"),
                     "successful_expectations": validation.get("successful_expectations")})
    return rows


def diff(older: Release, newer: Release) -> dict[str, Any]:
    """What changed from release `older` to `newer`: datasets added and removed, and per dataset kept the Delta
    version, rows, and which catalog item attributes changed (old -> new)."""
    a, b = older.content["datasets"], newer.content["datasets"]
    changed: dict[str, Any] = {}
    for name in sorted(set(a) & set(b)):
        before, after = a[name], b[name]
        item_a, item_b = before.get("catalog_item", {}), after.get("catalog_item", {})
        item_changes = {key: [item_a.get(key), item_b.get(key)] for key in sorted(set(item_a) | set(item_b))
                        if item_a.get(key) != item_b.get(key) and key != "fields"}
        fields_a = [f.get("name") for f in item_a.get("fields", [])]
        fields_b = [f.get("name") for f in item_b.get("fields", [])]
        if fields_a != fields_b:
            item_changes["fields"] = [fields_a, fields_b]
        entry = {"delta_version": [before["delta_version"], after["delta_version"]],
                 "rows": [before.get("rows"), after.get("rows")]}
        if item_changes:
            entry["catalog_item"] = item_changes
        if before["delta_version"] != after["delta_version"] or item_changes:
            changed[name] = entry
    return {"from": older.number, "to": newer.number,
            "as_of": [older.content.get("as_of"), newer.content.get("as_of")],
            "added": sorted(set(b) - set(a)), "removed": sorted(set(a) - set(b)), "changed": changed,
            "unchanged": sorted(n for n in set(a) & set(b) if n not in changed)}


def unreadable_pins(release: Release) -> dict[str, str]:
    """`layer/table` -> why its pinned version cannot be read back (empty: every pin is readable). Opens each
    table's Delta log at the pinned version with delta-rs and checks its data files exist."""
    from deltalake import DeltaTable
    from pyarrow import fs as pafs

    problems: dict[str, str] = {}
    for name, pin in release.content["datasets"].items():
        try:
            table = DeltaTable(pin["path"], version=int(pin["delta_version"]))
            files = table.file_uris()
        except Exception as error:  # delta-rs raises several types for a missing table or version
            problems[name] = f"Delta version {pin['delta_version']} cannot be opened at {pin['path']}: {error}"
            continue
        if files:
            filesystem, _ = pafs.FileSystem.from_uri(files[0])
            located = [pafs.FileSystem.from_uri(uri)[1] for uri in files]
            missing = [info.path for info in filesystem.get_file_info(located)
                       if info.type == pafs.FileType.NotFound]
            if missing:
                problems[name] = (f"{len(missing)} data file(s) of Delta version {pin['delta_version']} are gone "
                                  f"(vacuumed?), e.g. {missing[0]}")
    return problems


def rollback(releases_dir: str | Path, number: int) -> Release:
    """Make release `number` current again after checking every pinned version still reads back.
    Raises ReleaseNotFoundError / ReleaseUnreadableError (nothing changed) otherwise."""
    release = read_release(releases_dir, number)
    problems = unreadable_pins(release)
    if problems:
        raise ReleaseUnreadableError(
            f"release {number} cannot be made current, its data no longer reads back: "
            + "; ".join(f"{name}: {why}" for name, why in sorted(problems.items())))
    return set_current(releases_dir, number)


def read_dataset(lakehouse: Lakehouse, release: Release | Mapping[str, Any], dataset: str) -> DataFrame:
    """The data of `dataset` as the release published it (Delta time travel to the pinned version)."""
    content = release.content if isinstance(release, Release) else release
    layer, table = split_dataset(dataset)
    pin = content["datasets"].get(f"{layer}/{table}")
    if pin is None:
        raise ReleaseNotFoundError(f"release {content['release']} has no dataset {layer}/{table} "
                                   f"(it has: {', '.join(sorted(content['datasets']))})")
    return lakehouse.read(layer, table, version=int(pin["delta_version"]))
