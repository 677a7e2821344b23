"""The paged JSON API connector against the simulator's real HTTP server (127.0.0.1, fault switch)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from citydata.catalog.contracts import load_contract
from citydata.sources.connectors import (
    ApiFetchError,
    CheckpointError,
    JsonApiConnector,
    PageCheckpoint,
    RawRecord,
    RetryPolicy,
    read_all,
)
from citydata.sources.simulate import ApiServer, Fault

TAX = load_contract("tax_payments")
POI = load_contract("internet_poi")
FAST = RetryPolicy(attempts=3, base_delay=0.01, factor=2.0, timeout=5)
PAGE = 25  # asked of the server: differs from the 40 on disk, so pages are re-cut by the server


@pytest.fixture(scope="module")
def server(city: Path) -> Iterator[ApiServer]:
    with ApiServer(city / "day-001") as api:
        yield api


@pytest.fixture
def api(server: ApiServer) -> ApiServer:
    server.set_faults([])
    server.requests.clear()
    return server


def _on_disk(city: Path, folder: str) -> list[dict[str, str]]:
    pages = sorted((city / "day-001" / "delivery" / folder / "pages").glob("page-*.json"))
    records = [r for p in pages for r in json.loads(p.read_text(encoding="utf-8"))["records"]]
    return [{k: "" if v is None else v for k, v in r.items()} for r in records]


def test_all_pages_are_fetched_with_page_lineage(city: Path, api: ApiServer) -> None:
    for contract, folder in ((TAX, "tax"), (POI, "internet_poi")):
        delivered = read_all(contract, api.url, retry=FAST, page_size=PAGE)
        expected = _on_disk(city, folder)
        assert [r.values for r in delivered.records] == [{c: e[c] for c in contract.columns} for e in expected]
        pages = -(-len(expected) // PAGE)
        assert pages >= 3 and {r.lineage.page for r in delivered.records} == set(range(1, pages + 1))
        last = delivered.records[-1].lineage
        assert last.location == f"{api.url}{contract.delivery.endpoint}?page={pages}&page_size={PAGE}"
        assert last.row == len(expected) - (pages - 1) * PAGE and last.encoding == "utf-8"
        assert len({r.lineage.content_hash for r in delivered.records}) == pages  # one hash per page body
    assert all(count == 1 for count in api.requests.values())


def test_http_read_equals_the_pages_on_disk_at_the_contract_page_size(city: Path, api: ApiServer) -> None:
    over_http = read_all(TAX, api.url, retry=FAST).records
    from_disk = read_all(TAX, city / "day-001" / "delivery" / "tax").records
    assert [r.values for r in over_http] == [r.values for r in from_disk]


def test_a_page_failing_twice_is_retried_with_exponential_backoff(api: ApiServer) -> None:
    api.set_faults([Fault("tax", 3, times=2)])
    delays: list[float] = []
    connector = JsonApiConnector(retry=FAST, page_size=PAGE, sleep=delays.append)
    records = [r for r in connector.read(TAX, api.url) if isinstance(r, RawRecord)]
    assert len(records) == api.sources["tax"].total
    assert api.requests[("tax", 3)] == 3 and api.requests[("tax", 2)] == 1
    assert delays == [0.01, 0.02]


def test_a_page_that_keeps_failing_raises_naming_source_page_and_cause(city: Path, api: ApiServer) -> None:
    api.set_faults([Fault("tax", 4, times=-1, status=503)])
    connector = JsonApiConnector(retry=FAST, page_size=PAGE, sleep=lambda s: None)
    seen = []
    with pytest.raises(ApiFetchError) as error:
        seen.extend(connector.read(TAX, api.url))
    message = str(error.value)
    assert message.startswith("tax_payments: page 4 failed after 3 attempt(s): HTTP 503")
    assert "Fix:" in message and (error.value.source, error.value.page) == ("tax_payments", 4)
    assert len(seen) == 3 * PAGE and api.requests[("tax", 4)] == 3
    for record in _on_disk(city, "tax"):  # no record value in the error (taxpayers are confidential)
        assert record["taxpayer_id"] not in message and record["tax_voucher_no"] not in message


def test_a_client_error_is_not_retried(api: ApiServer) -> None:
    wrong = dataclasses.replace(TAX, delivery=dataclasses.replace(TAX.delivery, endpoint="/api/nothing"))
    with pytest.raises(ApiFetchError, match=r"page 1 failed after 1 attempt\(s\): HTTP 404"):
        list(JsonApiConnector(retry=FAST).read(wrong, api.url))


def test_resuming_from_the_checkpoint_fetches_only_the_remaining_pages(tmp_path: Path, api: ApiServer) -> None:
    checkpoint = PageCheckpoint(tmp_path / "tax.checkpoint.json")
    api.set_faults([Fault("tax", 3, times=-1)])
    first = []
    with pytest.raises(ApiFetchError):
        first.extend(JsonApiConnector(retry=FAST, checkpoint=checkpoint, page_size=PAGE,
                                      sleep=lambda s: None).read(TAX, api.url))
    assert checkpoint.load()["pages_done"] == 2
    api.set_faults([])
    api.requests.clear()
    rest = list(JsonApiConnector(retry=FAST, checkpoint=checkpoint, page_size=PAGE).read(TAX, api.url))
    pages = -(-api.sources["tax"].total // PAGE)
    assert sorted(page for _, page in api.requests) == list(range(3, pages + 1))  # pages 1 and 2 not again
    assert [r.values for r in first + rest] == [r.values for r in read_all(TAX, api.url, page_size=PAGE).records]
    assert checkpoint.load()["pages_done"] == pages
    api.requests.clear()
    assert list(JsonApiConnector(checkpoint=checkpoint, page_size=PAGE).read(TAX, api.url)) == []
    assert not api.requests  # everything was done: nothing fetched
    with pytest.raises(CheckpointError, match="page size 25, not of tax_payments .* page size 10"):
        list(JsonApiConnector(checkpoint=checkpoint, page_size=10).read(TAX, api.url))


def test_an_unreachable_api_raises_after_the_retries(api: ApiServer) -> None:
    connector = JsonApiConnector(retry=RetryPolicy(attempts=2, base_delay=0.01, timeout=1), sleep=lambda s: None)
    with pytest.raises(ApiFetchError, match=r"tax_payments: page 1 failed after 2 attempt\(s\): URLError"):
        list(connector.read(TAX, "http://127.0.0.1:9"))  # the discard port: nothing listens
