"""Open-data export: masked, aggregated files (CSV, JSON, Parquet), their metadata, a DCAT catalog and
CKAN-compatible API documents for the open-data portal.

Must not: let an unmasked sensitive field, an internal/core field, an undeclared column or a dataset that
is not 无条件开放 leave the platform; read anything but the tables a release pins.
"""

from citydata.export.dataset import ExportFile, ExportPolicyError, ExportResult, export_dataset, export_records
from citydata.export.release import (
    ExportError,
    ReleaseExport,
    export_release,
    is_exported,
    load_release_export,
    release_export_dir,
)

__all__ = ["ExportError", "ExportFile", "ExportPolicyError", "ExportResult", "ReleaseExport", "export_dataset",
           "export_records", "export_release", "is_exported", "load_release_export", "release_export_dir"]
