"""Open-data export: masked, aggregated files and their metadata for the open-data portal.

Must not: let an unmasked sensitive field leave the platform.
"""

from citydata.export.dataset import ExportPolicyError, ExportResult, export_dataset

__all__ = ["ExportPolicyError", "ExportResult", "export_dataset"]
