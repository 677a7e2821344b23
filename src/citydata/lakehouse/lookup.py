"""Point lookups: the rows of one key value, read without a Spark job when the statistics leave few of them.

A lookup by a clustered column (silver.person by `id_hash`) touches one file of the table and, inside it, one
row group (pyspark_delta.files.ROW_GROUP_ROWS): its cost is the Delta log, one Parquet footer and one group. A
Spark read of the same rows costs a job's scheduling and the file index (measured at 1,000,000 persons: ~0.15 s
for the job against ~0.03 s for the read on the driver, docs/lakehouse.md), so the driver reads them with
pyarrow and hands Spark a local relation. When more rows match than a lookup should hold on the driver, the
read goes to Spark instead: the result is the same DataFrame either way.
"""

from __future__ import annotations

import logging

import pyarrow as pa
import pyarrow.dataset as ds
from pyspark.sql import DataFrame
from pyspark.sql.pandas.types import from_arrow_schema

from citydata.lakehouse.core import Lakehouse, sql_literal

log = logging.getLogger(__name__)

# Above this many matching rows a lookup is a query, not a point read: Spark reads it (the driver holds at most
# this many rows plus one row group while reading).
DRIVER_LOOKUP_ROWS = 10_000


def lookup(lakehouse: Lakehouse, layer: str, table: str, column: str, value: str | int,
           *, driver_rows: int = DRIVER_LOOKUP_ROWS) -> DataFrame:
    """The rows of `layer.table` whose `column` equals `value`, as a DataFrame.

    Files are pruned by the Delta log's statistics, row groups by their footers' statistics; the rows left are
    read on the driver when at most `driver_rows` match, otherwise by Spark (`Lakehouse.read` with the same
    predicate). Either way the rows and the schema are the table's, at one version.
    """
    version = lakehouse.version(layer, table)
    predicate = f"`{column}` = {sql_literal(value)}"
    scanner = lakehouse.arrow_dataset(layer, table, version, where=predicate).scanner(
        filter=ds.field(column) == value)
    matching: list[pa.RecordBatch] = []
    held = 0
    for batch in scanner.to_batches():
        held += batch.num_rows
        if held > driver_rows:
            log.info("lookup in %s.%s by %s: more than %d rows match, read by Spark", layer, table, column,
                     driver_rows)
            return lakehouse.read(layer, table, version, where=predicate)
        if batch.num_rows:
            matching.append(batch)
    # the dataset's schema is the Delta log's, in the table's column order: Spark's types follow from it as `read`'s do
    rows = pa.Table.from_batches(matching, schema=scanner.projected_schema)
    return lakehouse.spark.createDataFrame(rows, schema=from_arrow_schema(rows.schema))
