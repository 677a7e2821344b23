"""The delivery day of a bronze batch: the day folder it was delivered in (`day-002`, `2026-11-25`).

Bronze records it per row as the lineage column `_delivery_day`, so silver can order deliveries by the day
they belong to, not by when a run happened to land them: two runs of different days at once may land day 2
before day 1, and "the latest full list" must still be day 2's. Bronze tables landed before the column
existed get it on their next landing (a metadata-only Delta commit, `add_delivery_day_column`); their old
rows read it as null, which silver orders before every known day.
Must not: decide what a batch is (bronze) or how rows are ordered (silver).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from citydata.lakehouse import Lakehouse

log = logging.getLogger(__name__)

DELIVERY_DAY = "_delivery_day"
# A day folder under CITYDATA_LANDING (or the simulated city's folder): an ISO date or day-NNN. Days of one
# naming compare as strings (ISO dates; day-NNN with the same number of digits).
DAY_FOLDER = re.compile(r"^(\d{4}-\d{2}-\d{2}|day-\d+)$")


def delivery_day_of(path: str | Path) -> str | None:
    """The day folder a delivery lies in (the nearest ancestor named like a day), None when there is none."""
    if "://" in str(path):
        return None
    for folder in Path(path).parents:
        if DAY_FOLDER.match(folder.name):
            return folder.name
    return None


def add_delivery_day_column(lakehouse: Lakehouse, layer: str, table: str) -> bool:
    """Add `_delivery_day` (string, nullable) to an existing table that lacks it; True when this call added it.

    A metadata-only commit (no data file rewritten); rows landed before read it as null. Two runs adding it
    at once: one commit wins, the other finds the column there and does nothing."""
    from deltalake import Field as DeltaField  # here: runner (imported by DAG files) needs only DAY_FOLDER
    from deltalake.exceptions import DeltaError

    from pyspark_delta.log import open_table

    if not lakehouse.exists(layer, table):
        return False
    path = lakehouse.path(layer, table)
    if DELIVERY_DAY in open_table(path).schema().to_arrow().names:
        return False
    try:
        open_table(path).alter.add_columns(DeltaField(DELIVERY_DAY, "string", nullable=True))
    except DeltaError:  # a lost commit race, or the column added since the check
        if DELIVERY_DAY in open_table(path).schema().to_arrow().names:
            return False  # another run added it at the same time
        raise
    log.info("%s.%s: added the lineage column %s (rows landed before read it as null)", layer, table,
             DELIVERY_DAY)
    return True
