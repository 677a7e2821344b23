"""Legal entities (enterprises, individual businesses, social organizations) and what hangs on them:
licences, penalties, red and black lists, tax payments and revenue, social-insurance employment.

Entities are replayed day by day like residents (registrations, deregistrations, capital changes).
Credit events, tax payments and employment are timelines drawn from per-entity stable uniforms
(`hash_uniform`), so any day's view is computed directly, the same on every run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from citydata.sources.simulate.config import DAY1, SimulationConfig
from citydata.sources.simulate.names import GIVEN_CHARS, TRADE_WORDS
from citydata.sources.simulate.population import ALIVE, MERGE_DATE, Population, Street, days
from citydata.sources.simulate.rng import hash_uniform, stream
from citydata.standards import uscc
from citydata.standards.industry import load_industries

ENTERPRISE, INDIVIDUAL, SOCIAL_ORG = 0, 1, 2
KIND_NAMES = ("企业", "个体工商户", "社会组织")
_PREFIX = {ENTERPRISE: ("9", "1"), INDIVIDUAL: ("9", "2")}
_ORG_TYPES = (("5", "1", "社会团体"), ("5", "2", "民办非企业单位"), ("5", "3", "基金会"))

# Share of enterprises (and individual businesses) by GB/T 4754 section; divisions uniform within.
_SECTION_WEIGHTS = {"A": 1, "C": 12, "D": 0.5, "E": 6, "F": 30, "G": 4, "H": 8, "I": 7, "J": 1, "K": 4,
                    "L": 10, "M": 6, "N": 1, "O": 4, "P": 2, "Q": 1, "R": 2}
_INDIVIDUAL_DIVISIONS = ("51", "52", "62", "61", "80", "81", "53")
_ORG_DIVISIONS = ("95", "83", "84", "95", "95")


@dataclass
class Entities:
    kind: np.ndarray        # int8 ENTERPRISE | INDIVIDUAL | SOCIAL_ORG
    street: np.ndarray      # int16 index into streets
    reg_div: np.ndarray     # int32 district code at registration (old 339906 before the merge)
    industry: np.ndarray    # int16 index into `divisions`
    capital: np.ndarray     # int64 registered capital in yuan
    reg: np.ndarray         # int32 epoch day of registration
    dereg: np.ndarray       # int32 epoch day of deregistration, ALIVE if active
    rep: np.ndarray         # int64 person serial of the legal representative
    changed: np.ndarray     # int32 epoch day of the last change (capital)
    names: list[str]
    codes: list[str]
    org_type: list[str]
    divisions: list[str] = field(default_factory=list)  # industry division codes (shared table)

    @property
    def size(self) -> int:
        return len(self.kind)

    def active_at(self, day: int) -> np.ndarray:
        return (self.reg <= day) & (self.dereg > day)


def industry_divisions() -> tuple[list[str], np.ndarray]:
    """Division codes and the weight of each for enterprises."""
    table = load_industries()
    codes = sorted(table.divisions)
    weight_by_section: dict[str, int] = {}
    for code in codes:
        section = table.divisions[code][1]
        weight_by_section[section] = weight_by_section.get(section, 0) + 1
    weights = np.array([_SECTION_WEIGHTS.get(table.divisions[c][1], 0) / weight_by_section[table.divisions[c][1]]
                        for c in codes])
    return codes, weights / weights.sum()


def _base31(values: np.ndarray, width: int) -> list[str]:
    chars = np.array(list(uscc.CHARSET))
    digits = []
    rest = values.copy()
    for _ in range(width):
        digits.append(chars[rest % 31])
        rest //= 31
    stacked = np.stack(digits[::-1], axis=1)
    return ["".join(row) for row in stacked.tolist()]


def _org_bases(rng: np.random.Generator, n: int, taken: set[int]) -> np.ndarray:
    values = rng.integers(0, 31**8, size=n, dtype=np.int64)
    for _ in range(50):
        seen: set[int] = set(taken)
        dup = np.zeros(n, dtype=bool)
        for i, v in enumerate(values.tolist()):
            if v in seen:
                dup[i] = True
            seen.add(v)
        if not dup.any():
            taken.update(values.tolist())
            return values
        values[dup] = rng.integers(0, 31**8, size=int(dup.sum()), dtype=np.int64)
    raise RuntimeError("could not draw unique organization codes")


def _new_entities(rng: np.random.Generator, n: int, kind: np.ndarray, reg: np.ndarray, pop: Population,
                  streets: list[Street], divisions: list[str], weights: np.ndarray, taken: set[int],
                  at_day: int) -> Entities:
    street_weight = np.bincount(pop.street[pop.death == ALIVE], minlength=len(streets)).astype(float) + 1
    street = rng.choice(len(streets), size=n, p=street_weight / street_weight.sum()).astype(np.int16)
    district = np.array([int(s.district) for s in streets], dtype=np.int32)[street]
    old = np.array([int(s.old_district or s.district) for s in streets], dtype=np.int32)[street]
    reg_div = np.where(reg < days(MERGE_DATE), old, district).astype(np.int32)
    index = {code: i for i, code in enumerate(divisions)}
    industry = rng.choice(len(divisions), size=n, p=weights).astype(np.int16)
    ind_pick = np.array([index[c] for c in _INDIVIDUAL_DIVISIONS])[rng.integers(0, len(_INDIVIDUAL_DIVISIONS), size=n)]
    org_pick = np.array([index[c] for c in _ORG_DIVISIONS])[rng.integers(0, len(_ORG_DIVISIONS), size=n)]
    industry = np.where(kind == INDIVIDUAL, ind_pick, np.where(kind == SOCIAL_ORG, org_pick, industry)).astype(np.int16)
    capital = np.where(
        kind == ENTERPRISE, np.round(np.exp(rng.normal(np.log(1e6), 1.4, size=n)), -4),
        np.where(kind == INDIVIDUAL, np.round(np.exp(rng.normal(np.log(5e4), 1.0, size=n)), -3),
                 rng.choice([30000, 100000, 2000000], size=n, p=[0.6, 0.3, 0.1]))).astype(np.int64)
    capital = np.maximum(capital, 1000)
    adults = np.flatnonzero((pop.death == ALIVE) & (pop.birth <= at_day - 20 * 365))
    rep = adults[rng.integers(0, len(adults), size=n)].astype(np.int64)
    org_type_idx = rng.integers(0, len(_ORG_TYPES), size=n)
    bases = _base31(_org_bases(rng, n, taken), 8)
    codes, names, org_types = [], [], []
    trade = rng.integers(0, len(TRADE_WORDS), size=n).tolist()
    g1 = rng.integers(0, len(GIVEN_CHARS), size=n).tolist()
    g2 = rng.integers(0, len(GIVEN_CHARS), size=n).tolist()
    table = load_industries()
    for i in range(n):
        k = int(kind[i])
        if k == SOCIAL_ORG:
            authority, etype, type_name = _ORG_TYPES[org_type_idx[i]]
        else:
            (authority, etype), type_name = _PREFIX[k], KIND_NAMES[k]
        codes.append(uscc.make(authority, etype, str(reg_div[i]), bases[i]))
        words = TRADE_WORDS[trade[i]] + GIVEN_CHARS[g1[i]] + GIVEN_CHARS[g2[i]]
        trade_name = table.divisions[divisions[industry[i]]][0].split("、")[0].split("和")[0].replace("业", "")[:4]
        district_name = streets[street[i]].district_name
        if k == ENTERPRISE:
            names.append(f"示范市{words}{trade_name}有限公司")
        elif k == INDIVIDUAL:
            names.append(f"{district_name}{words}{trade_name}店")
        else:
            names.append(f"示范市{words}{'协会' if etype == '1' else '服务中心' if etype == '2' else '基金会'}")
        org_types.append(type_name)
    return Entities(kind=kind.astype(np.int8), street=street, reg_div=reg_div, industry=industry, capital=capital,
                    reg=reg.astype(np.int32), dereg=np.full(n, ALIVE, dtype=np.int32), rep=rep,
                    changed=reg.astype(np.int32), names=names, codes=codes, org_type=org_types, divisions=divisions)


def initial_entities(cfg: SimulationConfig, pop: Population, streets: list[Street], taken: set[int]) -> Entities:
    """Every entity registered before day 1, including those already deregistered (history)."""
    rng = stream(cfg.seed, 0, "entities")
    start = days(cfg.as_of(0))
    counts = (round(cfg.persons * 0.08), round(cfg.persons * 0.06), max(3, round(cfg.persons * 0.002)))
    kind = np.repeat(np.arange(3), counts).astype(np.int8)
    n = len(kind)
    reg = (start - np.minimum(rng.exponential(7.0, size=n), 30.0) * 365.25).astype(np.int32)
    divisions, weights = industry_divisions()
    ents = _new_entities(rng, n, kind, reg, pop, streets, divisions, weights, taken, start)
    gone = rng.random(n) < 0.3
    dereg = reg + (rng.exponential(5.0, size=n) * 365.25).astype(np.int32)
    ents.dereg = np.where(gone & (dereg <= start), dereg, ALIVE).astype(np.int32)
    return ents


@dataclass
class EntityEvents:
    registered: np.ndarray
    deregistered: np.ndarray
    changed: np.ndarray


def advance_entities(ents: Entities, pop: Population, cfg: SimulationConfig, streets: list[Street], day: int,
                     taken: set[int]) -> EntityEvents:
    """Registrations, deregistrations and capital changes of delivery day `day` (in place)."""
    rng = stream(cfg.seed, day, "entity-events")
    first, last = (days(d) for d in cfg.period(day))
    years = (last - first + 1) / 365.25
    active = np.flatnonzero(ents.active_at(first - 1))
    leaving = active[rng.random(len(active)) < 1 - np.exp(-0.05 * years)]
    ents.dereg[leaving] = rng.integers(first, last + 1, size=len(leaving))
    staying = np.setdiff1d(active, leaving)
    changing = staying[rng.random(len(staying)) < 1 - np.exp(-0.03 * years)]
    factor = rng.uniform(0.5, 3.0, size=len(changing))
    ents.capital[changing] = np.maximum(np.round(ents.capital[changing] * factor, -3), 1000)
    ents.changed[changing] = rng.integers(first, last + 1, size=len(changing))
    kinds = ents.kind[active]
    new_counts = [rng.poisson(0.10 * years * int((kinds == k).sum())) for k in range(3)]
    kind = np.repeat(np.arange(3), new_counts).astype(np.int8)
    start = ents.size
    if len(kind):
        reg = rng.integers(first, last + 1, size=len(kind)).astype(np.int32)
        divisions, weights = industry_divisions()
        new = _new_entities(rng, len(kind), kind, reg, pop, streets, divisions, weights, taken, first)
        for name in ("kind", "street", "reg_div", "industry", "capital", "reg", "dereg", "rep", "changed"):
            setattr(ents, name, np.concatenate([getattr(ents, name), getattr(new, name)]))
        ents.names.extend(new.names)
        ents.codes.extend(new.codes)
        ents.org_type.extend(new.org_type)
    return EntityEvents(np.arange(start, ents.size), np.sort(leaving), np.sort(changing))


# ---- credit timelines --------------------------------------------------------------------------

LICENCE_SLOTS, PENALTY_SLOTS = 3, 2


@dataclass
class Timeline:
    """One kind of dated credit record: subject serial, slot, start and end epoch days."""

    subject: np.ndarray
    slot: np.ndarray
    start: np.ndarray
    end: np.ndarray       # ALIVE = open-ended
    flavour: np.ndarray   # float in [0, 1): picks a category, an amount …


def _timeline(seed: int, ents: Entities, salt: str, slots: int, share: float, span_years: float,
              length: tuple[float, float], open_share: float = 0.0) -> Timeline:
    serial = np.arange(ents.size, dtype=np.int64)
    parts = []
    for slot in range(slots):
        ids = serial * 16 + slot
        exists = hash_uniform(seed, f"{salt}-exists", ids) < share
        start = ents.reg + (hash_uniform(seed, f"{salt}-start", ids) * span_years * 365.25).astype(np.int32)
        dur = (length[0] + hash_uniform(seed, f"{salt}-len", ids) * (length[1] - length[0])) * 365.25
        end = (start + dur).astype(np.int32)
        end = np.where(hash_uniform(seed, f"{salt}-open", ids) < open_share, ALIVE, end)
        keep = exists & (start < ents.dereg)
        parts.append((serial[keep], np.full(int(keep.sum()), slot), start[keep], end[keep],
                      hash_uniform(seed, f"{salt}-flavour", ids)[keep]))
    cols = [np.concatenate(c) for c in zip(*parts)]
    order = np.lexsort((cols[1], cols[0], cols[2]))
    return Timeline(*(c[order] for c in cols))


def licences(cfg: SimulationConfig, ents: Entities) -> Timeline:
    """Administrative licences: start = decision date, end = end of validity."""
    return _timeline(cfg.seed, ents, "licence", LICENCE_SLOTS, 0.5, 6.0, (3.0, 5.0))


def penalties(cfg: SimulationConfig, ents: Entities) -> Timeline:
    """Administrative penalties: start = decision date, end = end of publicity (1 year for a warning,
    3 years for a fine)."""
    t = _timeline(cfg.seed, ents, "penalty", PENALTY_SLOTS, 0.08, 8.0, (1.0, 1.0))
    fine = t.flavour >= 0.3
    t.end = np.where(fine, t.start + int(3 * 365.25), t.start + 365).astype(np.int32)
    return t


def red_list(cfg: SimulationConfig, ents: Entities) -> Timeline:
    return _timeline(cfg.seed, ents, "red", 1, 0.03, 10.0, (3.0, 3.0))


def black_list(cfg: SimulationConfig, ents: Entities) -> Timeline:
    return _timeline(cfg.seed, ents, "black", 1, 0.008, 10.0, (1.0, 5.0), open_share=0.2)


# ---- tax ---------------------------------------------------------------------------------------

VAT, CIT = "增值税", "企业所得税"


@dataclass
class TaxPayments:
    entity: np.ndarray
    kind: np.ndarray        # 0 VAT (monthly), 1 CIT (quarterly)
    month: np.ndarray       # int32 year*12 + (month-1) of the tax period
    paid: np.ndarray        # int32 epoch day of payment
    amount: np.ndarray      # int64 fen (cents)
    revenue: np.ndarray     # int64 fen, the period's revenue declared with the payment
    corrected: np.ndarray   # int32 epoch day of a later correction, ALIVE if none
    corrected_amount: np.ndarray  # int64 fen


def _month_of(day: np.ndarray | int) -> np.ndarray:
    d = np.asarray(day).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    return d + 1970 * 12


def tax_payments(cfg: SimulationConfig, ents: Entities, first: int, last: int) -> TaxPayments:
    """Payments whose payment date or correction date falls in [first, last] (epoch days)."""
    seed = cfg.seed
    taxable = np.flatnonzero(ents.kind != SOCIAL_ORG)
    months = np.arange(int(_month_of(first - 60)), int(_month_of(last)) + 1)
    payday = 1 + (hash_uniform(seed, "payday", taxable) * 15).astype(np.int32)
    base = np.exp(np.log(np.maximum(ents.capital[taxable], 1000) * 0.15)
                  + (hash_uniform(seed, "revenue-base", taxable) - 0.5) * 2.0)
    parts = []
    for m in months.tolist():
        month_start = int(np.datetime64(f"{m // 12:04d}-{m % 12 + 1:02d}-01").astype("datetime64[D]").astype(np.int64))
        paid = month_start + payday - 1
        period = m - 1
        for kind in (0, 1):
            if kind == 1 and (m % 12) % 3 != 0:
                continue
            ids = taxable.astype(np.int64) * 100000 + m * 2 + kind
            factor = 0.7 + 0.6 * hash_uniform(seed, "revenue-month", ids)
            revenue = np.round(base * factor * (3 if kind else 1) * 100).astype(np.int64)
            rate = 0.03 if kind == 0 else 0.25 * (0.04 + 0.1 * hash_uniform(seed, "margin", ids))
            amount = np.round(revenue * rate).astype(np.int64)
            has_corr = hash_uniform(seed, "tax-correction", ids) < 0.01
            corr_offset = (hash_uniform(seed, "tax-corr-day", ids) * 20).astype(np.int32)
            corr_day = np.where(has_corr, paid + 1 + corr_offset, ALIVE)
            corr_amount = np.round(amount * (0.8 + 0.4 * hash_uniform(seed, "tax-corr-amount", ids))).astype(np.int64)
            active = (ents.reg[taxable] <= paid) & (ents.dereg[taxable] > paid)
            if kind == 1:
                active &= ents.kind[taxable] == ENTERPRISE
            wanted = active & (((paid >= first) & (paid <= last)) | ((corr_day >= first) & (corr_day <= last)))
            n = int(wanted.sum())
            parts.append((taxable[wanted], np.full(n, kind, np.int8), np.full(n, period, np.int32),
                          paid[wanted].astype(np.int32), amount[wanted], revenue[wanted],
                          corr_day[wanted].astype(np.int32), corr_amount[wanted]))
    cols = [np.concatenate(c) for c in zip(*parts)]
    order = np.lexsort((cols[1], cols[0], cols[3]))
    return TaxPayments(*(c[order] for c in cols))


# ---- employment ----------------------------------------------------------------------------------

@dataclass
class Employment:
    person: np.ndarray
    employer: np.ndarray
    since: np.ndarray   # epoch day
    base: np.ndarray    # monthly contribution base, yuan


def employment(cfg: SimulationConfig, pop: Population, ents: Entities, n_initial_entities: int, at: int) -> Employment:
    """Social-insurance contributors at epoch day `at`: residents 18-59 employed by an active employer."""
    seed = cfg.seed
    serial = np.arange(pop.size, dtype=np.int64)
    age = (at - pop.birth) / 365.25
    working = (pop.death > at) & (pop.birth <= at) & (age >= 18) & (age < 60)
    working &= hash_uniform(seed, "employed", serial) < 0.62
    employers = np.flatnonzero(ents.kind[:n_initial_entities] != SOCIAL_ORG)
    pick = employers[(hash_uniform(seed, "employer", serial) * len(employers)).astype(np.int64)]
    working &= (ents.reg[pick] <= at) & (ents.dereg[pick] > at)
    person = np.flatnonzero(working)
    employer = pick[person]
    earliest = np.maximum(ents.reg[employer], pop.birth[person] + int(18 * 365.25))
    # 参保日期 is a fact of the person's insurance, drawn once: between the day they could first be insured and the
    # city's first delivery, or that first possible day itself when it came later. Drawn against `at` instead, it
    # moved with every delivery and about half the daily list changed (docs/simulated-city.md).
    first_delivery = days(DAY1)
    since = earliest + (hash_uniform(seed, "insured-since", person)
                        * np.maximum(first_delivery - earliest, 0)).astype(np.int32)
    base = (4000 + hash_uniform(seed, "contribution-base", person) * 26000).astype(np.int64) // 10 * 10
    return Employment(person, employer.astype(np.int64), since.astype(np.int32), base)
