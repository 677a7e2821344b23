"""The truth of one day: the figures the marts must reproduce from that day's deliveries (and the
earlier days'), and every injected defect with its expected reject.

Figures count what survives validation: rows the standards reject (wrong ID, wrong credit code,
outside the city, duplicates, broken files) are not in them; normalizable defects (full-width
digits, mixed date forms, 万元, name variants, retired division codes) are.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from citydata.sources.simulate import writers
from citydata.sources.simulate.config import SimulationConfig
from citydata.sources.simulate.deliveries import (
    REJECT,
    Day,
    Pois,
    register_clean,
    registry_clean,
    tax_window,
)
from citydata.sources.simulate.entities import (
    KIND_NAMES,
    SOCIAL_ORG,
    black_list,
    employment,
    licences,
    penalties,
    red_list,
    tax_payments,
)
from citydata.sources.simulate.population import days
from citydata.standards.industry import load_industries

AGE_BANDS = [f"{lo:02d}-{lo + 4:02d}" for lo in range(0, 85, 5)] + ["85+"]


def ages(birth: np.ndarray, at: int) -> np.ndarray:
    """Completed years of age at epoch day `at` (birthday-exact)."""
    b = birth.astype("datetime64[D]")
    by = b.astype("datetime64[Y]").astype(np.int64) + 1970
    bm = b.astype("datetime64[M]").astype(np.int64) % 12
    bd = (b - b.astype("datetime64[M]")).astype(np.int64)
    t = np.datetime64(int(at), "D")
    ty = int(t.astype("datetime64[Y]").astype(np.int64)) + 1970
    tm = int(t.astype("datetime64[M]").astype(np.int64)) % 12
    td = int((t - t.astype("datetime64[M]")).astype(np.int64))
    before = (bm > tm) | ((bm == tm) & (bd > td))
    return ty - by - before.astype(np.int64)


def _write(root: Path, name: str, header: list[str], rows: list[tuple]) -> str:
    rel = f"truth/{name}"
    text = writers.csv_text(header, sorted(rows)).replace("\r\n", "\n")  # columns hold one type each
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))
    return rel


def residents(cfg: SimulationConfig, d: Day) -> np.ndarray:
    """Person serials the population mart holds on the day: alive, registered, valid in the register."""
    pop = d.pop
    person = np.flatnonzero(pop.alive_at(d.last) & (pop.registered <= d.last))
    return person[register_clean(cfg, d.day, person)]


def write_truth(d: Day, pois: Pois, statistics_rows: list[tuple] | None) -> list[str]:
    cfg, pop, ents, root = d.cfg, d.pop, d.ents, d.rec.root.parent
    written: list[str] = []
    streets = d.streets
    district_of = np.array([s.district for s in streets], dtype=object)
    street_code = np.array([s.code for s in streets], dtype=object)

    # population
    person = residents(cfg, d)
    band = np.minimum(ages(pop.birth[person], d.last) // 5, len(AGE_BANDS) - 1)
    cell = (pop.street[person].astype(np.int64) * 100 + band) * 10 + pop.gender[person]
    keys, counts = np.unique(cell, return_counts=True)
    rows = [(district_of[k // 1000], street_code[k // 1000], AGE_BANDS[k // 10 % 100], "M" if k % 10 == 1 else "F", n)
            for k, n in zip(keys.tolist(), counts.tolist())]
    written.append(_write(root, "population_by_street_age_gender.csv",
                          ["district_code", "street_code", "age_band", "gender", "residents"], rows))
    names = {s.district: s.district_name for s in streets}
    by_district: dict[str, list[int]] = {code: [0, 0, 0] for code in names}
    for (district, _, _, gender, n) in rows:
        counts_d = by_district[district]
        counts_d[0] += n
        counts_d[1 if gender == "M" else 2] += n
    written.append(_write(root, "population_by_district.csv",
                          ["district_code", "district_name", "residents", "male", "female"],
                          [(code, names[code], *c) for code, c in by_district.items()]))
    households = Counter((np.unique(pop.household[person] * 64 + pop.street[person]) % 64).tolist())
    written.append(_write(root, "households_by_street.csv", ["district_code", "street_code", "households"],
                          [(district_of[s], street_code[s], n) for s, n in households.items()]))

    # vital events of the period, from the register's change log (rows with a valid ID number)
    ev = d.events
    tally: dict[int, list[int]] = {i: [0, 0, 0, 0] for i in range(len(streets))}
    for column, people, where in ((0, ev.births, pop.street), (1, ev.deaths, pop.street)):
        ok = people[register_clean(cfg, d.day, people)]
        for s in where[ok].tolist():
            tally[s][column] += 1
    # moves as the change log tells them (迁移 rows carry the street moved from)
    moved_ok = register_clean(cfg, d.day, ev.moves)
    for p, old in zip(ev.moves[moved_ok].tolist(), ev.move_from[moved_ok].tolist()):
        tally[int(pop.street[p])][2] += 1
        tally[int(old)][3] += 1
    written.append(_write(root, "vital_events_by_street.csv",
                          ["district_code", "street_code", "births", "deaths", "moves_in", "moves_out"],
                          [(district_of[s], street_code[s], *v) for s, v in tally.items() if any(v)]))

    # legal entities (clean registry: enterprises and individual businesses from the XLSX, social
    # organizations from civil affairs)
    table = load_industries()
    serial = np.flatnonzero(ents.reg <= d.last)
    clean = (ents.kind[serial] == SOCIAL_ORG) | registry_clean(cfg, serial)
    serial = serial[clean]
    section = np.array([table.section_of(code) for code in ents.divisions], dtype=object)[ents.industry]
    ent_district = district_of[ents.street]
    active = serial[ents.dereg[serial] > d.last]
    key = Counter(zip(section[active].tolist(), ent_district[active].tolist(), ents.kind[active].tolist()))
    written.append(_write(root, "legal_entities_active.csv", ["section", "district_code", "entity_type", "active"],
                          [(s, dist, KIND_NAMES[k], n) for (s, dist, k), n in key.items()]))
    reg_month = np.datetime_as_string(ents.reg[serial].astype("datetime64[D]"), unit="M")
    gone = serial[ents.dereg[serial] <= d.last]
    dereg_month = np.datetime_as_string(ents.dereg[gone].astype("datetime64[D]"), unit="M")
    months: dict[tuple[str, int], list[int]] = {}
    for m, k in zip(reg_month.tolist(), ents.kind[serial].tolist()):
        months.setdefault((m, k), [0, 0])[0] += 1
    for m, k in zip(dereg_month.tolist(), ents.kind[gone].tolist()):
        months.setdefault((m, k), [0, 0])[1] += 1
    written.append(_write(root, "registrations_by_month.csv",
                          ["month", "entity_type", "registrations", "deregistrations"],
                          [(m, KIND_NAMES[k], *v) for (m, k), v in months.items()]))

    # credit status of every subject of the clean registry at the day
    in_registry = np.zeros(ents.size, dtype=bool)
    in_registry[serial] = True
    three_years = int(3 * 365.25)
    day1 = days(cfg.as_of(1))
    lic = licences(cfg, ents)
    lic_ok = (lic.start > day1 - three_years) & (lic.start <= d.last) & (lic.end > d.last)
    pen = penalties(cfg, ents)
    pen_ok = (pen.start <= d.last) & (pen.end > d.last)
    counts = np.zeros((ents.size, 4), dtype=np.int64)
    np.add.at(counts[:, 0], lic.subject[lic_ok], 1)
    np.add.at(counts[:, 1], pen.subject[pen_ok], 1)
    for column, timeline in ((2, red_list(cfg, ents)), (3, black_list(cfg, ents))):
        on = (timeline.start <= d.last) & (timeline.end > d.last)
        counts[timeline.subject[on], column] = 1
    written.append(_write(root, "credit_status.csv",
                          ["credit_code", "licences_valid", "penalties_in_publicity", "red_list", "black_list"],
                          [(ents.codes[s], *counts[s].tolist()) for s in serial.tolist()]))

    # tax: every payment delivered so far (day 1's window onwards), corrections applied
    first = tax_window(cfg, 1)[0]
    t = tax_payments(cfg, ents, first, d.last)
    amount = np.where(t.corrected <= d.last, t.corrected_amount, t.amount)
    known = in_registry[t.entity]
    sums: dict[tuple, list[int]] = {}
    for e, k, m, a, r, ok in zip(t.entity.tolist(), t.kind.tolist(), t.month.tolist(), amount.tolist(),
                                 t.revenue.tolist(), known.tolist()):
        key4 = (section[e] if ok else "", ent_district[e] if ok else "", f"{m // 12:04d}-{m % 12 + 1:02d}",
                ("增值税", "企业所得税")[k])
        acc = sums.setdefault(key4, [0, 0])
        acc[0] += a
        acc[1] += r
    written.append(_write(root, "tax_by_section_district_month.csv",
                          ["section", "district_code", "tax_period", "tax_type", "amount_yuan", "revenue_yuan"],
                          [(*k, f"{v[0] / 100:.2f}", f"{v[1] / 100:.2f}") for k, v in sums.items()]))

    # employment from social insurance, by the employer's section and district
    emp = employment(cfg, pop, ents, d.n_initial_entities, d.last)
    ok = in_registry[emp.employer]
    key = Counter((section[e] if o else "", ent_district[e] if o else "")
                  for e, o in zip(emp.employer.tolist(), ok.tolist()))
    written.append(_write(root, "employment_by_section_district.csv", ["section", "district_code", "insured"],
                          [(*k, n) for k, n in key.items()]))

    # POIs inside the city, by district and category
    live = np.flatnonzero((pois.opened <= d.last) & (pois.closed > d.last))
    from citydata.sources.simulate.names import POI_CATEGORIES

    key = Counter((pois.district[i], POI_CATEGORIES[int(pois.category[i])][1])
                  for i in live.tolist() if pois.district[i])
    written.append(_write(root, "poi_by_district.csv", ["district_code", "category", "pois"],
                          [(*k, n) for k, n in key.items()]))

    if statistics_rows is not None:
        tidy = []
        for period, _, code, gdp, gdp_g, retail, retail_g, residents_w in statistics_rows:
            tidy += [(period, code, "地区生产总值", "亿元", f"{gdp:.2f}"),
                     (period, code, "地区生产总值同比增长", "%", f"{gdp_g:.1f}"),
                     (period, code, "社会消费品零售总额", "亿元", f"{retail:.2f}"),
                     (period, code, "社会消费品零售总额同比增长", "%", f"{retail_g:.1f}"),
                     (period, code, "常住人口", "万人", f"{residents_w:.2f}")]
        written.append(_write(root, "statistics_indicators.csv",
                              ["period", "division_code", "indicator", "unit", "value"], tidy))

    # defects and expected rejects
    defects = d.rec.defects
    written.append(_write(root, "defects.csv", ["file", "row", "field", "defect", "reason_code", "action"],
                          [(f"delivery/{f}", r, fld, df, rc, a) for f, r, fld, df, rc, a in defects]))
    rejects = [(f"delivery/{f}", r, rc) for f, r, fld, df, rc, a in defects if a == REJECT]
    written.append(_write(root, "rejects.csv", ["file", "row", "reason_code"], rejects))
    file_rows = {f.path: f.rows for f in d.rec.files}
    summary: Counter = Counter()
    for f, row, rc in rejects:
        # a file rejected as a whole (row 0: undecodable, or cut inside its header) loses all its data rows,
        # none for a file cut before its first row; a rejected row is one row
        summary[(f, rc)] += file_rows.get(f.removeprefix("delivery/"), 0) if row == 0 else 1
    written.append(_write(root, "rejects_summary.csv", ["file", "reason_code", "rows"],
                          [(*k, n) for k, n in summary.items()]))
    return written
