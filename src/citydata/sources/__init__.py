"""Sources: the simulated city (deliveries + truth) and connectors to real deliveries.

Must not: write to the lakehouse (that is `citydata.ingest`).
"""
