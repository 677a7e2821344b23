"""Connectors: read a source's delivery, as its contract describes it, into raw string records.

One connector per transport — CSV (GBK / UTF-8 / BOM), XLSX (incl. merged multi-row headers), paged
JSON APIs (HTTP with retries and a page checkpoint, or pages on disk), GeoJSON — behind one interface:
`connector.read(contract, delivery)` yields `RawRecord`s (every contract column as a string, with
lineage: file or request URL, row, page, encoding, content hash) and `Rejection`s (a row, or row 0 for
a whole file that cannot be read, with a reason code and a detail that quotes no personal value).
Adding a source with a known transport is adding a contract; a new transport is one new connector here.
Must not: validate or standardize values, or write to the lakehouse (that is citydata.ingest).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from citydata.catalog.contracts import SourceContract
from citydata.sources.connectors.base import (
    Connector,
    Delivered,
    Item,
    Lineage,
    RawRecord,
    Rejection,
    collect,
)
from citydata.sources.connectors.csv_file import CsvConnector
from citydata.sources.connectors.geojson_file import GeoJsonConnector
from citydata.sources.connectors.json_api import (
    ApiFetchError,
    CheckpointError,
    JsonApiConnector,
    PageCheckpoint,
    RetryPolicy,
)
from citydata.sources.connectors.xlsx_file import XlsxConnector

CONNECTORS: dict[str, type] = {
    "csv": CsvConnector,
    "xlsx": XlsxConnector,
    "json_api": JsonApiConnector,
    "geojson": GeoJsonConnector,
}


def connector_for(contract: SourceContract, **options: Any) -> Connector:
    """The connector of the contract's delivery format; options go to its constructor (json_api: retry,
    checkpoint, page_size)."""
    return CONNECTORS[contract.delivery.format](**options)


def delivery_path(contract: SourceContract, delivery_folder: Path | str) -> Path:
    """Where the contract's delivery lies in a day's delivery folder (the contract's `delivery.path`)."""
    if not contract.delivery.path:
        raise ValueError(f"{contract.file}: no `delivery.path`; pass the delivery's file path instead")
    return Path(delivery_folder) / contract.delivery.path


def read_delivery(contract: SourceContract, delivery: Path | str, **options: Any) -> Iterator[Item]:
    """Records and rejections of one delivery (a file, an API page folder or an API base URL)."""
    return connector_for(contract, **options).read(contract, delivery)


def read_all(contract: SourceContract, delivery: Path | str, **options: Any) -> Delivered:
    """`read_delivery` collected in memory: for small deliveries and tests."""
    return collect(read_delivery(contract, delivery, **options))


__all__ = [
    "CONNECTORS", "ApiFetchError", "CheckpointError", "Connector",
    "CsvConnector", "Delivered", "GeoJsonConnector", "Item", "JsonApiConnector", "Lineage", "PageCheckpoint",
    "RawRecord", "Rejection", "RetryPolicy", "XlsxConnector", "collect", "connector_for", "delivery_path",
    "read_all", "read_delivery",
]
