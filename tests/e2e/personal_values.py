"""Every citizen ID number, phone, full name and exact address in a simulated day's deliveries, and a scanner that
finds them in files (text, JSON, HTML, Parquet) — for the privacy test of what leaves the platform.

Values are collected through the project's connectors from every field a contract classifies sensitive or core
and masks as an ID number, name, mobile or address: as delivered, and in the standard form the platform would
write (half-width digits, upper-case X, no padding). The scanner looks values up by shape (18-character IDs,
11-digit mobiles, runs of Chinese characters for names, "…号…幢…室" for addresses) instead of searching every
value in every file, so scanning a city's outputs takes seconds.

A failure must not print what it protects: `PersonalValues` shows counts only, and tests quote what they found
through `masked_in` / `masked` (the standards' masks), never `found_in`'s raw set — computed into a variable
first (`found = values.masked_in(text); assert found == []`): pytest quotes a failed call's arguments, the text.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from citydata.catalog.contracts import Classification, load_contracts
from citydata.sources.connectors import delivery_path, read_delivery
from citydata.sources.connectors.base import RawRecord
from citydata.standards.text import normalize_fullwidth

KINDS = {"id_number": "id", "name": "name", "mobile": "phone", "address": "address"}
_ID = re.compile(r"(?<![0-9A-Za-z])[0-9]{17}[0-9Xx](?![0-9A-Za-z])")
_PHONE = re.compile(r"(?<![0-9])1[0-9]{10}(?![0-9])")
_HAN_RUN = re.compile(r"[\u4e00-\u9fff]{2,}")
_ADDRESS_TAIL = re.compile(r"[0-9]+号[0-9]+幢[0-9]+室")
_NAME_LENGTHS = range(2, 5)


@dataclass(repr=False)
class PersonalValues:
    ids: set[str] = field(default_factory=set)
    phones: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)
    addresses: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # tail -> addresses

    def __len__(self) -> int:
        return len(self.ids) + len(self.phones) + len(self.names) + sum(map(len, self.addresses.values()))

    def __repr__(self) -> str:
        """Counts only: pytest quotes an object in a failed assertion, and these are raw personal values."""
        addresses = sum(map(len, self.addresses.values()))
        return (f"PersonalValues({len(self.ids)} IDs, {len(self.phones)} phones, {len(self.names)} names, "
                f"{addresses} addresses)")

    def masked_in(self, text: str, most: int = 5) -> list[str]:
        """The personal values in `text`, masked, for an assertion (`found = values.masked_in(text)`, then
        `assert found == []`): a failure shows a few masked samples and how many more, never a raw value."""
        hits = self.found_in(text)
        return masked(hits, most) + ([f"(+{len(hits) - most} more)"] if len(hits) > most else [])

    def add(self, kind: str, raw: str) -> None:
        value = raw.strip()
        standard = normalize_fullwidth(value).replace(" ", "").replace("-", "")
        if kind == "id":
            self.ids.update(v.upper() for v in (value, standard) if _ID.fullmatch(v))
        elif kind == "phone":
            digits = standard.removeprefix("+86").removeprefix("86") if len(standard) > 11 else standard
            self.phones.update(v for v in (value, digits) if _PHONE.fullmatch(v))
        elif kind == "name" and len(value) in _NAME_LENGTHS and _HAN_RUN.fullmatch(value):
            self.names.add(value)
        elif kind == "address" and (tail := _ADDRESS_TAIL.search(standard)):
            self.addresses[tail.group(0)].update({value, standard})

    def found_in(self, text: str) -> set[str]:
        """The personal values that occur in `text`."""
        found = {m.group(0).upper() for m in _ID.finditer(text)} & self.ids
        found |= {m.group(0) for m in _PHONE.finditer(text)} & self.phones
        for run in _HAN_RUN.finditer(text):
            chars = run.group(0)
            found |= {chars[i:i + n] for n in _NAME_LENGTHS for i in range(len(chars) - n + 1)} & self.names
        for tail in _ADDRESS_TAIL.finditer(text):
            found |= {a for a in self.addresses.get(tail.group(0), ()) if a in text}
        return found


def collect(day_folders: Iterable[Path]) -> PersonalValues:
    """The personal values of every delivery of the days (every source a contract reads)."""
    values = PersonalValues()
    contracts = load_contracts()
    for day in day_folders:
        delivery = day / "delivery" if (day / "delivery").is_dir() else day
        for contract in contracts.values():
            kinds = {f.column: KINDS[f.mask] for f in contract.fields
                     if f.classification in (Classification.SENSITIVE, Classification.CORE) and f.mask in KINDS}
            if not kinds or not contract.delivery.path or not delivery_path(contract, delivery).exists():
                continue
            path = delivery_path(contract, delivery)
            for item in read_delivery(contract, path):
                if isinstance(item, RawRecord):
                    for column, kind in kinds.items():
                        if item.values.get(column):
                            values.add(kind, item.values[column])
    return values


def file_text(path: Path) -> str:
    """A file's text as a reader would see it: Parquet decoded row by row, other files as UTF-8 (GBK too)."""
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        return "\n".join(map(str, pq.read_table(path).to_pylist()))
    data = path.read_bytes()
    return data.decode("utf-8", errors="replace") + "\n" + data.decode("gbk", errors="ignore")


def leaks(values: PersonalValues, folders: Iterable[Path]) -> dict[str, list[str]]:
    """file -> personal values found in it (up to 3 each, masked here too), for every file under the folders."""
    found: dict[str, list[str]] = {}
    for folder in folders:
        for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
            hits = values.found_in(file_text(path))
            if hits:
                found[str(path)] = masked(hits, 3)
    return found


def masked(hits: Iterable[str], most: int = 5) -> list[str]:
    """Up to `most` raw values (sorted), masked by their shape (STANDARDS.md masks)."""
    from citydata.standards.masking import mask_value

    return [mask_value(_mask_kind(h), h) or "" for h in sorted(hits)[:most]]


def _mask_kind(value: str) -> str:
    if _ID.fullmatch(value):
        return "id_number"
    if _PHONE.fullmatch(value):
        return "mobile"
    return "address" if _ADDRESS_TAIL.search(value) else "name"
