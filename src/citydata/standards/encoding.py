"""Detect and decode a delivered file's bytes: UTF-8 (with or without BOM), else GBK, else GB18030.

Never guesses silently: the detected encoding is returned with the text, and bytes that none of
these decode (or that decode to binary control characters) reject the whole file with FILE_ENCODING.
"""

from __future__ import annotations

import codecs
import re

from citydata.standards.result import ValidationResult, failed, passed

ENCODINGS = ("utf-8-sig", "utf-8", "gbk", "gb18030")
# C0 controls other than tab, LF, CR, FF, and the C1 block: a text delivery never holds them (UTF-16,
# xlsx and images do, and GB18030's four-byte forms map stray bytes onto them)
_BINARY = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")


def decode_bytes(data: bytes) -> ValidationResult:
    """value=(text, encoding) with encoding one of ENCODINGS; FILE_ENCODING if none fits."""
    if data.startswith(codecs.BOM_UTF8):
        candidates: tuple[str, ...] = ("utf-8-sig",)
    else:
        candidates = ("utf-8", "gbk", "gb18030")
    errors = []
    for name in candidates:
        try:
            text = data.decode(name)
        except UnicodeDecodeError as error:
            errors.append(f"{name}: invalid byte at offset {error.start}")
            continue
        binary = _BINARY.search(text)
        if binary:
            return failed("FILE_ENCODING", None, f"control character U+{ord(binary.group()):04X} at character "
                          f"{binary.start()} after decoding as {name}: binary or UTF-16 content")
        return passed((text, name))
    return failed("FILE_ENCODING", None, "; ".join(errors))
