"""A small threaded HTTP server for the simulated city's paged JSON sources (tax bureau, internet POIs).

Serves the page files of one day's delivery: `GET /api/<source>?page=N&page_size=M` returns
`{"code", "message", "page", "page_size", "total", "total_pages", "records", "next"}` where `next`
is the path of the following page (null on the last). Binds to 127.0.0.1 only.

Faults for retry tests: a `Fault(source, page, times, status)` makes that page answer `status`
(default 500) `times` times before it succeeds (times=-1: forever). Faults can be switched at
runtime with `set_faults`.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

log = logging.getLogger(__name__)

SOURCES = ("tax", "internet_poi")
MAX_PAGE_SIZE = 5000
LOOPBACK = ("127.0.0.1", "localhost")


@dataclass(frozen=True)
class Fault:
    """Page `page` of `source` answers HTTP `status` for its first `times` requests (-1: always)."""

    source: str
    page: int
    times: int = -1
    status: int = 500

    @classmethod
    def parse(cls, text: str) -> Fault:
        """'tax:3' (always fails), 'tax:3:2' (fails twice, then serves), 'tax:3:2:503'."""
        parts = text.split(":")
        if len(parts) < 2 or parts[0] not in SOURCES:
            raise ValueError(f"fault {text!r}: expected <source>:<page>[:<times>[:<status>]] with source in {SOURCES}")
        try:
            numbers = [int(p) for p in parts[1:]]
        except ValueError:
            raise ValueError(f"fault {text!r}: page, times and status are integers (e.g. tax:3:2:503)") from None
        return cls(parts[0], *numbers)


class _Source:
    """One source's pages on disk, readable at any page size."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        meta = json.loads((folder / "api.json").read_text(encoding="utf-8"))
        self.disk_page_size: int = meta["page_size"]
        self.total: int = meta["total"]
        self.files: list[str] = meta["pages"]
        self._page = lru_cache(maxsize=64)(self._read_page)

    def _read_page(self, index: int) -> list[dict[str, Any]]:
        return json.loads((self.folder / self.files[index]).read_text(encoding="utf-8"))["records"]

    def records(self, start: int, stop: int) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        size = self.disk_page_size
        for index in range(start // size, min(len(self.files), -(-stop // size))):
            page = self._page(index)
            lo = max(start - index * size, 0)
            hi = min(stop - index * size, len(page))
            out.extend(page[lo:hi])
        return out


class ApiServer:
    """Serve `<day>/delivery/{tax,internet_poi}` on 127.0.0.1; use as a context manager or start/close."""

    def __init__(self, day_folder: Path | str, host: str = "127.0.0.1", port: int = 0,
                 faults: Iterable[Fault] = ()) -> None:
        if host not in LOOPBACK:
            raise ValueError(f"the simulator's API binds to 127.0.0.1 only, not {host!r}")
        delivery = Path(day_folder) / "delivery"
        self.sources = {name: _Source(delivery / name) for name in SOURCES if (delivery / name / "api.json").exists()}
        if not self.sources:
            raise FileNotFoundError(f"{delivery}: no tax/ or internet_poi/ api.json — generate the day first")
        self._lock = threading.Lock()
        self._faults: dict[tuple[str, int], Fault] = {}
        self._failed: Counter = Counter()
        self.requests: Counter = Counter()  # (source, page) -> requests seen
        self.set_faults(faults)
        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def set_faults(self, faults: Iterable[Fault]) -> None:
        """Replace the injected faults (and forget how often the old ones failed)."""
        with self._lock:
            self._faults = {(f.source, f.page): f for f in faults}
            self._failed.clear()

    def start(self) -> ApiServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="simulate-api", daemon=True)
        self._thread.start()
        log.info("simulated city API on %s (sources: %s)", self.url, ", ".join(self.sources))
        return self

    def serve_forever(self) -> None:
        self._httpd.serve_forever()

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self) -> ApiServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _should_fail(self, source: str, page: int) -> int | None:
        with self._lock:
            self.requests[(source, page)] += 1
            fault = self._faults.get((source, page))
            if fault is None:
                return None
            if fault.times >= 0 and self._failed[(source, page)] >= fault.times:
                return None
            self._failed[(source, page)] += 1
            return fault.status

    def answer(self, path: str) -> tuple[int, dict[str, Any]]:
        """The status and JSON body for a request path (the handler's logic, callable without HTTP)."""
        parsed = urlparse(path)
        parts = [p for p in parsed.path.split("/") if p]
        if parts == ["api"]:
            return 200, {"code": 0, "message": "ok", "sources": {n: {"total": s.total, "page_size": s.disk_page_size}
                                                                   for n, s in sorted(self.sources.items())}}
        if len(parts) != 2 or parts[0] != "api" or parts[1] not in self.sources:
            return 404, {"code": 404, "message": f"no such endpoint {parsed.path!r}; try /api"}
        name, source = parts[1], self.sources[parts[1]]
        query = parse_qs(parsed.query)
        try:
            page = int(query.get("page", ["1"])[0])
            size = int(query.get("page_size", [str(source.disk_page_size)])[0])
        except ValueError:
            return 400, {"code": 400, "message": "page and page_size must be integers"}
        if page < 1 or not 1 <= size <= MAX_PAGE_SIZE:
            return 400, {"code": 400, "message": f"page >= 1 and 1 <= page_size <= {MAX_PAGE_SIZE}"}
        pages = max(1, -(-source.total // size))
        if page > pages:
            return 404, {"code": 404, "message": f"page {page} is past the last page {pages}"}
        status = self._should_fail(name, page)
        if status is not None:
            return status, {"code": status, "message": "injected fault"}
        records = source.records((page - 1) * size, page * size)
        next_link = f"/api/{name}?{urlencode({'page': page + 1, 'page_size': size})}" if page < pages else None
        return 200, {"code": 0, "message": "ok", "page": page, "page_size": size, "total": source.total,
                     "total_pages": pages, "records": records, "next": next_link}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                status, body = server.answer(self.path)
                data = json.dumps(body, ensure_ascii=False, sort_keys=True).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                log.debug("api %s - %s", self.address_string(), format % args)

        return Handler
