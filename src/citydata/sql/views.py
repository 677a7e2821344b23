"""The lakehouse's tables as temporary views `<layer>_<table>` for analysts, kept at each table's latest
Delta version, showing what the reader's audience may see (`citydata.catalog.access`, docs/security.md).

For analysts (the default) a view shows public and internal columns as stored, sensitive columns masked
by `citydata.standards.masking` (a Python function per mask kind, run by Spark: the masks are the
standards' own) and leaves out core and unclassified columns; a privileged view shows the table as
stored. The platform's own steps register raw views through `Lakehouse.register_view` instead.

A temporary view pins the file list of the snapshot it was created on, so a view must be registered
again after each commit. `LakehouseViews.refresh` reads every table's latest version from its Delta
log (no Spark job) and re-registers only the tables whose version moved, registers new tables and
drops the views of tables that are gone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from deltalake.exceptions import DeltaError
from pyspark.errors import PySparkException
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import StringType

from citydata.catalog.access import AccessRules, Audience, ColumnAccess, Shown
from citydata.lakehouse import Lakehouse, LakehouseError
from citydata.standards.masking import mask_value

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


def _mask_function(kind: str) -> Callable[[object], str | None]:
    def mask(value: object) -> str | None:
        return mask_value(kind, value)

    mask.__name__ = f"mask_{kind}"  # how `explain` names it
    return mask


def masked(column: str, kind: str) -> Column:
    """`column` masked by the standards' rule `kind` (`citydata.standards.masking.mask_value`), same name."""
    mask = F.udf(_mask_function(kind), StringType(), useArrow=True)
    return mask(F.col(f"`{column}`")).alias(column)


def audience_view(df: DataFrame, access: list[ColumnAccess]) -> DataFrame:
    """The table's rows with each column as stored, masked or left out, as `access` says."""
    return df.select(*(F.col(f"`{a.column}`") if a.shown is Shown.AS_STORED else masked(a.column, a.mask)
                       for a in access if a.shown is not Shown.HIDDEN))


class LakehouseViews:
    """Registers a view per lakehouse table for an audience and follows new Delta versions (`refresh`)."""

    def __init__(self, lakehouse: Lakehouse, layers: Iterable[str] | None = None,
                 audience: Audience = Audience.ANALYST, rules: AccessRules | None = None) -> None:
        self.lakehouse = lakehouse
        self.layers = list(layers) if layers is not None else None
        self.audience = audience
        self.rules = rules or AccessRules.load()
        self.versions: dict[tuple[str, str], int] = {}
        # view -> columns left out because nobody classified them (a contract, catalog item or
        # citydata.catalog.access.DERIVED should): shown by the endpoint so they get classified
        self.unclassified: dict[str, list[str]] = {}

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
                    self.register(layer, table)
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
            self.unclassified.pop(name, None)
            changes.append(ViewChange(name, self.versions[(layer, table)], None))
        self.versions = current
        for change in changes:
            log.info("%s", change)
        return changes

    def register(self, layer: str, table: str) -> str:
        """(Re)create the view of one table at its latest snapshot, as this audience may see it."""
        name = Lakehouse.view_name(layer, table)
        df = self.lakehouse.read(layer, table)
        access = self.rules.columns(layer, table, df.columns, self.audience)
        hidden = [a.column for a in access if a.shown is Shown.HIDDEN and a.classification is None]
        if hidden:
            self.unclassified[name] = hidden
            log.warning("%s: columns without a classification left out of the analysts' view: %s (classify them: "
                        "docs/security.md)", name, ", ".join(hidden))
        else:
            self.unclassified.pop(name, None)
        audience_view(df, access).createOrReplaceTempView(name)
        return name
