"""Paged JSON APIs over HTTP into the landing zone and bronze, against the simulated city's real server.

A 300-person city (seed 4, 30-day periods) with API pages of 10 records, so the tax source of each day
has several pages; fetch_api asks for the same page size, so the pages it saves are the simulator's own
page files byte for byte and land as the same batch.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from citydata.catalog.contracts import load_contract
from citydata.ingest.api_fetch import fetch_api
from citydata.ingest.bronze import BRONZE, land_delivery
from citydata.ingest.delivery_day import DELIVERY_DAY
from citydata.lakehouse import Lakehouse
from citydata.sources.connectors import ApiFetchError, CheckpointError, RetryPolicy
from citydata.sources.simulate import ApiServer, DefectRates, Fault, simulate

TAX = load_contract("tax_payments")
POI = load_contract("internet_poi")
PAGE = 10
FAST = RetryPolicy(attempts=3, base_delay=0.01, factor=2.0, timeout=5)
AT = datetime(2025, 2, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("api-fetch")
    # Many outside POIs, so the POI pages land rejects too (GEO_OUTSIDE_CITY).
    days = simulate(root / "sim", [1, 2], persons=300, seed=4, period_days=30, page_size=PAGE,
                    defects=DefectRates(outside_city=0.3))
    as_of = {d.day: json.loads((d.folder / "manifest.json").read_text(encoding="utf-8"))["as_of"] for d in days}
    return {"root": root, "days": {d.day: d.folder for d in days}, "as_of": as_of}


@pytest.fixture
def server(city: dict) -> Iterator[ApiServer]:
    with ApiServer(city["days"][2]) as api:
        yield api


def _pages_on_disk(folder: Path, contract) -> list[Path]:
    return sorted((folder / "delivery" / contract.delivery.path / "pages").glob("page-*.json"))


def _bronze(lakehouse: Lakehouse, table: str) -> list[tuple]:
    """A bronze table's rows, landing time and delivery day left out (the day is compared on its own)."""
    if not lakehouse.exists(BRONZE, table):
        return []
    return sorted(tuple(r) for r in lakehouse.read(BRONZE, table).drop("_ingested_at", DELIVERY_DAY).collect())


def _days(lakehouse: Lakehouse, table: str) -> set[str | None]:
    return {r[0] for r in lakehouse.read(BRONZE, table).select(DELIVERY_DAY).distinct().collect()}


def _version(lakehouse: Lakehouse, table: str) -> int | None:
    return lakehouse.version(BRONZE, table) if lakehouse.exists(BRONZE, table) else None


def test_fetched_pages_land_as_the_same_batch_and_rows_as_the_page_files(spark, city: dict, tmp_path: Path) -> None:
    day = city["days"][1]
    over_http, from_disk = Lakehouse(spark, tmp_path / "http"), Lakehouse(spark, tmp_path / "disk")
    with ApiServer(day) as api:
        for contract in (TAX, POI):
            folder = fetch_api(contract, api.url, tmp_path / "landing", retry=FAST, page_size=PAGE,
                               run_key=city["as_of"][1])
            assert folder == tmp_path / "landing" / contract.source / "2025-01-01"
            disk = _pages_on_disk(day, contract)
            assert [p.name for p in sorted((folder / "pages").glob("*.json"))] == [p.name for p in disk]
            assert all((folder / "pages" / p.name).read_bytes() == p.read_bytes() for p in disk)
            # the run key names the fetched folder's day, as land_source passes it
            got = land_delivery(spark, over_http, contract, folder, ingested_at=AT, delivery_day=folder.name)
            want = land_delivery(spark, from_disk, contract, day / "delivery" / contract.delivery.path,
                                 ingested_at=AT)
            assert (got.batch_id, got.landed, got.rejected) == (want.batch_id, want.landed, want.rejected)
            assert got.delivered == sum(len(json.loads(p.read_text(encoding="utf-8"))["records"]) for p in disk)
            for table in (contract.tables.bronze, contract.tables.rejects):
                assert _bronze(over_http, table) == _bronze(from_disk, table)
            assert (_days(over_http, contract.tables.bronze), _days(from_disk, contract.tables.bronze)) == (
                {"2025-01-01"}, {day.name})
        assert len(_pages_on_disk(day, TAX)) >= 3
        assert _bronze(over_http, POI.tables.rejects)  # the city's outside points are rejected the same way
        # A rerun of the same delivery asks the API nothing and lands nothing new.
        api.requests.clear()
        version = over_http.version(BRONZE, TAX.tables.bronze)
        folder = fetch_api(TAX, api.url, tmp_path / "landing", retry=FAST, page_size=PAGE, run_key="2025-01-01")
        assert not api.requests
        assert land_delivery(spark, over_http, TAX, folder).already_landed
        assert over_http.version(BRONZE, TAX.tables.bronze) == version


def test_a_page_failing_forever_writes_no_table_and_the_rerun_fetches_only_the_rest(
        spark, city: dict, server: ApiServer, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    lakehouse = Lakehouse(spark, tmp_path / "lakehouse")
    landing = tmp_path / "landing"
    with ApiServer(city["days"][1]) as day1_api:
        day1 = fetch_api(TAX, day1_api.url, landing, retry=FAST, page_size=PAGE, run_key=city["as_of"][1])
    first = land_delivery(spark, lakehouse, TAX, day1, ingested_at=AT)
    before = (_version(lakehouse, TAX.tables.bronze), _version(lakehouse, TAX.tables.rejects))
    rows_before = _bronze(lakehouse, TAX.tables.bronze)
    assert first.landed > 0 and None not in before

    server.set_faults([Fault("tax", 2, times=-1)])
    # The platform's loggers at DEBUG from here on, the rest at INFO (py4j's DEBUG echoes every JVM call).
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="citydata")
    with pytest.raises(ApiFetchError) as failed:
        folder = fetch_api(TAX, server.url, landing, retry=FAST, page_size=PAGE, run_key=city["as_of"][2])
        land_delivery(spark, lakehouse, TAX, folder)  # never reached: the fetch raised
    message = str(failed.value)
    assert (failed.value.source, failed.value.page, failed.value.attempts) == ("tax_payments", 2, 3)
    assert message.startswith("tax_payments: page 2 failed after 3 attempt(s): HTTP 500")
    assert "resumes at page 2" in message and "2025-01-31" in message
    folder = landing / "tax_payments" / "2025-01-31"  # a new day: a fresh folder, page 1 asked for again
    assert server.requests[("tax", 1)] == 1 and server.requests[("tax", 2)] == 3
    assert [p.name for p in (folder / "pages").iterdir()] == ["page-00001.json"]
    assert not (folder / "api.json").exists()  # incomplete: land_delivery cannot take it by mistake
    assert (_version(lakehouse, TAX.tables.bronze), _version(lakehouse, TAX.tables.rejects)) == before
    assert _bronze(lakehouse, TAX.tables.bronze) == rows_before

    server.set_faults([])
    server.requests.clear()
    again = fetch_api(TAX, server.url, landing, retry=FAST, page_size=PAGE, run_key=city["as_of"][2])
    disk = _pages_on_disk(city["days"][2], TAX)
    assert again == folder and len(disk) >= 3
    assert sorted(p for _, p in server.requests) == list(range(2, len(disk) + 1))  # page 1 not again
    assert all((folder / "pages" / p.name).read_bytes() == p.read_bytes() for p in disk)
    second = land_delivery(spark, lakehouse, TAX, folder, ingested_at=AT)
    reference = land_delivery(spark, Lakehouse(spark, tmp_path / "disk"), TAX,
                              city["days"][2] / "delivery" / "tax", ingested_at=AT)
    assert (second.batch_id, second.landed) == (reference.batch_id, reference.landed)
    assert second.batch_id != first.batch_id
    assert len(_bronze(lakehouse, TAX.tables.bronze)) == len(rows_before) + second.landed
    assert lakehouse.version(BRONZE, TAX.tables.bronze) == before[0] + 1

    # No raw taxpayer value in the error or in any log line of the failed fetch, the resumed one or landing.
    said = [message, *(r.getMessage() for r in caplog.records)]
    assert any("page 2 attempt 1/3 failed" in text for text in said)  # the logs were captured
    values = {v for p in _pages_on_disk(city["days"][2], TAX)
              for r in json.loads(p.read_text(encoding="utf-8"))["records"]
              for v in (r["taxpayer_name"], r["taxpayer_id"], r["tax_voucher_no"])}
    assert len(values) > 20
    leaked = sorted({v for v in values for text in said if v in text})
    assert leaked == [], f"{len(leaked)} record values quoted"


def test_a_fetch_killed_before_api_json_completes_without_asking_again(city: dict, tmp_path: Path) -> None:
    with ApiServer(city["days"][1]) as api:
        folder = fetch_api(TAX, api.url, tmp_path, retry=FAST, page_size=PAGE, run_key="2025-01-01")
        written = (folder / "api.json").read_bytes()
        (folder / "api.json").unlink()  # as if killed after the last page, before api.json
        api.requests.clear()
        assert fetch_api(TAX, api.url, tmp_path, retry=FAST, page_size=PAGE, run_key="2025-01-01") == folder
        assert not api.requests and (folder / "api.json").read_bytes() == written
        (folder / "api.json").unlink()
        with pytest.raises(CheckpointError, match="at page size 10, not of tax_payments /api/tax at page size 7"):
            fetch_api(TAX, api.url, tmp_path, retry=FAST, page_size=7, run_key="2025-01-01")
        assert not api.requests
