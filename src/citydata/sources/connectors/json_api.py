"""Paged JSON APIs (tax bureau, internet map POIs), over HTTP with the standard library, or from disk.

HTTP: `GET {base}{endpoint}?page=N&page_size=M` answers `{"records": [...], "total_pages", "next", ...}`.
A page that fails (connection error, timeout, HTTP 429/5xx, a body that is not JSON) is retried with
exponential backoff; after the last attempt `ApiFetchError` names the source, the page and the cause
(never a record's value). A `PageCheckpoint` file remembers the last page whose records were all
handed on, so a rerun resumes after it. From disk: a folder with `api.json` and `pages/page-NNNNN.json`
(the simulated city's delivery, or pages landed earlier); a page file that is not JSON is rejected whole.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from citydata.catalog.contracts import SourceContract
from citydata.sources.connectors.base import Item, Lineage, RawRecord, Rejection, json_cut, sha256_hex, text_value

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


class ApiFetchError(RuntimeError):
    """A page could not be fetched: names the source, page, attempts and cause; quotes no record value."""

    def __init__(self, source: str, page: int, url: str, attempts: int, cause: str, fix: str) -> None:
        self.source, self.page, self.url, self.attempts, self.cause = source, page, url, attempts, cause
        super().__init__(f"{source}: page {page} failed after {attempts} attempt(s): {cause} ({url}). Fix: {fix}")


class CheckpointError(ValueError):
    """A checkpoint does not belong to this read (another source, endpoint or page size, or the data changed)."""


@dataclass(frozen=True)
class RetryPolicy:
    """Attempts per page and the exponential backoff between them (delay = base * factor**(n-1), capped)."""

    attempts: int = 5
    base_delay: float = 0.5
    factor: float = 2.0
    max_delay: float = 30.0
    timeout: float = 30.0  # seconds per request

    def delay(self, failed_attempt: int) -> float:
        return min(self.max_delay, self.base_delay * self.factor ** (failed_attempt - 1))


class PageCheckpoint:
    """A small JSON file: which pages of which paged read are done (written atomically after each page)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)

    def load(self) -> dict[str, Any] | None:
        if not self.path.is_file():
            return None
        return json.loads(self.path.read_text(encoding="utf-8"))

    def save(self, state: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(state, ensure_ascii=False, sort_keys=True), encoding="utf-8")
        os.replace(tmp, self.path)

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)


class _Retryable(Exception):
    """A failure worth another attempt."""


class JsonApiConnector:
    """Read a paged JSON source: `delivery` is the API base URL (http://…) or a folder with api.json."""

    def __init__(self, retry: RetryPolicy | None = None, checkpoint: PageCheckpoint | Path | str | None = None,
                 page_size: int | None = None, sleep: Callable[[float], None] = time.sleep) -> None:
        self.retry = retry or RetryPolicy()
        self.checkpoint = (checkpoint if isinstance(checkpoint, PageCheckpoint) or checkpoint is None
                           else PageCheckpoint(checkpoint))
        self.page_size = page_size
        self._sleep = sleep

    def read(self, contract: SourceContract, delivery: str | Path) -> Iterator[Item]:
        if isinstance(delivery, str) and delivery.startswith(("http://", "https://")):
            yield from self._read_http(contract, delivery.rstrip("/"))
        else:
            yield from self._read_folder(contract, Path(delivery))

    # --- HTTP ------------------------------------------------------------------------------------------

    def _read_http(self, contract: SourceContract, base: str) -> Iterator[Item]:
        spec = contract.delivery
        size = self.page_size or spec.page_size
        identity = {"source": contract.source, "url": f"{base}{spec.endpoint}", "page_size": size}
        state = self.checkpoint.load() if self.checkpoint else None
        if state is not None and {k: state.get(k) for k in identity} != identity:
            raise CheckpointError(
                f"{self.checkpoint.path}: checkpoint of {state.get('source')} {state.get('url')} page size "
                f"{state.get('page_size')}, not of {contract.source} {identity['url']} page size {size}. "
                "Fix: give each paged read its own checkpoint file, or delete this one to start from page 1")
        page = int(state["pages_done"]) + 1 if state else 1
        if state and state.get("total_pages") is not None and page > int(state["total_pages"]):
            log.info("%s: checkpoint says all %s pages are done", contract.source, state["total_pages"])
            return
        while True:
            query = {spec.page_param: page, **({spec.page_size_param: size} if size else {})}
            url = f"{base}{spec.endpoint}?{urlencode(query)}"
            body, charset, document = self.fetch_page(contract, page, url)
            total = document.get("total")
            if state and state.get("total") is not None and total is not None and total != state["total"]:
                raise CheckpointError(
                    f"{self.checkpoint.path}: {contract.source} now has {total} records, the checkpoint was "
                    f"taken at {state['total']}: the pages have shifted. Fix: delete the checkpoint and read "
                    "from page 1")
            yield from _records(contract, document, url, page, charset, sha256_hex(body))
            total_pages = document.get("total_pages")
            if self.checkpoint:  # every record of this page has been handed on
                state = {**identity, "pages_done": page, "total": total, "total_pages": total_pages}
                self.checkpoint.save(state)
            last = (document.get("next") is None if "next" in document
                    else total_pages is None or page >= int(total_pages))
            if last or not document.get(spec.records_key):
                return
            page += 1

    def fetch_page(self, contract: SourceContract, page: int, url: str) -> tuple[bytes, str, dict[str, Any]]:
        """The page's body, charset and parsed document, retrying what may pass on another attempt."""
        attempts = max(1, self.retry.attempts)
        cause = ""
        for attempt in range(1, attempts + 1):
            try:
                return self._get(url)
            except _Retryable as error:
                cause = str(error)
            except urllib.error.HTTPError as error:  # a status that another attempt will not change
                raise ApiFetchError(contract.source, page, url, attempt, f"HTTP {error.code} {error.reason}",
                                    "check the endpoint, page size and paging parameters in "
                                    f"{contract.file}") from None
            if attempt < attempts:
                delay = self.retry.delay(attempt)
                log.warning("%s: page %d attempt %d/%d failed (%s); retrying in %.2fs", contract.source, page,
                            attempt, attempts, cause, delay)
                self._sleep(delay)
        raise ApiFetchError(contract.source, page, url, attempts, cause,
                            f"check that {contract.department}'s API is up, then rerun: with a checkpoint the "
                            f"read resumes at page {page}")

    def _get(self, url: str) -> tuple[bytes, str, dict[str, Any]]:
        request = urllib.request.Request(url, headers={"Accept": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.retry.timeout) as response:  # noqa: S310 (http(s) only)
                body = response.read()
                charset = response.headers.get_content_charset() or "utf-8"
        except urllib.error.HTTPError as error:
            if error.code in RETRY_STATUSES:
                raise _Retryable(f"HTTP {error.code} {error.reason}") from None
            raise
        except (urllib.error.URLError, http.client.HTTPException, TimeoutError, ConnectionError) as error:
            reason = getattr(error, "reason", error)
            raise _Retryable(f"{type(error).__name__}: {reason}") from None
        try:
            document = json.loads(body.decode(charset))
        except (UnicodeDecodeError, ValueError) as error:
            raise _Retryable(f"the body is not JSON ({type(error).__name__} at {getattr(error, 'pos', '?')})") from None
        if not isinstance(document, dict) or document.get("code", 0) not in (0, "0"):
            code = document.get("code") if isinstance(document, dict) else None
            raise _Retryable(f"the API answered code {code!r}") from None
        return body, charset, document

    # --- from disk -------------------------------------------------------------------------------------

    def _read_folder(self, contract: SourceContract, folder: Path) -> Iterator[Item]:
        meta_path = folder / "api.json"
        meta_data = meta_path.read_bytes()
        meta = parse_json_file(contract, meta_path, meta_data, "fetch the pages again (citydata.ingest.api_fetch)")
        if isinstance(meta, Rejection):
            yield meta
            return
        pages = meta.get("pages") if isinstance(meta, dict) else None
        if not isinstance(pages, list) or not all(isinstance(name, str) for name in pages):
            yield Rejection(contract.source, str(meta_path), "FILE_FORMAT", "api.json has no list of page files "
                            "under 'pages'", fix="fetch the pages again (citydata.ingest.api_fetch)",
                            content_hash=sha256_hex(meta_data))
            return
        for page, name in enumerate(pages, start=1):
            path = folder / name
            data = path.read_bytes()
            document = parse_json_file(contract, path, data, f"fetch page {page} again from the API", page=page)
            if isinstance(document, Rejection):
                yield document
                continue
            yield from _records(contract, document, str(path), page, "utf-8", sha256_hex(data))


def parse_json_file(contract: SourceContract, path: Path, data: bytes, fix: str, page: int | None = None) -> Any:
    """A UTF-8 JSON file's document, or a whole-file Rejection: FILE_TRUNCATED when it ends early (inside a
    character or before the document closes), FILE_ENCODING when it is not UTF-8, FILE_FORMAT when not JSON."""
    where = f"page {page}" if page else path.name
    content_hash = sha256_hex(data)

    def reject(reason: str, detail: str) -> Rejection:
        return Rejection(contract.source, str(path), reason, detail, fix=fix, content_hash=content_hash, page=page)

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.end == len(data) and error.reason == "unexpected end of data":
            return reject("FILE_TRUNCATED", f"{where} ends inside a multi-byte UTF-8 character: it was cut")
        return reject("FILE_ENCODING", f"{where} is not UTF-8 (invalid byte at offset {error.start})")
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        if json_cut(text, error):
            return reject("FILE_TRUNCATED", f"{where}: the JSON ends early at line {error.lineno} column "
                                            f"{error.colno} ({error.msg}): it was cut")
        return reject("FILE_FORMAT", f"{where} is not JSON ({error.msg} at line {error.lineno} column "
                                     f"{error.colno})")
    except RecursionError:
        return reject("FILE_FORMAT", f"{where} is not JSON a reader can take: nested too deeply")


def _records(contract: SourceContract, document: Any, location: str, page: int, encoding: str,
             content_hash: str) -> Iterator[Item]:
    records = document.get(contract.delivery.records_key) if isinstance(document, dict) else None
    if not isinstance(records, list):
        yield Rejection(contract.source, location, "FILE_FORMAT",
                        f"page {page} has no list under {contract.delivery.records_key!r}",
                        fix=f"check records_key in {contract.file}", encoding=encoding,
                        content_hash=content_hash, page=page)
        return
    columns = contract.columns
    unknown: set[str] = set()
    for row, record in enumerate(records, start=1):
        if not isinstance(record, dict):
            yield Rejection(contract.source, location, "RECORD_FORMAT", f"record is a {type(record).__name__}, "
                            "not an object", row=row, encoding=encoding, content_hash=content_hash, page=page)
            continue
        unknown.update(k for k in record if k not in columns)
        yield RawRecord({c: text_value(record.get(c)) for c in columns},
                        Lineage(contract.source, location, row, encoding, content_hash, page))
    if unknown:
        log.warning("%s: %s: members %s are not in %s and are not read", contract.source, location,
                    sorted(unknown), contract.file or "the contract")
