"""The truth agrees with the deliveries: re-validate the files with the standards library and recount."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import openpyxl

from citydata.sources.simulate import DAY1
from citydata.standards import coords, idcard, industry, uscc
from citydata.standards.divisions import load_divisions
from citydata.standards.encoding import decode_bytes
from citydata.standards.geo import load_city_geometry
from citydata.standards.money import parse_money
from citydata.standards.text import parse_date

from simcity_helpers import PERIOD, read_csv, read_truth, rejects_of

REGISTER = "police/household_register.csv"


def as_of(day: int) -> date:
    return date.fromordinal(DAY1.toordinal() + (day - 1) * PERIOD)


CHANGES = "police/household_register_changes.csv"
DIVISIONS = load_divisions()


def validate_register(rows: list[dict[str, str]], day: int) -> tuple[dict[int, str], list[dict[str, str]]]:
    """What ingest does: the ID must pass the standards' check; an exact repeat of a row is a duplicate.
    Retired division codes (339906…, valid on the row's 登记日期) resolve to their successors."""
    rejects, clean, seen = {}, [], set()
    for number, row in enumerate(rows, start=1):
        result = idcard.validate(row["公民身份号码"], today=as_of(day))
        key = tuple(row.values())
        if not result.ok:
            rejects[number] = result.reason
        elif key in seen:
            rejects[number] = "DUPLICATE_ROW"
        else:
            seen.add(key)
            fixed = {**row, "公民身份号码": result.value}
            for field in ("区县代码", "街道代码"):
                if field in row:
                    assert DIVISIONS.is_valid(row[field], parse_date(row.get("登记日期") or row["变动日期"]).value)
                    fixed[field] = DIVISIONS.successor(row[field])
            clean.append(fixed)
    return rejects, clean


def by_district(state: dict[str, dict[str, str]]) -> dict[str, tuple[int, int, int]]:
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for row in state.values():
        c = counts[row["区县代码"]]
        c[0] += 1
        c[1 if row["性别"] == "男" else 2] += 1
    return {k: tuple(v) for k, v in counts.items()}


def truth_by_district(day_dir: Path) -> dict[str, tuple[int, int, int]]:
    return {r["district_code"]: (int(r["residents"]), int(r["male"]), int(r["female"]))
            for r in read_truth(day_dir / "truth" / "population_by_district.csv") if int(r["residents"])}


def age_band(born: date, at: date) -> str:
    age = at.year - born.year - ((at.month, at.day) < (born.month, born.day))
    return "85+" if age >= 85 else f"{age // 5 * 5:02d}-{age // 5 * 5 + 4:02d}"


def day1_state(city: Path) -> dict[str, dict[str, str]]:
    _, clean = validate_register(read_csv(city / "day-001" / "delivery" / REGISTER), 1)
    return {row["公民身份号码"]: row for row in clean}


def vital_events(city: Path, day: int) -> dict[str, list[int]]:
    """births, deaths, moves in, moves out by street, from the valid rows of the change log."""
    _, clean = validate_register(read_csv(city / f"day-{day:03d}" / "delivery" / CHANGES), day)
    events: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for row in clean:
        reason = row["变动原因"]
        if reason == "出生":
            events[row["街道代码"]][0] += 1
        elif reason == "死亡":
            events[row["街道代码"]][1] += 1
        elif reason == "迁移":
            events[row["街道代码"]][2] += 1
            events[DIVISIONS.successor(row["原街道代码"])][3] += 1
    return dict(events)


def test_register_rejects_are_exactly_the_labelled_rows(city: Path) -> None:
    for day in (1, 2):
        for file in (REGISTER, CHANGES):
            rows = read_csv(city / f"day-{day:03d}" / "delivery" / file)
            rejects, _ = validate_register(rows, day)
            assert rejects == rejects_of(city / f"day-{day:03d}", file), (day, file)
    assert {"ID_CHECKSUM", "ID_BIRTHDATE", "DUPLICATE_ROW"} <= set(rejects_of(city / "day-001", REGISTER).values())


def test_register_header_is_the_source_contract(city: Path) -> None:
    from citydata.catalog.contracts import load_contract

    header = read_csv(city / "day-001" / "delivery" / REGISTER)[0].keys()
    assert tuple(header) == load_contract("household_register").columns


def test_day1_residents_recounted_from_clean_rows_equal_the_truth(city: Path) -> None:
    state = day1_state(city)
    assert by_district(state) == truth_by_district(city / "day-001")
    cells = Counter()
    for row in state.values():
        born = parse_date(row["出生日期"]).value  # mixed date forms normalise
        cells[(row["街道代码"], age_band(born, as_of(1)), "M" if row["性别"] == "男" else "F")] += 1
    truth = {(r["street_code"], r["age_band"], r["gender"]): int(r["residents"])
             for r in read_truth(city / "day-001" / "truth" / "population_by_street_age_gender.csv")}
    assert cells == truth
    households = Counter(row["街道代码"] for row in {(r["户号"], r["街道代码"]): r for r in state.values()}.values())
    assert households == {r["street_code"]: int(r["households"])
                          for r in read_truth(city / "day-001" / "truth" / "households_by_street.csv")}


def test_day2_is_day1_plus_the_increment(city: Path) -> None:
    state = day1_state(city)
    _, changed = validate_register(read_csv(city / "day-002" / "delivery" / REGISTER), 2)
    assert changed and all(parse_date(r["登记日期"]).value > as_of(1) for r in changed)
    for row in changed:  # re-registrations: the latest record per ID number wins
        state[row["公民身份号码"]] = row
    _, log = validate_register(read_csv(city / "day-002" / "delivery" / CHANGES), 2)
    assert {"新增", "变更", "注销"} <= {row["变动类型"] for row in log} <= {"新增", "变更", "注销", "更正"}
    for row in log:
        if row["变动类型"] == "注销":
            state.pop(row["公民身份号码"], None)
    assert by_district(state) == truth_by_district(city / "day-002")


def test_vital_events_from_the_change_log(city: Path) -> None:
    for day in (1, 2):
        truth = {r["street_code"]: [int(r["births"]), int(r["deaths"]), int(r["moves_in"]), int(r["moves_out"])]
                 for r in read_truth(city / f"day-{day:03d}" / "truth" / "vital_events_by_street.csv")}
        assert vital_events(city, day) == truth
        assert sum(v[0] for v in truth.values()) > 0 and sum(v[2] for v in truth.values()) > 0


def _registry(day_dir: Path) -> tuple[dict[int, str], list[dict]]:
    path = day_dir / "delivery" / "market_regulation" / "legal_entities.xlsx"
    sheet = openpyxl.load_workbook(path, read_only=True).active
    rows = sheet.iter_rows(values_only=True)
    header = next(rows)
    rejects, clean = {}, []
    for number, values in enumerate(rows, start=1):
        row = dict(zip(header, values))
        result = uscc.validate(row["统一社会信用代码"])
        if result.ok:
            clean.append({**row, "统一社会信用代码": result.value})
        else:
            rejects[number] = result.reason
    return rejects, clean


def _subjects(day_dir: Path) -> list[dict]:
    _, clean = _registry(day_dir)
    orgs = read_csv(day_dir / "delivery" / "civil_affairs" / "social_organizations.csv")
    subjects = [{"code": r["统一社会信用代码"], "type": r["市场主体类型"], "industry": r["行业代码"],
                 "status": r["登记状态"], "district": r["登记机关区县代码"],
                 "capital": parse_money(r["注册资本"]).value} for r in clean]
    subjects += [{"code": r["统一社会信用代码"], "type": "社会组织", "industry": r["行业代码"], "status": r["登记状态"],
                  "district": r["登记管理机关区县代码"],
                  "capital": parse_money(r["注册资金（万元）"], unit="万元").value} for r in orgs]
    return subjects


def test_registry_rejects_and_active_entities(city: Path) -> None:
    day = city / "day-001"
    rejects, _ = _registry(day)
    assert rejects == rejects_of(day, "market_regulation/legal_entities.xlsx")
    divisions = load_divisions()
    active = Counter((industry.section_of(s["industry"]), divisions.successor(s["district"]), s["type"])
                     for s in _subjects(day) if s["status"] == "存续")
    truth = {(r["section"], r["district_code"], r["entity_type"]): int(r["active"])
             for r in read_truth(day / "truth" / "legal_entities_active.csv")}
    assert active == truth
    assert all(s["capital"] > 0 for s in _subjects(day))  # 万元 and 元 both parse


def _pages(day_dir: Path, source: str) -> list[tuple[str, int, dict]]:
    meta = json.loads((day_dir / "delivery" / source / "api.json").read_text(encoding="utf-8"))
    out = []
    for page in meta["pages"]:
        records = json.loads((day_dir / "delivery" / source / page).read_text(encoding="utf-8"))["records"]
        out += [(f"delivery/{source}/{page}", i, r) for i, r in enumerate(records, start=1)]
    assert len(out) == meta["total"]
    return out


def test_pois_outside_the_city_are_the_labelled_ones_and_counts_match(city: Path) -> None:
    day = city / "day-001"
    geometry = load_city_geometry()
    expected = {(r["file"], int(r["row"])) for r in read_truth(day / "truth" / "rejects.csv")
                if r["reason_code"] == "GEO_OUTSIDE_CITY"}
    outside, counts = set(), Counter()
    for file, row, record in _pages(day, "internet_poi"):
        lon, lat = (float(x) for x in record["location"].split(","))
        located = geometry.locate(*coords.round_point(*coords.gcj02_to_wgs84(lon, lat)))
        if located.ok:
            counts[(located.value[0], record["type"])] += 1
        else:
            assert located.reason == "GEO_OUTSIDE_CITY"
            outside.add((file, row))
    assert outside == expected and outside
    assert counts == {(r["district_code"], r["category"]): int(r["pois"])
                      for r in read_truth(day / "truth" / "poi_by_district.csv")}


def test_tax_recomputed_from_the_pages_equals_the_truth(city: Path) -> None:
    sections = {}
    divisions = load_divisions()
    for s in _subjects(city / "day-001") + _subjects(city / "day-002"):
        sections[s["code"]] = (industry.section_of(s["industry"]), divisions.successor(s["district"]))
    latest: dict[str, dict] = {}
    for day in ("day-001", "day-002"):
        for _, _, record in _pages(city / day, "tax"):
            latest[record["tax_voucher_no"]] = record  # corrections come after the payment they correct
    sums: dict[tuple, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for record in latest.values():
        section, district = sections.get(record["taxpayer_id"], ("", ""))
        acc = sums[(section, district, record["tax_period"], record["tax_type"])]
        acc[0] += parse_money(record["amount"]).value
        acc[1] += parse_money(record["revenue"]).value
    truth = {(r["section"], r["district_code"], r["tax_period"], r["tax_type"]):
             [Decimal(r["amount_yuan"]), Decimal(r["revenue_yuan"])]
             for r in read_truth(city / "day-002" / "truth" / "tax_by_section_district_month.csv")}
    assert dict(sums) == truth


def test_black_list_status_at_the_date(city: Path) -> None:
    day = city / "day-002"
    codes = {s["code"] for s in _subjects(city / "day-001")} | {s["code"] for s in _subjects(day)}
    on = set()
    for row in read_csv(day / "delivery" / "credit" / "black_list.csv"):
        start = parse_date(row["列入日期"]).value
        end = parse_date(row["有效期至"]).value if row["有效期至"] else date.max
        code = uscc.validate(row["统一社会信用代码"]).value
        if start <= as_of(2) < end and code in codes:
            on.add(code)
    truth = {r["credit_code"] for r in read_truth(day / "truth" / "credit_status.csv") if r["black_list"] == "1"}
    assert on == truth


def test_social_insurance_duplicates_and_employment_total(city: Path) -> None:
    day = city / "day-001"
    rows = read_csv(day / "delivery" / "social_insurance" / "employment.csv")
    seen, dups, people = set(), {}, set()
    for number, row in enumerate(rows, start=1):
        key = tuple(row.values())
        if key in seen:
            dups[number] = "DUPLICATE_ROW"
        seen.add(key)
        people.add(idcard.validate(row["公民身份号码"]).value)  # full-width digits normalise
    assert dups == rejects_of(day, "social_insurance/employment.csv")
    assert len(people) == sum(int(r["insured"])
                              for r in read_truth(day / "truth" / "employment_by_section_district.csv"))


def test_broken_files_are_labelled(city: Path, tmp_path: Path) -> None:
    marriages = city / "day-001" / "delivery" / "civil_affairs" / "marriages.csv"
    assert decode_bytes(marriages.read_bytes()).reason == "FILE_ENCODING"
    assert rejects_of(city / "day-001", "civil_affairs/marriages.csv") == {0: "FILE_ENCODING"}
    assert not (city / "day-001" / "delivery" / "health" / "deaths.csv").read_bytes().endswith(b"\r\n")

    # any file can be broken: cut the household register itself
    from citydata.sources.simulate import DefectRates, simulate

    simulate(tmp_path, [1], persons=300, seed=5, defects=DefectRates(truncated=(REGISTER,)))
    day = tmp_path / "day-001"
    data = (day / "delivery" / REGISTER).read_bytes()
    lines = data.decode("gbk").split("\r\n")
    expected = rejects_of(day, REGISTER)
    assert expected[len(lines) - 1] == "FILE_TRUNCATED"
    assert max(expected) == len(lines) - 1  # nothing is expected past the cut
    assert lines[-1].count(",") < lines[0].count(",")
    manifest = json.loads((day / "manifest.json").read_text(encoding="utf-8"))
    assert {f["path"]: f["rows"] for f in manifest["files"]}[REGISTER] == len(lines) - 1


def test_defect_labels_cover_every_kind(city: Path) -> None:
    kinds = Counter(r["defect"] for r in read_truth(city / "day-001" / "truth" / "defects.csv"))
    for kind in ("ID_CHECKSUM", "ID_BIRTHDATE", "DUPLICATE_ROW", "NAME_VARIANT", "DATE_FORMAT_MIXED",
                 "FULLWIDTH_DIGITS", "MONEY_WAN", "USCC_CHECKSUM", "GEO_OUTSIDE_CITY", "FILE_ENCODING",
                 "FILE_TRUNCATED"):
        assert kinds[kind] > 0, kind


def test_name_variants_are_the_labelled_rows(city: Path) -> None:
    """The same person (same ID) is spelled differently by social insurance exactly where labelled."""
    names = {number: row["姓名"] for number, row in day1_state(city).items()}
    day = city / "day-001"
    file = "social_insurance/employment.csv"
    labelled = {int(r["row"]) for r in read_truth(day / "truth" / "defects.csv")
                if r["file"] == f"delivery/{file}" and r["defect"] == "NAME_VARIANT"}
    rejected = rejects_of(day, file)
    differs, comparable = set(), set()
    for number, row in enumerate(read_csv(day / "delivery" / file), start=1):
        person = idcard.validate(row["公民身份号码"]).value
        if person in names and number not in rejected:
            comparable.add(number)
            if row["姓名"] != names[person]:
                differs.add(number)
    assert differs and differs == labelled & comparable


def test_registry_day2_is_day1_plus_the_increment(city: Path) -> None:
    divisions = load_divisions()
    _, day1 = _registry(city / "day-001")
    state = {row["统一社会信用代码"]: row for row in day1}
    rejects, day2 = _registry(city / "day-002")
    assert rejects == rejects_of(city / "day-002", "market_regulation/legal_entities.xlsx")
    assert {row["变更类型"] for row in day2} <= {"新设", "变更", "注销"} and day2
    for row in day2:
        state[row["统一社会信用代码"]] = row
    active = Counter((industry.section_of(r["行业代码"]), divisions.successor(r["登记机关区县代码"]), r["市场主体类型"])
                     for r in state.values() if r["登记状态"] == "存续")
    for org in read_csv(city / "day-002" / "delivery" / "civil_affairs" / "social_organizations.csv"):
        if org["登记状态"] == "存续":
            section = industry.section_of(org["行业代码"])
            active[(section, divisions.successor(org["登记管理机关区县代码"]), "社会组织")] += 1
    truth = {(r["section"], r["district_code"], r["entity_type"]): int(r["active"])
             for r in read_truth(city / "day-002" / "truth" / "legal_entities_active.csv")}
    assert active == truth


def test_registrations_and_deregistrations_by_month(city: Path) -> None:
    day = city / "day-001"
    _, clean = _registry(day)
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    rows = [(r["成立日期"], r["注销日期"], r["市场主体类型"]) for r in clean]
    rows += [(r["成立登记日期"], r["注销日期"], "社会组织")
             for r in read_csv(day / "delivery" / "civil_affairs" / "social_organizations.csv")]
    for registered, deregistered, kind in rows:
        counts[(f"{parse_date(registered).value:%Y-%m}", kind)][0] += 1  # Excel dates and text dates alike
        if deregistered:
            counts[(f"{parse_date(deregistered).value:%Y-%m}", kind)][1] += 1
    truth = {(r["month"], r["entity_type"]): [int(r["registrations"]), int(r["deregistrations"])]
             for r in read_truth(day / "truth" / "registrations_by_month.csv")}
    assert dict(counts) == truth


def test_statistics_workbook_matches_its_tidy_truth(city: Path) -> None:
    day = city / "day-001"
    sheet = openpyxl.load_workbook(day / "delivery" / "statistics" / "indicators.xlsx").active
    assert "A2:A3" in {str(r) for r in sheet.merged_cells.ranges}
    values = list(sheet.values)
    title, groups, units, data = values[0][0], values[1], values[2], values[3:]
    assert title.startswith("示范市主要经济指标") and groups[2] == "地区生产总值" and units[2] == "绝对值（亿元）"
    truth = {(r["division_code"], r["indicator"]): r["value"]
             for r in read_truth(day / "truth" / "statistics_indicators.csv")}
    assert len(truth) == 5 * len(data) == 30
    for _, code, gdp, _, retail, _, residents in data:
        assert truth[(code, "地区生产总值")] == f"{gdp:.2f}"
        assert truth[(code, "社会消费品零售总额")] == f"{retail:.2f}"
        assert truth[(code, "常住人口")] == f"{residents:.2f}"


def test_every_expected_reject_uses_a_registered_reason_code(city: Path) -> None:
    from citydata.standards.result import REASON_CODES

    for day in ("day-001", "day-002"):
        codes = {r["reason_code"] for r in read_truth(city / day / "truth" / "rejects.csv")}
        assert codes and codes <= set(REASON_CODES)


def test_late_corrections_bring_rejected_residents_in(tmp_path: Path) -> None:
    """Every wrong check character of day 1 is corrected on day 2: the person arrives then."""
    from citydata.sources.simulate import DefectRates, simulate

    simulate(tmp_path, [1, 2], persons=600, seed=8, period_days=30,
             defects=DefectRates(id_checksum=0.05, id_correction_days=1))
    rejects = rejects_of(tmp_path / "day-001", REGISTER)
    wrong = {row["公民身份号码"]
             for number, row in enumerate(read_csv(tmp_path / "day-001" / "delivery" / REGISTER), start=1)
             if rejects.get(number) == "ID_CHECKSUM"}
    assert len(wrong) > 10
    state = day1_state(tmp_path)
    _, changed = validate_register(read_csv(tmp_path / "day-002" / "delivery" / REGISTER), 2)
    for row in changed:
        state[row["公民身份号码"]] = row
    _, log = validate_register(read_csv(tmp_path / "day-002" / "delivery" / CHANGES), 2)
    corrected = {row["原公民身份号码"] for row in log if row["变动类型"] == "更正"}
    assert corrected and corrected <= wrong
    for row in log:
        if row["变动类型"] == "注销":
            state.pop(row["公民身份号码"], None)
    assert by_district(state) == truth_by_district(tmp_path / "day-002")
