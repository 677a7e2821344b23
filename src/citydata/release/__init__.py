"""Releases: the Great Expectations gate and the manifest that pins each dataset's Delta version.

Must not: change table data; a failed gate publishes nothing.
"""
