"""Controlled vocabularies the open-data catalog uses (DCAT-AP): EU Publications Office authority tables for
update frequency, data theme, file type and licence; IANA media types; SPDX checksum algorithms; and the
CKAN licence ids harvesters know (CKAN's default licence list).

Catalog items say these things in the platform's own words (`update_cycle: daily`, `theme: 人口`,
`license: CC-BY-4.0`); this module maps them, and names the fix when a word has no mapping.
"""

from __future__ import annotations

from dataclasses import dataclass

EU_AUTHORITY = "http://publications.europa.eu/resource/authority"
IANA_MEDIA_TYPES = "https://www.iana.org/assignments/media-types"
SPDX = "http://spdx.org/rdf/terms#"
SPDX_SHA256 = f"{SPDX}checksumAlgorithm_sha256"
LANGUAGE_ZH = f"{EU_AUTHORITY}/language/ZHO"


class VocabularyError(ValueError):
    """A catalog item uses a word the open-data catalog cannot map to its controlled vocabulary."""


# update_cycle (English or Chinese) -> EU frequency authority code
_FREQUENCIES = {
    "realtime": "UPDATE_CONT", "real-time": "UPDATE_CONT", "continuous": "UPDATE_CONT", "实时": "UPDATE_CONT",
    "hourly": "HOURLY", "每小时": "HOURLY",
    "daily": "DAILY", "每日": "DAILY", "每天": "DAILY", "日": "DAILY", "日更新": "DAILY",
    "weekly": "WEEKLY", "每周": "WEEKLY", "周": "WEEKLY",
    "monthly": "MONTHLY", "每月": "MONTHLY", "月": "MONTHLY", "月度": "MONTHLY",
    "quarterly": "QUARTERLY", "每季度": "QUARTERLY", "季度": "QUARTERLY",
    "semiannual": "ANNUAL_2", "每半年": "ANNUAL_2", "半年": "ANNUAL_2",
    "annual": "ANNUAL", "yearly": "ANNUAL", "每年": "ANNUAL", "年": "ANNUAL", "年度": "ANNUAL",
    "irregular": "IRREG", "不定期": "IRREG",
    "never": "NEVER", "不更新": "NEVER",
}


def frequency_uri(update_cycle: str) -> str:
    """EU frequency authority URI of an update cycle (`daily` / `每日` -> .../frequency/DAILY)."""
    code = _FREQUENCIES.get(update_cycle.strip().lower())
    if code is None:
        raise VocabularyError(f"update cycle '{update_cycle}' has no EU frequency code. Fix: use one of "
                              f"{sorted(k for k in _FREQUENCIES if k.isascii())} (or its Chinese word) in the "
                              "catalog item, or add the mapping in citydata/export/vocabularies.py")
    return f"{EU_AUTHORITY}/frequency/{code}"


# A catalog theme (the five base databases and their marts) -> EU data-theme codes, matched by a word the
# theme contains (first match wins).
_THEMES = (
    ("人口", "SOCI"), ("社会", "SOCI"), ("就业", "SOCI"),
    ("信用", "JUST"), ("处罚", "JUST"), ("许可", "GOVE"),
    ("法人", "ECON"), ("企业", "ECON"), ("经济", "ECON"), ("税", "ECON"),
    ("地理", "REGI"), ("空间", "REGI"), ("区划", "REGI"), ("画像", "REGI"), ("城市", "REGI"),
    ("交通", "TRAN"), ("环境", "ENVI"), ("教育", "EDUC"), ("卫生", "HEAL"), ("健康", "HEAL"),
    ("population", "SOCI"), ("credit", "JUST"), ("economy", "ECON"), ("legal_entity", "ECON"),
    ("geo", "REGI"), ("portrait", "REGI"),
)


def theme_uri(theme: str) -> str:
    """EU data-theme URI of a catalog theme (`人口` -> .../data-theme/SOCI)."""
    text = theme.strip().lower()
    for word, code in _THEMES:
        if word in text:
            return f"{EU_AUTHORITY}/data-theme/{code}"
    raise VocabularyError(f"theme '{theme}' has no EU data theme. Fix: use a theme naming one of "
                          f"{sorted({w for w, _ in _THEMES if not w.isascii()})}, or add the mapping in "
                          "citydata/export/vocabularies.py")


@dataclass(frozen=True)
class Licence:
    """An open licence: its EU licence authority URI (for DCAT) and CKAN's id, title and URL."""

    spdx_id: str
    uri: str
    ckan_id: str
    title: str
    url: str
    open: bool


_LICENCES = {
    lic.spdx_id.lower(): lic for lic in (
        Licence("CC-BY-4.0", f"{EU_AUTHORITY}/licence/CC_BY_4_0", "cc-by",
                "Creative Commons Attribution 4.0", "https://creativecommons.org/licenses/by/4.0/", True),
        Licence("CC-BY-SA-4.0", f"{EU_AUTHORITY}/licence/CC_BYSA_4_0", "cc-by-sa",
                "Creative Commons Attribution Share-Alike 4.0", "https://creativecommons.org/licenses/by-sa/4.0/",
                True),
        Licence("CC0-1.0", f"{EU_AUTHORITY}/licence/CC0", "cc-zero",
                "Creative Commons CCZero", "https://creativecommons.org/publicdomain/zero/1.0/", True),
        Licence("CC-BY-NC-4.0", f"{EU_AUTHORITY}/licence/CC_BYNC_4_0", "cc-nc",
                "Creative Commons Non-Commercial 4.0", "https://creativecommons.org/licenses/by-nc/4.0/", False),
    )
}


def licence(spdx_id: str) -> Licence:
    """The licence of an SPDX id (`CC-BY-4.0`); an open dataset without a known licence cannot be published."""
    found = _LICENCES.get(spdx_id.strip().lower())
    if found is None:
        raise VocabularyError(f"licence '{spdx_id}' is not one the open-data catalog knows. Fix: set `license:` "
                              f"in the catalog item to one of {sorted(lic.spdx_id for lic in _LICENCES.values())}")
    return found


def media_type_uri(media_type: str) -> str:
    """IANA media-type URI (`text/csv` -> https://www.iana.org/assignments/media-types/text/csv)."""
    return f"{IANA_MEDIA_TYPES}/{media_type}"


def file_type_uri(code: str) -> str:
    """EU file-type authority URI (`CSV` -> .../file-type/CSV)."""
    return f"{EU_AUTHORITY}/file-type/{code}"
