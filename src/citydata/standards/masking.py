"""Masking of personal information (GB/T 35273 practice): deterministic and irreversible.

ID number → first 6 + ******** + last 4; mobile → first 3 + **** + last 4; Chinese name → surname
+ one * per remaining character; address → cut after the street/township; birth date → year.
Values too short or malformed to mask by the rule are masked entirely, never passed through.
Pseudonymous join keys are HMAC-SHA256 keyed hashes; the key never leaves the platform.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable
from datetime import date

from citydata.standards.text import normalize_fullwidth, parse_date

FULL_MASK = "****"

#: Two-character (compound) surnames: 复姓 of the Hundred Family Surnames and those common today.
COMPOUND_SURNAMES = frozenset(
    "欧阳 太史 端木 上官 司马 东方 独孤 南宫 万俟 闻人 夏侯 诸葛 尉迟 公羊 赫连 澹台 皇甫 宗政 濮阳 "
    "公冶 太叔 申屠 公孙 慕容 仲孙 钟离 长孙 宇文 司徒 鲜于 司空 闾丘 子车 亓官 司寇 巫马 公西 颛孙 "
    "壤驷 公良 漆雕 乐正 宰父 谷梁 拓跋 夹谷 轩辕 令狐 段干 百里 呼延 东郭 南门 羊舌 微生 公户 公玉 "
    "公仪 梁丘 公仲 公上 公门 公山 公坚 左丘 公伯 西门 公祖 第五 公乘 贯丘 公皙 南荣 东里 东宫 仲长 "
    "子书 子桑 即墨 达奚 褚师".split()
)

_SPACES = re.compile(r"\s+")


# A delivered value quoted in a reject or an error is cut to this many characters (a 1 MB field would
# otherwise be copied whole into the rejects table).
QUOTE_CHARS = 200


def shorten(value: str, limit: int = QUOTE_CHARS) -> str:
    """`value`, cut after `limit` characters with its full length said: `abc…(1,048,576 characters)`."""
    return value if len(value) <= limit else f"{value[:limit]}…({len(value):,} characters)"


def mask_id_number(value: str) -> str:
    """First 6 + ******** + last 4 (an 18- or 15-character number); anything shorter fully masked."""
    text = _SPACES.sub("", normalize_fullwidth(str(value))).upper()
    if len(text) < 15:
        return "*" * 8
    return text[:6] + "*" * 8 + text[-4:]


def mask_mobile(value: str) -> str:
    """First 3 + **** + last 4 of an 11-digit mobile (+86 / spaces / hyphens tolerated); else fully masked."""
    digits = re.sub(r"\D", "", normalize_fullwidth(str(value)))
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    if len(digits) != 11:
        return FULL_MASK
    return digits[:3] + "****" + digits[-4:]


def surname_length(name: str) -> int:
    """2 for a compound surname (欧阳, 司马, 诸葛 …) followed by a given name, else 1."""
    return 2 if len(name) >= 3 and name[:2] in COMPOUND_SURNAMES else 1


def mask_name(value: str) -> str:
    """Surname + one * per remaining character (a lone character stays; '·' in names is kept)."""
    name = normalize_fullwidth(str(value)).strip()
    if any("\u4e00" <= char <= "\u9fff" for char in name):
        name = _SPACES.sub("", name)
    if not name:
        return ""
    keep = surname_length(name)
    return name[:keep] + "".join(char if char in "·• " else "*" for char in name[keep:])


_UNIT_NAME = r"[^\d\s路街巷弄号楼栋室]{1,7}?"
_ADDRESS_HEAD = re.compile(
    rf"(?P<province>{_UNIT_NAME}(?:省|自治区))?"
    rf"(?P<city>{_UNIT_NAME}(?:市|自治州|地区|盟))?"
    rf"(?P<county>{_UNIT_NAME}(?:区|县|市|旗))?"
    r"(?P<township>[^\d\s路巷弄号楼栋室]{1,8}?(?:街道|镇|乡|苏木))?"
)


def mask_address(value: str) -> str:
    """Cut after the street/township (街道, 镇, 乡, 苏木) that follows the administrative units at the
    start of the address. Without one, cut after the county (区/县/市) when a city or province
    precedes it, else after the city or province; an address with no leading unit is fully masked."""
    text = _SPACES.sub("", normalize_fullwidth(str(value)))
    head = _ADDRESS_HEAD.match(text)
    if head is None:  # the pattern is all-optional, so this is unreachable; kept for type checkers
        return FULL_MASK
    if head.group("township"):
        return text[: head.end("township")]
    if head.group("county") and (head.group("city") or head.group("province")):
        return text[: head.end("county")]
    for unit in ("city", "province"):
        if head.group(unit):
            return text[: head.end(unit)]
    return FULL_MASK


def mask_birth_date(value: date | str) -> str:
    """Year only ('1949'); fully masked if the date cannot be read."""
    parsed = parse_date(value)
    return f"{parsed.value.year:04d}" if parsed.ok else FULL_MASK


def pseudonym(value: str, key: bytes | str) -> str:
    """HMAC-SHA256 hex digest of the value under a platform-held key: a stable, irreversible join key."""
    if not key:
        raise ValueError("pseudonym needs a non-empty key (held by the platform, never exported)")
    raw_key = key.encode("utf-8") if isinstance(key, str) else key
    return hmac.new(raw_key, str(value).encode("utf-8"), hashlib.sha256).hexdigest()


def mask_full(value: object) -> str:
    """Replace the whole value: for sensitive fields without a specific rule."""
    return FULL_MASK


MASKERS: dict[str, Callable[[str], str]] = {
    "id_number": mask_id_number,
    "mobile": mask_mobile,
    "phone": mask_mobile,
    "name": mask_name,
    "address": mask_address,
    "birth_date": mask_birth_date,
    "full": mask_full,
}


def mask_value(kind: str, value: object) -> str | None:
    """Dispatch by kind (id_number, mobile/phone, name, address, birth_date, full); None stays None."""
    if kind not in MASKERS:
        raise KeyError(f"no masking rule {kind!r}: use one of {sorted(MASKERS)}")
    if value is None:
        return None
    return MASKERS[kind](value)  # type: ignore[arg-type]
