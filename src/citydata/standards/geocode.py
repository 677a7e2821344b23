"""Address text → (district_code, street_code) by the names of the versioned division table.

Addresses of the city start with its administrative units (`[浙江省][示范市]中和区新港街道中山路12号…`,
or the street alone as map providers write it: `新港街道中山路12号`). Every name any division ever had
is matched, and every match resolves to today's code through the table's successors: a renamed street
(钱塘街道 → 文澜街道, same code) and the streets of the merged 新港区 (339906 → 339905) give the
current codes. Pure functions over the shipped seed table; no Spark.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from citydata.standards.divisions import DivisionTable, load_divisions
from citydata.standards.result import ValidationResult, failed, passed
from citydata.standards.text import normalize_fullwidth

_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Geocode:
    """Today's codes of an address: the district always, the street when the address names one."""

    district_code: str
    street_code: str | None


@dataclass(frozen=True)
class _NameIndex:
    prefixes: tuple[str, ...]                     # province and city names, longest first
    districts: dict[str, frozenset[str]]          # any district name -> today's district codes
    streets: dict[str, frozenset[str]]            # any street name -> today's street codes
    district_names: tuple[str, ...]               # longest first
    street_names: tuple[str, ...]                 # longest first, so a longer name wins over its prefix


def _index(table: DivisionTable) -> _NameIndex:
    prefixes: set[str] = set()
    districts: dict[str, set[str]] = {}
    streets: dict[str, set[str]] = {}
    for row in table.rows:
        current = table.successor(row.code) or row.code
        if row.level in ("province", "prefecture"):
            prefixes.add(row.name)
        elif row.level == "district":
            districts.setdefault(row.name, set()).add(current)
        elif row.level == "street":
            streets.setdefault(row.name, set()).add(current)
    return _NameIndex(
        tuple(sorted(prefixes, key=len, reverse=True)),
        {name: frozenset(codes) for name, codes in districts.items()},
        {name: frozenset(codes) for name, codes in streets.items()},
        tuple(sorted(districts, key=lambda name: (-len(name), name))),
        tuple(sorted(streets, key=lambda name: (-len(name), name))),
    )


@lru_cache(maxsize=1)
def _city_index() -> _NameIndex:
    return _index(load_divisions())


def normalize_address(raw: str) -> str:
    """Full-width to half-width, all whitespace removed (addresses never need it)."""
    return _SPACES.sub("", normalize_fullwidth(str(raw)))


def _strip_prefixes(text: str, index: _NameIndex) -> str:
    changed = True
    while changed:
        changed = False
        for name in index.prefixes:
            if text.startswith(name):
                text, changed = text[len(name):], True
    return text


def _leading_district(text: str, index: _NameIndex) -> tuple[frozenset[str], str]:
    """Today's codes of a district name at the start of the text, and the text after it."""
    for name in index.district_names:
        if text.startswith(name):
            return index.districts[name], text[len(name):]
    return frozenset(), text


def _first_street(text: str, index: _NameIndex) -> tuple[str, frozenset[str]] | None:
    """The street name occurring first in the text (longest on a tie) and its codes of today."""
    best: tuple[int, str] | None = None
    for name in index.street_names:
        at = text.find(name)
        if at >= 0 and (best is None or at < best[0]):
            best = (at, name)
    return (best[1], index.streets[best[1]]) if best else None


def geocode(raw: str | None, table: DivisionTable | None = None) -> ValidationResult:
    """Resolve an address to today's codes; value is a Geocode.

    Reasons: GEO_ADDRESS_UNMATCHED (no district or street name of the city in the address),
    GEO_ADDRESS_AMBIGUOUS (the street name lies in several districts and none is named, or the
    named district does not hold the named street). A district without a street passes with
    street_code None. The detail never quotes the address (it may be a home address). `table`
    defaults to the shipped division table.
    """
    index = _city_index() if table is None else _index(table)
    text = _strip_prefixes(normalize_address(raw or ""), index)
    if not text:
        return failed("GEO_ADDRESS_UNMATCHED", None, "empty address")
    named_districts, rest = _leading_district(text, index)
    street = _first_street(rest, index)
    if street is None:
        if len(named_districts) == 1:
            return passed(Geocode(next(iter(named_districts)), None))
        return failed("GEO_ADDRESS_UNMATCHED", None, "no district or street name of the city's division table")
    name, codes = street
    table = table or load_divisions()
    if named_districts:
        codes = frozenset(c for c in codes if table.district_of(c) in named_districts)
        if not codes:
            return failed("GEO_ADDRESS_AMBIGUOUS", None,
                          f"street {name} does not lie in the named district ({', '.join(sorted(named_districts))})")
    if len(codes) != 1:
        return failed("GEO_ADDRESS_AMBIGUOUS", None,
                      f"street name {name} is in several districts ({', '.join(sorted(codes))}): name the district")
    code = next(iter(codes))
    return passed(Geocode(table.district_of(code) or "", code))
