"""Ingest: land source deliveries into bronze (with lineage and rejects) and conform them into silver.

Must not: build theme marts (that is dbt) or publish anything.
"""
