"""Encoding detection of delivered files."""

import codecs

import pytest

from citydata.standards.encoding import decode_bytes

TEXT = "身份证号,姓名,住址\n11010519491231002X,张三,示范市东湖区湖滨街道\n"


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (TEXT.encode("utf-8"), "utf-8"),
        (codecs.BOM_UTF8 + TEXT.encode("utf-8"), "utf-8-sig"),
        (TEXT.encode("gbk"), "gbk"),
        ("𠀀字,€\n".encode("gb18030"), "gb18030"),  # outside GBK: four-byte GB18030 forms
        (b"id,name\n", "utf-8"),
        (b"", "utf-8"),
    ],
)
def test_detects_and_decodes(data, encoding):
    result = decode_bytes(data)
    assert result.ok and result.value[1] == encoding
    assert result.value[0] == data.decode(encoding)


def test_bom_is_not_kept_in_the_text():
    assert decode_bytes(codecs.BOM_UTF8 + b"a,b").value == ("a,b", "utf-8-sig")


@pytest.mark.parametrize(
    "data",
    [
        b"\xff\xfe\xfd",  # no encoding decodes these
        TEXT.encode("utf-16"),  # UTF-16 is not an accepted delivery encoding
        b"PK\x03\x04\x14\x00\x06\x00",  # an xlsx (zip) sent as CSV
        codecs.BOM_UTF8 + "示范".encode("gbk"),  # BOM promises UTF-8, body is GBK
        bytes([0x81, 0x30, 0x81, 0x30]),  # GB18030 maps it to a C1 control: binary, not text
    ],
)
def test_undecodable_files_are_rejected_as_a_whole(data):
    result = decode_bytes(data)
    assert (result.ok, result.reason, result.value) == (False, "FILE_ENCODING", None)
    assert result.detail
