"""The city's data standards, implemented once: ID numbers, credit codes, divisions, industries,
dates and text, money, coordinates, masking and suppression.

Validators return structured results (ok, normalized value, reason code).
Must not: import Spark or anything outside the standard library and the shipped seed tables.
"""

from citydata.standards.result import REASON_CODES, ValidationResult

__all__ = ["REASON_CODES", "ValidationResult"]
