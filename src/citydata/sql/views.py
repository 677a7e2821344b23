"""The lakehouse's tables as temporary views `<layer>_<table>`, kept at each table's latest Delta version.

A temporary view pins the file list of the snapshot it was created on, so a view must be registered
again after each commit. `LakehouseViews.refresh` reads every table's latest version from its Delta
log (no Spark job) and re-registers only the tables whose version moved, registers new tables and
drops the views of tables that are gone.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from deltalake.exceptions import DeltaError
from pyspark.errors import PySparkException

from citydata.lakehouse import Lakehouse, LakehouseError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ViewChange:
    """One view (re)registered or dropped by `LakehouseViews.refresh`: version None = absent."""

    view: str
    before: int | None
    after: int | None

    def __str__(self) -> str:
        if self.before is None:
            return f"{self.view}: registered (version {self.after})"
        if self.after is None:
            return f"{self.view}: dropped (table gone)"
        return f"{self.view}: re-registered (version {self.before} -> {self.after})"


class LakehouseViews:
    """Registers a view per lakehouse table and follows new Delta versions (`refresh`)."""

    def __init__(self, lakehouse: Lakehouse, layers: Iterable[str] | None = None) -> None:
        self.lakehouse = lakehouse
        self.layers = list(layers) if layers is not None else None
        self.versions: dict[tuple[str, str], int] = {}

    @property
    def names(self) -> list[str]:
        """Views registered now, sorted."""
        return sorted(Lakehouse.view_name(layer, table) for layer, table in self.versions)

    def refresh(self) -> list[ViewChange]:
        """Register what is new or has a newer version, drop views of tables gone; return the changes.

        A table that cannot be read now (e.g. deleted while listed) keeps its current view and is
        tried again on the next refresh; the failure is logged with its cause.
        """
        changes: list[ViewChange] = []
        current: dict[tuple[str, str], int] = {}
        for layer, table in self.lakehouse.tables(self.layers):
            key = (layer, table)
            try:
                version = self.lakehouse.version(layer, table)
                if self.versions.get(key) != version:
                    self.lakehouse.register_view(layer, table)
                    changes.append(ViewChange(Lakehouse.view_name(layer, table), self.versions.get(key), version))
            except (LakehouseError, DeltaError, PySparkException, OSError) as error:
                log.warning("view %s not refreshed, trying again later: %s",
                            Lakehouse.view_name(layer, table), error)
                if key in self.versions:
                    current[key] = self.versions[key]
                continue
            current[key] = version
        for layer, table in sorted(self.versions.keys() - current.keys()):
            name = Lakehouse.view_name(layer, table)
            self.lakehouse.spark.catalog.dropTempView(name)
            changes.append(ViewChange(name, self.versions[(layer, table)], None))
        self.versions = current
        for change in changes:
            log.info("%s", change)
        return changes
