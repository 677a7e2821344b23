"""Open-data export: masked, aggregated files and their metadata for the open-data portal.

Must not: let an unmasked sensitive field leave the platform.
"""
