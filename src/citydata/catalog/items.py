"""Catalog items (城市公共数据资源目录, GB/T 21063.3 core metadata) of the datasets the platform publishes.

One YAML per published dataset in `citydata/catalog/items/`: what it is, who provides it, how it
may be shared and opened, and every field that leaves with its classification and mask.
Must not: read or write table data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from citydata.catalog.contracts import MASKS, TYPES, Classification, ContractError

ITEMS_DIR = Path(__file__).with_name("items")
SHARING = ("无条件共享", "有条件共享", "不予共享")
OPENING = ("无条件开放", "有条件开放", "不予开放")
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
    file: Path | None = field(default=None, compare=False)

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
        }


def load_item(name_or_path: str | Path) -> CatalogItem:
    """Load one catalog item by dataset name (`population_by_district`) or path."""
    path = Path(name_or_path)
    if path.suffix not in (".yml", ".yaml"):
        path = ITEMS_DIR / f"{name_or_path}.yml"
    if not path.is_file():
        raise ContractError(path, "no such catalog item", f"add {path.name} to {ITEMS_DIR}")
    return parse_item(yaml.safe_load(path.read_text(encoding="utf-8")), path)


def load_items(folder: Path | None = None) -> list[CatalogItem]:
    """Every catalog item in `folder` (default: the shipped `items/`), sorted by file name."""
    folder = folder or ITEMS_DIR
    return [load_item(path) for path in sorted(folder.glob("*.yml"))]


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
                                title=str(f.get("title") or name), mask=mask))
    names = {f.name for f in fields}
    for column in raw.get("suppress") or ():
        if column not in names:
            raise ContractError(file, f"suppressed column '{column}' is not a field", "declare it or remove it")
    return CatalogItem(
        resource_code=str(raw["resource_code"]), name=str(raw["name"]), title=str(raw["title"]),
        summary=" ".join(str(raw["summary"]).split()), department=str(raw["department"]),
        theme=str(raw["theme"]), category=str(raw.get("category") or raw["theme"]), format=str(raw["format"]),
        sharing=str(raw["sharing"]), opening=str(raw["opening"]), update_cycle=str(raw["update_cycle"]),
        source_table=str(raw["source_table"]), fields=tuple(fields), license=str(raw.get("license") or ""),
        keywords=tuple(raw.get("keywords") or ()), suppress=tuple(raw.get("suppress") or ()),
        file=Path(file),
    )
