"""Which columns of the lakehouse hold personal values, from the source contracts' classifications.

The lakehouse keeps no min/max statistics of these columns (in the Delta log or the Parquet footers): see
docs/lakehouse.md, "Statistics and personal values". A column is personal in every table where it appears
when a contract classifies a field of that name `sensitive` or `core`: bronze and silver tables carry the
contracts' field names, and tables built from them (silver.person, gold marts) keep those names. Columns a
table derives under a new name are declared by the code that writes them (`personal_columns=` of
`Lakehouse.write` and `merge`; for gold, the dbt YAML's `meta.classification`).
"""

from __future__ import annotations

from functools import lru_cache

from citydata.catalog.contracts import Classification, load_contracts, schemas_dir

PERSONAL_CLASSES = (Classification.SENSITIVE, Classification.CORE)


@lru_cache(maxsize=4)
def _personal_names(directory: str) -> frozenset[str]:
    from pathlib import Path

    return frozenset(f.name for contract in load_contracts(Path(directory)).values() for f in contract.fields
                     if f.classification in PERSONAL_CLASSES)


def personal_column_names() -> frozenset[str]:
    """Names of every contract field classified sensitive or core."""
    return _personal_names(str(schemas_dir()))


def personal_columns(layer: str, table: str) -> frozenset[str]:
    """The personal columns a table of the lakehouse may hold (by name, whatever the layer and table: a name
    classified personal in one contract is treated as personal everywhere, which only costs pruning)."""
    del layer, table  # the rule is by name; the signature is the one Lakehouse asks for
    return personal_column_names()
