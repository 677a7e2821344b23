"""The lakehouse doctor: finds, and on request repairs, what concurrent or killed runs can leave behind.

- **Duplicated batches**: a table with lineage columns (`_batch_id`, `_file`, `_row_number`: bronze and its
  rejects) holding some row of a batch more than once — a batch appended twice (two runs landing the same
  delivery before batches were claimed, see citydata.ingest.concurrency). Repair: the files holding such
  rows are rewritten with one copy of each row (the copy landed first, by `_ingested_at`), removed and added
  in ONE Delta commit conditioned on the version examined; every other file is untouched.
- **Orphan files**: data files in a table folder that no Delta version references (a writer killed between
  writing its files and committing), older than a safety age (a running write's files are not committed
  yet). Found with delta-rs's vacuum in dry-run (full mode minus the files only expired versions reference),
  so time-travel files are never counted. Repair: those files are deleted; the Delta log is not touched.
- **Personal statistics in the Delta log** (reported, not repaired): log files and checkpoints whose `add`
  actions carry min/max statistics of columns classified personal — written before the platform stopped
  collecting them (issue 15). New commits never do, and compaction rewrites only small files and leaves the
  old log files as they are, so an older lakehouse keeps them until its history is purged: every file of the
  table rewritten, a checkpoint, the log before it and the old files deleted — which ends time travel and the
  Delta versions release manifests pin, so it is left to an operator (docs/security.md). Only column names
  are reported, never a value.

Finding needs no Spark (delta-rs and pyarrow on the driver); repairing duplicates rewrites with Spark.
Must not: know about sources or contracts.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, TypeVar

import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pyarrow.parquet as pq
from deltalake import DeltaTable

from citydata.lakehouse.core import contract_personal_columns, snapshot_dataset
from citydata.lakehouse.errors import LakehouseError
from pyspark_delta.files import filesystem_for
from pyspark_delta.log import ActiveFile, active_files, normalize_path, open_table, table_exists

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

log = logging.getLogger(__name__)
T = TypeVar("T", "DuplicatedBatch", "OrphanFile")

BATCH_COLUMN = "_batch_id"
ROW_COLUMNS = ("_file", "_row_number")  # a delivered row within its batch
LANDED_AT = "_ingested_at"
DEFAULT_ORPHAN_AGE_HOURS = 24  # far longer than any write job here: younger files may belong to a running write
REPAIR_OPERATION = "DOCTOR REPAIR"
_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_")


class DoctorRepairError(LakehouseError):
    """A repair would not leave exactly one copy of each row: nothing was committed."""


@dataclass(frozen=True)
class DuplicatedBatch:
    """A batch some of whose rows a table holds more than once."""

    layer: str
    table: str
    batch_id: str
    rows: int  # rows of the batch in the table
    distinct_rows: int  # rows it should hold: distinct (_file, _row_number)

    @property
    def extra_rows(self) -> int:
        return self.rows - self.distinct_rows


@dataclass(frozen=True)
class OrphanFile:
    """A data file in a table folder that no Delta version references."""

    layer: str
    table: str
    path: str  # relative to the table folder
    bytes: int
    age_hours: float


@dataclass(frozen=True)
class PersonalStatistics:
    """A Delta log file (or checkpoint) holding min/max statistics of personal columns: their names, no value."""

    layer: str
    table: str
    log_file: str  # relative to the table folder
    columns: tuple[str, ...]


@dataclass(frozen=True)
class Repair:
    """What a repair did to one table."""

    layer: str
    table: str
    action: str  # "deduplicated" or "deleted orphans"
    rows_removed: int = 0
    files_removed: int = 0
    files_added: int = 0
    version: int | None = None  # the table's version after a deduplication


@dataclass
class DoctorReport:
    """What the doctor found (and repaired, with `repair=True`)."""

    root: str
    tables: int
    orphan_age_hours: int
    duplicated: list[DuplicatedBatch] = field(default_factory=list)
    orphans: list[OrphanFile] = field(default_factory=list)
    repairs: list[Repair] = field(default_factory=list)
    # reported, not repaired (see the module docstring): does not make the lakehouse unhealthy
    personal_statistics: list[PersonalStatistics] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return not self.duplicated and not self.orphans

    def to_json(self) -> str:
        return json.dumps({
            "root": self.root, "tables": self.tables, "orphan_age_hours": self.orphan_age_hours,
            "healthy": self.healthy, "repaired": bool(self.repairs),
            "duplicated_batches": [{**asdict(d), "extra_rows": d.extra_rows} for d in self.duplicated],
            "orphan_files": [asdict(o) for o in self.orphans],
            "repairs": [asdict(r) for r in self.repairs],
            "personal_statistics": [asdict(p) for p in self.personal_statistics],
        }, ensure_ascii=False, indent=2)


def lakehouse_tables(root: str) -> list[tuple[str, str]]:
    """(layer, table) of every Delta table under the root (`{root}/{layer}/{table}/_delta_log`), sorted."""
    fs, base = filesystem_for(normalize_path(root))
    found = []
    for layer in _folders(fs, base):
        for table in _folders(fs, f"{base}/{layer}"):
            if table_exists(f"{normalize_path(root)}/{layer}/{table}"):
                found.append((layer, table))
    return sorted(found)


def _folders(fs: pafs.FileSystem, folder: str) -> list[str]:
    infos = fs.get_file_info(pafs.FileSelector(folder, allow_not_found=True))
    return [i.base_name for i in infos
            if i.type == pafs.FileType.Directory and set(i.base_name) <= _NAME_CHARS and i.base_name[0].isalpha()]


def _dataset(delta: DeltaTable) -> tuple[ds.Dataset, list[ActiveFile]]:
    """A snapshot as a pyarrow dataset and its files, in the dataset's fragment order."""
    return snapshot_dataset(delta), active_files(delta)


def find_duplicated_batches(root: str, layers: Iterable[str] | None = None) -> list[DuplicatedBatch]:
    """Batches some row of which a table holds more than once, in every table with lineage columns."""
    wanted = None if layers is None else set(layers)
    found = []
    for layer, table in lakehouse_tables(root):
        if wanted is not None and layer not in wanted:
            continue
        dataset, _ = _dataset(open_table(f"{normalize_path(root)}/{layer}/{table}"))
        if not {BATCH_COLUMN, *ROW_COLUMNS} <= set(dataset.schema.names):
            continue
        found += [DuplicatedBatch(layer, table, b, rows, distinct) for b, rows, distinct in _batch_rows(dataset)
                  if rows > distinct]
    return found


def _batch_rows(dataset: ds.Dataset) -> list[tuple[str, int, int]]:
    """(batch id, rows, distinct delivered rows) of every batch of the dataset."""
    columns = [BATCH_COLUMN, *ROW_COLUMNS]
    rows = dataset.to_table(columns=columns)
    if rows.num_rows == 0:
        return []
    per_row = rows.group_by(columns).aggregate([([], "count_all")])
    per_batch = per_row.group_by(BATCH_COLUMN).aggregate([("count_all", "sum"), ([], "count_all")])
    return sorted((r[BATCH_COLUMN], r["count_all_sum"], r["count_all"]) for r in per_batch.to_pylist())


def find_orphan_files(root: str, min_age_hours: int = DEFAULT_ORPHAN_AGE_HOURS) -> list[OrphanFile]:
    """Data files no Delta version of their table references, older than `min_age_hours` (at least 1)."""
    if min_age_hours < 1:
        raise ValueError(f"min_age_hours must be at least 1, not {min_age_hours}: a younger file may belong to a "
                         "write that has not committed yet")
    found = []
    now = time.time()
    for layer, table in lakehouse_tables(root):
        path = f"{normalize_path(root)}/{layer}/{table}"
        delta = open_table(path)
        unreferenced = set(delta.vacuum(retention_hours=min_age_hours, dry_run=True, enforce_retention_duration=False,
                                        full=True))
        # files only versions older than the age reference (vacuum's "lite" list) are history, not orphans
        history = set(delta.vacuum(retention_hours=min_age_hours, dry_run=True, enforce_retention_duration=False,
                                   full=False))
        fs, base = filesystem_for(path)
        for relative in sorted(unreferenced - history):
            info = fs.get_file_info(f"{base}/{relative}")
            modified = info.mtime.timestamp() if info.mtime is not None else now
            found.append(OrphanFile(layer, table, relative, int(info.size or 0), round((now - modified) / 3600, 1)))
    return found


def _by_table(findings: Sequence[T]) -> dict[tuple[str, str], list[T]]:
    """Findings grouped by (layer, table), in table order."""
    grouped: dict[tuple[str, str], list[T]] = {}
    for finding in findings:
        grouped.setdefault((finding.layer, finding.table), []).append(finding)
    return dict(sorted(grouped.items()))


def delete_orphan_files(root: str, orphans: Sequence[OrphanFile]) -> list[Repair]:
    """Delete the orphan files (each still unreferenced: checked again just before); the logs are untouched."""
    repairs = []
    for (layer, table), files in _by_table(orphans).items():
        path = f"{normalize_path(root)}/{layer}/{table}"
        referenced = {f.path for f in active_files(open_table(path))}
        fs, base = filesystem_for(path)
        deleted = 0
        for orphan in files:
            if orphan.path in referenced:  # committed since it was found (cannot happen for an old file; cheap)
                continue
            fs.delete_file(f"{base}/{orphan.path}")
            deleted += 1
        log.info("%s.%s: deleted %d orphan file(s)", layer, table, deleted)
        repairs.append(Repair(layer, table, "deleted orphans", files_removed=deleted))
    return repairs


def deduplicate_batches(spark: SparkSession, root: str, duplicated: Sequence[DuplicatedBatch]) -> list[Repair]:
    """Rewrite, per table, the files holding a duplicated batch with one copy of each row: one Delta commit
    (conditioned on the version read here) that removes those files and adds the rewritten ones."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    from pyspark_delta.log import spark_schema

    repairs = []
    for (layer, table), batches in _by_table(duplicated).items():
        path = f"{normalize_path(root)}/{layer}/{table}"
        delta = open_table(path)
        read_version = delta.version()
        schema = spark_schema(delta)
        ids = sorted(b.batch_id for b in batches)
        dataset, snapshot = _dataset(delta)
        files = _files_holding(dataset, snapshot, ids)
        held = sum(int(f.num_records or 0) for f in files)
        extra = sum(rows - distinct for b, rows, distinct in _batch_rows(dataset) if b in set(ids))
        rows = (spark.read.schema(schema).option("basePath", path).parquet(*[f.location for f in files])
                .select(*[F.col(f"`{c.name}`") for c in schema.fields]))
        first_landed = Window.partitionBy(BATCH_COLUMN, *ROW_COLUMNS).orderBy(
            *([F.col(LANDED_AT).asc_nulls_last()] if LANDED_AT in schema.fieldNames() else []),
            F.input_file_name())
        kept = (rows.withColumn("__copy", F.row_number().over(first_landed)).where(F.col("__copy") == 1)
                .drop("__copy").persist())
        try:
            kept_rows = kept.count()
            if kept_rows != held - extra:
                raise DoctorRepairError(
                    f"{layer}.{table}: rewriting {len(files)} file(s) of {held} rows would keep {kept_rows}, not "
                    f"{held - extra} ({extra} extra copies): nothing committed. Run `citydata doctor` again; if it "
                    "says the same, keep the table as it is and report it")
            (kept.write.format("delta").mode("append")
             .option("replaceFiles", json.dumps([f.path for f in files]))
             .option("readVersion", str(read_version)).option("exclusive", "true")
             .option("operation", REPAIR_OPERATION)
             .option("commitMetrics", json.dumps({"rows_removed": extra, "batches": ids}))
             .save(path))
        finally:
            kept.unpersist()
        version = open_table(path).version()
        added = len(active_files(open_table(path))) - (len(snapshot) - len(files))
        log.info("%s.%s: %d duplicated batch(es), %d extra row(s) removed: version %d", layer, table, len(ids),
                 extra, version)
        repairs.append(Repair(layer, table, "deduplicated", rows_removed=extra, files_removed=len(files),
                              files_added=added, version=version))
    return repairs


def _files_holding(dataset: ds.Dataset, files: Sequence[ActiveFile], batch_ids: Sequence[str]) -> list[ActiveFile]:
    """The files (of `_dataset`, in its fragment order) holding rows of the batches."""
    wanted = set(batch_ids)
    return [f for fragment, f in zip(dataset.get_fragments(), files, strict=True)
            if wanted.intersection(fragment.to_table(columns=[BATCH_COLUMN]).column(0).unique().to_pylist())]


def examine(root: str, min_age_hours: int = DEFAULT_ORPHAN_AGE_HOURS) -> DoctorReport:
    """What needs repair under the root: duplicated batches and orphan files (reads only; no Spark)."""
    root = normalize_path(root)
    report = DoctorReport(root, len(lakehouse_tables(root)), min_age_hours)
    report.duplicated = find_duplicated_batches(root)
    report.orphans = find_orphan_files(root, min_age_hours)
    report.personal_statistics = find_personal_statistics(root)
    return report


def repair(spark: SparkSession | None, report: DoctorReport) -> DoctorReport:
    """Repair what `examine` found (Spark is needed only when there are duplicated batches); the report
    gains the repairs."""
    if report.duplicated:
        if spark is None:
            raise DoctorRepairError("deduplicating batches needs a SparkSession")
        report.repairs += deduplicate_batches(spark, report.root, report.duplicated)
    if report.orphans:
        report.repairs += delete_orphan_files(report.root, report.orphans)
    return report


def find_personal_statistics(
    root: str, personal_columns: Callable[[str, str], Collection[str]] = contract_personal_columns,
) -> list[PersonalStatistics]:
    """Log files and checkpoints under the root whose file statistics (minValues / maxValues) name a column
    `personal_columns(layer, table)` classifies personal (default: the contracts' classification)."""
    root = normalize_path(root)
    fs, base = filesystem_for(root)
    found: list[PersonalStatistics] = []
    for layer, table in lakehouse_tables(root):
        personal = set(personal_columns(layer, table))
        if not personal:
            continue
        log_dir = f"{base}/{layer}/{table}/_delta_log"
        for info in sorted(fs.get_file_info(pafs.FileSelector(log_dir)), key=lambda i: i.base_name):
            if info.base_name.endswith(".json"):
                with fs.open_input_stream(info.path) as handle:
                    stats = [json.loads(line).get("add", {}).get("stats")
                             for line in handle.read().decode("utf-8").splitlines() if line.strip()]
            elif info.base_name.endswith(".checkpoint.parquet"):
                adds = pq.read_table(info.path, columns=["add"], filesystem=fs).column("add").to_pylist()
                stats = [a.get("stats") for a in adds if a]
            else:
                continue
            columns = personal & _stats_columns(s for s in stats if s)
            if columns:
                found.append(PersonalStatistics(layer, table, f"_delta_log/{info.base_name}", tuple(sorted(columns))))
    return found


def _stats_columns(stats: Iterable[str]) -> set[str]:
    """Columns that have a min or max value in these `add` statistics (JSON strings)."""
    columns: set[str] = set()
    for text in stats:
        parsed = json.loads(text)
        for kind in ("minValues", "maxValues"):
            columns.update(parsed.get(kind) or {})
    return columns
