"""A silver step that loses a commit race is run again; one that keeps losing ends with one clear error naming
the table; anything else is not retried."""

from __future__ import annotations

import pytest

from citydata.ingest import concurrency
from citydata.ingest.concurrency import retry_on_conflict
from citydata.lakehouse.errors import ConcurrentWriteError, DeltaCommitError, SchemaMismatchError

LOST = "Commit to Delta table '/h/lakehouse/silver/person' failed: another writer committed after version 7"


@pytest.fixture(autouse=True)
def no_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(concurrency, "RETRY_PAUSE_SECONDS", (0.0, 0.0))


def _losing(times: int, result: str = "done"):  # noqa: ANN202 - a step for the tests
    calls = []

    def step() -> str:
        calls.append(1)
        if len(calls) <= times:
            raise DeltaCommitError(LOST)
        return result

    return step, calls


def test_a_step_that_lost_a_race_runs_again_and_returns_its_result() -> None:
    step, calls = _losing(2)
    assert retry_on_conflict(step, "silver step population") == "done"
    assert len(calls) == 3


def test_a_step_that_keeps_losing_ends_naming_the_table() -> None:
    step, calls = _losing(10)
    with pytest.raises(ConcurrentWriteError, match=r"^another run is writing silver.person; retry") as error:
        retry_on_conflict(step, "silver step population", attempts=4)
    assert len(calls) == 4 and error.value.attempts == 4 and error.value.table == "silver.person"


def test_an_inner_give_up_and_other_errors_are_not_retried() -> None:
    calls = []

    def gave_up() -> None:
        calls.append(1)
        raise ConcurrentWriteError("silver.applied_batches", 5)

    with pytest.raises(ConcurrentWriteError, match="silver.applied_batches"):
        retry_on_conflict(gave_up, "step")

    def wrong_schema() -> None:
        calls.append(1)
        raise SchemaMismatchError("/h/lakehouse/silver/person", ["column 'x' is not in the table"])

    with pytest.raises(SchemaMismatchError):
        retry_on_conflict(wrong_schema, "step")
    assert len(calls) == 2
