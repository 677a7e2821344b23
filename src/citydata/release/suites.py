"""Generated release-gate suites: one GX 1.x suite spec per released dataset, from its catalog item and
the dbt YAML that describes its model.

What repeats is generated here, never written by hand: row count, the columns in order, the key, the
dbt column tests (not_null, unique, accepted_values, not_negative, matches_pattern,
sum_of_columns_equals), division and industry codes from `citydata.standards` (as `$PARAMETER`s the
gate fills) and the drift against the previous release (row count and `drift.totals` sums, bands
from the item; the gate computes the bounds by time travel). Specific rules (reconciliations between
marts and with silver) are hand-written in `expectations/<table>.json` and merged by the gate.

`python -m citydata.release.suites --write` writes `expectations/generated/<table>.json` (committed;
a unit test fails when a committed file differs from generation); `--check` only compares.
Must not: import Spark or GX, read table data.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from citydata.catalog.items import NOT_RELEASED, CatalogItem, released_items

GENERATED = "generated"

# Column names whose values must be codes of the city's standards: the suite parameter the gate fills
# from citydata.standards (never copied into a suite).
STANDARD_SETS = {
    "district_code": ("city_district_codes", "a district of the city (GB/T 2260, any version)"),
    "authority_district_code": ("city_district_codes", "a district of the city (GB/T 2260, any version)"),
    "street_code": ("city_street_codes", "a street or township of the city (any version)"),
    "division_code": ("city_division_codes", "the city or one of its districts (GB/T 2260)"),
    "section": ("industry_sections", "a GB/T 4754-2017 industry section (A–T)"),
    "industry_section": ("industry_sections", "a GB/T 4754-2017 industry section (A–T)"),
    "industry_code": ("industry_divisions", "a GB/T 4754-2017 industry division (2 digits)"),
}
DRIFT_META = "drift"  # expectation meta key: the band; the gate fills its $PARAMETERs or omits it


class SuiteError(RuntimeError):
    """A suite cannot be generated: the item and the dbt model disagree, or a model is missing."""


@dataclass(frozen=True)
class DbtColumn:
    name: str
    description: str
    tests: tuple[Any, ...]


@dataclass(frozen=True)
class DbtModel:
    name: str
    path: Path
    columns: tuple[DbtColumn, ...]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


def repo_root() -> Path:
    """This checkout: $CITYDATA_HOME when it holds dbt_project/, else the folder above `src/`."""
    home = os.environ.get("CITYDATA_HOME")
    if home and (Path(home) / "dbt_project").is_dir():
        return Path(home).resolve()
    return Path(__file__).resolve().parents[3]


def default_marts_dir() -> Path:
    return repo_root() / "dbt_project" / "models" / "marts"


def dbt_models(marts_dir: Path | None = None) -> dict[str, DbtModel]:
    """Every model described in the marts' YAML files (`models/marts/<theme>/_*.yml`), by name."""
    folder = Path(marts_dir or default_marts_dir())
    models: dict[str, DbtModel] = {}
    for path in sorted(folder.glob("*/_*.yml")):
        for raw in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("models") or ():
            columns = tuple(
                DbtColumn(str(c["name"]), " ".join(str(c.get("description") or "").split()),
                          tuple(c.get("data_tests") or c.get("tests") or ()))
                for c in raw.get("columns") or ())
            models[str(raw["name"])] = DbtModel(str(raw["name"]), path, columns)
    return models


def mart_names(marts_dir: Path | None = None) -> list[str]:
    """The gold marts: the SQL files under models/marts/ (sorted)."""
    folder = Path(marts_dir or default_marts_dir())
    return sorted(p.stem for p in folder.glob("*/*.sql"))


def _expect(type_: str, description: str, meta: dict[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {"type": type_, "kwargs": kwargs, "description": description}
    if meta:
        spec["meta"] = meta
    return spec


def _test_name(test: Any) -> tuple[str, dict[str, Any]]:
    if isinstance(test, str):
        return test, {}
    if isinstance(test, dict) and len(test) == 1:
        name, body = next(iter(test.items()))
        body = body or {}
        return str(name), dict(body.get("arguments") or body)
    raise SuiteError(f"dbt test {test!r} is neither a name nor a one-key mapping")


def _column_expectations(column: DbtColumn, key: Sequence[str]) -> list[dict[str, Any]]:
    out = []
    name = column.name
    for test in column.tests:
        kind, args = _test_name(test)
        if kind == "not_null":
            out.append(_expect("expect_column_values_to_not_be_null", f"{name} is never empty (dbt not_null)",
                               column=name))
        elif kind == "unique" and list(key) != [name]:
            out.append(_expect("expect_column_values_to_be_unique", f"{name} is unique (dbt unique)", column=name))
        elif kind == "accepted_values":
            values = list(args["values"])
            out.append(_expect("expect_column_values_to_be_in_set",
                               f"{name} is one of {', '.join(map(str, values))} (dbt accepted_values)",
                               column=name, value_set=values))
        elif kind == "not_negative":
            out.append(_expect("expect_column_values_to_be_between", f"{name} >= 0 (dbt not_negative)",
                               column=name, min_value=0))
        elif kind == "matches_pattern":
            out.append(_expect("expect_column_values_to_match_regex",
                               f"{name} matches {args['pattern']} (dbt matches_pattern)",
                               column=name, regex=args["pattern"]))
        elif kind == "sum_of_columns_equals":
            parts = list(args["parts"])
            total = " + ".join(parts)
            query = (f"select {', '.join([*key, name, *parts])} from {{batch}} "
                     f"where {name} <> {total}")
            out.append(_expect("unexpected_rows_expectation", f"{total} = {name} (dbt sum_of_columns_equals)",
                               unexpected_rows_query=query))
        # relationships: codes of the standards below, ties between marts in the hand-written suites
    if name in STANDARD_SETS:
        parameter, meaning = STANDARD_SETS[name]
        out.append(_expect("expect_column_values_to_be_in_set", f"{name} is {meaning} (citydata.standards)",
                           column=name, value_set={"$PARAMETER": parameter}))
    return out


def drift_parameter(kind: str, bound: str, column: str | None = None) -> str:
    """Name of a drift bound the gate fills: `drift_rows_min`, `drift_sum_max__residents`."""
    return f"drift_{kind}_{bound}" + (f"__{column}" if column else "")


def build_suite(item: CatalogItem, model: DbtModel) -> dict[str, Any]:
    """The generated suite spec of one released dataset (JSON-ready, deterministic)."""
    if item.columns != model.column_names:
        raise SuiteError(
            f"{item.file}: fields {item.columns} differ from dbt model {model.name}'s columns "
            f"{model.column_names} ({model.path}): list every column of the model, in its order")
    table = item.table
    expectations: list[dict[str, Any]] = []
    if not item.may_be_empty:
        expectations.append(_expect("expect_table_row_count_to_be_between", "at least one row", min_value=1))
    expectations.append(_expect("expect_table_columns_to_match_ordered_list",
                                "the published columns, in order (catalog item fields)",
                                column_list=item.columns))
    if len(item.key) == 1:
        expectations.append(_expect("expect_column_values_to_be_unique", f"one row per {item.key[0]} (key)",
                                    column=item.key[0]))
    elif item.key:
        expectations.append(_expect("expect_compound_columns_to_be_unique",
                                    f"one row per {' + '.join(item.key)} (key)",
                                    column_list=list(item.key), ignore_row_if="never"))
    for column in model.columns:
        expectations.extend(_column_expectations(column, item.key))
    if item.drift is not None:
        if item.drift.rows is not None:
            expectations.append(_expect(
                "expect_table_row_count_to_be_between",
                f"row count within {item.drift.rows:.0%} of the previous release (drift)",
                meta={DRIFT_META: {"rows": item.drift.rows}},
                min_value={"$PARAMETER": drift_parameter("rows", "min")},
                max_value={"$PARAMETER": drift_parameter("rows", "max")}))
        for column, band in item.drift.totals:
            expectations.append(_expect(
                "expect_column_sum_to_be_between",
                f"sum of {column} within {band:.0%} of the previous release (drift)",
                meta={DRIFT_META: {"column": column, "band": band}}, column=column,
                min_value={"$PARAMETER": drift_parameter("sum", "min", column)},
                max_value={"$PARAMETER": drift_parameter("sum", "max", column)}))
    return {
        "name": table,
        "meta": {"dataset": item.source_table, "catalog_item": item.name,
                 "generated_by": "python -m citydata.release.suites --write",
                 "notes": "Generated from the catalog item and the dbt YAML: do not edit; specific rules go "
                          f"in expectations/{table}.json"},
        "expectations": expectations,
    }


def generated_suites(items: Sequence[CatalogItem] | None = None,
                     marts_dir: Path | None = None) -> dict[str, dict[str, Any]]:
    """table -> generated suite spec, for every released dataset."""
    models = dbt_models(marts_dir)
    suites = {}
    for item in released_items() if items is None else items:
        if item.table not in models:
            raise SuiteError(f"{item.file}: source_table {item.source_table} has no dbt model described under "
                             f"{marts_dir or default_marts_dir()}: fix source_table or describe the model")
        suites[item.table] = build_suite(item, models[item.table])
    return suites


def render(spec: dict[str, Any]) -> str:
    """A suite file's text: stable JSON, one expectation per line."""
    head = {k: v for k, v in spec.items() if k != "expectations"}
    lines = [json.dumps(e, ensure_ascii=False, sort_keys=False) for e in spec["expectations"]]
    body = json.dumps(head, ensure_ascii=False, indent=2)[:-2]
    return body + ',\n  "expectations": [\n    ' + ",\n    ".join(lines) + "\n  ]\n}\n"


def stale_files(expectations_dir: Path, suites: dict[str, dict[str, Any]]) -> list[str]:
    """Generated files that differ from generation, are missing, or belong to no released dataset."""
    folder = expectations_dir / GENERATED
    problems = []
    for table, spec in suites.items():
        path = folder / f"{table}.json"
        if not path.is_file():
            problems.append(f"{path}: missing")
        elif path.read_text(encoding="utf-8") != render(spec):
            problems.append(f"{path}: differs from generation")
    if folder.is_dir():
        problems.extend(f"{p}: no released dataset {p.stem}" for p in sorted(folder.glob("*.json"))
                        if p.stem not in suites)
    return problems


def write_suites(expectations_dir: Path, suites: dict[str, dict[str, Any]]) -> list[Path]:
    folder = expectations_dir / GENERATED
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for table, spec in suites.items():
        path = folder / f"{table}.json"
        path.write_text(render(spec), encoding="utf-8")
        written.append(path)
    for path in folder.glob("*.json"):
        if path.stem not in suites:
            path.unlink()
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m citydata.release.suites", description=__doc__.split("\n")[0])
    parser.add_argument("--write", action="store_true", help="write expectations/generated/<table>.json")
    parser.add_argument("--check", action="store_true", help="fail when a committed file differs")
    parser.add_argument("--expectations-dir", type=Path, default=repo_root() / "expectations")
    args = parser.parse_args(argv)
    suites = generated_suites()
    if args.write:
        for path in write_suites(args.expectations_dir, suites):
            print(f"wrote {path}")
        print(f"{len(suites)} released datasets; not released: {', '.join(sorted(NOT_RELEASED))}")
        return 0
    problems = stale_files(args.expectations_dir, suites)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print("run: python -m citydata.release.suites --write", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
