"""What the portal shows, read from the releases folder (manifests, CURRENT) and a release's export folder.

Everything here comes from files that already left the platform: the release manifests (Delta versions,
catalog items, validation summaries, counts) and the exported open-data files (masked, suppressed). The
lakehouse is never read, so the portal cannot show a personal value the export did not let out.
"""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from citydata.portal.figures import BarChart, DistrictMap, bar_chart, district_map, format_number
from citydata.release.manifest import list_releases, split_dataset

log = logging.getLogger(__name__)

OPEN = "无条件开放"
PREVIEW_ROWS = 10
SUPPRESSED = "*"
TYPE_LABELS = {"string": "文本", "integer": "整数", "decimal": "数值", "date": "日期", "timestamp": "时间",
               "boolean": "布尔"}
NUMERIC_TYPES = ("integer", "decimal")
UPDATE_CYCLES = {"realtime": "实时", "daily": "每日", "weekly": "每周", "monthly": "每月", "quarterly": "每季度",
                 "half-yearly": "每半年", "yearly": "每年", "irregular": "不定期"}
FORMAT_ORDER = {"CSV": 0, "JSON": 1, "Parquet": 2}
MEDIA_FORMATS = {".csv": "CSV", ".json": "JSON", ".parquet": "Parquet"}
PORTRAIT_TABLE = "gold/city_portrait_district"
DISTRICT_TABLE = "gold/dim_district"
# The city's key figures on the home page: the portrait's count columns are summed over the districts; the
# ratios are recomputed from the city totals (a mean of district ratios would weigh small districts too much).
CITY_TOTALS = (
    ("residents", "户籍人口", "人"),
    ("households", "户数", "户"),
    ("working_age_residents", "劳动年龄人口", "人"),
    ("active_entities", "存续法人", "户"),
    ("insured_employees", "参保职工", "人"),
    ("tax_yuan_12_months", "近12个月税收", "万元"),
    ("black_listed_entities", "失信惩戒名单法人", "户"),
    ("pois", "兴趣点", "个"),
    ("area_km2", "面积", "平方公里"),
)
CITY_RATIOS = (
    ("active_entities", "residents", 10_000, "每万人法人数", "户/万人"),
    ("tax_yuan_12_months", "residents", 1, "人均税收", "元/人"),
    ("insured_employees", "working_age_residents", 100, "每百名劳动年龄人口参保职工", "人"),
    ("pois", "area_km2", 1, "兴趣点密度", "个/平方公里"),
)
HOME_MAP_COLUMN = ("residents", "户籍人口", "人")
# Units of figures that add up over rows (counts, money, area); any other figure is charted per series.
ADDITIVE_UNITS = frozenset({"人", "户", "个", "件", "条", "次", "家", "元", "万元", "亿元", "平方公里"})
TIME_COLUMNS = ("month", "period", "year", "date", "quarter", "as_of_date")
# GB/T 21063.3 core metadata every page shows: an item that lacks one shows it empty.
ITEM_KEYS = ("resource_name", "resource_code", "dataset", "providing_department", "summary", "theme", "category",
             "format", "sharing_attribute", "opening_attribute", "update_cycle", "license")


class PortalError(RuntimeError):
    """The portal cannot be built from what is there (names the folder and the fix)."""


@dataclass(frozen=True)
class Distribution:
    file: str
    format: str
    media_type: str
    byte_size: int
    sha256: str
    href: str  # relative to the site root


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    type_label: str
    title: str
    description: str
    classification: str
    note: str  # masked / suppressed / withheld


@dataclass(frozen=True)
class HistoryEntry:
    release: int
    released_on: str
    as_of: str
    delta_version: int | None
    rows: int | None
    current: bool


@dataclass
class Dataset:
    key: str  # "<layer>/<table>" in the release manifest
    name: str  # the catalog item's dataset name (file names of the export)
    item: dict[str, Any]
    pin: dict[str, Any]
    exported: bool
    fields: list[Field] = field(default_factory=list)
    distributions: list[Distribution] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    rows: list[dict[str, str]] = field(default_factory=list)  # every exported row, as published (CSV text)
    suppressed_cells: int = 0
    history: list[HistoryEntry] = field(default_factory=list)
    chart: BarChart | None = None
    chart_note: str = ""
    map: DistrictMap | None = None

    @property
    def title(self) -> str:
        return str(self.item.get("resource_name") or self.name)

    @property
    def open(self) -> bool:
        return self.item.get("opening_attribute") == OPEN

    @property
    def preview(self) -> list[dict[str, str]]:
        return self.rows[:PREVIEW_ROWS]

    @property
    def validation(self) -> dict[str, Any]:
        return dict(self.pin.get("validation") or {})

    def search_entry(self, href: str) -> dict[str, Any]:
        """The dataset in the list page's search index (what search and the filters match)."""
        return {
            "name": self.name, "title": self.title, "href": href,
            "summary": str(self.item.get("summary") or ""),
            "theme": str(self.item.get("theme") or ""),
            "department": str(self.item.get("providing_department") or ""),
            "opening": str(self.item.get("opening_attribute") or ""),
            "keywords": [str(k) for k in self.item.get("keywords") or ()],
            "fields": [f.title for f in self.fields] + [f.name for f in self.fields],
            "formats": [d.format for d in self.distributions],
            "rows": self.pin.get("rows"),
        }


@dataclass(frozen=True)
class ReleaseRow:
    number: int
    released_at: str
    as_of: str
    period_start: str
    datasets: int
    current: bool
    built: bool  # the release this site was built from


@dataclass
class KeyFigure:
    label: str
    value: str
    unit: str


@dataclass
class PortalContent:
    release: int
    manifest: dict[str, Any]
    export_dir: Path
    datasets: list[Dataset]
    releases: list[ReleaseRow]
    current: int
    key_figures: list[KeyFigure]
    city_map: DistrictMap | None
    portrait_note: str
    portrait: Dataset | None = None  # the exported city portrait: the home page's table of districts

    @property
    def portrait_columns(self) -> list[Field]:
        """The portrait's district name and figures (codes and the date left out): the home page's table."""
        if self.portrait is None:
            return []
        return [f for f in self.portrait.fields if f.name == "district_name" or f.type in NUMERIC_TYPES]

    @property
    def as_of(self) -> str:
        return str(self.manifest.get("as_of") or "")

    @property
    def released_on(self) -> str:
        return str(self.manifest.get("released_at") or "")[:10]

    @property
    def themes(self) -> list[str]:
        return sorted({str(d.item.get("theme") or "") for d in self.datasets} - {""})

    @property
    def departments(self) -> list[str]:
        return sorted({str(d.item.get("providing_department") or "") for d in self.datasets} - {""})


def number(text: Any) -> float | None:
    """A published cell as a number: '' and the suppression marker are None."""
    if text is None:
        return None
    if isinstance(text, (int, float)):
        return float(text)
    text = str(text).strip()
    if text in ("", SUPPRESSED):
        return None
    try:
        return float(text)
    except ValueError:
        return None


def read_csv_rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    """Header and rows of an exported CSV (UTF-8, with or without BOM)."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
        return list(reader.fieldnames or ()), rows


def _distributions(metadata: Mapping[str, Any], release: int) -> list[Distribution]:
    listed = metadata.get("distributions")
    if listed is None:  # an export of the first format: one CSV file described by `distribution`
        listed = [metadata["distribution"]] if metadata.get("distribution") else []
    out = []
    for entry in listed:
        file = str(entry["file"])
        suffix = Path(file).suffix.lower()
        checksum = entry.get("checksum") or {}
        out.append(Distribution(
            file=file, format=str(entry.get("format") or MEDIA_FORMATS.get(suffix, suffix.lstrip(".").upper())),
            media_type=str(entry.get("media_type") or ""), byte_size=int(entry.get("byte_size") or 0),
            sha256=str(checksum.get("value") or entry.get("sha256") or ""),
            href=f"download/release-{release:04d}/{file}"))
    return sorted(out, key=lambda d: (FORMAT_ORDER.get(d.format, 9), d.file))


def _fields(item: Mapping[str, Any], metadata: Mapping[str, Any] | None) -> list[Field]:
    described = {str(f.get("name")): f for f in item.get("fields") or () if isinstance(f, Mapping)}
    if metadata is not None:
        listed = list(metadata.get("fields") or ())
    else:  # not exported: the catalog item's fields, which say what would be withheld or masked
        listed = list(described.values())
    out = []
    for spec in listed:
        name = str(spec.get("name"))
        merged = {**described.get(name, {}), **spec}
        kind = str(merged.get("type") or "string")
        classification = str(merged.get("classification") or "")
        notes = []
        if merged.get("masked_with") or (metadata is None and classification == "sensitive"):
            notes.append("脱敏")
        if merged.get("suppression"):
            notes.append("小于5的计数以 * 隐藏")
        if metadata is None and classification in ("internal", "core"):
            notes.append("不对外提供")
        out.append(Field(name=name, type=kind, type_label=TYPE_LABELS.get(kind, kind),
                         title=str(merged.get("title") or name), description=str(merged.get("description") or ""),
                         classification=classification, note="；".join(notes)))
    return out


def _history(key: str, manifests: Sequence[Mapping[str, Any]], current: int) -> list[HistoryEntry]:
    entries = []
    for content in manifests:
        pin = (content.get("datasets") or {}).get(key)
        if pin is None:
            continue
        entries.append(HistoryEntry(
            release=int(content["release"]), released_on=str(content.get("released_at", ""))[:10],
            as_of=str(content.get("as_of") or ""), delta_version=pin.get("delta_version"), rows=pin.get("rows"),
            current=int(content["release"]) == current))
    return sorted(entries, key=lambda e: e.release, reverse=True)


def _key_figure(dataset: Dataset) -> dict[str, str] | None:
    """The catalog item's key figure {column, label_column, title, unit}; else the first numeric field,
    labelled by the first `*_name` field (or the first text field)."""
    exported = {f.name: f for f in dataset.fields}
    declared = dataset.item.get("key_figure")
    if isinstance(declared, Mapping) and declared.get("column") in exported:
        return {"column": str(declared["column"]), "label_column": str(declared.get("label_column") or ""),
                "title": str(declared.get("title") or exported[str(declared["column"])].title),
                "unit": str(declared.get("unit") or "")}
    if declared:
        log.warning("dataset %s: key_figure %s names no exported column: drawing a fallback", dataset.name, declared)
    numeric = [f for f in dataset.fields if f.type in NUMERIC_TYPES and not f.name.endswith(("_code", "year"))]
    if not numeric:
        return None
    labels = [f for f in dataset.fields if f.name.endswith("_name")] or [f for f in dataset.fields
                                                                          if f.type == "string"]
    return {"column": numeric[0].name, "label_column": labels[0].name if labels else "",
            "title": numeric[0].title, "unit": ""}


def _sum_by(rows: Iterable[Mapping[str, str]], key: str, column: str | None) -> tuple[dict[str, float | None], int]:
    """key value -> the sum of `column` (row count when None) in first-seen order; and the hidden cells."""
    sums: dict[str, float | None] = {}
    hidden = 0
    for row in rows:
        label = str(row.get(key) or "")
        if column is None:
            sums[label] = (sums.get(label) or 0.0) + 1
            continue
        value = number(row.get(column))
        if value is None:
            hidden += 1
            sums.setdefault(label, None)
            continue
        sums[label] = (sums.get(label) or 0.0) + value
    return sums, hidden


def _is_time(dataset: Dataset, column: str) -> bool:
    """A column of periods (month, year, date): its values sort in time order."""
    kind = next((f.type for f in dataset.fields if f.name == column), "")
    return kind in ("date", "timestamp") or column in TIME_COLUMNS or column.endswith(("_month", "_date", "_year"))


def _series(dataset: Dataset, label_column: str) -> tuple[list[dict[str, str]], list[str]]:
    """The rows of one series of a non-additive figure, and what picks it: the text columns that vary for one
    label are held at their latest period (time columns) or at the first row's value (e.g. one indicator)."""
    rows = dataset.rows
    varying = []
    for spec in dataset.fields:
        if spec.type in NUMERIC_TYPES or spec.name in (label_column,) or spec.name not in dataset.columns:
            continue
        values: dict[str, set[str]] = {}
        for row in rows:
            values.setdefault(row.get(label_column, ""), set()).add(row.get(spec.name, ""))
        if any(len(v) > 1 for v in values.values()):
            varying.append(spec.name)
    for column in [c for c in varying if _is_time(dataset, c)]:
        latest = max(row.get(column, "") for row in rows)
        rows = [row for row in rows if row.get(column, "") == latest]
    picked = []
    for column in varying:
        value = rows[0].get(column, "")
        rows = [row for row in rows if row.get(column, "") == value]
        picked.append(value)
    return rows, picked


def draw_figures(dataset: Dataset, districts: Sequence[Mapping[str, str]]) -> None:
    """The key figure's bar chart and, with a district_code column, its district map. Counts and money (the
    units in ADDITIVE_UNITS) are summed over rows with the same label; another figure (a rate, an indicator
    in mixed units) is drawn for one series only, named in the chart's title."""
    if not dataset.rows:
        return
    figure = _key_figure(dataset)
    rows, title, unit = dataset.rows, figure["title"] if figure else "记录数", figure["unit"] if figure else "条"
    notes = []
    if figure and figure["label_column"] in dataset.columns and unit not in ADDITIVE_UNITS:
        rows, picked = _series(dataset, figure["label_column"])
        if unit.startswith("见"):  # "见计量单位": the unit is a column of the row
            unit_column = next((f.name for f in dataset.fields if f.title == unit[1:]), None)
            unit = rows[0].get(unit_column, "") if unit_column else ""
            picked = [v for v in picked if v != unit]
        title = f"{title}：{' · '.join(v for v in picked if v)}" if any(picked) else title
    if figure and figure["label_column"] in dataset.columns:
        label_column = figure["label_column"]
        sums, hidden = _sum_by(rows, label_column, figure["column"])
        pairs = [(label, value) for label, value in sums.items() if value is not None]
        timeline = _is_time(dataset, label_column)
        if timeline:
            pairs.sort()
        if len(sums) < len(rows):
            notes.append(f"按{_title_of(dataset, label_column)}汇总")
        if hidden:
            notes.append(f"{hidden} 个单元格按小样本规则隐藏（*），未计入")
        dataset.chart = bar_chart(pairs, title=title, unit=unit, note="；".join(notes),
                                  keep="last" if timeline else "largest")
        if not pairs and hidden:
            dataset.chart_note = f"关键指标“{title}”的数值均已按小样本规则隐藏（*），不作图。"
        if dataset.chart and dataset.chart.hidden:
            dataset.chart_note = (f"仅显示最近的 {len(dataset.chart.bars)} 期" if timeline
                                  else f"仅显示最大的 {len(dataset.chart.bars)} 项")
    if "district_code" in dataset.columns and districts:
        values, _ = _sum_by(rows, "district_code", figure["column"] if figure else None)
        dataset.map = district_map(districts, values, title=f"{title}（按区县）", unit=unit)


def _title_of(dataset: Dataset, column: str) -> str:
    return next((f.title for f in dataset.fields if f.name == column), column)


def _city_figures(portrait: Dataset | None, districts: Sequence[Mapping[str, str]]
                  ) -> tuple[list[KeyFigure], DistrictMap | None, str]:
    if portrait is None or not portrait.rows:
        return [], None, "本版本未开放城市画像数据集（city_portrait_district），暂无全市关键指标。"
    titles = {f.name: f.title for f in portrait.fields}
    totals: dict[str, float] = {}
    for column, _, _ in CITY_TOTALS:
        if column in portrait.columns:
            values = [number(row.get(column)) for row in portrait.rows]
            if all(v is not None for v in values):
                totals[column] = sum(v for v in values if v is not None)
    figures = []
    for column, label, unit in CITY_TOTALS:
        if column not in totals:
            continue
        value = totals[column] / 10_000 if unit == "万元" else totals[column]
        figures.append(KeyFigure(_short_title(titles.get(column), label), format_number(value), unit))
    for top, bottom, factor, label, unit in CITY_RATIOS:
        if totals.get(top) is not None and totals.get(bottom):
            figures.append(KeyFigure(label, format_number(round(totals[top] * factor / totals[bottom], 2), 2), unit))
    column, label, unit = HOME_MAP_COLUMN
    declared = portrait.item.get("key_figure")
    if isinstance(declared, Mapping) and declared.get("column") in portrait.columns:
        column, label, unit = str(declared["column"]), str(declared.get("title") or label), str(
            declared.get("unit") or "")
    city_map = None
    if column in portrait.columns:
        values = {str(row.get("district_code")): number(row.get(column)) for row in portrait.rows}
        city_map = district_map(districts, values, title=f"各区县{label}", unit=unit)
    as_of = portrait.rows[0].get("as_of_date", "")
    return figures, city_map, (f"数据截至 {as_of}，来自城市画像（分区县）数据集各区县合计。" if as_of else "")


def _short_title(title: str | None, fallback: str) -> str:
    """A field title without its unit in brackets: '户籍人口（人）' -> '户籍人口'."""
    if not title:
        return fallback
    return title.split("（")[0].split("(")[0].strip() or fallback


def load_content(releases_dir: Path, exports_root: Path, release: int, current: int) -> PortalContent:
    """Everything the pages of `release` show (`current`: the release CURRENT names, marked as such)."""
    manifests = [json.loads(p.read_text(encoding="utf-8")) for p in list_releases(releases_dir)]
    by_number = {int(m["release"]): m for m in manifests}
    if release not in by_number:
        raise PortalError(f"no release {release} in {releases_dir} (releases: {sorted(by_number) or 'none'})")
    manifest = by_number[release]
    export_dir = Path(exports_root) / f"release-{release:04d}"
    datasets = []
    for key, pin in sorted((manifest.get("datasets") or {}).items()):
        key = "/".join(split_dataset(key))
        item = {**dict.fromkeys(ITEM_KEYS, ""), "keywords": [],
                **(pin.get("catalog_item") or _shipped_item(key) or {})}
        name = str(item.get("dataset") or split_dataset(key)[1])
        meta_path = export_dir / f"{name}.metadata.json"
        exported = item.get("opening_attribute") == OPEN and meta_path.is_file()
        if item.get("opening_attribute") == OPEN and not exported:
            raise PortalError(f"release {release}: dataset {name} is {OPEN} but {meta_path} does not exist. "
                              "Fix: export the release first (citydata run-day exports it; the export stage is "
                              "citydata.export.release.export_release)")
        metadata = json.loads(meta_path.read_text(encoding="utf-8")) if exported else None
        dataset = Dataset(key=key, name=name, item=item, pin=dict(pin), exported=exported,
                          fields=_fields(item, metadata))
        if metadata is not None:
            dataset.distributions = _distributions(metadata, release)
            dataset.suppressed_cells = int(metadata.get("suppressed_cells") or 0)
            csv_path = export_dir / f"{name}.csv"
            dataset.columns, dataset.rows = read_csv_rows(csv_path)
        dataset.history = _history(key, manifests, current)
        datasets.append(dataset)
    by_key = {d.key: d for d in datasets}
    district_set = by_key.get(DISTRICT_TABLE)
    districts = district_set.rows if district_set and "geometry_geojson" in district_set.columns else []
    for dataset in datasets:
        draw_figures(dataset, districts)
    key_figures, city_map, note = _city_figures(by_key.get(PORTRAIT_TABLE), districts)
    if not districts:
        note = (note + " " if note else "") + "本版本未开放区县边界（dim_district），地图从略。"
    releases = [ReleaseRow(number=int(m["release"]), released_at=str(m.get("released_at", "")).replace("T", " ")
                           .rstrip("Z"), as_of=str(m.get("as_of") or ""), period_start=str(m.get("period_start") or ""),
                           datasets=len(m.get("datasets") or {}), current=int(m["release"]) == current,
                           built=int(m["release"]) == release)
                for m in sorted(manifests, key=lambda m: int(m["release"]), reverse=True)]
    datasets.sort(key=lambda d: (not d.exported, str(d.item.get("theme") or ""), d.title))
    return PortalContent(release=release, manifest=manifest, export_dir=export_dir, datasets=datasets,
                         releases=releases, current=current, key_figures=key_figures, city_map=city_map,
                         portrait_note=note, portrait=by_key.get(PORTRAIT_TABLE))


def _shipped_item(key: str) -> dict[str, Any] | None:
    """A manifest written before releases carried their catalog items: the shipped item of that table."""
    from citydata.catalog.items import load_items

    return next((item.metadata() for item in load_items() if "/".join(split_dataset(item.source_table)) == key),
                None)
