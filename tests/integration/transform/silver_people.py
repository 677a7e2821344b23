"""A tiny silver.person and silver.person_change, every row there for a reason, and the gold rows the
population marts must give at AS_OF for the period [PERIOD_START, AS_OF]."""

from __future__ import annotations

from datetime import date, datetime

from pyspark.sql import DataFrame, SparkSession

from citydata.standards import idcard

AS_OF = "2026-06-30"
PERIOD_START = "2026-06-01"
LATER = "2026-07-02"  # the rerun test's second date (period_start not given: a one-day period)

# The columns of silver.person the marts read (docs/silver.md; the master has more).
SILVER_PERSON_SCHEMA = (
    "id_number string, name string, gender string, birth_date date, household_id string, "
    "relation_to_head string, district_code string, street_code string, address string, "
    "phone string, registered_on date, status string, died_on date, _batch_id string, _updated_at timestamp"
)
SILVER_PERSON_CHANGE_SCHEMA = (
    "id_number string, name string, change_type string, change_reason string, changed_on date, "
    "previous_id_number string, district_code string, street_code string, previous_street_code string, "
    "marital_status string, _batch_id string, _updated_at timestamp"
)

D = date
LOADED = datetime(2026, 7, 10, 8, 0, 0)


def _x_sequence(division: str, birth: date) -> int:
    """An odd (male) sequence whose identity number ends in the check character X."""
    return next(s for s in range(1, 999, 2) if idcard.make(division, birth, s).endswith("X"))


def _id(name: str, gender: str, birth: date, district: str) -> str:
    sequence = _x_sequence(district, birth) if name == "钱五" else (11 if gender == "M" else 12)
    return idcard.make(district, birth, sequence)


def _person(name: str, gender: str, birth: date, district: str, street: str, registered: date,
            household: str, died_on: date | None = None) -> tuple:
    return (_id(name, gender, birth, district), name, gender, birth, household, "户主", district, street,
            f"{street}号", "13800000000", registered, "deceased" if died_on else "registered", died_on,
            "batch-1", LOADED)


PEOPLE = [
    # 东湖区 339901: household H01 has members in two streets (counts in both); the band edge at 35
    _person("张一", "M", D(1990, 1, 1), "339901", "339901001", D(2000, 1, 1), "H01"),    # 36: 35-39
    _person("卫十三", "F", D(1992, 3, 3), "339901", "339901002", D(2000, 1, 1), "H01"),  # 34: 30-34, H01 again
    _person("李二", "F", D(1991, 6, 30), "339901", "339901002", D(2000, 1, 1), "H02"),   # 35 ON as_of: 35-39
    _person("蒋十四", "F", D(1992, 1, 15), "339901", "339901002", D(2000, 1, 1), "H02"),  # 34: a cell of 2
    _person("王三", "F", D(1991, 7, 1), "339901", "339901003", D(2000, 1, 1), "H03"),    # 35 the day after: 30-34
    # 西山区 339902: registered the day after as_of -> not yet a resident (one on LATER)
    _person("赵四", "M", D(1985, 3, 3), "339902", "339902001", D(2026, 7, 1), "H04"),
    _person("郑九", "M", D(1940, 1, 1), "339902", "339902001", D(1990, 1, 1), "H05"),    # 86: 85+
    _person("冯十", "F", D(1941, 7, 1), "339902", "339902001", D(1990, 1, 1), "H05"),    # 84: 80-84, one household
    # ... dead before as_of (not a resident, a death of the period), and dead after it (still one)
    _person("陈十一", "M", D(1945, 2, 2), "339902", "339902002", D(1990, 1, 1), "H06", died_on=D(2026, 6, 15)),
    _person("褚十二", "M", D(1950, 8, 8), "339902", "339902002", D(1990, 1, 1), "H07", died_on=D(2026, 7, 5)),
    # 南江区 339903: identity number ending in X (must pass the 18-char pattern), and a baby of the period
    _person("钱五", "M", D(1970, 12, 31), "339903", "339903001", D(1999, 1, 1), "H08"),
    _person("沈十五", "F", D(2026, 6, 10), "339903", "339903001", D(2026, 6, 12), "H08"),  # 0: 00-04
    # ... born on LATER, registered the day after: a birth of LATER's period, never a resident there
    _person("孙六", "F", D(2026, 7, 2), "339903", "339903002", D(2026, 7, 3), "H09"),
    # 新港区 339906 (street 339906001) was merged into 中和区 339905 (339905005) on 2021-07-01
    _person("周七", "M", D(1960, 5, 5), "339906", "339906001", D(1980, 1, 1), "H10"),
    # 中和区 339905: moved here from 339901003 in the period
    _person("吴八", "F", D(2010, 2, 28), "339905", "339905001", D(2010, 3, 1), "H11"),
    # 北塘区 339904: nobody lives there -> a row with 0
]
_ID = {row[1]: row[0] for row in PEOPLE}


def _change(name: str, change_type: str, reason: str, on: date, street: str, previous: str | None = None) -> tuple:
    return (_ID[name], name, change_type, reason, on, None, street[:6], street, previous, "已婚", "batch-1", LOADED)


CHANGES = [
    _change("沈十五", "新增", "出生", D(2026, 6, 10), "339903001"),                     # birth in 339903001
    _change("陈十一", "注销", "死亡", D(2026, 6, 15), "339902002"),                     # death in 339902002
    _change("吴八", "变更", "迁移", D(2026, 6, 20), "339905001", "339901003"),          # in 339905001, out 339901003
    _change("王三", "变更", "迁移", D(2026, 6, 1), "339901003", "339901004"),           # ON period_start: counts
    _change("张一", "变更", "迁移", D(2026, 5, 31), "339901001", "339901005"),          # the day before: not counted
    _change("李二", "变更", "婚姻状况变更", D(2026, 6, 15), "339901002"),               # not a vital event
    _change("褚十二", "注销", "死亡", D(2026, 7, 5), "339902002"),                      # after as_of: not counted
    _change("孙六", "新增", "出生", D(2026, 7, 2), "339903002"),                        # LATER's one-day period
]

# (district_code, district_name, residents, male, female) at AS_OF
EXPECTED_POPULATION = [
    ("339901", "东湖区", 5, 1, 4),
    ("339902", "西山区", 3, 2, 1),
    ("339903", "南江区", 2, 1, 1),
    ("339904", "北塘区", 0, 0, 0),
    ("339905", "中和区", 2, 1, 1),
]
# 339902 at LATER: 赵四 is registered (褚十二 dies only on 2026-07-05)
EXPECTED_WEST_HILL_LATER = ("339902", "西山区", 4, 3, 1)

# (district_code, street_code, age_band, gender, residents) at AS_OF
EXPECTED_STREET_AGE_GENDER = [
    ("339901", "339901001", "35-39", "M", 1),
    ("339901", "339901002", "30-34", "F", 2),
    ("339901", "339901002", "35-39", "F", 1),
    ("339901", "339901003", "30-34", "F", 1),
    ("339902", "339902001", "80-84", "F", 1),
    ("339902", "339902001", "85+", "M", 1),
    ("339902", "339902002", "75-79", "M", 1),
    ("339903", "339903001", "00-04", "F", 1),
    ("339903", "339903001", "55-59", "M", 1),
    ("339905", "339905001", "15-19", "F", 1),
    ("339905", "339905005", "65-69", "M", 1),
]

# (district_code, street_code, households) at AS_OF
EXPECTED_HOUSEHOLDS = [
    ("339901", "339901001", 1),
    ("339901", "339901002", 2),
    ("339901", "339901003", 1),
    ("339902", "339902001", 1),
    ("339902", "339902002", 1),
    ("339903", "339903001", 1),
    ("339905", "339905001", 1),
    ("339905", "339905005", 1),
]

# (district_code, street_code, births, deaths, moves_in, moves_out) in [PERIOD_START, AS_OF]
EXPECTED_VITAL_EVENTS = [
    ("339901", "339901003", 0, 0, 1, 1),
    ("339901", "339901004", 0, 0, 0, 1),
    ("339902", "339902002", 0, 1, 0, 0),
    ("339903", "339903001", 1, 0, 0, 0),
    ("339905", "339905001", 0, 0, 1, 0),
]
EXPECTED_VITAL_EVENTS_LATER = [("339903", "339903002", 1, 0, 0, 0)]

# name -> age at AS_OF, for the residents only (their bands are in EXPECTED_STREET_AGE_GENDER)
EXPECTED_AGES = {
    "张一": 36, "卫十三": 34, "李二": 35, "蒋十四": 34, "王三": 34, "郑九": 86, "冯十": 84, "褚十二": 75,
    "钱五": 55, "沈十五": 0, "周七": 66, "吴八": 16,
}


def silver_person(spark: SparkSession) -> DataFrame:
    return spark.createDataFrame(PEOPLE, SILVER_PERSON_SCHEMA)


def silver_person_change(spark: SparkSession) -> DataFrame:
    return spark.createDataFrame(CHANGES, SILVER_PERSON_CHANGE_SCHEMA)
