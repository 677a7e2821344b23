"""Paged JSON APIs over HTTP into the landing zone, page by page, resumable.

`fetch_api` asks the source's API for its pages (`JsonApiConnector`'s retries and backoff) and saves
each page in the layout of an on-disk API delivery, so `citydata.ingest.bronze.land_delivery` lands
the folder like any other delivery:

    <landing_dir>/<source>/<run key>/pages/page-NNNNN.json    the page document (see below)
    <landing_dir>/<source>/<run key>/received/page-NNNNN.json the HTTP body exactly as received
    <landing_dir>/<source>/<run key>/fetch.json               progress: pages saved, total, page size
    <landing_dir>/<source>/<run key>/api.json                 written last: the delivery is complete

A page file is the body's document without the transport envelope (`code`, `message`, `next`) in
canonical JSON (sorted keys, compact, UTF-8, one newline): the form the simulated city writes, so a
fetch at the delivery's page size lands with the same batch id as the page files themselves, and a
refetch of the same delivery is recognised as already landed. The connector reads the same values
from either form (it parses the JSON either way); the received body is kept for audit.

The run key names one delivery: a rerun under the same key resumes after the last saved page (saved
pages are not asked for again); a new key (a new delivery date) starts fresh.
Must not: write to the lakehouse (landing is `land_delivery`'s), or quote a record's value.
"""

from __future__ import annotations

import json
import logging
import os
import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from citydata.catalog.contracts import SourceContract
from citydata.sources.connectors import ApiFetchError, CheckpointError, JsonApiConnector, RetryPolicy

log = logging.getLogger(__name__)

ENVELOPE = ("code", "message", "next")  # transport members of a page body, not part of the delivery
_RUN_KEY = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._-]*$")


def _canonical(document: Any) -> bytes:
    """Sorted keys, compact separators, UTF-8, one trailing newline (the simulated city's page form)."""
    return (json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n").encode("utf-8")


def _write_atomic(path: Path, data: bytes) -> None:
    """Write through a temporary file and a rename: a killed fetch never leaves half a page."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def run_folder(contract: SourceContract, landing_dir: Path | str, run_key: str | date) -> Path:
    """The landing folder of one delivery of a paged API: `<landing_dir>/<source>/<run key>`."""
    key = run_key.isoformat() if isinstance(run_key, date) else str(run_key)
    if not _RUN_KEY.match(key):
        raise ValueError(f"{contract.source}: run key {key!r} is not a folder name; use e.g. the delivery date "
                         "2025-01-31 (letters, digits, '.', '_', '-')")
    return Path(landing_dir) / contract.source / key


def fetch_api(contract: SourceContract, base_url: str, landing_dir: Path | str, *,
              retry: RetryPolicy | None = None, page_size: int | None = None,
              run_key: str | date | None = None) -> Path:
    """Save every page of the contract's API under `<landing_dir>/<source>/<run key>` and return that folder.

    `run_key` defaults to today's UTC date: Airflow should pass the run's logical date so a retry of
    the same run resumes. A page that keeps failing raises `ApiFetchError` (source, page, cause); the
    pages saved before it stay and a rerun asks only for the rest. No table is touched.
    """
    if contract.delivery.format != "json_api":
        raise ValueError(f"{contract.file}: {contract.source} is delivered as {contract.delivery.format!r}, not "
                         "json_api: land its files with land_delivery")
    key = run_key if run_key is not None else datetime.now(UTC).date()
    folder = run_folder(contract, landing_dir, key)
    if (folder / "api.json").is_file():
        log.info("%s: delivery %s already fetched completely: nothing asked of the API", contract.source, folder)
        return folder

    spec = contract.delivery
    size = page_size or spec.page_size
    identity = {"source": contract.source, "endpoint": spec.endpoint, "page_size": size}
    progress_path = folder / "fetch.json"
    state = json.loads(progress_path.read_text(encoding="utf-8")) if progress_path.is_file() else None
    if state is not None and {k: state.get(k) for k in identity} != identity:
        raise CheckpointError(
            f"{progress_path}: pages of {state.get('source')} {state.get('endpoint')} at page size "
            f"{state.get('page_size')}, not of {contract.source} {spec.endpoint} at page size {size}. "
            f"Fix: fetch with page size {state.get('page_size')} under this run key, or delete {folder} to start over")
    if state and state.get("last"):  # every page saved; only api.json was missing (a crash right before it)
        return _finish(contract, folder, state)
    page = int(state["pages_done"]) + 1 if state else 1
    if page > 1:
        log.info("%s: resuming %s after page %d", contract.source, folder, page - 1)

    # The connector's fetch_page carries the retry and backoff rules; its record iterator is not used
    # because the landing zone keeps the page bodies themselves, not records.
    connector = JsonApiConnector(retry=retry, page_size=size)
    base = base_url.rstrip("/")
    while True:
        query = {spec.page_param: page, **({spec.page_size_param: size} if size else {})}
        url = f"{base}{spec.endpoint}?{urlencode(query)}"
        try:
            body, _charset, document = connector.fetch_page(contract, page, url)
        except ApiFetchError as error:
            fix = (f"check that {contract.department}'s API is up, then rerun with run key {folder.name}: "
                   f"pages 1-{page - 1} are kept in {folder / 'pages'} and the fetch resumes at page {page}"
                   if page > 1 else f"check that {contract.department}'s API is up, then rerun")
            log.error("%s: fetch of %s stopped at page %d: %s", contract.source, folder, page, error.cause)
            raise ApiFetchError(error.source, error.page, error.url, error.attempts, error.cause, fix) from None
        total, total_pages = document.get("total"), document.get("total_pages")
        if state and state.get("total") is not None and total is not None and total != state["total"]:
            raise CheckpointError(
                f"{progress_path}: {contract.source} now has {total} records, {state['total']} when pages "
                f"1-{page - 1} were saved: the pages have shifted. Fix: delete {folder} and fetch again")
        name = f"page-{page:05d}.json"
        _write_atomic(folder / "received" / name, body)
        _write_atomic(folder / "pages" / name,
                      _canonical({k: v for k, v in document.items() if k not in ENVELOPE}))
        records = document.get(spec.records_key)
        last = (document.get("next") is None if "next" in document
                else total_pages is None or page >= int(total_pages)) or not records
        state = {**identity, "pages_done": page, "total": total, "total_pages": total_pages,
                 "page_size_served": document.get("page_size", size), "last": last}
        _write_atomic(progress_path, _canonical(state))
        log.info("%s: page %d%s saved (%d records)", contract.source, page,
                 f"/{total_pages}" if total_pages else "", len(records) if isinstance(records, list) else 0)
        if last:
            return _finish(contract, folder, state)
        page += 1


def _finish(contract: SourceContract, folder: Path, state: dict[str, Any]) -> Path:
    """Write api.json (the simulated city's layout): from now on the folder is a complete delivery."""
    pages = int(state["pages_done"])
    meta = {"endpoint": contract.delivery.endpoint, "page_size": state["page_size_served"], "total": state["total"],
            "total_pages": pages, "pages": [f"pages/page-{p:05d}.json" for p in range(1, pages + 1)]}
    _write_atomic(folder / "api.json", _canonical(meta))
    log.info("%s: %d page(s), %s records fetched into %s", contract.source, pages, state["total"], folder)
    return folder
