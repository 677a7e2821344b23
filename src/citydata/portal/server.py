"""Serve the built portal site over HTTP on this machine (Python's http.server), as a web server would.

Besides the static files it answers CKAN's Action API URLs from the static API documents
(`/api/3/action/package_list` -> `api/3/action/package_list.json`,
`/api/3/action/package_show?id=X` -> `api/3/action/package_show/X.json`), with the Content-Types a
harvester expects. Files are looked up under the `site` link on every request, so a rebuilt site
is served as soon as it is swapped in. For production, put the folder behind nginx (docs/portal.md).
"""

from __future__ import annotations

import json
import logging
import re
import threading
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

log = logging.getLogger(__name__)

PACKAGE_LIST = "/api/3/action/package_list"
PACKAGE_SHOW = "/api/3/action/package_show"
_DATASET_ID = re.compile(r"^[A-Za-z0-9_-]{1,100}$")
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".jsonld": "application/ld+json; charset=utf-8",
    ".csv": "text/csv; charset=utf-8",
    ".parquet": "application/vnd.apache.parquet",
    ".svg": "image/svg+xml",
    "": "text/plain; charset=utf-8",  # SHA256SUMS
}


class PortalRequestHandler(SimpleHTTPRequestHandler):
    """Static files of the site, CKAN URLs mapped to their documents, downloads as attachments."""

    extensions_map = CONTENT_TYPES
    server_version = "citydata-portal"

    def _ckan_error(self, status: HTTPStatus, message: str) -> None:
        body = json.dumps({"help": "", "success": False,
                           "error": {"__type": "Not Found Error" if status == HTTPStatus.NOT_FOUND
                                     else "Validation Error", "message": message}},
                          ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", CONTENT_TYPES[".json"])
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Access-Control-Allow-Origin", "*")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _map_ckan(self) -> bool:
        """Rewrite a CKAN API URL to its static document; False when an error was already answered."""
        url = urlsplit(self.path)
        path = url.path.rstrip("/")
        if path == PACKAGE_LIST:
            self.path = f"{PACKAGE_LIST}.json"
        elif path == PACKAGE_SHOW:
            ids = parse_qs(url.query).get("id") or parse_qs(url.query).get("name_or_id") or []
            dataset = ids[0] if ids else ""
            if not _DATASET_ID.match(dataset):
                self._ckan_error(HTTPStatus.BAD_REQUEST, "Missing or invalid value: id (a dataset name)")
                return False
            document = f"{PACKAGE_SHOW}/{dataset}.json"
            if not Path(self.translate_path(document)).is_file():
                self._ckan_error(HTTPStatus.NOT_FOUND, f"Not found: no open dataset named {dataset}")
                return False
            self.path = document
        return True

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        if self._map_ckan():
            super().do_GET()

    def do_HEAD(self) -> None:  # noqa: N802 - http.server's name
        if self._map_ckan():
            super().do_HEAD()

    def end_headers(self) -> None:
        path = urlsplit(self.path).path
        if path.startswith("/download/") and not path.endswith("/"):
            self.send_header("Content-Disposition", f'attachment; filename="{Path(path).name}"')
        if path.startswith("/api/") or path.endswith((".jsonld", "/datasets.json")):
            self.send_header("Access-Control-Allow-Origin", "*")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's signature
        log.info("%s %s", self.address_string(), format % args)


class PortalServer:
    """The site on http://host:port/ in a background thread (`port=0`: any free port)."""

    def __init__(self, site: str | Path, host: str = "127.0.0.1", port: int = 8090) -> None:
        self.site = Path(site)
        handler = partial(PortalRequestHandler, directory=str(self.site))
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="portal-server", daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> PortalServer:
        self._thread.start()
        log.info("portal: serving %s on %s", self.site, self.url)
        return self

    def wait(self) -> None:
        """Block until the server stops (Ctrl-C in the CLI)."""
        while self._thread.is_alive():
            self._thread.join(0.5)

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> PortalServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
