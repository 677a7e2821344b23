"""Detect and decode a delivered file's bytes: UTF-8 (with or without BOM), else GBK, else GB18030.

Never guesses silently: the detected encoding is returned with the text, and bytes that none of
these decode (or that decode to binary control characters) reject the whole file with FILE_ENCODING.
A file whose only fault is a multi-byte character cut at its very end was cut, not mis-encoded:
FILE_TRUNCATED, with the text before the cut character as the value (the caller rejects the cut row).
`encoding_note` says when the detected encoding is not the one a contract declares.
"""

from __future__ import annotations

import codecs
import re

from citydata.standards.result import ValidationResult, failed, passed

ENCODINGS = ("utf-8-sig", "utf-8", "gbk", "gb18030")
# C0 controls other than tab, LF, CR, FF, and the C1 block: a text delivery never holds them (UTF-16,
# xlsx and images do, and GB18030's four-byte forms map stray bytes onto them)
BINARY_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")
# what Python's codecs say when the bytes end inside a character (UTF-8 / the GB codecs)
_ENDS_INSIDE_A_CHARACTER = ("unexpected end of data", "incomplete multibyte sequence")


def _cut_tail(body: bytes, error: UnicodeDecodeError) -> bool:
    """The decode failed only because the bytes end inside a multi-byte character."""
    return error.end == len(body) and error.reason in _ENDS_INSIDE_A_CHARACTER


def decode_bytes(data: bytes) -> ValidationResult:
    """value=(text, encoding) with encoding one of ENCODINGS; FILE_ENCODING if none fits; FILE_TRUNCATED
    (value: the text before the cut character and the encoding) if the file ends inside a character."""
    bom = data.startswith(codecs.BOM_UTF8)
    body = data[len(codecs.BOM_UTF8):] if bom else data
    candidates: tuple[str, ...] = ("utf-8",) if bom else ("utf-8", "gbk", "gb18030")
    errors = []
    for name in candidates:
        label = "utf-8-sig" if bom else name
        try:
            text = body.decode(name)
            cut = 0
        except UnicodeDecodeError as error:
            errors.append(f"{label}: invalid byte at offset {error.start + len(data) - len(body)}")
            if not _cut_tail(body, error):
                continue
            prefix = body[:error.start]
            # ASCII before the cut proves nothing about UTF-8: a GBK file may end in one Chinese character
            # whose two bytes look like the start of a UTF-8 one; a GB codec that reads it whole wins.
            if name == "utf-8" and not bom and prefix.isascii() and _reads_whole(body):
                continue
            text, cut = prefix.decode(name), len(body) - error.start
        binary = BINARY_CONTROL.search(text)
        if binary:
            return failed("FILE_ENCODING", None, f"control character U+{ord(binary.group()):04X} at character "
                          f"{binary.start()} after decoding as {label}: binary or UTF-16 content")
        if cut:
            return failed("FILE_TRUNCATED", (text, label), f"the file ends inside a multi-byte {label} character "
                          f"({cut} of its bytes arrived): it was cut")
        return passed((text, label))
    return failed("FILE_ENCODING", None, "; ".join(errors))


def _reads_whole(body: bytes) -> bool:
    for name in ("gbk", "gb18030"):
        try:
            text = body.decode(name)
        except UnicodeDecodeError:
            continue
        return not BINARY_CONTROL.search(text)
    return False


def _family(encoding: str) -> str:
    """An encoding name as a family: utf-8 (with or without BOM), gbk or gb18030."""
    name = encoding.strip().lower().replace("_", "-")
    return "utf-8" if name in ("utf-8", "utf8", "utf-8-sig") else name


def encoding_note(declared: str, detected: str, text: str | None = None) -> str | None:
    """Why a delivery's detected encoding is not the declared one (None when it is, or when the text is ASCII,
    which every declared encoding reads alike). A GBK contract delivered in GB18030 is noted too: GB18030
    reads GBK, but characters outside GBK mean the department's export changed."""
    if text is not None and text.isascii():
        return None
    if _family(declared) == _family(detected):
        return None
    return f"delivered as {detected}, the contract declares {declared}"
