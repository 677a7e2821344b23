"""dbt's data tests run in batches: the tests of one model as ONE Spark query instead of one query each.

At a small city a dbt data test is almost all per-query latency (planning, a small job, the round trip and dbt's
own work per node), whatever the rows: ~380 tests a build. Here every test is still compiled by dbt (`dbt
compile`, the same SQL `dbt build` would run) and judged by dbt's own rule, but the tests of a model are run
together, as `union all` of each test's `get_test_sql` query (failures, should_warn, should_error: the fail
calculation, warn_if and error_if of its config), so one query answers for all of them. Every test keeps its
own result (pass, warn or fail, its failing rows): none is dropped or merged.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from pyspark.sql import SparkSession

log = logging.getLogger(__name__)


class NotBatchable(ValueError):
    """A test this runner does not run the way dbt would (stored failures, a unit test): the build refuses it."""


@dataclass(frozen=True)
class CompiledTest:
    """A data test as dbt compiled it, with what judges its result."""

    unique_id: str
    name: str
    group: str  # the model (or source) it tests: tests of one group run as one query
    sql: str  # compiled_code: the failing rows
    fail_calc: str
    warn_if: str
    error_if: str
    severity: str
    limit: int | None

    @classmethod
    def of(cls, node: Any) -> CompiledTest:
        """From a compiled dbt test node."""
        config = node.config
        if str(getattr(node.resource_type, "value", node.resource_type)) != "test":
            raise NotBatchable(f"{node.unique_id} is not a data test")
        if getattr(config, "store_failures", None) or getattr(config, "store_failures_as", None):
            raise NotBatchable(f"{node.unique_id} stores its failures (store_failures), which the batched tests do "
                               "not do")
        if not node.compiled_code:
            raise NotBatchable(f"{node.unique_id} was not compiled")
        group = getattr(node, "attached_node", None) or (node.depends_on.nodes or [node.unique_id])[0]
        return cls(node.unique_id, node.name, group, node.compiled_code, config.fail_calc, config.warn_if,
                   config.error_if, str(config.severity), config.limit)

    def query(self, index: int) -> str:
        """dbt's get_test_sql for this test (default__get_test_sql), labelled with its index in the batch."""
        limit = f"\n      limit {self.limit}" if self.limit is not None else ""
        return (f"select {index} as test_index,\n"
                f"      {self.fail_calc} as failures,\n"
                f"      {self.fail_calc} {self.warn_if} as should_warn,\n"
                f"      {self.fail_calc} {self.error_if} as should_error\n"
                f"    from (\n{self.sql}{limit}\n    ) dbt_internal_test")


@dataclass(frozen=True)
class TestOutcome:
    """One test's result, as dbt's TestRunner.build_test_run_result would state it."""

    test: CompiledTest
    status: str  # "pass", "warn", "fail" or "error" (its batch's query failed)
    failures: int | None
    message: str | None
    seconds: float  # its share of its batch's query


def judge(test: CompiledTest, failures: int, should_warn: bool, should_error: bool) -> tuple[str, str | None]:
    """dbt's rule (dbt.task.test.TestRunner.build_test_run_result, without --warn-error): status and message."""
    rows = f"{failures} result{'' if failures == 1 else 's'}"
    if test.severity.upper() == "ERROR" and should_error:
        return "fail", f"Got {rows}, configured to fail if {test.error_if}"
    if should_warn:
        return "warn", f"Got {rows}, configured to warn if {test.warn_if}"
    return "pass", None


def batch_query(tests: list[CompiledTest]) -> str:
    """One query answering for every test of the batch: a row per test."""
    return "\nunion all\n".join(test.query(i) for i, test in enumerate(tests))


def run_batch(spark: SparkSession, tests: list[CompiledTest]) -> list[TestOutcome]:
    """Run one batch; a batch whose query fails is run one test at a time, so each error names its test."""
    started = time.monotonic()
    try:
        rows = spark.sql(batch_query(tests)).collect()
    except Exception as error:  # noqa: BLE001 - each test is then run alone, and its own error is reported
        if len(tests) == 1:
            return [TestOutcome(tests[0], "error", None, str(error), round(time.monotonic() - started, 3))]
        log.info("a batch of %d tests failed as one query (%s): running them one by one", len(tests),
                 str(error).splitlines()[0])
        return [outcome for test in tests for outcome in run_batch(spark, [test])]
    share = round((time.monotonic() - started) / len(tests), 3)
    outcomes = []
    for row in sorted(rows, key=lambda r: r["test_index"]):
        test = tests[row["test_index"]]
        failures = int(row["failures"] or 0)
        status, message = judge(test, failures, bool(row["should_warn"]), bool(row["should_error"]))
        outcomes.append(TestOutcome(test, status, failures, message, share))
    if len(outcomes) != len(tests):
        raise RuntimeError(f"a batch of {len(tests)} tests returned {len(outcomes)} rows")
    return outcomes


def run_tests(spark: SparkSession, tests: Iterable[CompiledTest], threads: int = 4) -> list[TestOutcome]:
    """Every test, the tests of each model as one query, `threads` queries at a time; results in test order."""
    groups: dict[str, list[CompiledTest]] = {}
    for test in tests:
        groups.setdefault(test.group, []).append(test)
    with ThreadPoolExecutor(max_workers=max(1, threads), thread_name_prefix="citydata-tests") as pool:
        batches = list(pool.map(lambda batch: run_batch(spark, batch), groups.values()))
    outcomes = [outcome for batch in batches for outcome in batch]
    log.info("%d dbt tests in %d queries: %d passed, %d warned, %d failed", len(outcomes), len(groups),
             sum(o.status == "pass" for o in outcomes), sum(o.status == "warn" for o in outcomes),
             sum(o.status in ("fail", "error") for o in outcomes))
    return outcomes
