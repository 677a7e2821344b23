"""Landing a plain CSV in tasks gives the connector path's rows, row numbers, verdicts and reasons.

Spark-free: the task function (`read_range`) runs here over the planned byte ranges and is compared,
row by row, with the connector's read followed by validate_record — the path every non-plain file takes.
"""

from __future__ import annotations

import csv
import io
import random
from datetime import date
from pathlib import Path

import pyarrow as pa
import pytest

from citydata.catalog.contracts import load_contract
from citydata.ingest import csv_landing
from citydata.ingest.bronze import read_delivery
from citydata.ingest.columnar import certainly_valid, standardized
from citydata.ingest.validate import validate_record
from citydata.sources.simulate import simulate

REGISTER = load_contract("household_register")
TODAY = date.today()


@pytest.fixture(scope="module")
def register_file(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("city")
    simulate(out, [1], persons=3000, seed=5)
    return out / "day-001" / "delivery" / REGISTER.delivery.path


def _tasks(plan: csv_landing.CsvPlan) -> dict[int, dict]:
    """Row number -> what the tasks handed back for it."""
    rows: dict[int, dict] = {}
    for start, end, first in plan.ranges:
        for batch in csv_landing.read_range(REGISTER, plan, start, end, first, TODAY):
            for row in batch.to_pylist():
                rows[row["_row_number"]] = row
    return rows


def _connector(path: Path) -> dict[int, dict]:
    """Row number -> the connector's read and validate_record's verdict (bronze's driver path)."""
    names = [f.name for f in REGISTER.fields]
    rows = {}
    for _file, number, _encoding, _hash, values, reason, detail, _masked in read_delivery(REGISTER, path).rows:
        if values is None:
            rows[number] = {"ok": False, "reason_code": reason, "reason_detail": detail, **dict.fromkeys(names)}
            continue
        raw = dict(zip(names, values))
        result = validate_record(REGISTER, raw)
        rows[number] = {"ok": result.ok, "reason_code": result.reason_code,
                        "reason_detail": result.reason_detail or None, **raw}
    return rows


def _same(tasks: dict[int, dict], connector: dict[int, dict]) -> None:
    assert tasks.keys() == connector.keys()
    keys = ["ok", "reason_code", "reason_detail", *[f.name for f in REGISTER.fields]]
    differing = [n for n in connector if any(tasks[n][k] != connector[n][k] for k in keys)]
    assert differing == []


def test_the_simulated_register_lands_alike_in_tasks_and_through_the_connector(register_file):
    plan = csv_landing.plan_csv(REGISTER, register_file, parallelism=2, min_range_bytes=100_000)
    assert plan is not None and plan.encoding == "gbk" and len(plan.ranges) == 4
    delivery = read_delivery(REGISTER, register_file)
    assert plan.rows == len(delivery.rows) and plan.content_hash == delivery.content_hash
    tasks = _tasks(plan)
    _same(tasks, _connector(register_file))
    rejected = sum(not row["ok"] for row in tasks.values())
    assert 0 < rejected < len(tasks) // 10  # the simulator's defects are there, and rejected


def test_odd_rows_of_a_plain_file_land_alike(tmp_path, register_file):
    """A row of 12 cells, one of 10, a lowercase x, full-width digits, spaces, a wrong check character, another
    date form: the tasks send them to the scalar rule or COLUMN_COUNT exactly as the connector path does."""
    text = register_file.read_bytes().decode("gbk")
    header, *lines = text.split("\r\n")[:40]
    cells = [line.split(",") for line in lines]
    cells[1] = [*cells[1], "多余"]
    cells[2] = cells[2][:-1]
    cells[3][0] = cells[3][0].lower()
    cells[4][0] = cells[4][0].translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    cells[5][1] = f" {cells[5][1]} "
    cells[6][0] = cells[6][0][:-1] + ("0" if cells[6][0][-1] != "0" else "1")
    cells[7][3] = cells[7][3].replace("-", "/")
    cells[8] = list(cells[9])  # a repeated row: both rows read alike (the plan's repeats, marked by bronze)
    path = tmp_path / "household_register.csv"
    path.write_bytes(("\r\n".join([header, *(",".join(c) for c in cells)]) + "\r\n").encode("gbk"))
    plan = csv_landing.plan_csv(REGISTER, path, parallelism=2)
    assert plan is not None
    tasks = _tasks(plan)
    _same(tasks, _connector(path))
    assert tasks[2]["reason_code"] == tasks[3]["reason_code"] == "COLUMN_COUNT"
    assert plan.repeats == {10: 9}


def test_the_scan_finds_the_repeats_the_connector_finds(register_file):
    plan = csv_landing.plan_csv(REGISTER, register_file, parallelism=2, min_range_bytes=100_000)
    assert plan.repeats  # the simulator repeats rows
    assert plan.repeats == read_delivery(REGISTER, register_file).repeats[register_file.name]


def test_a_repeat_is_the_same_contract_cells_whatever_the_line_end_or_an_extra_column(tmp_path, register_file):
    """Rows 1-11 differ (and so does the extra column); row 12 repeats row 1's contract cells with another extra
    cell, row 13 repeats row 2 ending in a bare line feed, rows 14 and 15 are one line of the wrong width twice:
    COLUMN_COUNT both, not a repeat."""
    header, *lines = register_file.read_bytes().decode("gbk").split("\r\n")[:12]
    rows = [f"{line},备注{n}" for n, line in enumerate(lines, 1)]
    rows += [f"{lines[0]},另一备注", rows[1], f"{rows[2]},多余", f"{rows[2]},多余"]
    ends = ["\r\n"] * len(rows)
    ends[12] = "\n"
    path = tmp_path / "household_register.csv"
    path.write_bytes((f"{header},备注\r\n" + "".join(row + end for row, end in zip(rows, ends))).encode("gbk"))
    plan = csv_landing.plan_csv(REGISTER, path, parallelism=2)
    assert plan is not None and plan.width == len(REGISTER.fields) + 1
    assert plan.repeats == {12: 1, 13: 2}
    assert plan.repeats == read_delivery(REGISTER, path).repeats[path.name]
    assert [_tasks(plan)[n]["reason_code"] for n in (14, 15)] == ["COLUMN_COUNT", "COLUMN_COUNT"]


@pytest.mark.parametrize("change, why", [
    (lambda b: b.replace(b"\r\n", b"\r\n\r\n", 3), "a blank line"),
    (lambda b: b[:-2], "no final line break"),
    (lambda b: b.replace(",", ',"', 1) if isinstance(b, str) else b.replace(b"\r\n3", b'\r\n"3', 1), "a quote"),
    (lambda b: b.replace(b"\r\n", b"\r", 2), "a carriage return alone"),
    (lambda b: b.decode("gbk").encode("utf-8"), "UTF-8 where the contract says GBK"),
    (lambda b: b.replace("姓名".encode("gbk"), "名字".encode("gbk"), 1), "a header without a contract column"),
    (lambda b: b.split(b"\r\n", 1)[1], "no header line"),
])
def test_files_that_are_not_plain_go_to_the_connector(tmp_path, register_file, change, why):
    path = tmp_path / "household_register.csv"
    path.write_bytes(change(register_file.read_bytes()[:200_000].rsplit(b"\r\n", 1)[0] + b"\r\n"))
    assert csv_landing.plan_csv(REGISTER, path, parallelism=2) is None, why


def test_ranges_start_at_line_ends_and_number_rows_on(register_file):
    plan = csv_landing.plan_csv(REGISTER, register_file, parallelism=4, min_range_bytes=50_000)
    data = register_file.read_bytes()
    assert len(plan.ranges) > 1
    assert all(data[start - 1:start] == b"\n" for start, _, _ in plan.ranges)
    assert [first for _, _, first in plan.ranges] == [
        1 + data[plan.ranges[0][0]:start].count(b"\n") for start, _, _ in plan.ranges]
    assert plan.ranges[-1][1] == len(data)


def _wide(value: str) -> str:
    """Full-width digits and letters, as some departments' systems deliver them."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in value)


def test_rows_certainly_valid_column_wise_are_valid_by_the_scalar_rule(register_file):
    """100,000 register rows, each from the simulated file with one field changed the way deliveries vary."""
    rng = random.Random(21)
    names = [f.name for f in REGISTER.fields]
    text = register_file.read_bytes().decode("gbk")
    rows = [row for row in csv.reader(io.StringIO(text, newline=""))][1:]
    variants = {
        "id_number": lambda v: rng.choice([v.lower(), v[:-1] + rng.choice("0123456789X"), v[:6] + "2099" + v[10:],
                                           v[:6] + "1850" + v[10:], "990101" + v[6:], v[:15], v, _wide(v),
                                           _wide(v[:9]) + v[9:], _wide(v.lower()), f"{_wide(v)}\u3000",
                                           _wide(v[:-1] + rng.choice("0123456789X"))]),
        "birth_date": lambda v: rng.choice([v.replace("-", "/"), v.replace("-", ""), v[:8] + "31", "2019-02-29", v]),
        "gender": lambda v: rng.choice(["男", "女", "1", "2", "M", "F", "m", "未知", ""]),
        "district_code": lambda v: rng.choice([v, "339999", "339900", v[:5], "339901"]),
        "street_code": lambda v: rng.choice([v, v[:6] + "999", "339901001", "339902001", v[:8]]),
        "phone": lambda v: rng.choice([v, "", "12345678901", v[:10], "+86" + v]),
        "registered_on": lambda v: rng.choice([v, "1900-01-01", "1970-01-01", "2099-12-31", ""]),
        "name": lambda v: rng.choice([v, "", " ", "\u3000", "x" * 300]),
    }
    sample = []
    for _ in range(100_000):
        row = dict(zip(names, rng.choice(rows)))
        field = rng.choice(list(variants))
        row[field] = variants[field](row[field])
        sample.append(row)
    batch = pa.RecordBatch.from_pydict({name: [row[name] for row in sample] for name in names})
    accepted = certainly_valid(REGISTER, batch, TODAY)
    assert accepted.sum() > 30_000
    unsound = [i for i in range(len(sample)) if accepted[i] and not validate_record(REGISTER, sample[i]).ok]
    assert unsound == []
    assert accepted[[not row["id_number"].isascii() for row in sample]].sum() > 1_000  # full-width ID numbers
    # silver's values: where the column-wise path standardizes a row, validate_record gives the same values
    standard_rows, values = standardized(REGISTER, batch, TODAY)
    assert standard_rows.sum() > 30_000 and not (standard_rows & ~accepted).any()
    columns = {name: values[name].to_pylist() for name in names}
    differing = [i for i in range(len(sample)) if standard_rows[i] and
                 validate_record(REGISTER, sample[i]).values != {name: columns[name][i] for name in names}]
    assert differing == []
