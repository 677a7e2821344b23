"""Spark Python data source `delta`: Delta Lake tables for Spark, with delta-rs keeping the log.

Spark auto-registers a data source from any importable `pyspark_<name>` module that defines
`DefaultSource`, so `df.write.format("delta")`, `spark.read.format("delta")` and
`CREATE TEMPORARY VIEW v USING delta OPTIONS (path '...')` work in every session whose Python
workers run this project's interpreter. Generic: knows nothing of layers or the platform; the
platform's own operations (partition overwrite, MERGE, compaction, views) live in
`citydata.lakehouse`.
"""

from pyspark_delta.source import DeltaDataSource, DeltaReader, DeltaWriter

DefaultSource = DeltaDataSource

__all__ = ["DefaultSource", "DeltaDataSource", "DeltaWriter", "DeltaReader"]
