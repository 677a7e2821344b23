"""`citydata release list | show N | diff N M | rollback N`: the releases of the public data catalog."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "release", help="the catalog's releases: list, show N, diff N M, rollback N",
        description="Every release is a numbered manifest (data/releases/release-NNNN.json) pinning the Delta "
                    "version, catalog item and validation summary of each dataset of the catalog. `list` shows "
                    "them (* = current), `show N` one release, `diff N M` what changed between two, `rollback N` "
                    "makes release N current again: its open data is exported (if it was not) and the portal "
                    "rebuilt from it (docs/release.md).")
    actions = parser.add_subparsers(dest="action", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--home", type=Path, default=None,
                        help="platform home; default: $CITYDATA_HOME or the current folder")
    common.add_argument("--json", action="store_true", help="print JSON instead of text")
    actions.add_parser("list", parents=[common], help="every release, * = current")
    show = actions.add_parser("show", parents=[common], help="one release: its datasets, versions, validation")
    show.add_argument("number", type=int)
    diff = actions.add_parser("diff", parents=[common], help="what changed from release N to release M")
    diff.add_argument("older", type=int)
    diff.add_argument("newer", type=int)
    rollback = actions.add_parser("rollback", parents=[common],
                                  help="make release N current again (export it if needed, rebuild the portal)")
    rollback.add_argument("number", type=int)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from citydata.config import Paths
    from citydata.release.history import ReleaseUnreadableError
    from citydata.release.manifest import ReleaseNotFoundError

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    paths = Paths.from_env(args.home)
    try:
        return {"list": _list, "show": _show, "diff": _diff, "rollback": _rollback}[args.action](args, paths)
    except (ReleaseNotFoundError, ReleaseUnreadableError) as error:
        print(f"citydata release {args.action}: {error}", file=sys.stderr)
        return 2


def _print_json(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True))


def _list(args: argparse.Namespace, paths: Any) -> int:
    from citydata.release.history import list_summaries

    rows = list_summaries(paths.releases)
    if args.json:
        _print_json(rows)
        return 0
    if not rows:
        print(f"no release yet in {paths.releases} (make demo, or citydata run-day, publishes one)")
        return 0
    print(f"{'':2}{'release':>7}  {'released at (UTC)':<21} {'as of':<11} {'datasets':>8} {'open':>5} {'rows':>12}")
    for row in rows:
        print(f"{'*' if row['current'] else '':2}{row['release']:>7}  {row['released_at']:<21} "
              f"{row['as_of'] or '-':<11} {row['datasets']:>8} {row['open_datasets']:>5} {row['rows']:>12,}")
    print("* = current release (what the open-data export and the portal show)")
    return 0


def _show(args: argparse.Namespace, paths: Any) -> int:
    from citydata.release.manifest import current_number, read_release

    release = read_release(paths.releases, args.number)
    if args.json:
        _print_json(release.content)
        return 0
    content = release.content
    current = " (current)" if current_number(paths.releases) == release.number else ""
    print(f"release {release.number}{current}: {content['catalog']}, released {content['released_at']}, "
          f"as of {content.get('as_of', '-')} (period from {content.get('period_start', '-')})")
    print(f"manifest: {release.path}")
    print(f"{'dataset':<44} {'version':>7} {'rows':>10}  {'opening':<6} {'expectations':>12}  title")
    for name, pin in content["datasets"].items():
        item, validation = pin.get("catalog_item", {}), pin.get("validation", {})
        passed = f"{validation.get('successful_expectations', '-')}/{validation.get('evaluated_expectations', '-')}"
        print(f"{name:<44} {pin['delta_version']:>7} {pin.get('rows', 0):>10,}  "
              f"{item.get('opening_attribute', '-'):<6} {passed:>12}  {item.get('resource_name', '')}")
    return 0


def _diff(args: argparse.Namespace, paths: Any) -> int:
    from citydata.release.history import diff
    from citydata.release.manifest import read_release

    change = diff(read_release(paths.releases, args.older), read_release(paths.releases, args.newer))
    if args.json:
        _print_json(change)
        return 0
    print(f"release {change['from']} -> {change['to']} (as of {change['as_of'][0]} -> {change['as_of'][1]})")
    for name in change["added"]:
        print(f"  + {name}")
    for name in change["removed"]:
        print(f"  - {name}")
    for name, entry in change["changed"].items():
        (v0, v1), (r0, r1) = entry["delta_version"], entry["rows"]
        line = f"  ~ {name}: Delta version {v0} -> {v1}, rows {r0} -> {r1}"
        if entry.get("catalog_item"):
            line += f"; catalog item changed: {', '.join(entry['catalog_item'])}"
        print(line)
    print(f"  {len(change['unchanged'])} datasets unchanged")
    return 0


def _rollback(args: argparse.Namespace, paths: Any) -> int:
    from citydata.orchestration.stages import publish_current

    done = publish_current(paths, rollback_to=args.number)
    if args.json:
        _print_json(done)
        return 0
    print(f"release {done['release']} is current again (was {done['previous']}); "
          f"open data: {done['export']}; portal: {done['portal']}")
    return 0
