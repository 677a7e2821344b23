"""No personal value in the lakehouse's metadata: every Delta log file (JSON commits, checkpoints) and every
Parquet footer (row-group statistics, key-value metadata, page indexes: everything after the data pages) of
every table of the shared city (days 1-3: bronze, silver, gold, state) is read, and no citizen ID number, phone,
full name or exact address of the deliveries is in any of them. Someone who can list the lakehouse reads these
without opening a data page. A control writes some of the same rows with statistics on every column and the
same scan finds them, in the log, in a checkpoint and in the footers."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from deltalake import DeltaTable

from citydata.lakehouse import Lakehouse
from citydata.standards.pseudonym import id_number_hash, platform_key

from personal_values import PersonalValues, collect, masked


def _decoded(value: Any) -> Any:
    """A log action with its JSON-in-JSON (an `add`'s stats) decoded, so escaped non-ASCII reads as text."""
    if isinstance(value, dict):
        return {k: _decoded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decoded(v) for v in value]
    if isinstance(value, str) and value.startswith("{"):
        try:
            return _decoded(json.loads(value))
        except json.JSONDecodeError:
            return value
    return value


def _log_text(path: Path) -> str:
    lines = path.read_text(encoding="utf-8").splitlines()
    return "\n".join([*lines, *(json.dumps(_decoded(json.loads(line)), ensure_ascii=False) for line in lines)])


def _checkpoint_text(path: Path) -> str:
    return "\n".join(json.dumps(_decoded(row), ensure_ascii=False, default=str)
                     for row in pq.read_table(path).to_pylist())


def _footer_text(path: Path) -> str:
    """What a Parquet file holds outside its data pages: statistics and key-value metadata as pyarrow decodes
    them, and the raw bytes from the end of the last column chunk to the end of the file (column and offset
    indexes, bloom filters, the footer)."""
    meta = pq.read_metadata(path)
    parts = [str(meta.metadata or {})]
    data_end = 4
    for g in range(meta.num_row_groups):
        for c in range(meta.num_columns):
            chunk = meta.row_group(g).column(c)
            start = min(o for o in (chunk.dictionary_page_offset, chunk.data_page_offset) if o is not None)
            data_end = max(data_end, start + chunk.total_compressed_size)
            if chunk.statistics is not None and chunk.statistics.has_min_max:
                parts.append(f"{chunk.path_in_schema}: {chunk.statistics.min} .. {chunk.statistics.max}")
    with path.open("rb") as handle:
        handle.seek(data_end)
        parts.append(handle.read().decode("utf-8", errors="replace"))
    return "\n".join(parts)


def metadata_files(root: Path) -> Iterator[tuple[Path, str, str]]:
    """(file, kind, text) of every file under a lakehouse root that is not a data page: log JSON, checkpoints,
    other log files, Parquet footers, and anything else left there."""
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        if "_delta_log" in path.parts:
            if path.suffix == ".json":
                yield path, "log", _log_text(path)
            elif path.suffix == ".parquet":
                yield path, "checkpoint", _checkpoint_text(path)
            else:
                yield path, "log other", path.read_text(encoding="utf-8", errors="replace")
        elif path.suffix == ".parquet":
            yield path, "footer", _footer_text(path)
        else:
            yield path, "other", path.read_bytes().decode("utf-8", errors="replace")


def scan(values: PersonalValues, root: Path) -> tuple[dict[str, int], dict[str, list[str]]]:
    """(files scanned per kind, file -> up to 3 personal values found in it, masked)."""
    kinds: dict[str, int] = {}
    found: dict[str, list[str]] = {}
    for path, kind, text in metadata_files(root):
        kinds[kind] = kinds.get(kind, 0) + 1
        hits = values.found_in(text)
        if hits:
            found[f"{kind} {path.relative_to(root)}"] = masked(hits, 3)
    return kinds, found


def test_no_personal_value_in_any_delta_log_checkpoint_or_parquet_footer(shared_city, tmp_path: Path) -> None:
    values = collect(shared_city.days)
    assert len(values.ids) >= 500 and len(values.names) >= 400 and len(values.phones) >= 400, len(values)
    root = Path(shared_city.paths.lakehouse)
    tables = set(shared_city.lakehouse.tables())
    assert {("bronze", "household_register"), ("bronze", "marriages"), ("silver", "household_registration"),
            ("silver", "person"), ("silver", "person_history"), ("gold", "dim_resident")} <= tables, tables

    kinds, found = scan(values, root)
    assert found == {}
    assert kinds.get("log", 0) >= 3 * len(tables) // 2 and kinds.get("footer", 0) >= len(tables), kinds

    # a checkpoint holds every active file's statistics: one of silver.person (on a copy: the city stays as is)
    copy = tmp_path / "silver" / "person"
    shutil.copytree(root / "silver" / "person", copy)
    DeltaTable(str(copy)).create_checkpoint()
    kinds, found = scan(values, tmp_path)
    assert kinds.get("checkpoint") == 1 and found == {}, (kinds, found)


def test_the_scan_finds_values_written_with_statistics_on(shared_city, tmp_path: Path) -> None:
    """The control: rows of silver.person written by a Lakehouse that classifies nothing as personal put ID
    numbers, names and phones in the log, the footers and a checkpoint, and the scan above sees them."""
    values = collect(shared_city.days[:1])
    rows = shared_city.lakehouse.read("silver", "person").orderBy("id_number").limit(40)
    exposed = Lakehouse(shared_city.lakehouse.spark, tmp_path / "lake", personal_columns=lambda layer, table: ())
    exposed.write(rows.coalesce(2), "silver", "person_with_statistics", mode="overwrite")
    table = tmp_path / "lake" / "silver" / "person_with_statistics"
    DeltaTable(str(table)).create_checkpoint()

    kinds, found = scan(values, tmp_path / "lake")
    assert {"log", "checkpoint", "footer"} <= {key.split(" ")[0] for key in found}, (kinds, found)
    assert all("*" in value for hits in found.values() for value in hits)  # reported masked


def test_silver_person_carries_the_keyed_hash_of_each_id_number(shared_city) -> None:
    key = platform_key(shared_city.lakehouse.root)
    rows = shared_city.lakehouse.read("silver", "person").select("id_number", "id_hash").collect()
    assert len(rows) >= 450
    assert all(r["id_hash"] == id_number_hash(r["id_number"], key) for r in rows)
    key_file = Path(shared_city.paths.lakehouse).parent / "secrets" / "pseudonym.key"
    assert key_file.is_file() and (key_file.stat().st_mode & 0o077) == 0
