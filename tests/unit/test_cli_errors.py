"""Expected failures become one line (`ClassName: message`); a bug keeps its traceback."""

from __future__ import annotations

import pytest

from citydata.cli.errors import MAX_CHARS, debug_requested, expected_failure
from citydata.ingest.bronze import DeliveryRejectedError
from citydata.lakehouse.errors import ConcurrentWriteError, DeltaCommitError, table_of_commit_error

# What a lost commit race looks like when the `delta` data source's commit (a Python process of Spark's)
# raised it: the bridge's error quoted inside Spark's exception text, after a worker traceback.
SPARK_WRAPPED = """[PYTHON_DATA_SOURCE_ERROR] Failed to commit the data source write
Traceback (most recent call last):
  File "/x/pyspark/sql/worker/commit_data_source_write.py", line 99, in main
    writer.commit(commit_messages)
pyspark_delta.errors.DeltaCommitError: Commit to Delta table '/h/lakehouse/silver/person' failed: another writer \
committed after version 3, which this operation read. Another writer changed the table; re-run the operation.
 SQLSTATE: 38000"""


def test_the_platforms_own_error_is_its_class_and_message_on_one_line() -> None:
    error = DeliveryRejectedError("day-002/births.csv", "FILE_ENCODING", "not GBK", "ask the department\nto redeliver")
    assert expected_failure(error) == ("DeliveryRejectedError: day-002/births.csv: delivery refused (FILE_ENCODING): "
                                       "not GBK. Fix: ask the department to redeliver")


def test_a_bridge_error_quoted_in_a_spark_exception_is_found_in_its_text() -> None:
    line = expected_failure(RuntimeError(SPARK_WRAPPED))
    assert line is not None and line.startswith("DeltaCommitError: Commit to Delta table '/h/lakehouse/silver/person'")
    assert "Traceback" not in line and "\n" not in line
    assert table_of_commit_error(RuntimeError(SPARK_WRAPPED)) == "silver.person"


def test_a_step_that_kept_losing_names_the_table_and_says_retry() -> None:
    error = ConcurrentWriteError(table_of_commit_error(DeltaCommitError(
        "Commit to Delta table '/h/lakehouse/silver/legal_entity' failed: x")), 4)
    assert expected_failure(error) == ("ConcurrentWriteError: another run is writing silver.legal_entity; retry when "
                                       "it has finished (this run lost the commit race 4 time(s); rerunning is safe)")


def test_a_bug_is_not_an_expected_failure() -> None:
    assert expected_failure(KeyError("district_code")) is None
    assert expected_failure(ValueError("a message naming DeltaCommitError without its module")) is None


def test_a_long_message_is_cut_to_one_terminal_line() -> None:
    line = expected_failure(DeltaCommitError("x" * 10_000))
    assert line is not None and len(line) == MAX_CHARS and line.endswith("…")


@pytest.mark.parametrize(("value", "verbose", "expected"),
                         [("", False, False), ("0", False, False), ("false", False, False), ("1", False, True),
                          ("", True, True)])
def test_tracebacks_only_when_asked(monkeypatch: pytest.MonkeyPatch, value: str, verbose: bool, expected: bool) -> None:
    monkeypatch.setenv("CITYDATA_DEBUG", value)
    assert debug_requested(verbose) is expected
