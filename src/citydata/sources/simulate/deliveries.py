"""One day's deliveries: each department's file in its own format and encoding, with labelled defects.

Every builder works on whole columns (numpy arrays or lists of strings) and records each defect it
injects in the `Recorder`, with the data row number it ends up on (1 = first row after the header).
"""

from __future__ import annotations

import hashlib
import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from citydata.sources.simulate import writers
from citydata.sources.simulate.config import SimulationConfig
from citydata.sources.simulate.entities import (
    INDIVIDUAL,
    KIND_NAMES,
    SOCIAL_ORG,
    Entities,
    EntityEvents,
    Timeline,
    black_list,
    employment,
    licences,
    penalties,
    red_list,
    tax_payments,
)
from citydata.sources.simulate.names import POI_CATEGORIES, ROAD_SUFFIX, ROADS, variant
from citydata.sources.simulate.population import (
    ALIVE,
    MARITAL,
    MERGE_DATE,
    RELATIONS,
    Events,
    Population,
    Street,
    days,
    iso_strings,
)
from citydata.sources.simulate.rng import hash_uniform, stream
from citydata.standards import coords, idcard, uscc
from citydata.standards.geo import load_city_geometry
from citydata.standards.result import REASON_CODES

log = logging.getLogger(__name__)

# Reason codes of expected rejects: all registered in the standards library's one registry.
DUPLICATE_ROW = "DUPLICATE_ROW"
FILE_TRUNCATED = "FILE_TRUNCATED"
FILE_ENCODING = "FILE_ENCODING"
_UNKNOWN = {DUPLICATE_ROW, FILE_TRUNCATED, FILE_ENCODING, "ID_CHECKSUM", "ID_BIRTHDATE", "USCC_CHECKSUM",
            "GEO_OUTSIDE_CITY"} - set(REASON_CODES)
if _UNKNOWN:
    raise ImportError(f"reason codes {sorted(_UNKNOWN)} are missing from citydata.standards.result.REASON_CODES")

REJECT, NORMALIZE, MATCH, LINK = "reject", "normalize", "match", "link"
DAY_BEFORE_MERGE = MERGE_DATE - timedelta(days=1)
#: 三证合一: from this day new entities got only the credit code; older ones may keep the legacy tax number.
THREE_IN_ONE = date(2015, 10, 1)


@dataclass
class FileInfo:
    path: str
    format: str
    encoding: str
    rows: int
    bytes: int
    sha256: str


@dataclass
class Recorder:
    """Collects the files written and every defect injected (file, row, field, defect, reason, action)."""

    root: Path
    files: list[FileInfo] = field(default_factory=list)
    defects: list[tuple[str, int, str, str, str, str]] = field(default_factory=list)

    def add_file(self, rel: str, data: bytes, rows: int, fmt: str, encoding: str) -> None:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        self.files.append(FileInfo(rel, fmt, encoding, rows, len(data), hashlib.sha256(data).hexdigest()))

    def mark(self, rel: str, rows: Sequence[int] | np.ndarray, field_name: str, defect: str,
             reason: str = "", action: str = NORMALIZE) -> None:
        for row in np.asarray(rows, dtype=np.int64).tolist():
            self.defects.append((rel, int(row), field_name, defect, reason, action))


@dataclass
class Day:
    """Everything a builder needs about one delivery day."""

    cfg: SimulationConfig
    day: int
    streets: list[Street]
    pop: Population
    ents: Entities
    n_initial_entities: int
    events: Events
    entity_events: EntityEvents
    rec: Recorder

    @property
    def as_of(self) -> date:
        return self.cfg.as_of(self.day)

    @property
    def first(self) -> int:
        return days(self.cfg.period(self.day)[0])

    @property
    def last(self) -> int:
        return days(self.as_of)

    @property
    def broken(self) -> bool:
        return self.day in self.cfg.defects.broken_days

    def u(self, salt: str, ids: np.ndarray) -> np.ndarray:
        return hash_uniform(self.cfg.seed, salt, ids)


# ---- shared helpers ------------------------------------------------------------------------------

_FULLWIDTH = str.maketrans({chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)})


def fullwidth(text: str) -> str:
    return text.translate(_FULLWIDTH)


def mixed_dates(values: np.ndarray, roll: np.ndarray, rate: float) -> tuple[list[str], np.ndarray]:
    """ISO dates, with a share `rate` written as 2019/3/5, 20190305 or 2019年3月5日; returns the mask."""
    iso = iso_strings(values).tolist()
    odd = roll < rate
    out = list(iso)
    for i in np.flatnonzero(odd).tolist():
        y, m, d = iso[i].split("-")
        form = int(roll[i] / rate * 3) if rate else 0
        out[i] = (f"{y}/{int(m)}/{int(d)}", f"{y}{m}{d}", f"{y}年{int(m)}月{int(d)}日")[min(form, 2)]
    return out, odd


def _duplicates(rng: np.random.Generator, n: int, rate: float, eligible: np.ndarray) -> np.ndarray:
    """Rows (original indices) delivered twice."""
    candidates = np.flatnonzero(eligible)
    count = rng.binomial(len(candidates), rate) if len(candidates) else 0
    return np.sort(rng.choice(candidates, size=count, replace=False)) if count else np.empty(0, np.int64)


def _reorder(columns: list[list[str]], dup: np.ndarray, n: int) -> tuple[list[list[str]], np.ndarray]:
    """Insert each duplicated row right after its original; returns the columns and the 1-based row
    number of each original row."""
    repeat = np.ones(n, dtype=np.int64)
    repeat[dup] = 2
    order = np.repeat(np.arange(n), repeat)
    row_of = np.concatenate([[0], np.cumsum(repeat)[:-1]]) + 1
    if len(dup) == 0:
        return columns, row_of
    return [np.asarray(col, dtype=object)[order].tolist() for col in columns], row_of


def _csv(d: Day, rel: str, header: list[str], columns: list[list[str]], encoding: str, *,
         dup_rate: float = 0.0, dup_eligible: np.ndarray | None = None,
         marks: list[tuple[np.ndarray, str, str, str, str]] = ()) -> None:
    """Write a CSV with optional duplicates; `marks` = (row mask over original rows, field, defect,
    reason, action). Breaks the file when the day says so (truncated or undecodable)."""
    n = len(columns[0]) if columns else 0
    rng = stream(d.cfg.seed, d.day, f"dup:{rel}")
    eligible = dup_eligible if dup_eligible is not None else np.ones(n, bool)
    dup = _duplicates(rng, n, dup_rate, eligible) if dup_rate else np.empty(0, np.int64)
    columns, row_of = _reorder(columns, dup, n)
    for mask, field_name, defect, reason, action in marks:
        d.rec.mark(rel, row_of[np.flatnonzero(mask)], field_name, defect, reason, action)
    if len(dup):
        d.rec.mark(rel, row_of[dup] + 1, "*", DUPLICATE_ROW, DUPLICATE_ROW, REJECT)
    text = writers.columns_csv_text(header, columns)
    rows = n + len(dup)
    fmt = "csv"
    if d.broken and rel in d.cfg.defects.undecodable:
        # an Excel "Unicode text" export: UTF-16 with BOM, neither UTF-8 nor GBK
        data = text.encode("utf-16")
        d.rec.defects = [x for x in d.rec.defects if x[0] != rel]
        d.rec.mark(rel, [0], "*", FILE_ENCODING, FILE_ENCODING, REJECT)
        encoding = "utf-16"
    elif d.broken and rel in d.cfg.defects.truncated:
        data, rows = _truncate(d, rel, text.encode(encoding), rows)
    else:
        data = text.encode(encoding)
    d.rec.add_file(rel, data, rows, fmt, encoding)


def _truncate(d: Day, rel: str, data: bytes, rows: int) -> tuple[bytes, int]:
    """Cut the file in the middle of a data row (after a comma): the row is FILE_TRUNCATED, the rest lost."""
    lines = data.split(b"\r\n")
    keep_row = max(1, int(rows * 0.6)) if rows else 0   # data row that gets cut (0 = the header)
    cut_line = lines[keep_row]
    comma = cut_line.find(b",", cut_line.find(b",") + 1)
    cut_at = comma + 1 if comma > 0 else max(1, len(cut_line) // 2)
    head = b"\r\n".join(lines[:keep_row]) + (b"\r\n" if keep_row else b"") + cut_line[:cut_at]
    d.rec.defects = [x for x in d.rec.defects if not (x[0] == rel and x[1] >= keep_row)]
    d.rec.mark(rel, [keep_row], "*", FILE_TRUNCATED, FILE_TRUNCATED, REJECT)
    return head, keep_row


def _dirty_ids(d: Day, person: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Household register ID defects of each person on this day: (checksum wrong, birth date impossible)."""
    rates = d.cfg.defects
    roll = d.u("id-defect", person)
    checksum = roll < rates.id_checksum
    fixed_on = 2 + (d.u("id-correction", person) * rates.id_correction_days).astype(np.int64)
    checksum &= d.day < fixed_on
    birthdate = (roll >= rates.id_checksum) & (roll < rates.id_checksum + rates.id_birthdate)
    return checksum, birthdate


def correction_day(cfg: SimulationConfig, person: np.ndarray) -> np.ndarray:
    return 2 + (hash_uniform(cfg.seed, "id-correction", person) * cfg.defects.id_correction_days).astype(np.int64)


def register_clean(cfg: SimulationConfig, day: int, person: np.ndarray) -> np.ndarray:
    """Persons whose household-register rows pass validation on `day` (no wrong ID in that system)."""
    rates = cfg.defects
    roll = hash_uniform(cfg.seed, "id-defect", person)
    checksum = (roll < rates.id_checksum) & (day < correction_day(cfg, person))
    birthdate = (roll >= rates.id_checksum) & (roll < rates.id_checksum + rates.id_birthdate)
    return ~(checksum | birthdate)


def _bad_checksum(number: str) -> str:
    right = idcard.check_char(number[:17])
    return number[:17] + idcard.CHECK_CHARS[(idcard.CHECK_CHARS.index(right) + 3) % 11]


def _bad_birthdate(number: str, how: float) -> str:
    # month 13, day 00 or 31 February: a typed-in birth date the calendar does not have; the check
    # character is recomputed, so only the date is wrong
    month_day = "13" + number[12:14] if how < 0.4 else number[10:12] + "00" if how < 0.7 else "0231"
    first = number[:6] + number[6:10] + month_day + number[14:17]
    return first + idcard.check_char(first)


def person_ids(d: Day, person: np.ndarray) -> tuple[list[str], np.ndarray, np.ndarray]:
    """ID numbers as the household register holds them, with the checksum and birth-date masks."""
    checksum, birthdate = _dirty_ids(d, person)
    ids = [d.pop.ids[p] for p in person.tolist()]
    how = d.u("id-birthdate-how", person)
    for i in np.flatnonzero(checksum).tolist():
        ids[i] = _bad_checksum(ids[i])
    for i in np.flatnonzero(birthdate).tolist():
        ids[i] = _bad_birthdate(ids[i], float(how[i]))
    return ids, checksum, birthdate


def _names(d: Day, person: np.ndarray, department: str) -> tuple[list[str], np.ndarray]:
    """Names as `department` spells them (a share persistently differs from the register)."""
    names = [d.pop.names[p] for p in person.tolist()]
    odd = d.u(f"name-variant-{department}", person) < d.cfg.defects.name_variant
    how = d.u(f"name-variant-how-{department}", person)
    for i in np.flatnonzero(odd).tolist():
        names[i] = variant(names[i], float(how[i]))
    return names, odd


def _addresses(d: Day, household: np.ndarray, street: np.ndarray) -> list[str]:
    key = household.astype(np.int64) * 64 + street
    road = (d.u("road", key) * len(ROADS)).astype(np.int64)
    road2 = (d.u("road2", key) * len(ROADS)).astype(np.int64)
    suffix = (d.u("road-suffix", key) * len(ROAD_SUFFIX)).astype(np.int64)
    number = 1 + (d.u("house-number", key) * 300).astype(np.int64)
    building = 1 + (d.u("building", key) * 30).astype(np.int64)
    room = 101 + (d.u("room", key) * 20).astype(np.int64) * 100 + (d.u("room2", key) * 4).astype(np.int64)
    st = d.streets
    return [
        f"{st[s].district_name}{st[s].name}{ROADS[a]}{ROADS[b]}{ROAD_SUFFIX[c]}{n}号{g}幢{r}室"
        for s, a, b, c, n, g, r in zip(street.tolist(), road.tolist(), road2.tolist(), suffix.tolist(),
                                       number.tolist(), building.tolist(), room.tolist())
    ]


# ---- 公安: household register (GBK CSV) ------------------------------------------------------------

#: The columns of schemas/household_register.yml, in its order (ingest checks the header exactly).
REGISTER_HEADER = ["公民身份号码", "姓名", "性别", "出生日期", "户号", "与户主关系", "区县代码", "街道代码", "住址",
                   "联系电话", "登记日期"]
REGISTER = "police/household_register.csv"
CHANGES_HEADER = ["公民身份号码", "姓名", "变动类型", "变动原因", "变动日期", "原公民身份号码", "区县代码", "街道代码",
                  "原街道代码", "婚姻状况"]
CHANGES = "police/household_register_changes.csv"


def _codes_at(d: Day, street: np.ndarray, when: np.ndarray) -> tuple[list[str], list[str]]:
    """District and street codes valid on each date (retired 339906 codes before the merge)."""
    st = d.streets
    before = when < days(MERGE_DATE)
    district = np.where(before, np.array([s.codes_at(DAY_BEFORE_MERGE)[0] for s in st], dtype=object)[street],
                        np.array([s.district for s in st], dtype=object)[street])
    code = np.where(before, np.array([s.codes_at(DAY_BEFORE_MERGE)[1] for s in st], dtype=object)[street],
                    np.array([s.code for s in st], dtype=object)[street])
    return district.tolist(), code.tolist()


def _fixed_today(d: Day) -> np.ndarray:
    """Residents whose wrong ID number the register corrects on this day (alive, born before the period)."""
    pop = d.pop
    alive = np.flatnonzero((pop.death > d.last) & (pop.birth < d.first))
    return alive[(correction_day(d.cfg, alive) == d.day)
                 & (hash_uniform(d.cfg.seed, "id-defect", alive) < d.cfg.defects.id_checksum)]


def household_register(d: Day) -> None:
    """Residents' current records in the contract's columns. Day 1: every registered resident (全量).
    Later days: the records that are new or changed (births, moves, corrected ID numbers), each as a
    re-registration with 登记日期 = the date of the change; deaths are in the change log."""
    pop = d.pop
    if d.day == 1:
        person = np.flatnonzero(pop.alive_at(d.last) & (pop.registered <= d.last))
        person = person[np.lexsort((pop.relation[person], pop.household[person]))]
        when = pop.registered[person]
    else:
        ev = d.events
        alive_at_end = lambda people: people[pop.death[people] > d.last]  # noqa: E731 - the dead are 注销 in the log
        born = alive_at_end(ev.births)
        movers = pop.death[ev.moves] > d.last
        fixed = _fixed_today(d)
        person = np.concatenate([born, ev.moves[movers], fixed]).astype(np.int64)
        when = np.concatenate([pop.registered[born], ev.move_date[movers],
                               np.full(len(fixed), d.last, np.int32)]).astype(np.int32)
        # one row per person: the latest change decides the re-registration date
        order = np.lexsort((when, person))
        person, when = person[order], when[order]
        last = np.ones(len(person), dtype=bool)
        last[:-1] = person[1:] != person[:-1]
        person, when = person[last], when[last]
        order = np.lexsort((person, when))
        person, when = person[order], when[order]
    ids, checksum, birthdate = person_ids(d, person)
    wide = (d.u("id-fullwidth", person) < d.cfg.defects.fullwidth) & ~checksum & ~birthdate
    for i in np.flatnonzero(wide).tolist():
        ids[i] = fullwidth(ids[i])
    births, odd_dates = mixed_dates(pop.birth[person], d.u("register-date-form", person), d.cfg.defects.date_format)
    street = pop.street[person]
    district, street_codes = _codes_at(d, street, when)
    phone = pop.phone[person]
    columns = [
        ids, [pop.names[p] for p in person.tolist()], np.where(pop.gender[person] == 1, "男", "女").tolist(), births,
        [f"{h:010d}" for h in pop.household[person].tolist()],
        np.array(RELATIONS, dtype=object)[pop.relation[person]].tolist(), district, street_codes,
        _addresses(d, pop.household[person], street),
        np.where(phone > 0, phone.astype(str), "").tolist(), iso_strings(when).tolist(),
    ]
    old = np.array([code.startswith("339906") for code in district], dtype=bool)
    _csv(d, REGISTER, REGISTER_HEADER, columns, "gbk", dup_rate=d.cfg.defects.duplicate_row,
         dup_eligible=~checksum & ~birthdate,
         marks=[(checksum, "公民身份号码", "ID_CHECKSUM", "ID_CHECKSUM", REJECT),
                (birthdate, "公民身份号码", "ID_BIRTHDATE", "ID_BIRTHDATE", REJECT),
                (wide, "公民身份号码", "FULLWIDTH_DIGITS", "", NORMALIZE),
                (odd_dates, "出生日期", "DATE_FORMAT_MIXED", "", NORMALIZE),
                (old & ~checksum & ~birthdate, "区县代码", "DIVISION_RETIRED", "", NORMALIZE)])


def household_register_changes(d: Day) -> None:
    """The register's change log of the period (every day, day 1 included): 新增/出生, 变更/迁移 (with the
    street moved from), 变更/婚姻状况变更, 注销/死亡, 更正/更正公民身份号码 (with the wrong number)."""
    pop, ev = d.pop, d.events
    fixed = _fixed_today(d) if d.day > 1 else np.empty(0, np.int64)
    parts = [
        (ev.births, "新增", "出生", pop.birth[ev.births], None),
        (ev.moves, "变更", "迁移", ev.move_date, ev.move_from),
        (ev.marriages.reshape(-1), "变更", "婚姻状况变更", np.repeat(ev.marriage_date, 2), None),
        (ev.deaths, "注销", "死亡", pop.death[ev.deaths], None),
        (fixed, "更正", "更正公民身份号码", np.full(len(fixed), d.last, np.int32), None),
    ]
    person = np.concatenate([p[0].astype(np.int64) for p in parts])
    kind = np.concatenate([np.full(len(p[0]), p[1], dtype=object) for p in parts])
    reason = np.concatenate([np.full(len(p[0]), p[2], dtype=object) for p in parts])
    when = np.concatenate([np.asarray(p[3], dtype=np.int32) for p in parts])
    moved_from = np.concatenate([np.asarray(p[4], dtype=np.int64) if p[4] is not None else np.full(len(p[0]), -1)
                                 for p in parts])
    order = np.lexsort((np.arange(len(person)), person, when))
    person, kind, reason, when, moved_from = person[order], kind[order], reason[order], when[order], moved_from[order]
    ids, checksum, birthdate = person_ids(d, person)
    original = [_bad_checksum(pop.ids[p]) if k == "更正" else "" for p, k in zip(person.tolist(), kind.tolist())]
    street = pop.street[person]
    columns = [
        ids, [pop.names[p] for p in person.tolist()], kind.tolist(), reason.tolist(), iso_strings(when).tolist(),
        original,
        [d.streets[s].district for s in street.tolist()], [d.streets[s].code for s in street.tolist()],
        [d.streets[s].code if s >= 0 else "" for s in moved_from.tolist()],
        np.array(MARITAL, dtype=object)[pop.marital[person]].tolist(),
    ]
    _csv(d, CHANGES, CHANGES_HEADER, columns, "gbk",
         marks=[(checksum, "公民身份号码", "ID_CHECKSUM", "ID_CHECKSUM", REJECT),
                (birthdate, "公民身份号码", "ID_BIRTHDATE", "ID_BIRTHDATE", REJECT)])


# ---- 民政: marriages and social organizations -----------------------------------------------------

def marriages(d: Day) -> None:
    pairs = d.events.marriages
    when = d.events.marriage_date
    order = np.lexsort((pairs[:, 0], when)) if len(pairs) else np.empty(0, np.int64)
    pairs, when = pairs[order], when[order]
    husband, wife = pairs[:, 0], pairs[:, 1]
    h_names, h_odd = _names(d, husband, "civil")
    w_names, w_odd = _names(d, wife, "civil")
    columns = [iso_strings(when).tolist(), ["结婚登记"] * len(pairs), [d.pop.ids[p] for p in husband.tolist()], h_names,
               [d.pop.ids[p] for p in wife.tolist()], w_names,
               [f"{d.streets[s].district_name}民政局婚姻登记处" for s in d.pop.street[husband].tolist()]]
    _csv(d, "civil_affairs/marriages.csv", ["登记日期", "登记类型", "男方公民身份号码", "男方姓名", "女方公民身份号码",
                                            "女方姓名", "登记机关"], columns, "utf-8",
         marks=[(h_odd, "男方姓名", "NAME_VARIANT", "", MATCH), (w_odd, "女方姓名", "NAME_VARIANT", "", MATCH)])


def _entity_rows(d: Day, serial: np.ndarray) -> dict[str, list[str]]:
    e = d.ents
    rep = e.rep[serial]
    status = np.where(e.dereg[serial] <= d.last, "注销", "存续")
    dereg = np.where(e.dereg[serial] <= d.last, e.dereg[serial], 0)
    return {
        "code": [e.codes[s] for s in serial.tolist()],
        "name": [e.names[s] for s in serial.tolist()],
        "industry": [e.divisions[i] for i in e.industry[serial].tolist()],
        "rep_name": [d.pop.names[p] for p in rep.tolist()],
        "rep_id": [d.pop.ids[p] for p in rep.tolist()],
        "status": status.tolist(),
        "dereg": [iso if x else "" for iso, x in zip(iso_strings(dereg).tolist(), dereg.tolist())],
        "district": e.reg_div[serial].astype(str).tolist(),
        "address": _addresses(d, serial.astype(np.int64) + 10**9, e.street[serial]),
    }


def social_organizations(d: Day) -> None:
    """Full list every day (small); capital is stated in 万元 in the header."""
    e = d.ents
    serial = np.flatnonzero((e.kind == SOCIAL_ORG) & (e.reg <= d.last))
    rows = _entity_rows(d, serial)
    capital = [f"{c / 10000:g}" for c in e.capital[serial].tolist()]
    reg, odd = mixed_dates(e.reg[serial], d.u("org-date-form", serial), d.cfg.defects.date_format)
    columns = [rows["code"], rows["name"], [e.org_type[s] for s in serial.tolist()], rows["industry"], capital,
               rows["rep_name"], reg, rows["dereg"], rows["status"], rows["address"], rows["district"]]
    _csv(d, "civil_affairs/social_organizations.csv",
         ["统一社会信用代码", "名称", "组织类型", "行业代码", "注册资金（万元）", "法定代表人",
          "成立登记日期", "注销日期", "登记状态", "住所", "登记管理机关区县代码"], columns, "utf-8",
         marks=[(odd, "成立登记日期", "DATE_FORMAT_MIXED", "", NORMALIZE)])


# ---- 卫健: births and deaths ---------------------------------------------------------------------

def health(d: Day) -> None:
    pop, rate = d.pop, max(d.cfg.defects.date_format, 0.3)
    order = np.lexsort((d.events.births, pop.birth[d.events.births]))
    born, mother = d.events.births[order], d.events.mothers[order]
    m_names, m_odd = _names(d, mother, "health")
    dates, odd = mixed_dates(pop.birth[born], d.u("birth-cert-date", born), rate)
    columns = [[f"P{d.as_of:%Y}{339900000 + int(b):011d}" for b in born.tolist()],
               [pop.names[b] for b in born.tolist()],
               np.where(pop.gender[born] == 1, "男", "女").tolist(), dates,
               [pop.ids[m] for m in mother.tolist()], m_names,
               [f"{d.streets[s].district_name}妇幼保健院" for s in pop.street[born].tolist()]]
    _csv(d, "health/births.csv",
         ["出生医学证明编号", "新生儿姓名", "性别", "出生日期", "母亲公民身份号码", "母亲姓名", "出生地点"],
         columns, "utf-8", marks=[(odd, "出生日期", "DATE_FORMAT_MIXED", "", NORMALIZE),
                                  (m_odd, "母亲姓名", "NAME_VARIANT", "", MATCH)])
    dead = np.sort(d.events.deaths)
    dead = dead[np.argsort(pop.death[dead], kind="stable")]
    names, n_odd = _names(d, dead, "health")
    dates, odd = mixed_dates(pop.death[dead], d.u("death-cert-date", dead), rate)
    causes = np.array(["I21", "I63", "C34", "J44", "C16", "I10", "E11", "V89", "J18", "C22"], dtype=object)
    columns = [[f"D{d.as_of:%Y}{339900000 + int(p):011d}" for p in dead.tolist()], [pop.ids[p] for p in dead.tolist()],
               names, np.where(pop.gender[dead] == 1, "男", "女").tolist(), dates,
               np.where(d.u("death-place", dead) < 0.6, "医疗卫生机构", "家中").tolist(),
               causes[(d.u("death-cause", dead) * len(causes)).astype(np.int64)].tolist()]
    _csv(d, "health/deaths.csv",
         ["死亡医学证明编号", "公民身份号码", "姓名", "性别", "死亡日期", "死亡地点", "根本死因（ICD-10）"],
         columns, "utf-8", marks=[(odd, "死亡日期", "DATE_FORMAT_MIXED", "", NORMALIZE),
                                  (n_odd, "姓名", "NAME_VARIANT", "", MATCH)])


# ---- 人社: social-insurance contributors ------------------------------------------------------------

def social_insurance(d: Day) -> None:
    emp = employment(d.cfg, d.pop, d.ents, d.n_initial_entities, d.last)
    person = emp.person
    names, odd_names = _names(d, person, "social-insurance")
    ids = [d.pop.ids[p] for p in person.tolist()]
    wide = d.u("si-fullwidth", person) < d.cfg.defects.fullwidth
    for i in np.flatnonzero(wide).tolist():
        ids[i] = fullwidth(ids[i])
    since, odd_dates = mixed_dates(emp.since, d.u("si-date-form", person), d.cfg.defects.date_format)
    columns = [ids, names, [d.ents.codes[e] for e in emp.employer.tolist()],
               [d.ents.names[e] for e in emp.employer.tolist()],
               ["城镇职工基本养老保险"] * len(person), since, emp.base.astype(str).tolist(), ["正常参保"] * len(person)]
    _csv(d, "social_insurance/employment.csv",
         ["公民身份号码", "姓名", "单位统一社会信用代码", "单位名称", "险种", "参保日期", "缴费基数", "参保状态"],
         columns, "utf-8",
         dup_rate=d.cfg.defects.duplicate_row,
         marks=[(wide, "公民身份号码", "FULLWIDTH_DIGITS", "", NORMALIZE),
                (odd_names, "姓名", "NAME_VARIANT", "", MATCH),
                (odd_dates, "参保日期", "DATE_FORMAT_MIXED", "", NORMALIZE)])


# ---- 市场监管: market registry (XLSX) -----------------------------------------------------------------

REGISTRY = "market_regulation/legal_entities.xlsx"
REGISTRY_HEADER = ["统一社会信用代码", "企业名称", "市场主体类型", "行业代码", "注册资本", "法定代表人",
                   "法定代表人证件号码", "成立日期", "登记状态", "注销日期", "住所", "登记机关区县代码",
                   "变更类型", "变更日期"]


def registry_clean(cfg: SimulationConfig, serial: np.ndarray) -> np.ndarray:
    return hash_uniform(cfg.seed, "uscc-checksum", serial) >= cfg.defects.uscc_checksum


def _bad_uscc(code: str) -> str:
    right = uscc.check_char(code[:17])
    return code[:17] + uscc.CHARSET[(uscc.CHARSET.index(right) + 7) % 31]


def market_registry(d: Day) -> None:
    e = d.ents
    business = e.kind != SOCIAL_ORG
    if d.day == 1:
        serial = np.flatnonzero(business & (e.reg <= d.last))
        change = np.full(len(serial), "全量", dtype=object)
        when = e.changed[serial]
    else:
        ev = d.entity_events
        parts = [(ev.registered, "新设", e.reg), (ev.changed, "变更", e.changed), (ev.deregistered, "注销", e.dereg)]
        parts = [(s[business[s]], label, dates[s[business[s]]]) for s, label, dates in parts]
        serial = np.concatenate([p[0] for p in parts]).astype(np.int64)
        change = np.concatenate([np.full(len(p[0]), p[1], dtype=object) for p in parts])
        when = np.concatenate([p[2] for p in parts]).astype(np.int32)
        order = np.lexsort((serial, when))
        serial, change, when = serial[order], change[order], when[order]
    rows = _entity_rows(d, serial)
    dirty = ~registry_clean(d.cfg, serial)
    wide = (d.u("uscc-fullwidth", serial) < d.cfg.defects.fullwidth) & ~dirty
    codes = rows["code"]
    for i in np.flatnonzero(dirty).tolist():
        codes[i] = _bad_uscc(codes[i])
    for i in np.flatnonzero(wide).tolist():
        codes[i] = fullwidth(codes[i])
    in_yuan = d.u("capital-unit", serial) < d.cfg.defects.money_wan
    capital = [f"{c}元" if y else f"{c / 10000:g}万元" for c, y in zip(e.capital[serial].tolist(), in_yuan.tolist())]
    odd_dates = d.u("registry-date-form", serial) < d.cfg.defects.date_format
    reg_text, _ = mixed_dates(e.reg[serial], d.u("registry-date-form", serial), d.cfg.defects.date_format)
    base = date(1970, 1, 1)
    reg_cells = [t if o else base + timedelta(days=int(x))
                 for t, o, x in zip(reg_text, odd_dates.tolist(), e.reg[serial].tolist())]
    kinds = np.array(KIND_NAMES, dtype=object)[e.kind[serial]].tolist()
    columns = [codes, rows["name"], kinds, rows["industry"], capital, rows["rep_name"], rows["rep_id"], reg_cells,
               rows["status"], rows["dereg"], rows["address"], rows["district"], change.tolist(),
               iso_strings(when).tolist()]
    old = np.array([code.startswith("339906") for code in rows["district"]], dtype=bool)
    data = writers.write_xlsx(d.rec.root / REGISTRY, "市场主体登记信息", REGISTRY_HEADER, zip(*columns))
    d.rec.add_file(REGISTRY, data, len(serial), "xlsx", "xlsx")
    row = np.arange(1, len(serial) + 1)
    d.rec.mark(REGISTRY, row[dirty], "统一社会信用代码", "USCC_CHECKSUM", "USCC_CHECKSUM", REJECT)
    d.rec.mark(REGISTRY, row[wide], "统一社会信用代码", "FULLWIDTH_DIGITS", "", NORMALIZE)
    d.rec.mark(REGISTRY, row[~in_yuan], "注册资本", "MONEY_WAN", "", NORMALIZE)
    d.rec.mark(REGISTRY, row[odd_dates], "成立日期", "DATE_FORMAT_MIXED", "", NORMALIZE)
    d.rec.mark(REGISTRY, row[old], "登记机关区县代码", "DIVISION_RETIRED", "", NORMALIZE)


# ---- 信用: 双公示 licences and penalties, red and black lists (UTF-8 with BOM) -----------------------------

def _subject_columns(d: Day, serial: np.ndarray) -> tuple[list[list[str]], np.ndarray]:
    e = d.ents
    codes = [e.codes[s] for s in serial.tolist()]
    wide = d.u("credit-fullwidth", serial * 7 + d.day) < d.cfg.defects.fullwidth
    for i in np.flatnonzero(wide).tolist():
        codes[i] = fullwidth(codes[i])
    kind = np.where(e.kind[serial] == INDIVIDUAL, "个体工商户", "法人及非法人组织").tolist()
    return [[e.names[s] for s in serial.tolist()], kind, codes, [d.pop.names[p] for p in e.rep[serial].tolist()]], wide


def _select(t: Timeline, mask: np.ndarray) -> Timeline:
    return Timeline(t.subject[mask], t.slot[mask], t.start[mask], t.end[mask], t.flavour[mask])


def credit(d: Day) -> None:
    e, rate = d.ents, d.cfg.defects.date_format
    three_years = int(3 * 365.25)
    lic = licences(d.cfg, e)
    window = (lic.start > d.last - three_years) if d.day == 1 else (lic.start >= d.first)
    lic = _select(lic, window & (lic.start <= d.last))
    subject, wide = _subject_columns(d, lic.subject)
    key = lic.subject * 16 + lic.slot
    decided, odd = mixed_dates(lic.start, d.u("licence-date-form", key), rate)
    categories = np.array(["普通", "特许", "认可", "核准", "登记"], dtype=object)
    contents = np.array(["食品经营许可", "建设工程规划许可", "排污许可", "道路运输经营许可", "卫生许可",
                         "消防安全检查合格"], dtype=object)
    columns = subject + [
        [f"示许字〔{y[:4]}〕{k:08d}号" for y, k in zip(iso_strings(lic.start).tolist(), key.tolist())],
        categories[(lic.flavour * len(categories)).astype(np.int64)].tolist(),
        contents[(d.u("licence-content", key) * len(contents)).astype(np.int64)].tolist(),
        decided, iso_strings(lic.start).tolist(), iso_strings(lic.end).tolist(),
        ["示范市行政审批局"] * len(key), ["示范市行政审批局"] * len(key)]
    _csv(d, "credit/licences.csv",
         ["行政相对人名称", "行政相对人类别", "统一社会信用代码", "法定代表人", "行政许可决定文书号", "许可类别",
          "许可内容", "许可决定日期", "有效期自", "有效期至", "许可机关", "数据来源单位"],
         columns, "utf-8-sig", marks=[(odd, "许可决定日期", "DATE_FORMAT_MIXED", "", NORMALIZE),
                                      (wide, "统一社会信用代码", "FULLWIDTH_DIGITS", "", NORMALIZE)])

    pen = penalties(d.cfg, e)
    window = (pen.end > d.last) if d.day == 1 else (pen.start >= d.first)
    pen = _select(pen, window & (pen.start <= d.last))
    subject, wide = _subject_columns(d, pen.subject)
    key = pen.subject * 16 + pen.slot
    decided, odd = mixed_dates(pen.start, d.u("penalty-date-form", key), rate)
    fine = pen.flavour >= 0.3
    amount = np.where(fine, np.round(0.05 + d.u("penalty-amount", key) * 20, 2), 0.0)
    acts = np.array(["未按规定公示年度报告", "销售不合格产品", "虚假宣传", "违反食品安全规定", "未取得许可擅自经营",
                     "违反安全生产规定"], dtype=object)
    columns = subject + [
        [f"示市监罚〔{k:010d}〕号" for k in key.tolist()],
        acts[(d.u("penalty-act", key) * len(acts)).astype(np.int64)].tolist(),
        np.where(fine, "罚款", "警告").tolist(),
        [f"{a:.2f}" if f else "" for a, f in zip(amount.tolist(), fine.tolist())],
        decided, iso_strings(pen.end).tolist(), ["示范市市场监督管理局"] * len(key)]
    _csv(d, "credit/penalties.csv",
         ["行政相对人名称", "行政相对人类别", "统一社会信用代码", "法定代表人", "行政处罚决定书文号", "违法行为类型",
          "处罚类别", "罚款金额（万元）", "处罚决定日期", "公示截止期", "处罚机关"],
         columns, "utf-8-sig", marks=[(odd, "处罚决定日期", "DATE_FORMAT_MIXED", "", NORMALIZE),
                                      (wide, "统一社会信用代码", "FULLWIDTH_DIGITS", "", NORMALIZE)])

    lists = (("red_list", red_list(d.cfg, e), ("纳税信用A级纳税人", "守合同重信用企业")),
             ("black_list", black_list(d.cfg, e), ("严重违法失信名单", "失信被执行人", "重大税收违法失信主体")))
    for name, timeline, kinds in lists:
        t = _select(timeline, timeline.start <= d.last)
        subject, wide = _subject_columns(d, t.subject)
        start, odd = mixed_dates(t.start, d.u(f"{name}-date-form", t.subject), rate)
        end_text = iso_strings(np.minimum(t.end, 2**31 - 2)).tolist()
        end = [("" if x == ALIVE else s) for s, x in zip(end_text, t.end.tolist())]
        labels = np.array(kinds, dtype=object)[(t.flavour * len(kinds)).astype(np.int64)].tolist()
        columns = [subject[0], subject[2], labels, start, end, ["示范市信用办"] * len(t.subject)]
        _csv(d, f"credit/{name}.csv",
             ["主体名称", "统一社会信用代码", "名单类型", "列入日期", "有效期至", "认定部门"], columns,
             "utf-8-sig", marks=[(odd, "列入日期", "DATE_FORMAT_MIXED", "", NORMALIZE),
                                 (wide, "统一社会信用代码", "FULLWIDTH_DIGITS", "", NORMALIZE)])


# ---- 税务 and internet POIs: paged JSON APIs ------------------------------------------------------

def tax_window(cfg: SimulationConfig, day: int) -> tuple[int, int]:
    """Epoch days whose payments (or corrections) are delivered on `day`; day 1 also loads a month of history."""
    first, last = days(cfg.period(day)[0]), days(cfg.as_of(day))
    if day == 1:
        first = min(first, last - 30)
    return first, last


def _pages(d: Day, source: str, records: list[dict], marks: list[tuple[np.ndarray, str, str, str, str]]) -> None:
    size = d.cfg.page_size
    total = len(records)
    pages = max(1, -(-total // size))
    for page in range(1, pages + 1):
        chunk = records[(page - 1) * size: page * size]
        rel = f"{source}/pages/page-{page:05d}.json"
        data = writers.json_bytes(
            {"page": page, "page_size": size, "total": total, "total_pages": pages, "records": chunk})
        d.rec.add_file(rel, data, len(chunk), "json", "utf-8")
    for mask, field_name, defect, reason, action in marks:
        for index in np.flatnonzero(mask).tolist():
            d.rec.defects.append((f"{source}/pages/page-{index // size + 1:05d}.json", index % size + 1,
                                  field_name, defect, reason, action))
    d.rec.add_file(f"{source}/api.json", writers.json_bytes(
        {"endpoint": f"/api/{source}", "page_size": size, "total": total, "total_pages": pages,
         "pages": [f"pages/page-{p:05d}.json" for p in range(1, pages + 1)]}), 0, "json", "utf-8")


def _money(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def tax_legacy(cfg: SimulationConfig, ents: Entities, entity: np.ndarray) -> np.ndarray:
    """Taxpayers the tax bureau still numbers by the legacy 税务登记号 (persistent per entity)."""
    return ((ents.reg[entity] < days(THREE_IN_ONE))
            & (hash_uniform(cfg.seed, "tax-legacy", entity) < cfg.defects.tax_legacy))


def tax(d: Day) -> None:
    first, last = tax_window(d.cfg, d.day)
    t = tax_payments(d.cfg, d.ents, first, last)
    legacy = tax_legacy(d.cfg, d.ents, t.entity)
    records: list[dict] = []
    wan: list[bool] = []
    roll = d.u("revenue-unit", t.entity * 1000 + t.month)
    for i in range(len(t.entity)):
        entity, paid, corr = int(t.entity[i]), int(t.paid[i]), int(t.corrected[i])
        month = int(t.month[i])
        base = {
            "tax_voucher_no": f"3399{month // 12:04d}{month % 12 + 1:02d}{entity:09d}{int(t.kind[i]) + 1}",
            "taxpayer_id": uscc.legacy_tax_number(d.ents.codes[entity]) if legacy[i] else d.ents.codes[entity],
            "taxpayer_name": d.ents.names[entity],
            "tax_type": ("增值税", "企业所得税")[int(t.kind[i])],
            "tax_period": f"{month // 12:04d}-{month % 12 + 1:02d}",
            "paid_date": str(np.datetime64(paid, "D")),
        }
        revenue = int(t.revenue[i])
        in_wan = bool(roll[i] < d.cfg.defects.money_wan)
        revenue_text = f"{revenue / 1_000_000:.6f}".rstrip("0").rstrip(".") + "万元" if in_wan else _money(revenue)
        if first <= paid <= last:
            records.append({**base, "amount": _money(int(t.amount[i])), "revenue": revenue_text,
                            "correction": "0", "correction_date": None})
            wan.append(in_wan)
        if first <= corr <= last:
            records.append({**base, "amount": _money(int(t.corrected_amount[i])), "revenue": revenue_text,
                            "correction": "1", "correction_date": str(np.datetime64(corr, "D"))})
            wan.append(in_wan)
    records.sort(key=lambda r: (r["correction_date"] or r["paid_date"], r["tax_voucher_no"], r["correction"]))
    wan_sorted = [r["revenue"].endswith("万元") for r in records]
    legacy_sorted = [len(r["taxpayer_id"]) == 15 for r in records]
    _pages(d, "tax", records, [(np.array(wan_sorted, dtype=bool), "revenue", "MONEY_WAN", "", NORMALIZE),
                               (np.array(legacy_sorted, dtype=bool), "taxpayer_id", "TAX_LEGACY_NUMBER", "", LINK)])


@dataclass
class Pois:
    """Points of interest (static attributes; open and close dates decide which exist on a day)."""

    street: np.ndarray
    category: np.ndarray
    lon: np.ndarray        # GCJ-02 as delivered (6 decimals)
    lat: np.ndarray
    outside: np.ndarray    # bool: deliberately outside the city
    opened: np.ndarray
    closed: np.ndarray
    names: list[str]
    district: list[str]    # the district the pipeline will find ('' outside)


def make_pois(cfg: SimulationConfig, streets: list[Street]) -> Pois:
    rng = stream(cfg.seed, 0, "poi")
    n = max(10, round(cfg.persons * 0.05))
    street = rng.integers(0, len(streets), size=n)
    category = rng.integers(0, len(POI_CATEGORIES), size=n)
    outside = rng.random(n) < cfg.defects.outside_city
    geometry = load_city_geometry()
    sampler = random.Random(cfg.seed * 1_000_003 + 17)
    x0, y0, x1, y1 = geometry.boundary.bbox
    lon = np.empty(n)
    lat = np.empty(n)
    located: list[str] = []
    start = days(cfg.as_of(0))
    for i in range(n):
        if outside[i]:
            w_lon, w_lat = round(x1 + 0.05 + sampler.random() * 0.3, 6), round(y0 + sampler.random() * (y1 - y0), 6)
        else:
            w_lon, w_lat = geometry.random_point_in(streets[street[i]].code, sampler)
        g_lon, g_lat = coords.wgs84_to_gcj02(w_lon, w_lat)
        lon[i], lat[i] = coords.round6(g_lon), coords.round6(g_lat)
        # the district the pipeline will find: convert the delivered point back, as ingest does
        where = geometry.locate(*coords.round_point(*coords.gcj02_to_wgs84(lon[i], lat[i])))
        located.append(where.value[0] if where.ok else "")
    opened = (start - rng.exponential(3.0, size=n) * 365).astype(np.int32)
    lifetime = (rng.exponential(6.0, size=n) * 365).astype(np.int32)
    closed = np.where(rng.random(n) < 0.5, opened + lifetime, ALIVE).astype(np.int32)
    closed = np.where(closed <= start, ALIVE, closed)  # only POIs open on day 0 are crawled at all
    kinds = [POI_CATEGORIES[c][2] for c in category.tolist()]
    suffix = rng.integers(0, 5, size=n).tolist()
    names = [f"{streets[s].name[:2]}{k[x % len(k)]}（{i + 1}店）"
             for i, (s, k, x) in enumerate(zip(street.tolist(), kinds, suffix))]
    return Pois(street, category, lon, lat, outside, opened, closed, names, located)


def internet_poi(d: Day, pois: Pois) -> None:
    live = np.flatnonzero((pois.opened <= d.last) & (pois.closed > d.last))
    records = []
    for i in live.tolist():
        code, type_name, _ = POI_CATEGORIES[int(pois.category[i])]
        st = d.streets[int(pois.street[i])]
        records.append({"id": f"B0{d.cfg.seed % 1000:03d}{i:08d}", "name": pois.names[i], "type": type_name,
                        "typecode": code, "address": f"{st.name}{ROADS[i % len(ROADS)]}路{i % 200 + 1}号",
                        "location": f"{pois.lon[i]:.6f},{pois.lat[i]:.6f}", "coord_system": "gcj02",
                        "cityname": "示范市", "adname": "" if pois.outside[i] else st.district_name})
    outside = np.array([pois.district[i] == "" for i in live.tolist()], dtype=bool)
    _pages(d, "internet_poi", records, [(outside, "location", "GEO_OUTSIDE_CITY", "GEO_OUTSIDE_CITY", REJECT)])


# ---- 自然资源: geography; 统计局: indicators -------------------------------------------------------------

def geography(d: Day) -> None:
    features = load_city_geometry().geojson["features"]
    for name, levels in (("districts", ("prefecture", "district")), ("streets", ("street",))):
        chosen = sorted((f for f in features if f["properties"]["level"] in levels),
                        key=lambda f: f["properties"]["code"])
        crs = {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}
        data = writers.json_bytes({"type": "FeatureCollection", "name": name, "crs": crs, "features": chosen})
        d.rec.add_file(f"geography/{name}.geojson", data, len(chosen), "geojson", "utf-8")


STATISTICS = "statistics/indicators.xlsx"


def statistics_due(cfg: SimulationConfig, day: int) -> bool:
    """Delivered on day 1 and whenever a new quarter has begun since the previous delivery."""
    if day == 1:
        return True
    before, now = cfg.as_of(day - 1), cfg.as_of(day)
    return (before.year, (before.month - 1) // 3) != (now.year, (now.month - 1) // 3)


def statistics_rows(d: Day) -> tuple[str, list[tuple]]:
    """The latest complete quarter's indicators by district (and the city): GDP, retail sales, residents."""
    q_end = date(d.as_of.year, 3 * ((d.as_of.month - 1) // 3) + 1, 1) - timedelta(days=1)
    period = f"{q_end.year}年第{(q_end.month - 1) // 3 + 1}季度"
    rng = stream(d.cfg.seed, q_end.year * 10 + q_end.month, "statistics")
    pop = d.pop
    at = days(q_end)
    alive = pop.alive_at(at)
    rows = []
    districts = sorted({s.district: s.district_name for s in d.streets}.items())
    scale = d.cfg.persons / 1_000_000
    for code, name in districts:
        residents = int(sum(int(alive[pop.street == i].sum()) for i, s in enumerate(d.streets) if s.district == code))
        gdp = round(residents * rng.uniform(0.025, 0.04) / 10000 * 1.0 + 10 * scale, 2)
        rows.append((name, code, gdp, round(rng.uniform(3.0, 8.0), 1), round(gdp * rng.uniform(0.3, 0.45), 2),
                     round(rng.uniform(1.0, 9.0), 1), round(residents * rng.uniform(1.02, 1.12) / 10000, 2)))
    total = ("示范市", "339900", round(sum(r[2] for r in rows), 2), round(float(np.mean([r[3] for r in rows])), 1),
             round(sum(r[4] for r in rows), 2), round(float(np.mean([r[5] for r in rows])), 1),
             round(sum(r[6] for r in rows), 2))
    return period, [total] + rows


def statistics(d: Day) -> list[tuple]:
    period, rows = statistics_rows(d)
    groups = [("地区", []), ("区划代码", []), ("地区生产总值", ["绝对值（亿元）", "同比增长（%）"]),
              ("社会消费品零售总额", ["绝对值（亿元）", "同比增长（%）"]), ("常住人口（万人）", [])]
    data = writers.write_xlsx_merged(d.rec.root / STATISTICS, "主要指标", f"示范市主要经济指标（{period}）",
                                     groups, rows)
    d.rec.add_file(STATISTICS, data, len(rows), "xlsx", "xlsx")
    return [(period,) + row for row in rows]
