"""Social insurance's list is standardized column-wise for silver (the population master's largest daily input):
the Arrow path gives the scalar path's values, verdicts and reasons row for row, amounts included.

Spark-free: silver's two task functions (`_columnar_batches`, the mapInArrow one, and `_standardize_batches`,
the mapInPandas one every contract used to take) run here over the same rows.
"""

from __future__ import annotations

import csv
import random
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from citydata.catalog.contracts import load_contract
from citydata.ingest import silver
from citydata.sources.simulate import simulate

INSURANCE = load_contract("social_insurance_employment")
NAMES = [f.name for f in INSURANCE.fields]
LANDED = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.fixture(scope="module")
def listed_rows(tmp_path_factory) -> list[dict[str, str]]:
    out = tmp_path_factory.mktemp("city")
    simulate(out, [1], persons=3000, seed=7)
    path: Path = out / "day-001" / "delivery" / INSURANCE.delivery.path
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        return [{f.name: row[f.column] for f in INSURANCE.fields} for row in reader]


def _batch(rows: list[dict[str, str | None]]) -> pa.RecordBatch:
    return pa.RecordBatch.from_pydict({
        **{name: pa.array([row[name] for row in rows], pa.string()) for name in NAMES},
        "_batch_id": pa.array(["b1"] * len(rows), pa.string()),
        "_row_number": pa.array(list(range(1, len(rows) + 1)), pa.int32()),
        "_ingested_at": pa.array([LANDED] * len(rows), pa.timestamp("us", tz="UTC"))})


def _arrow_path(rows: list[dict[str, str | None]]) -> list[dict]:
    return [r for out in silver._columnar_batches(INSURANCE)([_batch(rows)]) for r in out.to_pylist()]  # noqa: SLF001


def _pandas_path(rows: list[dict[str, str | None]]) -> list[dict]:
    frame = _batch(rows).to_pandas()
    out = next(silver._standardize_batches(INSURANCE)(iter([frame])))  # noqa: SLF001
    return [{k: (None if v is None or (not isinstance(v, (str, Decimal)) and pd.isna(v)) else v)
             for k, v in r.items()} for r in out.to_dict("records")]


def test_the_list_takes_the_column_wise_path():
    assert silver._arrow_standardizable(INSURANCE)  # noqa: SLF001


def test_odd_rows_give_the_scalar_values_verdicts_and_reasons(listed_rows):
    """Each simulated row once as delivered and once with one field changed the way deliveries vary."""
    rng = random.Random(13)
    variants = {
        "contribution_base": lambda v: rng.choice(["５０００", "5,000.50", "1.2万元", "￥4200", " 4200 ", "-12.5", "0",
                                                   "4200.1", "abc", "", v]),
        "id_number": lambda v: rng.choice([v.lower(), v[:-1] + rng.choice("0123456789X"), v[:15], v]),
        "employer_credit_code": lambda v: rng.choice([v.lower(), v[:-1] + "0", v[:17], v]),
        "insured_on": lambda v: rng.choice([v.replace("-", "/"), v.replace("-", ""), "2019-02-29", "", v]),
        "status": lambda v: rng.choice(["正常参保", "暂停缴费", "终止参保", "正常参", ""]),
        "name": lambda v: rng.choice([v, "", "\u3000", "张　三"]),
    }
    rows = []
    for row in listed_rows:
        rows.append(dict(row))
        field = rng.choice(list(variants))
        rows.append({**row, field: variants[field](row[field])})
    arrow, scalar = _arrow_path(rows), _pandas_path(rows)
    assert len(arrow) == len(scalar) == len(rows) > 1000
    keys = [*NAMES, "_row_number", "_ok", "_reason"]
    assert {r["_ingested_at"] for r in arrow} == {LANDED}  # the landing time is carried through
    assert {pd.Timestamp(r["_ingested_at"]) for r in scalar} == {pd.Timestamp(LANDED)}
    differing = [i for i in range(len(rows)) if any(arrow[i][k] != scalar[i][k] for k in keys)]
    assert differing == []
    # the amounts are decimal(20,2) as silver stores them, written units converted to yuan
    by_text = {row["contribution_base"]: out["contribution_base"] for row, out in zip(rows, arrow, strict=True)}
    assert by_text.get("1.2万元") == Decimal("12000.00")
    assert by_text.get("5,000.50") == Decimal("5000.50")
    assert by_text.get("５０００") == Decimal("5000.00")
    assert sum(not r["_ok"] for r in arrow) > 100


def test_an_amount_with_more_than_two_decimals_is_refused_by_both_paths(listed_rows):
    """Silver's column is decimal(20,2): neither path rounds an amount silently."""
    rows = [{**listed_rows[0], "contribution_base": "4200.125"}]
    with pytest.raises(pa.ArrowInvalid):
        _arrow_path(rows)
    frame = pd.DataFrame(_pandas_path(rows))
    with pytest.raises(pa.ArrowInvalid):
        pa.Array.from_pandas(frame["contribution_base"], type=pa.decimal128(20, 2), safe=False)
