"""Source contracts: one YAML per source dataset in `schemas/`, loaded into frozen dataclasses.

A contract says what arrives (columns, encoding, format), what each field means (type, standard,
check, PII classification, mask) and where it lands (bronze, rejects and silver table names).
Adding a source is adding a contract; the ingest code reads everything else from here.
Must not: read or write table data.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml

from citydata.standards.coords import SYSTEMS as COORD_SYSTEMS
from citydata.standards.money import UNITS as MONEY_UNITS


class Classification(StrEnum):
    """PII / data classification of a field; decides what may leave the platform."""

    PUBLIC = "public"  # may be published as is
    INTERNAL = "internal"  # stays inside the platform (government sharing only)
    SENSITIVE = "sensitive"  # personal information: leaves only masked
    CORE = "core"  # core data: never leaves, never quoted


# Field checks the ingest layer implements (citydata.ingest.validate.FIELD_CHECKS must match).
CHECKS: frozenset[str] = frozenset(
    {"id_number", "text", "gender", "date", "district_code", "street_code", "mobile", "uscc"}
    # declared by the contracts of the other sources; FIELD_CHECKS implements them with their bronze/silver:
    # money (citydata.standards.money, `unit` for bare numbers), decimal (a plain number, `unit` recorded),
    # industry (GB/T 4754), lonlat ("lon,lat" in `coord_system`), geometry (GeoJSON text in `coord_system`)
    | {"money", "decimal", "industry", "lonlat", "geometry"}
    # a credit code or the legacy 15-character tax number (citydata.standards.uscc.validate_taxpayer_number)
    | {"taxpayer_id"}
)
# Checks across fields of one row (citydata.ingest.validate.ROW_CHECKS must match).
ROW_CHECKS: frozenset[str] = frozenset({"id_birth_date", "id_gender", "street_in_district"})
# Masks for sensitive values: the kinds of citydata.standards.masking.mask_value.
MASKS: frozenset[str] = frozenset({"id_number", "name", "mobile", "address", "birth_date", "full"})
TYPES: frozenset[str] = frozenset({"string", "date", "integer", "decimal", "timestamp", "boolean"})
FORMATS: frozenset[str] = frozenset({"csv", "xlsx", "json_api", "geojson"})  # one connector each

_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_REQUIRED_TOP = ("source", "title", "department", "update_cycle", "delivery", "key", "tables", "fields")
_REQUIRED_FIELD = ("name", "column", "type", "classification", "standard", "check")


class ContractError(ValueError):
    """A contract file is missing something or says something the platform cannot honour."""

    def __init__(self, file: Path | str, message: str, fix: str, field: str | None = None) -> None:
        self.file = str(file)
        self.field = field
        self.fix = fix
        where = f"{self.file}: field '{field}'" if field else self.file
        super().__init__(f"{where}: {message}. Fix: {fix}")


# A delivered value longer than this (characters) is rejected as FIELD_TOO_LONG unless its field sets
# `max_length`; geometry fields (whole polygons as GeoJSON text) have no default limit.
DEFAULT_MAX_LENGTH = 4_000


@dataclass(frozen=True)
class FieldSpec:
    """One field of a source: its delivered column and everything the platform knows about it."""

    name: str
    column: str
    type: str
    classification: Classification
    standard: str
    check: str
    required: bool = True
    title: str = ""
    format: str | None = None
    mask: str | None = None
    valid_at: str | None = None  # a date field the value must be valid at (division codes change)
    unit: str | None = None  # unit of a bare number: 元/万元/亿元 for money, %, 万人 … for other quantities
    coord_system: str | None = None  # wgs84 | gcj02 | bd09 of a lonlat or geometry field, as delivered
    max_length: int | None = None  # characters a value may have (None: DEFAULT_MAX_LENGTH, none for geometry)
    values: tuple[str, ...] | None = None  # the only values the field may take (VALUE_NOT_LISTED otherwise)
    length: int | None = None  # the fixed number of characters of every value (VALUE_LENGTH otherwise)

    @property
    def length_limit(self) -> int | None:
        """The most characters a delivered value may have (longer: FIELD_TOO_LONG); None: no limit."""
        if self.max_length is not None:
            return self.max_length
        return None if self.check == "geometry" else DEFAULT_MAX_LENGTH

    @property
    def personal(self) -> bool:
        return self.classification in (Classification.SENSITIVE, Classification.CORE)


@dataclass(frozen=True)
class Delivery:
    """How a source arrives; the transport options beyond format and encoding are optional."""

    format: str  # csv | xlsx | json_api | geojson
    encoding: str
    delimiter: str = ","
    header: bool = True
    # csv: the department ends every row, the last one too, with a line break: a file that does not was cut
    final_line_break: bool = False
    path: str | None = None  # where the file lies in a day's delivery folder (e.g. police/household_register.csv)
    # xlsx: the sheet (None: the first), title rows above the header, header rows (merged multi-row headers
    # are joined parent + header_join + child), and the column that receives the title text (e.g. the period)
    sheet: str | None = None
    skip_rows: int = 0
    header_rows: int = 1
    header_join: str = "/"
    title_column: str | None = None
    # json_api: the endpoint under the API base URL, records per page asked for (None: the server's
    # default), the key holding a page's records and the query parameters of the paging
    endpoint: str | None = None
    page_size: int | None = None
    records_key: str = "records"
    page_param: str = "page"
    page_size_param: str = "page_size"


@dataclass(frozen=True)
class Tables:
    bronze: str
    rejects: str
    silver: str


@dataclass(frozen=True)
class SourceContract:
    """A source dataset's contract, as loaded from `schemas/<source>.yml`."""

    source: str
    title: str
    department: str
    update_cycle: str
    delivery: Delivery
    key: tuple[str, ...]
    tables: Tables
    fields: tuple[FieldSpec, ...]
    row_checks: tuple[str, ...] = ()
    latest_by: str | None = None  # when rows share the key, the one with the latest value wins in silver
    # every delivery is the source's complete list (全量): silver marks the keys of the latest one (in_latest_list)
    full_list: bool = False
    description: str = ""
    department_code: str = ""
    theme: str = ""
    file: Path | None = None

    @property
    def columns(self) -> tuple[str, ...]:
        """Delivered column names, in contract order."""
        return tuple(f.column for f in self.fields)

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def field(self, name: str) -> FieldSpec:
        for spec in self.fields:
            if spec.name == name:
                return spec
        raise KeyError(f"contract {self.source}: no field named {name!r}")


def schemas_dir() -> Path:
    """Where contracts live: $CITYDATA_SCHEMAS, else $CITYDATA_HOME/schemas, else the repository's."""
    if os.environ.get("CITYDATA_SCHEMAS"):
        return Path(os.environ["CITYDATA_SCHEMAS"])
    if os.environ.get("CITYDATA_HOME") and (Path(os.environ["CITYDATA_HOME"]) / "schemas").is_dir():
        return Path(os.environ["CITYDATA_HOME"]) / "schemas"
    return Path(__file__).resolve().parents[3] / "schemas"


def load_contract(source_or_path: str | Path) -> SourceContract:
    """Load and check one contract, by source name (`household_register`) or by file path."""
    path = Path(source_or_path)
    if path.suffix not in (".yml", ".yaml"):
        path = schemas_dir() / f"{source_or_path}.yml"
    if not path.is_file():
        raise ContractError(path, "no such contract file", "create it (one YAML per source) or check the name")
    try:
        # libyaml's loader when present: 10x faster, and the DAG files load every contract at each parse
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_SAFE_LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        raise ContractError(path, f"not valid YAML ({exc})", "fix the YAML syntax at the reported line") from exc
    return parse_contract(raw, path)


def load_contracts(directory: Path | None = None) -> dict[str, SourceContract]:
    """Every contract in a folder, by source name."""
    folder = directory or schemas_dir()
    contracts = [load_contract(p) for p in sorted(folder.glob("*.yml"))]
    return {c.source: c for c in contracts}


def parse_contract(raw: Any, file: Path | str = "<contract>") -> SourceContract:
    """Build a contract from parsed YAML, raising ContractError naming file, field and fix."""
    if not isinstance(raw, dict):
        raise ContractError(file, "the file must be a mapping of contract keys", "start with `source: <name>`")
    for key in _REQUIRED_TOP:
        if key not in raw or raw[key] in (None, "", [], {}):
            raise ContractError(file, f"missing required key '{key}'", f"add `{key}:` at the top level")
    delivery = _parse_delivery(raw["delivery"], file)
    tables = _parse_tables(raw["tables"], file)
    if not isinstance(raw["fields"], list):
        raise ContractError(file, "'fields' must be a list", "write each field as `- name: ...`")
    fields = tuple(_parse_field(item, i, file) for i, item in enumerate(raw["fields"]))
    _check_unique(fields, file)
    if delivery.format == "geojson" and not any(f.check == "geometry" for f in fields):
        raise ContractError(file, "a geojson delivery needs a field with `check: geometry`",
                            "declare the feature geometry as a field (column: geometry)")
    key = tuple(raw["key"]) if isinstance(raw["key"], list) else (raw["key"],)
    names = {f.name for f in fields}
    for k in key:
        if k not in names:
            raise ContractError(file, f"key field '{k}' is not declared in fields", "declare it or fix `key:`", k)
    for spec in fields:
        if spec.valid_at and (spec.valid_at not in names or next(
                f for f in fields if f.name == spec.valid_at).type != "date"):
            raise ContractError(file, f"valid_at '{spec.valid_at}' is not a date field of this contract",
                                "name a declared field of type date", spec.name)
    row_checks = tuple(raw.get("row_checks") or ())
    for check in row_checks:
        if check not in ROW_CHECKS:
            raise ContractError(
                file, f"unknown row check '{check}'", f"use one of {', '.join(sorted(ROW_CHECKS))}"
            )
    latest_by = raw.get("latest_by")
    if latest_by is not None and latest_by not in names:
        raise ContractError(file, f"latest_by '{latest_by}' is not a declared field", "name a field or drop it")
    full_list = raw.get("full_list", False)
    if not isinstance(full_list, bool):
        raise ContractError(file, f"full_list '{full_list}' is not true or false",
                            "write `full_list: true` when every delivery is the complete list, else drop it")
    return SourceContract(
        source=str(raw["source"]),
        title=str(raw["title"]),
        department=str(raw["department"]),
        update_cycle=str(raw["update_cycle"]),
        delivery=delivery,
        key=key,
        tables=tables,
        fields=fields,
        row_checks=row_checks,
        latest_by=latest_by,
        full_list=full_list,
        description=str(raw.get("description") or "").strip(),
        department_code=str(raw.get("department_code") or ""),
        theme=str(raw.get("theme") or ""),
        file=Path(file) if not isinstance(file, Path) else file,
    )


def _parse_delivery(raw: Any, file: Path | str) -> Delivery:
    if not isinstance(raw, dict):
        raise ContractError(file, "'delivery' must be a mapping", "give `format:` and `encoding:` under it")
    fmt = str(raw.get("format", "")).lower()
    if fmt not in FORMATS:
        raise ContractError(file, f"delivery format '{fmt}' is not supported", f"use one of {sorted(FORMATS)}")
    # xlsx, JSON and GeoJSON carry their own (UTF-8) encoding; a CSV contract must say which one it expects
    encoding = str(raw.get("encoding", "" if fmt == "csv" else "UTF-8")).strip()
    if not encoding:
        raise ContractError(file, "delivery encoding is missing", "say `encoding: GBK` or `encoding: UTF-8`")
    try:
        "测".encode(encoding)
    except LookupError as exc:
        raise ContractError(file, f"unknown encoding '{encoding}'", "use GBK, GB18030 or UTF-8") from exc
    numbers = {}
    for key, default, least in (("skip_rows", 0, 0), ("header_rows", 1, 1), ("page_size", None, 1)):
        value = raw.get(key, default)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < least):
            raise ContractError(file, f"delivery {key} '{value}' is not a whole number >= {least}",
                                f"give `{key}:` as a number")
        numbers[key] = value
    endpoint = raw.get("endpoint")
    if fmt == "json_api" and not (isinstance(endpoint, str) and endpoint.startswith("/")):
        raise ContractError(file, "a json_api delivery needs `endpoint:` (the path under the API base URL)",
                            "add e.g. `endpoint: /api/tax`")
    return Delivery(
        format=fmt,
        encoding=encoding,
        delimiter=str(raw.get("delimiter", ",")),
        header=bool(raw.get("header", True)),
        final_line_break=bool(raw.get("final_line_break", False)),
        path=raw.get("path"),
        sheet=raw.get("sheet"),
        skip_rows=numbers["skip_rows"],
        header_rows=numbers["header_rows"],
        header_join=str(raw.get("header_join", "/")),
        title_column=raw.get("title_column"),
        endpoint=endpoint,
        page_size=numbers["page_size"],
        records_key=str(raw.get("records_key", "records")),
        page_param=str(raw.get("page_param", "page")),
        page_size_param=str(raw.get("page_size_param", "page_size")),
    )


def _parse_tables(raw: Any, file: Path | str) -> Tables:
    if not isinstance(raw, dict) or not all(raw.get(k) for k in ("bronze", "rejects", "silver")):
        raise ContractError(file, "'tables' must name bronze, rejects and silver", "add the three table names")
    return Tables(bronze=str(raw["bronze"]), rejects=str(raw["rejects"]), silver=str(raw["silver"]))


def _parse_field(raw: Any, index: int, file: Path | str) -> FieldSpec:
    if not isinstance(raw, dict):
        raise ContractError(file, f"fields[{index}] is not a mapping", "write it as `- name: ...` with keys")
    name = raw.get("name") or f"fields[{index}]"
    for key in _REQUIRED_FIELD:
        if raw.get(key) in (None, ""):
            raise ContractError(file, f"missing '{key}'", f"add `{key}:` to this field", str(name))
    cls_raw = str(raw["classification"]).lower()
    try:
        classification = Classification(cls_raw)
    except ValueError as exc:
        allowed = ", ".join(c.value for c in Classification)
        raise ContractError(
            file, f"classification '{cls_raw}' is not one of {allowed}", "pick one of those", str(name)
        ) from exc
    if raw["type"] not in TYPES:
        raise ContractError(file, f"type '{raw['type']}' is unknown", f"use one of {sorted(TYPES)}", str(name))
    if raw["check"] not in CHECKS:
        raise ContractError(file, f"check '{raw['check']}' is unknown", f"use one of {sorted(CHECKS)}", str(name))
    mask = raw.get("mask")
    if mask is not None and mask not in MASKS:
        raise ContractError(file, f"mask '{mask}' is unknown", f"use one of {sorted(MASKS)}", str(name))
    if classification is Classification.SENSITIVE and mask is None:
        raise ContractError(
            file,
            "a sensitive field needs a mask (it is quoted masked in rejects and exports)",
            f"add `mask:` with one of {sorted(MASKS)}",
            str(name),
        )
    unit = raw.get("unit")
    if raw["check"] == "money" and unit not in MONEY_UNITS:
        raise ContractError(file, f"a money field needs the unit of bare amounts, got {unit!r}",
                            f"add `unit:` with one of {sorted(MONEY_UNITS)}", str(name))
    coord_system = raw.get("coord_system")
    if raw["check"] in ("lonlat", "geometry") and coord_system not in COORD_SYSTEMS:
        raise ContractError(file, f"a {raw['check']} field needs its coordinate system, got {coord_system!r}",
                            f"add `coord_system:` with one of {list(COORD_SYSTEMS)}", str(name))
    max_length = raw.get("max_length")
    if max_length is not None and (not isinstance(max_length, int) or isinstance(max_length, bool) or max_length < 1):
        raise ContractError(file, f"max_length must be a positive number of characters, got {max_length!r}",
                            "write e.g. `max_length: 200`", str(name))
    values = raw.get("values")
    if values is not None and (not isinstance(values, list) or not values
                               or not all(isinstance(v, str) and v for v in values)):
        raise ContractError(file, f"values must be a list of the field's allowed texts, got {values!r}",
                            "write e.g. `values: [正常参保, 暂停缴费, 终止参保]`", str(name))
    length = raw.get("length")
    if length is not None and (not isinstance(length, int) or isinstance(length, bool) or length < 1):
        raise ContractError(file, f"length must be a positive number of characters, got {length!r}",
                            "write e.g. `length: 6`", str(name))
    return FieldSpec(
        name=str(raw["name"]),
        column=str(raw["column"]),
        type=str(raw["type"]),
        classification=classification,
        standard=str(raw["standard"]),
        check=str(raw["check"]),
        required=bool(raw.get("required", True)),
        title=str(raw.get("title") or raw["column"]),
        format=raw.get("format"),
        mask=mask,
        valid_at=raw.get("valid_at"),
        unit=None if unit is None else str(unit),
        coord_system=coord_system,
        max_length=max_length,
        values=None if values is None else tuple(values),
        length=length,
    )


def _check_unique(fields: tuple[FieldSpec, ...], file: Path | str) -> None:
    for attr in ("name", "column"):
        seen: set[str] = set()
        for spec in fields:
            value = getattr(spec, attr)
            if value in seen:
                raise ContractError(file, f"duplicate {attr} '{value}'", f"give each field its own {attr}", spec.name)
            seen.add(value)
