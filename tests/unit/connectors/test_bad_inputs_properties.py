"""Property-based tests (hypothesis) over every connector: bad inputs end as rejects with a reason code or a
refusal naming the file, never a traceback, and raw rows = accepted + rejected.

Each connector's test starts from a real delivery of the simulated city (a few rows of it: the household
register in GBK, the social-insurance list in UTF-8, the market registry workbook, the tax API pages, the
street boundaries) and breaks it one way per example: cut at an offset of every class (inside the header,
at a line break, between CR and LF, mid-row, inside a multi-byte character), another encoding, missing /
extra / reordered columns, 0-byte and header-only files, a huge field, a row of the wrong width, random
bytes, malformed JSON, invalid geometries. Where the fault decides the outcome, the test computes it
independently of the connector (e.g. the rows a cut leaves) and asserts it. 200 examples per connector,
no Spark: docs/reliability.md ("Bad inputs") quotes these figures.
"""

from __future__ import annotations

import copy
import csv
import functools
import io
import itertools
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from citydata.catalog.contracts import SourceContract, load_contract
from citydata.ingest.validate import validate_record
from citydata.sources.connectors import read_all
from citydata.standards.geo import load_city_geometry

from bad_input_oracle import account

EXAMPLES = 200  # per connector; docs/reliability.md quotes it
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
ROWS = 6  # rows of each real delivery the examples break

REGISTER = load_contract("household_register")
EMPLOYMENT = load_contract("social_insurance_employment")
ENTITIES = load_contract("legal_entities")
TAX = load_contract("tax_payments")
STREETS = load_contract("geo_streets")


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("bad-inputs")


# --- CSV -------------------------------------------------------------------------------------------------

def csv_bytes(header: list[str], rows: list[list[str]], encoding: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def valid(contract: SourceContract, values: dict[str, str]) -> bool:
    """A row its contract accepts: the examples break good rows, so each row's reason is the fault's."""
    return validate_record(contract, {f.name: values[f.column] for f in contract.fields}).ok


@functools.cache
def csv_base(city: Path, rel: str, encoding: str, contract: SourceContract) -> tuple[list[str], list[list[str]]]:
    """The header and the first ROWS valid rows of a delivered CSV (read once per test session)."""
    text = (city / "day-001" / "delivery" / rel).read_bytes().decode(encoding)
    header, *rows = list(csv.reader(io.StringIO(text, newline="")))
    return header, list(itertools.islice((r for r in rows if valid(contract, dict(zip(header, r)))), ROWS))


def offset_classes(data: bytes, encoding: str) -> list[int]:
    """Byte offsets of every class a cut can fall at: line breaks, between CR and LF, mid-row, inside a
    multi-byte character, inside the header."""
    offsets, at = set(), 0
    for char in data.decode(encoding):
        size = len(char.encode(encoding))
        if size > 1:
            offsets.add(at + 1)  # inside the character
        if char == "\r":
            offsets.update({at, at + 1})  # before CR, between CR and LF
        at += size
    lines = [i + 2 for i in range(len(data)) if data[i:i + 2] == b"\r\n"]
    offsets.update(lines)
    offsets.update((a + b) // 2 for a, b in zip([0, *lines], lines))  # mid-row (and mid-header)
    return sorted(o for o in offsets if 0 <= o <= len(data))


def expected_cut(data: bytes, cut: int) -> tuple[str | None, int, bool]:
    """(whole-file reason, rows left, last row cut) of a CSV with a promised final line break cut at `cut`,
    computed from the bytes alone."""
    header_end = data.index(b"\r\n")
    if cut == 0:  # nothing arrived: an empty file
        return "HEADER_MISSING", 0, False
    if cut <= header_end:  # the header line is incomplete or lacks its line break
        return "FILE_TRUNCATED", 0, False
    kept = data[header_end + 2:cut] if cut >= header_end + 2 else b""
    pieces = [p for p in kept.split(b"\r\n") if p]
    mid_row = bool(kept) and not kept.endswith((b"\r\n", b"\r"))
    return None, len(pieces), mid_row


CSV_FAULTS = st.one_of(
    st.tuples(st.just("cut"), st.integers(0, 10**6), st.booleans()),
    st.tuples(st.just("encoding"), st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "gbk", "utf-16", "utf-16-le"])),
    st.tuples(st.just("columns"), st.sampled_from(["drop", "extra", "reorder"]), st.randoms(use_true_random=False)),
    st.tuples(st.just("empty"), st.sampled_from([b"", "header", "header-without-line-break"])),
    st.tuples(st.just("huge"), st.integers(0, ROWS - 1), st.integers(4_001, 300_000)),
    st.tuples(st.just("width"), st.integers(0, ROWS - 2), st.sampled_from([-1, 1])),
    st.tuples(st.just("random"), st.binary(max_size=3000)),
    st.tuples(st.just("splice"), st.integers(0, 10**6), st.binary(min_size=1, max_size=40)),
)


def reshape_columns(header: list[str], rows: list[list[str]], change: str, shuffle,  # noqa: ANN001
                    extra_anywhere: bool) -> tuple[list[str], list[list[str]]]:
    """Header and rows with one column dropped, the columns reordered, or a column no contract names added
    (`extra`: at a random place, or last where `extra_anywhere` is False)."""
    order = list(range(len(header)))
    if change == "drop":
        order.pop(shuffle.randrange(len(order)))
    elif change == "reorder":
        shuffle.shuffle(order)
    new_header, new_rows = [header[i] for i in order], [[r[i] for i in order] for r in rows]
    if change == "extra":
        at = shuffle.randrange(len(header) + 1) if extra_anywhere else len(new_header)
        new_header.insert(at, "备注")
        for r in new_rows:
            r.insert(at, "额外的值")
    return new_header, new_rows


def check_csv(contract, header, rows, encoding, fault, path, secrets) -> None:  # noqa: ANN001, PLR0912
    data = csv_bytes(header, rows, encoding)
    kind = fault[0]
    if kind == "cut":
        classes = offset_classes(data, encoding)
        cut = classes[fault[1] % len(classes)] if fault[2] else fault[1] % (len(data) + 1)
        path.write_bytes(data[:cut])
        outcome = account(contract, path, secrets)
        whole, left, mid_row = expected_cut(data, cut)
        assert (outcome.whole, outcome.rows) == (whole, left), cut
        if mid_row:
            assert outcome.last() == "FILE_TRUNCATED", cut
    elif kind == "encoding":
        path.write_bytes(csv_bytes(header, rows, fault[1]))
        outcome = account(contract, path, secrets)
        expected = "FILE_ENCODING" if fault[1].startswith("utf-16") else None
        assert (outcome.whole, outcome.rows) == (expected, 0 if expected else len(rows))
    elif kind == "columns":
        new_header, new_rows = reshape_columns(header, rows, fault[1], fault[2], extra_anywhere=True)
        path.write_bytes(csv_bytes(new_header, new_rows, encoding))
        outcome = account(contract, path, secrets)
        if fault[1] == "drop":
            assert outcome.whole == "HEADER_MISMATCH"
        else:  # values are read by column name, wherever the column stands
            assert (outcome.whole, outcome.rows) == (None, len(rows))
            assert [list(r.values.values()) for r in read_all(contract, path).records] == [
                [r[header.index(c)] for c in contract.columns] for r in rows]
    elif kind == "empty":
        variant = fault[1]
        path.write_bytes(variant if isinstance(variant, bytes) else csv_bytes(header, [], encoding)[
            :None if variant == "header" else -2])
        outcome = account(contract, path, secrets)
        expected = {b"": "HEADER_MISSING", "header": None, "header-without-line-break": "FILE_TRUNCATED"}[variant]
        assert (outcome.whole, outcome.rows) == (expected, 0)
    elif kind == "huge":
        row, size = fault[1] % len(rows), fault[2]
        column = next(i for i, c in enumerate(header) if c in ("住址", "单位名称"))
        big = [list(r) for r in rows]
        big[row][column] = "路" * size
        path.write_bytes(csv_bytes(header, big, encoding))
        outcome = account(contract, path, secrets)
        assert outcome.rows == len(rows) and outcome.reasons[(0, row + 1)] == "FIELD_TOO_LONG"
    elif kind == "width":
        row, change = fault[1] % (len(rows) - 1), fault[2]
        odd = [list(r) for r in rows]
        odd[row] = odd[row][:-1] if change < 0 else [*odd[row], "多余"]
        path.write_bytes(csv_bytes(header, odd, encoding))
        outcome = account(contract, path, secrets)
        assert outcome.rows == len(rows) and outcome.reasons[(0, row + 1)] == "COLUMN_COUNT"
    elif kind == "random":
        path.write_bytes(fault[1])
        account(contract, path, secrets)
    else:  # splice random bytes into the file
        at = fault[1] % (len(data) + 1)
        path.write_bytes(data[:at] + fault[2] + data[at:])
        account(contract, path, secrets)


def personal(rows: list[list[str]], header: list[str], contract) -> set[str]:  # noqa: ANN001
    """The long personal values of the rows (ID numbers, phones, addresses): none may be quoted."""
    columns = [header.index(f.column) for f in contract.fields if f.personal and f.mask != "name"]
    return {r[i] for r in rows for i in columns if len(r[i]) >= 8}


@SETTINGS
@given(fault=CSV_FAULTS)
def test_csv_gbk_household_register_every_bad_input_is_accounted(city: Path, work: Path, fault: tuple) -> None:
    header, rows = csv_base(city, "police/household_register.csv", "gbk", REGISTER)
    check_csv(REGISTER, header, rows, "gbk", fault, work / "household_register.csv",
              personal(rows, header, REGISTER))


@SETTINGS
@given(fault=CSV_FAULTS)
def test_csv_utf8_social_insurance_every_bad_input_is_accounted(city: Path, work: Path, fault: tuple) -> None:
    header, rows = csv_base(city, "social_insurance/employment.csv", "utf-8", EMPLOYMENT)
    check_csv(EMPLOYMENT, header, rows, "utf-8", fault, work / "employment.csv", personal(rows, header, EMPLOYMENT))


# --- XLSX ------------------------------------------------------------------------------------------------

def workbook_bytes(header: list[str], rows: list[list[str]], sheet: str) -> bytes:
    book = Workbook()
    book.active.title = sheet
    book.active.append(header)
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@functools.cache
def xlsx_base(city: Path) -> tuple[list[str], list[list[str]]]:
    delivered = read_all(ENTITIES, city / "day-001" / "delivery" / "market_regulation" / "legal_entities.xlsx")
    header = list(ENTITIES.columns)
    valid_rows = (r for r in delivered.records if valid(ENTITIES, r.values))
    return header, [[r.values[c] for c in header] for r in itertools.islice(valid_rows, ROWS)]


XLSX_FAULTS = st.one_of(
    st.tuples(st.just("cut"), st.integers(0, 10**7)),
    st.tuples(st.just("flip"), st.integers(0, 10**7), st.integers(1, 255)),
    st.tuples(st.just("columns"), st.sampled_from(["drop", "extra", "reorder"]), st.randoms(use_true_random=False)),
    st.tuples(st.just("sheet"), st.sampled_from(["Sheet1", "市场主体"])),
    st.tuples(st.just("empty"), st.sampled_from(["0-byte", "header"])),
    st.tuples(st.just("huge"), st.integers(0, ROWS - 1), st.integers(4_001, 32_767)),  # Excel's cell limit
    st.tuples(st.just("random"), st.binary(max_size=3000)),
)


@SETTINGS
@given(fault=XLSX_FAULTS)
def test_xlsx_market_registry_every_bad_input_is_accounted(city: Path, work: Path, fault: tuple) -> None:
    header, rows = xlsx_base(city)
    secrets = {r[header.index("法定代表人证件号码")] for r in rows}
    sheet = ENTITIES.delivery.sheet
    data = workbook_bytes(header, rows, sheet)
    path = work / "legal_entities.xlsx"
    kind = fault[0]
    if kind == "cut":
        cut = fault[1] % len(data)  # every proper prefix: a zip without its end
        path.write_bytes(data[:cut])
        assert account(ENTITIES, path, secrets).whole == ("FILE_FORMAT" if cut < 4 else "FILE_TRUNCATED")
    elif kind == "flip":
        at = fault[1] % len(data)
        flipped = bytearray(data)
        flipped[at] ^= fault[2]
        path.write_bytes(bytes(flipped))
        outcome = account(ENTITIES, path, secrets)
        assert outcome.whole is not None or outcome.rows == len(rows)
    elif kind == "columns":
        new_header, new_rows = reshape_columns(header, rows, fault[1], fault[2], extra_anywhere=False)
        path.write_bytes(workbook_bytes(new_header, new_rows, sheet))
        outcome = account(ENTITIES, path, secrets)
        assert (outcome.whole, outcome.rows) == (("HEADER_MISMATCH", 0) if fault[1] == "drop" else (None, len(rows)))
    elif kind == "sheet":
        path.write_bytes(workbook_bytes(header, rows, fault[1]))
        assert account(ENTITIES, path, secrets).whole == "SHEET_MISSING"
    elif kind == "empty":
        path.write_bytes(b"" if fault[1] == "0-byte" else workbook_bytes(header, [], sheet))
        outcome = account(ENTITIES, path, secrets)
        assert (outcome.whole, outcome.rows) == (("FILE_FORMAT", 0) if fault[1] == "0-byte" else (None, 0))
    elif kind == "huge":
        big = [list(r) for r in rows]
        big[fault[1]][header.index("住所")] = "路" * fault[2]
        path.write_bytes(workbook_bytes(header, big, sheet))
        outcome = account(ENTITIES, path, secrets)
        assert outcome.rows == len(rows) and outcome.reasons[(0, fault[1] + 1)] == "FIELD_TOO_LONG"
    else:
        path.write_bytes(fault[1])
        assert account(ENTITIES, path, secrets).whole in ("FILE_FORMAT", "FILE_TRUNCATED")


# --- JSON API pages ----------------------------------------------------------------------------------------

def write_pages(folder: Path, pages: list[bytes]) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "pages").mkdir(parents=True)
    names = [f"pages/page-{n:05d}.json" for n in range(1, len(pages) + 1)]
    for name, body in zip(names, pages):
        (folder / name).write_bytes(body)
    (folder / "api.json").write_text(json.dumps({"endpoint": "/api/tax", "pages": names}), encoding="utf-8")


def page_bytes(records: list) -> bytes:
    return (json.dumps({"records": records}, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


def json_complete(data: bytes) -> bool:
    try:
        json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return False
    return True


@functools.cache
def tax_base(city: Path) -> list[dict]:
    page = json.loads((city / "day-001" / "delivery" / "tax" / "pages" / "page-00001.json").read_text("utf-8"))
    valid_records = (r for r in page["records"] if valid(TAX, {k: "" if v is None else str(v) for k, v in r.items()}))
    return list(itertools.islice(valid_records, ROWS * 3))


API_FAULTS = st.one_of(
    st.tuples(st.just("cut"), st.integers(0, 2), st.integers(0, 10**6)),
    st.tuples(st.just("malformed"), st.integers(0, 2), st.integers(0, 10**6), st.sampled_from(["#", "}", ",", "'"])),
    st.tuples(st.just("encoding"), st.integers(0, 2), st.sampled_from(["gbk", "utf-16", "utf-8-sig"])),
    st.tuples(st.just("records"), st.integers(0, ROWS * 3 - 1),
              st.sampled_from(["number", "list", "string", "null", "missing member", "extra member", "nested"])),
    st.tuples(st.just("page"), st.integers(0, 2), st.sampled_from([b"", b"[]", b'{"records": {}}', b"{}"])),
    st.tuples(st.just("huge"), st.integers(0, ROWS * 3 - 1), st.integers(4_001, 300_000)),
    st.tuples(st.just("random"), st.integers(0, 2), st.binary(max_size=2000)),
)


@SETTINGS
@given(fault=API_FAULTS)
def test_json_api_tax_pages_every_bad_input_is_accounted(city: Path, work: Path, fault: tuple) -> None:
    records = copy.deepcopy(tax_base(city))
    chunks = [records[i:i + ROWS] for i in range(0, len(records), ROWS)]  # three pages
    folder = work / "tax"
    kind, expected_rows = fault[0], len(records)
    bodies = [page_bytes(c) for c in chunks]
    if kind in ("cut", "malformed", "encoding", "page", "random"):
        n = fault[1] % len(bodies)
        body = bodies[n]
        if kind == "cut":
            body = body[:fault[2] % (len(body) + 1)]
        elif kind == "malformed":
            at = fault[2] % len(body)
            body = body[:at] + fault[3].encode() + body[at:]
        elif kind == "encoding":
            body = json.dumps({"records": chunks[n]}, ensure_ascii=False).encode(fault[2])
        elif kind == "page":
            body = fault[2]
        else:
            body = fault[2]
        bodies[n] = body
        write_pages(folder, bodies)
        outcome = account(TAX, folder)
        if json_complete(body):
            document = json.loads(body.decode("utf-8"))
            if isinstance(document, dict) and isinstance(document.get("records"), list):
                expected_rows = expected_rows - len(chunks[n]) + len(document["records"])
                assert (outcome.whole, outcome.rows) == (None, expected_rows)
            else:
                assert outcome.whole == "FILE_FORMAT"
        elif kind == "cut":
            assert outcome.whole == "FILE_TRUNCATED"
        elif kind == "encoding" and fault[2] != "utf-8-sig":
            assert outcome.whole == "FILE_ENCODING"
        else:
            assert outcome.whole is not None
        return
    flat = copy.deepcopy(records)
    at = fault[1] % len(flat)
    if kind == "huge":
        flat[at]["taxpayer_name"] = "司" * fault[2]
        expected = "FIELD_TOO_LONG"
    else:
        expected = {"number": "RECORD_FORMAT", "list": "RECORD_FORMAT", "string": "RECORD_FORMAT",
                    "null": "RECORD_FORMAT", "missing member": "REQUIRED_MISSING", "extra member": None,
                    "nested": "DATE_FORMAT"}[fault[2]]
        flat[at] = {"number": 42, "list": [1, 2], "string": "record", "null": None,
                    "missing member": {k: v for k, v in flat[at].items() if k != "paid_date"},
                    "extra member": {**flat[at], "note": "extra"},
                    "nested": {**flat[at], "paid_date": {"date": "2024-12-02"}}}[fault[2]]
    write_pages(folder, [page_bytes(flat[i:i + ROWS]) for i in range(0, len(flat), ROWS)])
    outcome = account(TAX, folder)
    assert (outcome.whole, outcome.rows) == (None, expected_rows)
    assert outcome.reasons[(at // ROWS + 1, at % ROWS + 1)] == expected


# --- GeoJSON ---------------------------------------------------------------------------------------------

CUT_CLASSES = ("anywhere", "inside a character")
GEOMETRY_FAULTS = {
    "open ring": ("GEOMETRY_RING_OPEN", lambda ring: [ring[0], ring[2]]),
    "unclosed": ("GEOMETRY_RING_OPEN", lambda ring: ring[:-1]),
    "bow tie": ("GEOMETRY_SELF_INTERSECTION", lambda ring: [ring[0], ring[2], ring[1], ring[3], ring[0]]),
    "outside": ("GEOMETRY_OUTSIDE_CITY", lambda ring: [[x + 1.0, y] for x, y in ring]),
    "out of range": ("COORD_RANGE", lambda ring: [[x + 500.0, y] for x, y in ring]),
    "not a position": ("GEOMETRY_FORMAT", lambda ring: [[x] for x, y in ring]),
}

GEOJSON_FAULTS = st.one_of(
    st.tuples(st.just("cut"), st.sampled_from(CUT_CLASSES), st.integers(0, 10**7)),
    st.tuples(st.just("geometry"), st.integers(0, ROWS - 1), st.sampled_from(sorted(GEOMETRY_FAULTS))),
    st.tuples(st.just("malformed"), st.integers(0, 10**7), st.sampled_from(["#", "]", ":", "\\"])),
    st.tuples(st.just("feature"), st.integers(0, ROWS - 1),
              st.sampled_from(["number", "no properties", "no geometry", "geometry null", "extra property"])),
    st.tuples(st.just("document"), st.sampled_from(["[]", '{"type": "Feature"}', '{"type": "FeatureCollection"}',
                                                    "", '{"type": "FeatureCollection", "features": {}}'])),
    st.tuples(st.just("crs"), st.sampled_from(["EPSG:3857", "urn:ogc:def:crs:OGC:1.3:CRS84", 7, ["x"]])),
    st.tuples(st.just("random"), st.binary(max_size=3000)),
)


@SETTINGS
@given(fault=GEOJSON_FAULTS)
def test_geojson_street_boundaries_every_bad_input_is_accounted(work: Path, fault: tuple) -> None:
    streets = [f for f in load_city_geometry().geojson["features"] if f["properties"]["level"] == "street"][:ROWS]
    collection = {"type": "FeatureCollection", "features": copy.deepcopy(streets)}
    path = work / "streets.geojson"
    kind = fault[0]
    data = json.dumps(collection, ensure_ascii=False).encode("utf-8")
    if kind == "cut":
        if fault[1] == "anywhere":
            cut = fault[2] % len(data)
        else:  # inside one of the Chinese street names' three-byte characters
            inside = [i + 1 for i in range(len(data)) if data[i] >= 0xE0]
            cut = inside[fault[2] % len(inside)]
        path.write_bytes(data[:cut])
        assert account(STREETS, path).whole == "FILE_TRUNCATED"
        return
    if kind == "malformed":
        at = fault[1] % len(data)
        path.write_bytes(data[:at] + fault[2].encode() + data[at:])
        outcome = account(STREETS, path)
        assert outcome.whole is not None or outcome.rows == len(streets)
        return
    if kind in ("document", "random"):
        path.write_bytes(fault[1].encode() if kind == "document" else fault[1])
        assert account(STREETS, path).whole is not None
        return
    if kind == "crs":
        collection["crs"] = {"type": "name", "properties": {"name": fault[1]}}
        path.write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")
        outcome = account(STREETS, path)
        wgs84 = fault[1] == "urn:ogc:def:crs:OGC:1.3:CRS84"
        assert (outcome.whole, outcome.rows) == ((None, len(streets)) if wgs84 else ("COORD_SYSTEM", 0))
        return
    row = fault[1]
    feature = collection["features"][row]
    if kind == "geometry":
        expected, damage = GEOMETRY_FAULTS[fault[2]]
        ring = feature["geometry"]["coordinates"][0] if feature["geometry"]["type"] == "Polygon" else \
            feature["geometry"]["coordinates"][0][0]
        damaged = damage(ring)
        ring[:] = damaged
    else:
        expected = {"number": "RECORD_FORMAT", "no properties": "REQUIRED_MISSING", "no geometry": "REQUIRED_MISSING",
                    "geometry null": "REQUIRED_MISSING", "extra property": None}[fault[2]]
        if fault[2] == "number":
            collection["features"][row] = 42
        elif fault[2] == "no properties":
            del feature["properties"]
        elif fault[2] == "no geometry":
            del feature["geometry"]
        elif fault[2] == "geometry null":
            feature["geometry"] = None
        else:
            feature["properties"]["area_km2"] = 12.5
    path.write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")
    outcome = account(STREETS, path)
    assert (outcome.whole, outcome.rows) == (None, len(streets))
    assert outcome.reasons[(0, row + 1)] == expected
    assert outcome.accepted == len(streets) - (expected is not None)


def test_the_property_tests_run_the_examples_the_docs_quote() -> None:
    tests: list[Callable] = [test_csv_gbk_household_register_every_bad_input_is_accounted,
                             test_csv_utf8_social_insurance_every_bad_input_is_accounted,
                             test_xlsx_market_registry_every_bad_input_is_accounted,
                             test_json_api_tax_pages_every_bad_input_is_accounted,
                             test_geojson_street_boundaries_every_bad_input_is_accounted]
    assert {t.hypothesis.inner_test.__name__ for t in tests}  # each is a hypothesis test
    assert all(t._hypothesis_internal_use_settings.max_examples == EXAMPLES >= 200 for t in tests)
