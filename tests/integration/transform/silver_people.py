"""A tiny silver/person, every row there for a reason, and the gold rows it must give at AS_OF."""

from __future__ import annotations

from datetime import date, datetime

from pyspark.sql import DataFrame, SparkSession

from citydata.standards import idcard

AS_OF = "2026-06-30"

SILVER_PERSON_SCHEMA = (
    "id_number string, name string, gender string, birth_date date, household_id string, "
    "relation_to_head string, district_code string, street_code string, address string, "
    "phone string, registered_on date, _batch_id string, _updated_at timestamp"
)


def _x_sequence(division: str, birth: date) -> int:
    """An odd (male) sequence whose identity number ends in the check character X."""
    return next(s for s in range(1, 999, 2) if idcard.make(division, birth, s).endswith("X"))


def _person(name: str, gender: str, birth: date, district: str, street: str,
            registered: date, sequence: int | None = None) -> tuple:
    seq = sequence if sequence is not None else (11 if gender == "M" else 12)
    number = idcard.make(district, birth, seq)
    return (number, name, gender, birth, f"H{number[-6:]}", "户主", district, street,
            f"{street}号", "13800000000", registered, "batch-1", datetime(2026, 1, 1, 8, 0, 0))


D = date
PEOPLE = [
    # 东湖区 339901: three residents, 1 man 2 women, ages around the as-of date
    _person("张一", "M", D(1990, 1, 1), "339901", "339901001", D(2000, 1, 1)),   # ordinary: age 36
    _person("李二", "F", D(1990, 6, 30), "339901", "339901002", D(2000, 1, 1)),  # birthday ON as_of: 36
    _person("王三", "F", D(1990, 7, 1), "339901", "339901003", D(2000, 1, 1)),   # birthday the day after: 35
    # 西山区 339902: registered the day after as_of -> not yet a resident, district shows 0
    _person("赵四", "M", D(1985, 3, 3), "339902", "339902001", D(2026, 7, 1)),
    # 南江区 339903: identity number ending in X (must pass the 18-char pattern) ...
    _person("钱五", "M", D(1970, 12, 31), "339903", "339903001", D(1999, 1, 1),
            sequence=_x_sequence("339903", D(1970, 12, 31))),
    # ... and a baby born after as_of -> not a resident at as_of
    _person("孙六", "F", D(2026, 7, 15), "339903", "339903002", D(2026, 7, 20)),
    # 新港区 339906 was merged into 中和区 339905 on 2021-07-01: counted under 339905
    _person("周七", "M", D(1960, 5, 5), "339906", "339906001", D(1980, 1, 1)),
    # 中和区 339905: a woman, so 中和区 has 1 man (from 新港区) and 1 woman
    _person("吴八", "F", D(2010, 2, 28), "339905", "339905001", D(2010, 3, 1)),
    # 北塘区 339904: nobody lives there -> a row with 0
]

# (district_code, district_name, residents, male, female) at AS_OF
EXPECTED_POPULATION = [
    ("339901", "东湖区", 3, 1, 2),
    ("339902", "西山区", 0, 0, 0),
    ("339903", "南江区", 1, 1, 0),
    ("339904", "北塘区", 0, 0, 0),
    ("339905", "中和区", 2, 1, 1),
]

# name -> age at AS_OF, for the residents only
EXPECTED_AGES = {"张一": 36, "李二": 36, "王三": 35, "钱五": 55, "周七": 66, "吴八": 16}


def silver_person(spark: SparkSession) -> DataFrame:
    return spark.createDataFrame(PEOPLE, SILVER_PERSON_SCHEMA)
