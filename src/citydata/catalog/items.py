"""Catalog items (城市公共数据资源目录, GB/T 21063.3 core metadata) of the datasets the platform publishes.

One YAML per released dataset in `citydata/catalog/items/`: what it is, who provides it, how it
may be shared and opened, every column of its gold table (in order) with type, classification, mask,
title and meaning, its key, the figure the portal charts (`key_figure`) and the change the release
gate allows against the previous release (`drift`). Every gold mart is either released (one item per
table) or named in NOT_RELEASED with the reason. Must not: read or write table data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from citydata.catalog.contracts import MASKS, TYPES, Classification, ContractError

ITEMS_DIR = Path(__file__).with_name("items")
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C loader: the gate reads every item per run
SHARING = ("无条件共享", "有条件共享", "不予共享")
OPENING = ("无条件开放", "有条件开放", "不予开放")
NUMERIC_TYPES = ("integer", "decimal")

#: Gold marts that are not released (no catalog item, no gate suite, not in any release), and why.
NOT_RELEASED: dict[str, str] = {
    "credit_repair": "penalties whose publicity period has ended: publishing them again would undo the "
                     "credit repair (信用修复) they record; kept for the credit office's own checks",
    "dim_legal_entity_status_history": "processing history of the register (withdrawn periods included); "
                                       "the status on the data date is released in dim_legal_entity",
}

_REQUIRED = ("resource_code", "name", "title", "summary", "department", "theme", "format", "sharing",
             "opening", "update_cycle", "source_table", "fields")


@dataclass(frozen=True)
class ItemField:
    """A field of a published dataset: public as is, sensitive masked, internal/core never leave."""

    name: str
    type: str
    classification: Classification
    title: str = ""
    mask: str | None = None
    description: str = ""


@dataclass(frozen=True)
class KeyFigure:
    """The number the portal charts per row (`column`), labelled by `label_column`."""

    column: str
    label_column: str
    title: str
    unit: str


@dataclass(frozen=True)
class Drift:
    """Allowed relative change against the previous release: row count and the sums of `totals`."""

    rows: float | None = None
    totals: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class CatalogItem:
    resource_code: str
    name: str
    title: str
    summary: str
    department: str
    theme: str
    category: str
    format: str
    sharing: str
    opening: str
    update_cycle: str
    source_table: str  # "<layer>/<table>"
    fields: tuple[ItemField, ...]
    license: str = ""
    keywords: tuple[str, ...] = ()
    suppress: tuple[str, ...] = ()
    key: tuple[str, ...] = ()
    key_figure: KeyFigure | None = None
    drift: Drift | None = None
    may_be_empty: bool = False  # a listing that can hold no row on a day (e.g. no penalty in publicity)
    file: Path | None = field(default=None, compare=False)

    @property
    def table(self) -> str:
        """The gold (or other layer's) table name of `source_table`."""
        return self.source_table.rpartition("/")[2]

    @property
    def columns(self) -> list[str]:
        return [f.name for f in self.fields]

    def field(self, name: str) -> ItemField | None:
        return next((f for f in self.fields if f.name == name), None)

    def metadata(self) -> dict[str, Any]:
        """The catalog item's core metadata as a JSON-ready dict (no per-release values)."""
        return {
            "resource_name": self.title,
            "resource_code": self.resource_code,
            "dataset": self.name,
            "providing_department": self.department,
            "summary": self.summary,
            "theme": self.theme,
            "category": self.category,
            "format": self.format,
            "sharing_attribute": self.sharing,
            "opening_attribute": self.opening,
            "update_cycle": self.update_cycle,
            "license": self.license,
            "keywords": list(self.keywords),
            "fields": [{"name": f.name, "type": f.type, "classification": f.classification.value,
                        "title": f.title, "description": f.description} for f in self.fields],
            "key": list(self.key),
            "key_figure": None if self.key_figure is None else {
                "column": self.key_figure.column, "label_column": self.key_figure.label_column,
                "title": self.key_figure.title, "unit": self.key_figure.unit},
            "drift": None if self.drift is None else {
                "rows": self.drift.rows, "totals": dict(self.drift.totals)},
            "suppress": list(self.suppress),
        }


def load_item(name_or_path: str | Path) -> CatalogItem:
    """Load one catalog item by dataset name (`population_by_district`) or path."""
    path = Path(name_or_path)
    if path.suffix not in (".yml", ".yaml"):
        path = ITEMS_DIR / f"{name_or_path}.yml"
    if not path.is_file():
        raise ContractError(path, "no such catalog item", f"add {path.name} to {ITEMS_DIR}")
    return parse_item(yaml.load(path.read_text(encoding="utf-8"), Loader=_SAFE_LOADER), path)  # noqa: S506


def load_items(folder: Path | None = None) -> list[CatalogItem]:
    """Every catalog item in `folder` (default: the shipped `items/`), sorted by file name."""
    folder = folder or ITEMS_DIR
    return [load_item(path) for path in sorted(folder.glob("*.yml"))]


def released_items(folder: Path | None = None) -> list[CatalogItem]:
    """The items of every released dataset, sorted by table name (one item per table, checked)."""
    items = load_items(folder)
    by_table: dict[str, CatalogItem] = {}
    for item in items:
        if item.source_table in by_table:
            raise ContractError(item.file or item.name, f"a second catalog item for {item.source_table} "
                                f"(also {by_table[item.source_table].file})", "keep one item per table")
        by_table[item.source_table] = item
    return [by_table[t] for t in sorted(by_table)]


def open_items(folder: Path | None = None) -> list[CatalogItem]:
    """Released items whose opening attribute is 无条件开放: what the open-data export publishes."""
    return [item for item in released_items(folder) if item.opening == OPENING[0]]


def item_for_table(table: str, folder: Path | None = None) -> CatalogItem:
    """The item of `gold/<table>` (a bare name means gold); ContractError naming the fix if none."""
    source = table if "/" in table else f"gold/{table}"
    for item in released_items(folder):
        if item.source_table == source:
            return item
    raise ContractError(folder or ITEMS_DIR, f"no catalog item for {source}",
                        f"add an item with `source_table: {source}` (docs/gold-and-gate.md)")


def parse_item(raw: Any, file: Path | str = "<item>") -> CatalogItem:
    if not isinstance(raw, dict):
        raise ContractError(file, "a catalog item must be a mapping", "start with `resource_code: ...`")
    for key in _REQUIRED:
        if raw.get(key) in (None, "", []):
            raise ContractError(file, f"missing required key '{key}'", f"add `{key}:`")
    if raw["sharing"] not in SHARING:
        raise ContractError(file, f"sharing '{raw['sharing']}' is not one of {SHARING}", "use one of them")
    if raw["opening"] not in OPENING:
        raise ContractError(file, f"opening '{raw['opening']}' is not one of {OPENING}", "use one of them")
    fields = []
    for i, f in enumerate(raw["fields"]):
        name = str(f.get("name") or f"fields[{i}]")
        try:
            classification = Classification(str(f.get("classification", "")).lower())
        except ValueError as exc:
            raise ContractError(file, "classification missing or unknown", "use public/internal/sensitive/core",
                                name) from exc
        if f.get("type") not in TYPES:
            raise ContractError(file, f"type {f.get('type')!r} is unknown", f"use one of {sorted(TYPES)}", name)
        mask = f.get("mask")
        if classification is Classification.SENSITIVE and mask not in MASKS:
            raise ContractError(file, "a sensitive field leaves only masked", f"add `mask:` from {sorted(MASKS)}",
                                name)
        fields.append(ItemField(name=name, type=f["type"], classification=classification,
                                title=str(f.get("title") or name), mask=mask,
                                description=" ".join(str(f.get("description") or "").split())))
    types = {f.name: f.type for f in fields}
    if len(types) != len(fields):
        raise ContractError(file, "a field is declared twice", "declare each column once")
    for column in raw.get("suppress") or ():
        if column not in types:
            raise ContractError(file, f"suppressed column '{column}' is not a field", "declare it or remove it")
    key = _column_list(raw.get("key"), types, file, "key")
    key_figure = _key_figure(raw.get("key_figure"), types, file)
    drift = _drift(raw.get("drift"), types, file)
    return CatalogItem(
        resource_code=str(raw["resource_code"]), name=str(raw["name"]), title=str(raw["title"]),
        summary=" ".join(str(raw["summary"]).split()), department=str(raw["department"]),
        theme=str(raw["theme"]), category=str(raw.get("category") or raw["theme"]), format=str(raw["format"]),
        sharing=str(raw["sharing"]), opening=str(raw["opening"]), update_cycle=str(raw["update_cycle"]),
        source_table=str(raw["source_table"]), fields=tuple(fields), license=str(raw.get("license") or ""),
        keywords=tuple(raw.get("keywords") or ()), suppress=tuple(raw.get("suppress") or ()),
        key=key, key_figure=key_figure, drift=drift, may_be_empty=bool(raw.get("may_be_empty", False)),
        file=Path(file),
    )


def _column_list(raw: Any, types: dict[str, str], file: Path | str, what: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    columns = [raw] if isinstance(raw, str) else raw
    if not isinstance(columns, list) or not columns:
        raise ContractError(file, f"'{what}' must be a column or a list of columns", f"write `{what}: [a, b]`")
    for column in columns:
        if column not in types:
            raise ContractError(file, f"{what} column '{column}' is not a field", "declare it or remove it")
    return tuple(str(c) for c in columns)


def _key_figure(raw: Any, types: dict[str, str], file: Path | str) -> KeyFigure | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or any(not raw.get(k) for k in ("column", "label_column", "title", "unit")):
        raise ContractError(file, "key_figure needs column, label_column, title and unit",
                            "write `key_figure: {column: residents, label_column: district_name, title: 户籍人口, "
                            "unit: 人}`")
    for part in ("column", "label_column"):
        if raw[part] not in types:
            raise ContractError(file, f"key_figure {part} '{raw[part]}' is not a field", "name a declared field")
    if types[raw["column"]] not in NUMERIC_TYPES:
        raise ContractError(file, f"key_figure column '{raw['column']}' is {types[raw['column']]}, not a number",
                            f"chart a field of type {' or '.join(NUMERIC_TYPES)}")
    return KeyFigure(str(raw["column"]), str(raw["label_column"]), str(raw["title"]), str(raw["unit"]))


def _fraction(value: Any, file: Path | str, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ContractError(file, f"{where} must be a relative change >= 0 (0.05 = 5%), got {value!r}",
                            f"write e.g. `{where.split('.')[-1]}: 0.05`")
    return float(value)


def _drift(raw: Any, types: dict[str, str], file: Path | str) -> Drift | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or not (set(raw) <= {"rows", "totals"}) or not raw:
        raise ContractError(file, "drift takes `rows:` and/or `totals: {column: fraction}`",
                            "write `drift: {rows: 0.2, totals: {residents: 0.05}}`")
    rows = None if raw.get("rows") is None else _fraction(raw["rows"], file, "drift.rows")
    totals = []
    for column, band in (raw.get("totals") or {}).items():
        if column not in types:
            raise ContractError(file, f"drift total column '{column}' is not a field", "name a declared field")
        if types[column] not in NUMERIC_TYPES:
            raise ContractError(file, f"drift total column '{column}' is {types[column]}, not a number",
                                "sum a numeric field")
        totals.append((str(column), _fraction(band, file, f"drift.totals.{column}")))
    return Drift(rows=rows, totals=tuple(totals))
