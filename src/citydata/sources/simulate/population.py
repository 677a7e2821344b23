"""Residents of the simulated city as numpy columns, and their events (births, deaths, moves, marriages).

One row per person ever registered (index = person serial); the dead stay with a death date.
Strings (ID numbers, names) are built once per person and kept in lists; everything else is numeric
so a million residents cost seconds, not minutes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np

from citydata.sources.simulate.config import SimulationConfig
from citydata.sources.simulate.names import person_names
from citydata.standards import idcard
from citydata.standards.divisions import load_divisions

ALIVE = np.iinfo(np.int32).max  # death date of the living
EPOCH = date(1970, 1, 1)
MERGE_DATE = date(2021, 7, 1)   # 339906 merged into 339905

#: Real county-level division codes of other provinces (not 33 浙江): first registration of residents
#: born outside 示范市.
OTHER_DIVISIONS = np.array([
    110101, 110105, 120101, 130102, 140105, 210102, 220102, 230102, 310104, 310115, 320102, 320506,
    340102, 350102, 360102, 370102, 410102, 420102, 430102, 440103, 440305, 450102, 500103, 510104,
    520102, 530102, 610102, 620102, 630102, 640104, 650102, 460105, 150102, 321002,
], dtype=np.int32)

RELATIONS = ("户主", "配偶", "子女", "父母", "其他")
MARITAL = ("未婚", "已婚", "离婚", "丧偶")


def days(value: date) -> int:
    """Days since 1970-01-01 (the integer form of every date in the model)."""
    return (value - EPOCH).days


def ymd_strings(values: np.ndarray) -> np.ndarray:
    """'YYYYMMDD' for each epoch day."""
    return np.char.replace(np.datetime_as_string(values.astype("datetime64[D]")), "-", "")


def iso_strings(values: np.ndarray) -> np.ndarray:
    """'YYYY-MM-DD' for each epoch day."""
    return np.datetime_as_string(values.astype("datetime64[D]"))


@dataclass(frozen=True)
class Street:
    code: str
    name: str
    district: str
    district_name: str
    old_district: str | None  # the district code before the 2021 merge, if it changed
    old_code: str | None = None  # the street's own code before the merge, if it changed

    def codes_at(self, day: date) -> tuple[str, str]:
        """(district, street) codes valid on `day`: the retired ones before the merge."""
        if self.old_code and day < MERGE_DATE:
            return self.old_district or self.district, self.old_code
        return self.district, self.code


def city_streets(at: date) -> list[Street]:
    """The current streets of the city (from the standards' division table), by code."""
    table = load_divisions()
    former: dict[str, tuple[str, str]] = {}
    for row in table.rows:
        if row.level == "street" and row.successor:
            former[row.successor] = (row.parent or "", row.code)
    return [
        Street(row.code, row.name, row.parent or "", table.name(row.parent or "", at) or "",
               former.get(row.code, (None, None))[0], former.get(row.code, (None, None))[1])
        for row in sorted(table.streets(at=at), key=lambda r: r.code)
    ]


@dataclass
class Population:
    birth: np.ndarray          # int32 epoch day
    gender: np.ndarray         # int8 1 = male, 2 = female
    birth_div: np.ndarray      # int32 division of first registration (first 6 of the ID)
    seq: np.ndarray            # int16 ID sequence (odd = male)
    street: np.ndarray         # int16 index into streets
    household: np.ndarray      # int64
    relation: np.ndarray       # int8 index into RELATIONS
    marital: np.ndarray        # int8 index into MARITAL
    registered: np.ndarray     # int32 epoch day of registration in the city
    death: np.ndarray          # int32 epoch day, ALIVE for the living
    phone: np.ndarray          # int64, 0 = none
    names: list[str]
    ids: list[str]
    id_keys: np.ndarray = field(repr=False)  # int64 sorted keys of (division, birth, seq) in use

    @property
    def size(self) -> int:
        return len(self.birth)

    def alive_at(self, day: int) -> np.ndarray:
        return (self.birth <= day) & (self.death > day)


def _id_key(div: np.ndarray, birth: np.ndarray, seq: np.ndarray) -> np.ndarray:
    return div.astype(np.int64) * 10**9 + (birth.astype(np.int64) + 100000) * 1000 + seq.astype(np.int64)


def _unique_seq(rng: np.random.Generator, div: np.ndarray, birth: np.ndarray, gender: np.ndarray,
                taken: np.ndarray) -> np.ndarray:
    """ID sequence numbers (odd male, even female) unique against `taken` and each other."""
    seq = (2 * rng.integers(0, 500, size=len(div)) + (gender == 1)).astype(np.int16)
    for _ in range(50):
        keys = _id_key(div, birth, seq)
        order = np.argsort(keys, kind="stable")
        dup = np.zeros(len(keys), dtype=bool)
        dup[order[1:]] = keys[order[1:]] == keys[order[:-1]]
        if len(taken):  # `taken` is sorted: a binary search beats np.isin's hashing on a million keys
            at = np.minimum(np.searchsorted(taken, keys), len(taken) - 1)
            dup |= taken[at] == keys
        if not dup.any():
            return seq
        seq[dup] = (2 * rng.integers(0, 500, size=int(dup.sum())) + (gender[dup] == 1)).astype(np.int16)
    raise RuntimeError("could not draw unique identity sequence numbers: the city is too dense")


def _make_ids(div: np.ndarray, birth: np.ndarray, seq: np.ndarray) -> list[str]:
    ymd = ymd_strings(birth).tolist()
    first17 = [f"{d}{b}{s:03d}" for d, b, s in zip(div.tolist(), ymd, seq.tolist())]
    return [f + idcard.check_char(f) for f in first17]


def _birth_divisions(rng: np.random.Generator, streets: list[Street], street: np.ndarray,
                     birth: np.ndarray, local_share: np.ndarray) -> np.ndarray:
    district = np.array([int(s.district) for s in streets], dtype=np.int32)[street]
    old = np.array([int(s.old_district or s.district) for s in streets], dtype=np.int32)[street]
    local = np.where(birth < days(MERGE_DATE), old, district)
    elsewhere = OTHER_DIVISIONS[rng.integers(0, len(OTHER_DIVISIONS), size=len(street))]
    return np.where(rng.random(len(street)) < local_share, local, elsewhere).astype(np.int32)


def _phones(rng: np.random.Generator, n: int) -> np.ndarray:
    prefix = np.array([130, 131, 133, 135, 136, 137, 138, 139, 150, 151, 158, 159, 177, 186, 187, 188, 189, 199])
    return prefix[rng.integers(0, len(prefix), size=n)].astype(np.int64) * 10**8 + rng.integers(0, 10**8, size=n)


def initial_population(cfg: SimulationConfig, streets: list[Street], rng: np.random.Generator) -> Population:
    """The residents on day 0 (the as-of date before the first delivery period), in households."""
    n = cfg.persons
    start = days(cfg.as_of(0))
    sizes_p = np.array([0.22, 0.30, 0.25, 0.15, 0.06, 0.02])
    sizes = rng.choice(np.arange(1, 7), size=n // 2 + 10, p=sizes_p)
    ends = np.cumsum(sizes)
    count = int(np.searchsorted(ends, n)) + 1
    sizes = sizes[:count].copy()
    sizes[-1] -= int(ends[count - 1] - n)
    hh_of = np.repeat(np.arange(count), sizes)
    first = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    k = np.arange(n) - first[hh_of]
    size = sizes[hh_of]

    street_weight = rng.gamma(4.0, size=len(streets))
    hh_street = rng.choice(len(streets), size=count, p=street_weight / street_weight.sum()).astype(np.int16)
    head_age = np.clip(rng.normal(50, 15, size=count), 20, 95)
    head_male = rng.random(count) < 0.65
    has_spouse = (sizes >= 2) & (rng.random(count) < 0.85)

    relation = np.full(n, 2, dtype=np.int8)
    relation[k == 0] = 0
    spouse = (k == 1) & has_spouse[hh_of]
    relation[spouse] = 1
    parent = (k >= 4) & (k == size - 1)
    relation[parent] = 3

    age = head_age[hh_of] - 22 - rng.uniform(0, 18, size=n)
    age = np.where(age < 0, rng.uniform(0, 3, size=n), age)
    age = np.where(relation == 0, head_age[hh_of], age)
    age = np.where(relation == 1, np.clip(head_age[hh_of] + rng.normal(-2, 3, size=n), 19, 97), age)
    age = np.where(relation == 3, np.clip(head_age[hh_of] + rng.uniform(24, 32, size=n), 45, 100), age)
    male = rng.random(n) < 0.5
    male = np.where(relation == 0, head_male[hh_of], male)
    male = np.where(relation == 1, ~head_male[hh_of], male)
    gender = np.where(male, 1, 2).astype(np.int8)
    # clipped ages pile up on one value: spread each over its year of age
    birth = (start - np.floor((np.floor(age) + rng.random(n)) * 365.25)).astype(np.int32)

    marital = np.zeros(n, dtype=np.int8)
    marital[relation == 1] = 1
    heads = relation == 0
    marital[heads & has_spouse[hh_of]] = 1
    single_head = heads & ~has_spouse[hh_of]
    roll = rng.random(n)
    marital[single_head & (age >= 30)] = np.where(roll[single_head & (age >= 30)] < 0.5, 2, 3)
    marital[relation == 3] = 3

    street = hh_street[hh_of]
    local_share = np.where(relation == 2, 0.95, 0.65)
    birth_div = _birth_divisions(rng, streets, street, birth, local_share)
    city_born = (birth_div // 100) == 3399
    moved_in = start - rng.integers(0, 365 * 30, size=n)
    registered = np.where(city_born, birth + rng.integers(0, 60, size=n), np.maximum(moved_in, birth + 18 * 365))
    # the register's records start when the city's division table does (its codes must be valid on
    # the 登记日期): earlier residents were re-registered in the first three years
    founded = days(min(row.valid_from for row in load_divisions().rows if row.level == "prefecture"))
    registered = np.where(registered < founded, founded + rng.integers(0, 3 * 365, size=n), registered)
    registered = np.minimum(registered, start).astype(np.int32)

    seq = _unique_seq(rng, birth_div, birth, gender, np.empty(0, dtype=np.int64))
    surname_of_head, _ = person_names(rng, count)
    surname = surname_of_head[hh_of].copy()
    others = relation == 1
    surname[others] = person_names(rng, int(others.sum()))[0]
    _, names = person_names(rng, n, surname)
    phone = np.where(age >= 16, _phones(rng, n), 0)
    household = (np.arange(count, dtype=np.int64) + 1)[hh_of]
    keys = np.sort(_id_key(birth_div, birth, seq))
    return Population(
        birth=birth, gender=gender, birth_div=birth_div, seq=seq, street=street, household=household,
        relation=relation, marital=marital, registered=registered, death=np.full(n, ALIVE, dtype=np.int32),
        phone=phone.astype(np.int64), names=names, ids=_make_ids(birth_div, birth, seq), id_keys=keys,
    )


@dataclass
class Events:
    """What happened during one delivery period (person serials and epoch days)."""

    births: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    mothers: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    deaths: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    moves: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    move_from: np.ndarray = field(default_factory=lambda: np.empty(0, np.int16))
    move_date: np.ndarray = field(default_factory=lambda: np.empty(0, np.int32))
    marriages: np.ndarray = field(default_factory=lambda: np.empty((0, 2), np.int64))  # (husband, wife)
    marriage_date: np.ndarray = field(default_factory=lambda: np.empty(0, np.int32))


def _dates_in(rng: np.random.Generator, lo: int, hi: int, n: int) -> np.ndarray:
    return rng.integers(lo, hi + 1, size=n).astype(np.int32)


def advance(pop: Population, cfg: SimulationConfig, streets: list[Street], day: int) -> Events:
    """Apply the events of delivery day `day` to `pop` (in place) and return them."""
    from citydata.sources.simulate.rng import stream

    rng = stream(cfg.seed, day, "population-events")
    first, last = (days(d) for d in cfg.period(day))
    years = (last - first + 1) / 365.25
    alive = pop.death == ALIVE
    age = (last - pop.birth) / 365.25
    events = Events()

    # deaths: Gompertz hazard
    hazard = np.minimum(0.0004 + 0.0007 * np.exp(0.085 * np.clip(age - 30, -30, 80)), 0.6)
    dies = alive & (rng.random(pop.size) < 1 - np.exp(-hazard * years))
    dead = np.flatnonzero(dies)
    pop.death[dead] = _dates_in(rng, first, last, len(dead))
    events.deaths = dead

    # household moves between streets
    alive = pop.death == ALIVE
    households = np.unique(pop.household[alive])
    movers = households[rng.random(len(households)) < 1 - np.exp(-0.05 * years)]
    moving = np.flatnonzero(alive & np.isin(pop.household, movers))
    if len(moving):
        hh_new = rng.integers(1, len(streets), size=len(movers))
        hh_date = _dates_in(rng, first, last, len(movers))
        slot = np.searchsorted(movers, pop.household[moving])
        events.moves = moving
        events.move_from = pop.street[moving].copy()
        events.move_date = hh_date[slot]
        pop.street[moving] = ((pop.street[moving] + hh_new[slot]) % len(streets)).astype(np.int16)

    # marriages between unmarried adults
    single = alive & (pop.marital != 1)
    men = np.flatnonzero(single & (pop.gender == 1) & (age >= 22) & (age < 50))
    women = np.flatnonzero(single & (pop.gender == 2) & (age >= 20) & (age < 48))
    pairs = rng.binomial(min(len(men), len(women)), 1 - np.exp(-0.04 * years)) if len(men) and len(women) else 0
    if pairs:
        husbands = rng.choice(men, size=pairs, replace=False)
        wives = rng.choice(women, size=pairs, replace=False)
        events.marriages = np.stack([husbands, wives], axis=1).astype(np.int64)
        events.marriage_date = _dates_in(rng, first, last, pairs)
        pop.marital[husbands] = 1
        pop.marital[wives] = 1

    # births to married women 20-45
    mothers = np.flatnonzero(alive & (pop.gender == 2) & (pop.marital == 1) & (age >= 20) & (age < 45))
    born = mothers[rng.random(len(mothers)) < 1 - np.exp(-0.09 * years)]
    if len(born):
        _add_newborns(pop, rng, streets, born, first, last)
        events.births = np.arange(pop.size - len(born), pop.size, dtype=np.int64)
        events.mothers = born.astype(np.int64)
    return events


def _add_newborns(pop: Population, rng: np.random.Generator, streets: list[Street], mothers: np.ndarray,
                  first: int, last: int) -> None:
    n = len(mothers)
    birth = _dates_in(rng, first, last, n)
    gender = np.where(rng.random(n) < 0.512, 1, 2).astype(np.int8)
    street = pop.street[mothers].copy()
    district = np.array([int(s.district) for s in streets], dtype=np.int32)[street]
    seq = _unique_seq(rng, district, birth, gender, pop.id_keys)
    head_surname = [pop.names[m][0] for m in mothers.tolist()]
    from citydata.sources.simulate.names import SURNAMES

    surname_idx = np.array([SURNAMES.index(s) if s in SURNAMES else 0 for s in head_surname], dtype=np.int64)
    _, names = person_names(rng, n, surname_idx)
    registered = np.minimum(birth + rng.integers(0, 20, size=n), last).astype(np.int32)
    pop.birth = np.concatenate([pop.birth, birth])
    pop.gender = np.concatenate([pop.gender, gender])
    pop.birth_div = np.concatenate([pop.birth_div, district])
    pop.seq = np.concatenate([pop.seq, seq])
    pop.street = np.concatenate([pop.street, street])
    pop.household = np.concatenate([pop.household, pop.household[mothers]])
    pop.relation = np.concatenate([pop.relation, np.full(n, 2, dtype=np.int8)])
    pop.marital = np.concatenate([pop.marital, np.zeros(n, dtype=np.int8)])
    pop.registered = np.concatenate([pop.registered, registered])
    pop.death = np.concatenate([pop.death, np.full(n, ALIVE, dtype=np.int32)])
    pop.phone = np.concatenate([pop.phone, np.zeros(n, dtype=np.int64)])
    pop.names.extend(names)
    pop.ids.extend(_make_ids(district, birth, seq))
    pop.id_keys = np.sort(np.concatenate([pop.id_keys, _id_key(district, birth, seq)]))
