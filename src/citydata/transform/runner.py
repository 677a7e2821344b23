"""Run a dbt command in-process on the platform's SparkSession and report what each node did."""

from __future__ import annotations

import json
import logging
import os
import sys
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from pyspark.sql import SparkSession

log = logging.getLogger(__name__)

# dbt statuses that mean the node did not do its job ("warn" is reported, not raised).
_FAILED = {"error", "fail", "runtime error"}
# dbt events worth a line in the platform's log while a run progresses.
_PROGRESS_EVENTS = {
    "LogModelResult",
    "LogTestResult",
    "LogSeedResult",
    "LogHookEndLine",
    "LogStartLine",
    "RunResultError",
    "EndOfRunSummary",
}


class DbtRunError(RuntimeError):
    """dbt ran, and at least one model, test or hook failed; `failed` names each one."""

    def __init__(self, command: str, failed: list[DbtNodeResult], result: DbtResult) -> None:
        self.command = command
        self.failed = failed
        self.result = result
        lines = [f"dbt {command}: {len(failed)} node(s) failed"]
        for node in failed:
            lines.append(
                f"  - {node.resource_type} {node.name} [{node.status}]"
                + (f" ({node.failures} failing rows)" if node.failures else "")
                + (f": {_summary(node.message)}" if node.message else "")
            )
        lines.append(f"compiled SQL and full logs: {result.target_dir}, {result.log_dir}")
        super().__init__("\n".join(lines))


class DbtInvocationError(RuntimeError):
    """dbt could not run at all (bad project, parse or compile error, missing var, ...)."""


@dataclass(frozen=True)
class DbtNodeResult:
    """What one dbt node (model, test, seed, hook) did."""

    unique_id: str
    name: str
    resource_type: str
    status: str
    message: str | None
    failures: int | None
    execution_time: float


@dataclass(frozen=True)
class DbtResult:
    """Outcome of one `run_dbt` call."""

    command: str
    success: bool
    nodes: list[DbtNodeResult]
    elapsed_seconds: float
    target_dir: Path
    log_dir: Path
    vars: dict[str, Any] = field(default_factory=dict)
    committed: dict[str, int] = field(default_factory=dict)  # gold model -> the Delta version it committed
    parse_seconds: float = 0.0  # of elapsed_seconds: reading the project (`parse_project`)
    parse: str = ""  # how: "partial (nothing changed)", "partial", or "full: <dbt's reason>"
    # seconds of its parts: views (registered before dbt), parse, compile_tests, the command (models), tests, commit
    phases: dict[str, float] = field(default_factory=dict)

    def by_name(self, name: str) -> DbtNodeResult:
        """The node called `name` (a model name or a test's name)."""
        for node in self.nodes:
            if node.name == name:
                return node
        raise KeyError(f"no dbt node named {name!r} in this {self.command} (have: {self.names()})")

    def names(self, resource_type: str | None = None) -> list[str]:
        return sorted(n.name for n in self.nodes if resource_type in (None, n.resource_type))

    @property
    def failed(self) -> list[DbtNodeResult]:
        return [n for n in self.nodes if n.status in _FAILED]


def default_project_dir() -> Path:
    """`dbt_project/` of this checkout: $CITYDATA_HOME/dbt_project, else beside `src/`."""
    home = os.environ.get("CITYDATA_HOME")
    if home and (Path(home) / "dbt_project" / "dbt_project.yml").is_file():
        return (Path(home) / "dbt_project").resolve()
    return (Path(__file__).resolve().parents[3] / "dbt_project").resolve()


def register_reference_views(spark: SparkSession) -> list[str]:
    """`standards_<name>` for every CSV shipped in citydata/standards/data (all columns strings,
    empty = null, like Spark's CSV reader). Built on the driver, so executors on a cluster need no
    access to the package's files."""
    import csv

    from pyspark.sql.types import StringType, StructField, StructType

    names = []
    folder = resources.files("citydata.standards").joinpath("data")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".csv"):
            continue
        with entry.open("r", encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            header = next(reader)
            rows = [[value if value != "" else None for value in row] for row in reader if row]
        schema = StructType([StructField(column, StringType(), True) for column in header])
        name = f"standards_{entry.name[:-4]}"
        spark.createDataFrame(rows, schema).createOrReplaceTempView(name)
        names.append(name)
    return names


def default_standards_data_dir() -> str:
    """Folder of the reference CSVs shipped with citydata.standards (dbt sources `standards.*`)."""
    return str(resources.files("citydata.standards").joinpath("data"))


def run_dbt(
    spark: SparkSession,
    lakehouse_root: str | os.PathLike[str],
    command: str = "build",
    select: str | Iterable[str] | None = None,
    vars: dict[str, Any] | None = None,
    *,
    project_dir: Path | None = None,
    target_dir: Path | None = None,
    raise_on_failure: bool = True,
    view_layers: Iterable[str] | None = ("silver", "gold"),
) -> DbtResult:
    """Run `dbt <command>` on `spark` (in this process) against the lakehouse at `lakehouse_root`.
    `command` may hold subcommands and flags (`"docs generate --static"`).

    Before dbt starts, every table of `view_layers` gets a fresh temporary view through
    `Lakehouse.register_views` (native Parquet reads), the shipped reference CSVs get
    `standards_<name>` views, and dbt's on-run-start hook is told so (var
    lakehouse_views='registered'); `view_layers=None` leaves it all to the hook.

    A `build` runs its data tests batched: dbt compiles them (the SQL `dbt build` would run) and builds the models,
    and the tests of each model run as one Spark query, each judged by dbt's own rule and keeping its own result
    (citydata.transform.batched_tests); nothing is committed unless every model and test passed. `test` runs
    them through dbt itself, one query each (with the on-run-start hook, so it works in a fresh session).

    Raises DbtRunError naming every failed model/test with its message (unless
    `raise_on_failure=False`), DbtInvocationError when dbt cannot run at all.
    """
    from dbt.cli.main import dbtRunner  # heavy import: only when dbt actually runs

    from pyspark_delta.staged import remove_folder

    _require_same_session(spark)
    if command.split()[0] == "build" and command.strip() != "build":
        raise DbtInvocationError(f"run_dbt({command!r}): a build takes no flags (its data tests are compiled apart, "
                                 "with the same selection): pass the selection as select=")
    phases: dict[str, float] = {}
    clock = time.monotonic()
    project = Path(project_dir or default_project_dir()).resolve()
    target = Path(target_dir or project / "target").resolve()
    logs = target.parent / "logs" if target_dir else project / "logs"
    root = str(lakehouse_root)
    if "://" not in root:
        root = str(Path(root).resolve())
    run_vars: dict[str, Any] = {"lakehouse_root": root, "standards_data_dir": default_standards_data_dir()}
    if view_layers is not None:
        from citydata.lakehouse import Lakehouse

        views = Lakehouse(spark, root).register_views(list(view_layers))
        drop_stale_views(spark, view_layers, keep=views)
        views += register_reference_views(spark)
        log.info("registered %d lakehouse views for dbt: %s", len(views), ", ".join(views))
        run_vars["lakehouse_views"] = "registered"
    phases["views"] = round(time.monotonic() - clock, 2)
    run_vars.update(vars or {})
    staging = None
    if view_layers is not None and command.split()[0] in ("build", "run"):
        # models write Parquet here; committed to their Delta tables only when the whole command succeeded
        staging = f"{root.rstrip('/')}/_staging/gold/{uuid.uuid4().hex}"
        run_vars["gold_staging_dir"] = staging

    args = [*command.split(), *_common_args(project, target, logs), "--vars", json.dumps(run_vars, default=str)]
    selection: list[str] = []
    if select:
        # buildable: a test runs only when every model it reads is selected or upstream of the selection (dbt's
        # default, eager, would run a relationships test to another theme's mart, whose table this build does
        # not make, because one of its parents, a shared staging model, is selected)
        selection = ["--select", *([select] if isinstance(select, str) else list(select)),
                     "--indirect-selection", "buildable"]
        args += selection

    log.info("dbt %s in %s (lakehouse %s%s)", command, project, root,
             f", select {select}" if select else "")
    started = time.monotonic()
    parsed = parse_project(project, logs)
    phases["parse"] = parsed.seconds
    tests = None
    if command.strip() == "build":
        # the tests are compiled on a manifest of their own: a node dbt compiled keeps its SQL and "CTEs injected"
        # flag in the manifest, and the build would then run a model compiled without its ephemeral CTEs
        clock = time.monotonic()
        tests = _compiled_tests(parse_project(project, logs).manifest, project, target, logs, run_vars, selection)
        phases["compile_tests"] = round(time.monotonic() - clock, 2)
        args += ["--exclude-resource-type", "test"]  # dbt builds the models; the data tests run below, batched
    runner = dbtRunner(manifest=parsed.manifest, callbacks=[_log_progress])
    tested: list[DbtNodeResult] = []
    try:
        clock = time.monotonic()
        outcome = runner.invoke(args)
        phases[command.split()[0]] = round(time.monotonic() - clock, 2)
        if tests is not None and outcome.success:
            clock = time.monotonic()
            tested = _run_batched_tests(spark, tests)
            phases["tests"] = round(time.monotonic() - clock, 2)
        passed = bool(outcome.success) and not any(n.status in _FAILED for n in tested)
        clock = time.monotonic()
        committed = (commit_staged_models(spark, root, staging, personal=personal_model_columns(target))
                     if staging and passed else {})
        phases["commit"] = round(time.monotonic() - clock, 2)
    finally:
        if staging:
            remove_folder(staging)
    elapsed = time.monotonic() - started

    if outcome.exception is not None and outcome.result is None:
        raise DbtInvocationError(
            f"dbt {command} could not run in {project}: {outcome.exception}"
        ) from outcome.exception

    nodes = [_node_result(r) for r in getattr(outcome.result, "results", None) or []] + tested
    result = DbtResult(
        command=command,
        success=passed,
        nodes=nodes,
        elapsed_seconds=elapsed,
        target_dir=target,
        log_dir=logs,
        vars=run_vars,
        committed=committed,
        parse_seconds=parsed.seconds,
        parse=parsed.how,
        phases=phases,
    )
    log.info("dbt %s %s in %.1fs: %d node(s), %d failed", command,
             "succeeded" if result.success else "FAILED", elapsed, len(nodes), len(result.failed))
    if raise_on_failure and not result.success:
        if result.failed:
            raise DbtRunError(command, result.failed, result)
        raise DbtInvocationError(
            f"dbt {command} failed without a failing node"
            + (f": {outcome.exception}" if outcome.exception else "")
            + f"; see {logs}/dbt.log"
        )
    return result


def _common_args(project: Path, target: Path, logs: Path) -> list[str]:
    return [
        "--project-dir", str(project),
        "--profiles-dir", str(project),
        "--target-path", str(target),
        "--log-path", str(logs),
        "--no-send-anonymous-usage-stats",  # closed network: no tracking calls to time out
        "--no-version-check",
        "--no-use-colors",
        "--quiet",  # dbt's own stdout; progress goes through `logging` via the callback
    ]


@dataclass(frozen=True)
class ParsedProject:
    """The dbt project as `dbt parse` read it, how (partially or in full) and in how many seconds."""

    manifest: Any  # dbt.contracts.graph.manifest.Manifest
    how: str
    seconds: float


def parse_dir(project: Path) -> Path:
    """Where `parse_project` keeps dbt's saved parse of `project` (partial_parse.msgpack): CITYDATA_DBT_PARSE_DIR,
    else a folder of the temp folder named for the project's path — shared by every home and process that runs
    this checkout's project, so a new home (a test, a backfill) does not parse the whole project again."""
    explicit = os.environ.get("CITYDATA_DBT_PARSE_DIR")
    if explicit:
        return Path(explicit)
    import hashlib
    import tempfile

    key = hashlib.sha256(str(Path(project).resolve()).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / "citydata" / "dbt-parse" / key


def parse_project(project: Path, logs: Path) -> ParsedProject:
    """`dbt parse` of the project without any --vars, into `parse_dir(project)` (its partial_parse.msgpack).

    dbt reparses the whole project whenever the command line's vars differ from the saved parse's, and every
    build passes other vars (the day's dates, a fresh staging folder): ~400 nodes parsed in full twice a day
    (build, docs). No model, test or YAML file of the project reads a var where dbt parses it (vars are read in
    SQL, rendered when a node is compiled, with the command's own vars), so parsing with no vars gives the same
    manifest, and dbt's partial parsing then rereads only the files whose content changed since the saved parse
    (a saved parse that cannot be read, e.g. two processes wrote it at once, is a full parse). Each call returns a
    manifest of its own: dbt keeps compiled SQL in the manifest it runs, which must not carry one run's dates into
    the next; the command writes its own manifest.json into its target folder."""
    from dbt.cli.main import dbtRunner

    events: list[Any] = []

    def watch(event: Any) -> None:
        if event.info.name in _PARSE_EVENTS:
            events.append(event)
        _log_progress(event)

    started = time.monotonic()
    outcome = dbtRunner(callbacks=[watch]).invoke(["parse", *_common_args(project, parse_dir(project), logs)])
    if not outcome.success or outcome.result is None:
        raise DbtInvocationError(f"dbt parse of {project} failed: {outcome.exception}; see {logs}/dbt.log") \
            from outcome.exception
    seconds = round(time.monotonic() - started, 2)
    how = _parse_mode([e.info.name for e in events], [getattr(e.data, "reason", "") for e in events])
    log.info("dbt parse of %s: %s in %.1f s", project, how, seconds)
    return ParsedProject(outcome.result, how, seconds)


def _compiled_tests(manifest: Any, project: Path, target: Path, logs: Path, run_vars: dict[str, Any],
                    selection: list[str]) -> list[Any]:
    """Every data test the build selects (`selection`: its --select arguments, none for the whole project),
    compiled by `dbt compile` with the build's vars (the SQL the build would run), as CompiledTest. A test this
    runner cannot run as dbt would (one that stores its failures) is refused: DbtInvocationError."""
    from dbt.cli.main import dbtRunner

    from citydata.transform.batched_tests import CompiledTest, NotBatchable

    started = time.monotonic()
    outcome = dbtRunner(manifest=manifest, callbacks=[_log_progress]).invoke(
        ["compile", *(selection or ["--select", "resource_type:test"]), *_common_args(project, target, logs),
         "--vars", json.dumps(run_vars, default=str),
         "--no-populate-cache"])  # compiling reads no relation: no listing queries
    if not outcome.success or outcome.result is None:
        raise DbtInvocationError(f"dbt compile of the data tests in {project} failed: {outcome.exception}; "
                                 f"see {logs}/dbt.log") from outcome.exception
    try:
        tests = [CompiledTest.of(r.node) for r in outcome.result.results
                 if str(getattr(r.node.resource_type, "value", r.node.resource_type)) == "test"]
    except NotBatchable as reason:
        raise DbtInvocationError(f"the build runs its data tests batched and cannot run this one: {reason}; "
                                 "see docs/gold-and-gate.md") from reason
    log.info("compiled %d data tests in %.1f s", len(tests), time.monotonic() - started)
    return tests


def _run_batched_tests(spark: SparkSession, tests: list[Any]) -> list[DbtNodeResult]:
    from citydata.transform.batched_tests import run_tests

    outcomes = run_tests(spark, tests, threads=int(os.environ.get("CITYDATA_DBT_THREADS", "4")))
    for outcome in outcomes:
        if outcome.status != "pass":
            log.warning("dbt: test %s [%s]: %s", outcome.test.name, outcome.status, _summary(outcome.message or ""))
    return [DbtNodeResult(o.test.unique_id, o.test.name, "test", o.status, o.message, o.failures, o.seconds)
            for o in outcomes]


# dbt events that say whether a parse was partial (and when not, why)
_PARSE_EVENTS = {"PartialParsingSkipParsing", "PartialParsingEnabled", "UnableToPartialParse"}


def _parse_mode(names: list[str], reasons: list[str]) -> str:
    """How dbt parsed, from the names (and reasons) of the parse events it fired, in order."""
    for name, reason in zip(names, reasons, strict=True):
        if name == "UnableToPartialParse":
            return f"full: {reason}"
    if "PartialParsingSkipParsing" in names:
        return "partial (nothing changed)"
    return "partial" if "PartialParsingEnabled" in names else "full"


def personal_model_columns(target_dir: Path) -> dict[str, set[str]]:
    """model -> its columns the dbt YAML classifies sensitive or core (`meta.classification`), from the run's
    manifest (empty when dbt wrote none)."""
    manifest = target_dir / "manifest.json"
    if not manifest.is_file():
        return {}
    nodes = json.loads(manifest.read_text(encoding="utf-8")).get("nodes", {})
    personal: dict[str, set[str]] = {}
    for node in nodes.values():
        if node.get("resource_type") != "model":
            continue
        for name, column in (node.get("columns") or {}).items():
            meta = {**(column.get("config") or {}).get("meta", {}), **(column.get("meta") or {})}
            if str(meta.get("classification", "")).lower() in ("sensitive", "core"):
                personal.setdefault(node["name"], set()).add(name)
    return personal


def commit_staged_models(spark: SparkSession, lakehouse_root: str, staging: str,
                         personal: dict[str, set[str]] | None = None) -> dict[str, int]:
    """Commit every model the delta_table materialization staged under `staging` (`<staging>/<model>`, Parquet)
    to its gold Delta table, one commit each, and point its `gold_<model>` view at the table. No min/max
    statistics on personal columns: the lakehouse's classification plus `personal` (model -> columns, the dbt
    YAML's). Returns model -> new Delta version."""
    import pyarrow.fs as pafs

    from citydata.lakehouse import Lakehouse
    from pyspark_delta.files import filesystem_for
    from pyspark_delta.staged import overwrite_from_parquet

    fs, base = filesystem_for(staging)
    if fs.get_file_info(base).type == pafs.FileType.NotFound:
        return {}
    lakehouse = Lakehouse(spark, lakehouse_root)
    committed: dict[str, int] = {}
    for info in sorted(fs.get_file_info(pafs.FileSelector(base)), key=lambda i: i.base_name):
        if info.type != pafs.FileType.Directory:
            continue
        model = info.base_name
        without_stats = set(lakehouse.personal_columns("gold", model)) | (personal or {}).get(model, set())
        committed[model] = overwrite_from_parquet(lakehouse.path("gold", model), f"{staging}/{model}",
                                                  operation="DBT BUILD", without_stats=without_stats)
        lakehouse.register_view("gold", model)
    log.info("committed %d gold table(s): %s", len(committed),
             ", ".join(f"{m} v{v}" for m, v in committed.items()) or "none changed")
    return committed


def drop_stale_views(spark: SparkSession, layers: Iterable[str], keep: Iterable[str]) -> list[str]:
    """Drop the session's `<layer>_<table>` temp views that this lakehouse has no table for (left by another
    lakehouse in the same session): the delta_table materialization compares a model with its view, and a
    stale one would make an unbuilt model look unchanged."""
    prefixes = tuple(f"{layer}_" for layer in layers)
    kept = set(keep)
    stale = [t.name for t in spark.catalog.listTables()
             if t.isTemporary and t.name.startswith(prefixes) and t.name not in kept]
    for name in stale:
        spark.catalog.dropTempView(name)
    if stale:
        log.info("dropped %d temp views of tables this lakehouse does not hold: %s", len(stale), ", ".join(stale))
    return stale


def _require_same_session(spark: SparkSession) -> None:
    """dbt-spark's session method calls SparkSession.builder.getOrCreate(): it must find `spark`."""
    found = SparkSession.builder.getOrCreate()
    if found is not spark:
        raise DbtInvocationError(
            "dbt-spark would run on a different SparkSession than the one passed to run_dbt; "
            "create the platform session with citydata.lakehouse.get_spark() in this process "
            "and stop any other session first"
        )
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)


def _summary(message: str) -> str:
    """First line of a dbt message, plus its last line when Spark buried the cause at the end."""
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    if len(lines) <= 1:
        return lines[0] if lines else ""
    return f"{lines[0]} ... {lines[-1]}"


def _node_result(result: Any) -> DbtNodeResult:
    node = result.node
    status = getattr(result.status, "value", str(result.status))
    return DbtNodeResult(
        unique_id=node.unique_id,
        name=node.name,
        resource_type=str(getattr(node.resource_type, "value", node.resource_type)),
        status=str(status),
        message=result.message,
        failures=result.failures,
        execution_time=float(result.execution_time or 0.0),
    )


def _log_progress(event: Any) -> None:
    info = event.info
    if info.name in _PROGRESS_EVENTS and info.msg:
        level = logging.WARNING if info.level in ("warn", "error") else logging.INFO
        log.log(level, "dbt: %s", info.msg.strip())
