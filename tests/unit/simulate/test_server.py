"""The paged JSON API: pages at any size, next links that walk every record once, and the fault switch."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from citydata.sources.simulate import ApiServer, Fault


def get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def disk_records(day: Path, source: str) -> list[dict]:
    meta = json.loads((day / "delivery" / source / "api.json").read_text(encoding="utf-8"))
    pages = [json.loads((day / "delivery" / source / page).read_text(encoding="utf-8")) for page in meta["pages"]]
    return [r for page in pages for r in page["records"]]


@pytest.mark.parametrize("source", ["tax", "internet_poi"])
@pytest.mark.parametrize("page_size", [7, 500, 5000])
def test_following_next_links_returns_every_record_once(city: Path, source: str, page_size: int) -> None:
    day = city / "day-001"
    with ApiServer(day) as server:
        url, records, pages = f"{server.url}/api/{source}?page=1&page_size={page_size}", [], 0
        while url:
            status, body = get(url)
            assert status == 200 and body["page_size"] == page_size
            records += body["records"]
            pages += 1
            url = server.url + body["next"] if body["next"] else None
    expected = disk_records(day, source)
    assert records == expected and len(expected) > 0
    assert pages == max(1, -(-len(expected) // page_size))


def test_fault_switch_fails_a_page_then_recovers(city: Path) -> None:
    with ApiServer(city / "day-001", faults=[Fault("tax", 1, times=2)]) as server:
        url = f"{server.url}/api/tax?page=1&page_size=10"
        assert [get(url)[0] for _ in range(3)] == [500, 500, 200]
        server.set_faults([Fault.parse("tax:2")])  # always fails, switched at runtime
        assert {get(f"{server.url}/api/tax?page=2&page_size=10")[0] for _ in range(4)} == {500}
        assert get(f"{server.url}/api/tax?page=1&page_size=10")[0] == 200
        server.set_faults([])
        assert get(f"{server.url}/api/tax?page=2&page_size=10")[0] == 200
        assert server.requests[("tax", 2)] == 5


def test_bad_requests_and_loopback_only(city: Path) -> None:
    with ApiServer(city / "day-001") as server:
        assert get(f"{server.url}/api/tax?page=0")[0] == 400
        assert get(f"{server.url}/api/tax?page=99999")[0] == 404
        assert get(f"{server.url}/api/nothing")[0] == 404
        status, index = get(f"{server.url}/api")
        assert status == 200 and set(index["sources"]) == {"tax", "internet_poi"}
    with pytest.raises(ValueError, match="127.0.0.1"):
        ApiServer(city / "day-001", host="0.0.0.0")
    with pytest.raises(ValueError, match="source"):
        Fault.parse("bank:1")
