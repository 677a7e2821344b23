"""Masking and pseudonyms."""

import hashlib
import hmac
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from citydata.standards import idcard
from citydata.standards.masking import (
    mask_address,
    mask_birth_date,
    mask_id_number,
    mask_mobile,
    mask_name,
    mask_value,
    pseudonym,
)


def test_id_number():
    assert mask_id_number("11010519491231002X") == "110105********002X"
    assert mask_id_number("11010519491231002x") == "110105********002X"
    assert mask_id_number("110105491231002") == "110105********1002"
    assert mask_id_number("12345") == "********"


def test_mobile():
    assert mask_mobile("13800138000") == "138****8000"
    assert mask_mobile("+86 138-0013-8000") == "138****8000"
    assert mask_mobile("0571-8888") == "****"


@pytest.mark.parametrize(
    ("name", "masked"),
    [("张三", "张*"), ("王小明", "王**"), ("欧阳娜娜", "欧阳**"), ("司马光", "司马*"), ("诸葛亮", "诸葛*"),
     ("上官婉儿", "上官**"), ("欧阳", "欧*"), ("李", "李"), ("阿卜杜拉·买买提", "阿***·***"), (" 张 三 ", "张*"),
     ("", "")],
)
def test_name(name, masked):
    assert mask_name(name) == masked


@pytest.mark.parametrize(
    ("address", "masked"),
    [
        ("浙江省示范市东湖区湖滨街道解放路12号3单元501室", "浙江省示范市东湖区湖滨街道"),
        ("示范市中和区白沙镇海滨村王家坞", "示范市中和区白沙镇"),
        ("示范市西山区龙坞镇龙井路8号", "示范市西山区龙坞镇"),
        ("湖滨街道解放路1号", "湖滨街道"),
        ("示范市东湖区解放路12号", "示范市东湖区"),  # no street: cut after the district
        ("示范市东湖区市心路12号", "示范市东湖区"),  # '市' in a road name is not a unit
        ("示范市解放路商业区3号", "示范市"),  # '商业区' after a road is not a district
        ("翠苑小区3幢", "****"),  # no administrative unit at all
        ("东湖区解放路12号", "****"),  # a bare district name with no city is not trusted
    ],
)
def test_address(address, masked):
    assert mask_address(address) == masked


def test_birth_date_keeps_the_year():
    assert mask_birth_date(date(1949, 12, 31)) == "1949"
    assert mask_birth_date("1949年12月31日") == "1949"
    assert mask_birth_date("unknown") == "****"


def test_pseudonym_is_keyed_deterministic_and_hex():
    a = pseudonym("11010519491231002X", b"platform-key")
    assert a == pseudonym("11010519491231002X", "platform-key")
    assert a != pseudonym("11010519491231002X", b"other-key")
    assert a == hmac.new(b"platform-key", b"11010519491231002X", hashlib.sha256).hexdigest()
    assert len(a) == 64 and "11010519491231002X" not in a
    with pytest.raises(ValueError):
        pseudonym("x", b"")


def test_mask_value_dispatch():
    assert mask_value("id_number", "11010519491231002X") == "110105********002X"
    assert mask_value("phone", "13800138000") == "138****8000"
    assert mask_value("name", "欧阳娜娜") == "欧阳**"
    assert mask_value("full", "anything") == "****"
    assert mask_value("name", None) is None
    with pytest.raises(KeyError):
        mask_value("ssn", "x")


ids = st.builds(idcard.make, st.sampled_from(["339901", "110105"]),
                st.dates(min_value=date(1900, 1, 1), max_value=date(2025, 12, 31)), st.integers(0, 999))


@given(ids)
def test_id_mask_never_leaks_the_middle(number):
    masked = mask_id_number(number)
    assert masked == number[:6] + "********" + number[-4:] and number[6:14] not in masked


@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
def test_mobile_mask_never_leaks_the_middle(mobile):
    masked = mask_mobile(mobile)
    assert masked == mobile[:3] + "****" + mobile[-4:]


@given(st.text(alphabet="王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈",
               min_size=1, max_size=5))
def test_name_mask_keeps_only_the_surname(name):
    masked = mask_name(name)
    assert len(masked) == len(name) and masked[0] == name[0] and set(masked[1:]) <= {"*"}


@given(st.text(alphabet="路号弄栋室0123456789解放中山", min_size=1, max_size=12))
def test_address_mask_never_keeps_house_numbers(tail):
    masked = mask_address("浙江省示范市东湖区湖滨街道" + tail)
    assert masked == "浙江省示范市东湖区湖滨街道"
