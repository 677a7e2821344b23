"""The bridge keeps min/max statistics off the columns a table does not list: in the Delta log and in the Parquet
footers, while the listed columns still prune files. Real Delta tables (delta-rs) written by the bridge's task
writer and committed by its driver code; no Spark session is needed for either."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from deltalake import DeltaTable
from pyspark.sql.types import StringType, StructField, StructType

from pyspark_delta.files import (
    NUM_INDEXED_COLUMNS_PROPERTY,
    STATS_COLUMNS_PROPERTY,
    configured_stats_columns,
    parse_column_list,
    write_task_files,
)
from pyspark_delta.log import CommitRequest, active_files, commit
from pyspark_delta.source import _stats_columns

SCHEMA = StructType([StructField(c, StringType()) for c in ("id_number", "id_hash", "name", "district")])
# Three persons per file, in three files: the ID numbers are test values of the GB 11643 shape.
FILES = [
    [("110101199001011234", "a1", "张三", "110101"), ("110101199001021236", "a2", "李四", "110101"),
     ("110101199001031238", "a3", "王五", "110101")],
    [("110102198505051111", "b1", "赵六", "110102"), ("110102198505061113", "b2", "钱七", "110102"),
     ("110102198505071115", "b3", "孙八", "110102")],
    [("110105197012121212", "c1", "周九", "110105"), ("110105197012131214", "c2", "吴十", "110105"),
     ("110105197012141216", "c3", "郑一", "110105")],
]
PERSONAL = ("110101199001011234", "110105197012141216", "张三", "郑一")


def _batch(rows: list[tuple[str, ...]]) -> pa.RecordBatch:
    columns = list(zip(*rows))
    return pa.RecordBatch.from_arrays([pa.array(c, pa.string()) for c in columns], names=SCHEMA.fieldNames())


def _write_table(path: Path, stats_columns: list[str] | None) -> None:
    configuration = {STATS_COLUMNS_PROPERTY: ",".join(stats_columns)} if stats_columns is not None else None
    for task, rows in enumerate(FILES):
        adds = write_task_files(str(path), [], f"job{task}", task, iter([_batch(rows)]), stats_columns)
        commit(CommitRequest(path=str(path), schema=SCHEMA, adds=adds, configuration=configuration))


def _log_text(path: Path) -> str:
    """The log's actions as a reader decodes them (statistics are JSON inside JSON, non-ASCII escaped)."""
    actions = [json.loads(line) for p in sorted((path / "_delta_log").glob("*.json"))
               for line in p.read_text(encoding="utf-8").splitlines()]
    for action in actions:
        if "add" in action and action["add"].get("stats"):
            action["add"]["stats"] = json.loads(action["add"]["stats"])
    return "\n".join(json.dumps(a, ensure_ascii=False) for a in actions)


def _footer_statistics(path: Path) -> dict[str, list[tuple[str, str]]]:
    """column -> (min, max) of every row group of every data file that has them."""
    found: dict[str, list[tuple[str, str]]] = {}
    for file in sorted(path.glob("*.parquet")):
        meta = pq.read_metadata(file)
        for g in range(meta.num_row_groups):
            for c in range(meta.num_columns):
                chunk = meta.row_group(g).column(c)
                stats = chunk.statistics
                if stats is not None and stats.has_min_max:
                    found.setdefault(chunk.path_in_schema, []).append((stats.min, stats.max))
    return found


def test_unlisted_columns_have_no_min_max_in_the_log_nor_the_footers(tmp_path: Path) -> None:
    table = tmp_path / "person"
    _write_table(table, ["id_hash", "district"])

    log = _log_text(table)
    assert not [v for v in PERSONAL if v in log]
    adds = [json.loads(line)["add"] for line in log.splitlines() if '"add"' in line]
    assert len(adds) == 3
    for add in adds:
        stats = add["stats"]
        assert set(stats["minValues"]) == set(stats["maxValues"]) == {"id_hash", "district"}
        assert stats["nullCount"] == {"id_number": 0, "id_hash": 0, "name": 0, "district": 0}
        assert stats["numRecords"] == 3
    assert DeltaTable(str(table)).metadata().configuration == {STATS_COLUMNS_PROPERTY: "id_hash,district"}

    footers = _footer_statistics(table)
    assert set(footers) == {"id_hash", "district"}
    assert sorted(footers["id_hash"]) == [("a1", "a3"), ("b1", "b3"), ("c1", "c3")]


def test_without_a_list_every_column_has_statistics_which_hold_the_values(tmp_path: Path) -> None:
    """The control: the same rows written with statistics on put ID numbers and names in the log and footers."""
    table = tmp_path / "person"
    _write_table(table, None)
    log = _log_text(table)
    assert [v for v in PERSONAL if v in log] == list(PERSONAL)
    assert set(_footer_statistics(table)) == {"id_number", "id_hash", "name", "district"}


def test_a_listed_column_prunes_files_and_an_unlisted_one_reads_them_all(tmp_path: Path) -> None:
    table = tmp_path / "person"
    _write_table(table, ["id_hash", "district"])
    dt = DeltaTable(str(table))
    assert len(active_files(dt)) == 3
    by_hash = active_files(dt, "id_hash = 'b2'")
    assert len(by_hash) == 1 and by_hash[0].num_records == 3
    assert pq.read_table(by_hash[0].location).column("name").to_pylist() == ["赵六", "钱七", "孙八"]
    assert len(active_files(dt, "id_hash = 'zz'")) == 0
    # no statistics: no file can be ruled out (the caller's row filter keeps the result exact)
    assert len(active_files(dt, "id_number = '110102198505061113'")) == 3


def test_later_writes_honour_the_table_property(tmp_path: Path) -> None:
    table = tmp_path / "person"
    _write_table(table, ["id_hash", "district"])
    configuration = DeltaTable(str(table)).metadata().configuration
    # what the data source's writer decides for an append that names no list itself
    assert _stats_columns({}, configuration, SCHEMA) == ["id_hash", "district"]
    # a write that names one uses it (what Lakehouse does on every write)
    assert _stats_columns({STATS_COLUMNS_PROPERTY: "district"}, configuration, SCHEMA) == ["district"]
    assert _stats_columns({}, {}, SCHEMA) is None


def test_configured_stats_columns_follows_the_delta_properties() -> None:
    columns = ["a", "b c", "d", "e"]
    assert configured_stats_columns({}, columns) is None
    assert configured_stats_columns({STATS_COLUMNS_PROPERTY: "d, `b c`,zz"}, columns) == ["b c", "d"]
    assert configured_stats_columns({STATS_COLUMNS_PROPERTY: ""}, columns) == []
    assert configured_stats_columns({NUM_INDEXED_COLUMNS_PROPERTY: "2"}, columns) == ["a", "b c"]
    assert configured_stats_columns({NUM_INDEXED_COLUMNS_PROPERTY: "-1"}, columns) is None
    # the list wins over the count (as in the Delta protocol)
    assert configured_stats_columns({STATS_COLUMNS_PROPERTY: "e", NUM_INDEXED_COLUMNS_PROPERTY: "2"}, columns) == ["e"]
    assert parse_column_list(" a ,`b c`,, ") == ["a", "b c"]


def test_a_staged_gold_model_is_committed_without_statistics_on_its_personal_columns(tmp_path: Path) -> None:
    """run_dbt's commit of a staged model (overwrite_from_parquet): what dim_resident goes through."""
    from pyspark_delta.staged import overwrite_from_parquet

    staged = tmp_path / "staging" / "dim_resident"
    staged.mkdir(parents=True)
    for i, rows in enumerate(FILES):
        pq.write_table(pa.Table.from_batches([_batch(rows)]), staged / f"part-{i}.parquet")
    (staged / "_SUCCESS").write_text("")
    table = tmp_path / "gold" / "dim_resident"
    assert overwrite_from_parquet(str(table), str(staged), without_stats={"id_number", "name"}) == 0
    assert not [v for v in PERSONAL if v in _log_text(table)]
    assert set(_footer_statistics(table)) == {"id_hash", "district"}
    assert DeltaTable(str(table)).metadata().configuration == {STATS_COLUMNS_PROPERTY: "id_hash,district"}
    # the next build replaces the rows; the table keeps its property and the new files follow it
    assert overwrite_from_parquet(str(table), str(staged), without_stats={"id_number", "name"}) == 1
    assert len(active_files(DeltaTable(str(table)), "id_hash = 'c2'")) == 1
    assert not [v for v in PERSONAL if v in _log_text(table)]
