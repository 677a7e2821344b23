"""Build the embedded household-register delivery: a GBK CSV whose every row is there for a reason.

Run `python -m citydata.sources.samples.household_register.build` to rewrite the CSV and ROWS.md
(deterministic: same bytes every time). Valid identity numbers come from citydata.standards.idcard.make;
the bad ones are derived from valid ones so that exactly one thing is wrong with each.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from citydata.standards import idcard

HERE = Path(__file__).resolve().parent
DELIVERY = HERE / "household_register_20261120.csv"
HEADER = ("公民身份号码", "姓名", "性别", "出生日期", "户号", "与户主关系", "区县代码", "街道代码", "住址",
          "联系电话", "登记日期")
FW = str.maketrans("0123456789Xx", "０１２３４５６７８９Ｘｘ")


@dataclass(frozen=True)
class Row:
    values: tuple[str, ...]
    reason: str  # why the row is in the file
    expect: str  # "bronze" or the reason code it must be rejected with


def _id(division: str, born: date, seq: int) -> str:
    return idcard.make(division, born, seq)


def _id_with_x(division: str, born: date, male: bool) -> str:
    """An ID whose check character is X (to deliver it with a lowercase x)."""
    for seq in range(1 if male else 2, 1000, 2):
        number = idcard.make(division, born, seq)
        if number.endswith("X"):
            return number
    raise ValueError("no sequence gives an X check character")


def _bad_check(number: str) -> str:
    wrong = "0" if number[17] != "0" else "1"
    return number[:17] + wrong


def _with_check(first17: str) -> str:
    return first17 + idcard.check_char(first17)


def rows() -> list[Row]:
    d = date
    chen = _id("339901", d(1968, 4, 12), 11)
    huang = _id("339902", d(1975, 7, 7), 31)
    zhou_id = _id("339902", d(1986, 10, 2), 57)
    wang_x = _id_with_x("339901", d(1982, 11, 30), male=True)
    legacy15 = "339903" + "620815" + "133"  # 1962-08-15, sequence 133 (odd: male)
    valid_huang = ("黄海涛", "男", "1975-07-07", "3399020010001", "户主", "339902", "339902001",
                   "示范市西山区翠屏街道梧桐路8号2幢302室", "13905710011", "2001-03-15")
    out = [
        # --- 339901 东湖区: 10 residents (5 male, 5 female) so its counts are publishable -------------
        Row((chen, "陈建国", "男", "1968-04-12", "3399010010001", "户主", "339901", "339901001",
             "示范市东湖区湖滨街道人民路12号1单元101室", "13805710001", "1990-05-01"),
            "valid; ISO dates", "bronze"),
        Row((_id("339901", d(1970, 9, 3), 22), "林秀英", "女", "1970/9/3", "3399010010001", "配偶", "339901",
             "339901001", "示范市东湖区湖滨街道人民路12号1单元101室", "13805710002", "1992/10/8"),
            "valid; dates as YYYY/M/D", "bronze"),
        Row((_id("339901", d(1995, 7, 21), 13), "陈晓东", "男", "19950721", "3399010010001", "子", "339901",
             "339901001", "示范市东湖区湖滨街道人民路12号1单元101室", "13805710003", "19950801"),
            "valid; dates as YYYYMMDD", "bronze"),
        Row((_id("339901", d(1998, 2, 14), 24), "陈晓梅", "女", "1998年2月14日", "3399010010001", "女",
             "339901", "339901001", "示范市东湖区湖滨街道人民路12号1单元101室", "13805710004", "1998年3月1日"),
            "valid; dates as YYYY年M月D日", "bronze"),
        Row((_bad_check(_id("339901", d(1991, 5, 5), 15)), "钱多多", "男", "1991-05-05", "3399010050009", "户主",
             "339901", "339901005", "示范市东湖区柳浪街道柳岸路3号", "13805710091", "2012-04-01"),
            "bad check digit", "ID_CHECKSUM"),
        Row((wang_x[:17] + "x", "王志强", "男", "1982-11-30", "3399010020002", "户主", "339901", "339901002",
             "示范市东湖区清波街道解放路45号", "13805710005", "2008-06-20"),
            "valid; check character X delivered as lowercase x", "bronze"),
        Row((_id("339901", d(1984, 6, 18), 26).translate(FW), "赵丽娟", "女", "1984-06-18", "3399010020002",
             "配偶", "339901", "339901002", "示范市东湖区清波街道解放路45号", "13805710006", "2008-06-20"),
            "valid; identity number in full-width digits", "bronze"),
        Row((_id("339901", d(2012, 9, 1), 28), "王子涵", "女", "2012-09-01", "3399010020002", "女", "339901",
             "339901002", "示范市东湖区清波街道解放路45号", "", "2012-09-15"),
            "valid; no phone (optional field left empty)", "bronze"),
        Row(("\u3000" + _id("339901", d(1990, 1, 15), 17) + " ", "刘洋", "男", "1990-01-15", "3399010030003",
             "户主", "339901", "339901003", "示范市东湖区望江街道江城路88号", "13805710008".translate(FW),
             "2015-10-10"),
            "valid; identity number padded with an ideographic and an ASCII space; phone full-width",
            "bronze"),
        Row((_id("110105", d(1992, 3, 8), 28), "孙悦", "女", "1992-03-08", "3399010030003", "配偶", "339901",
             "339901003", "示范市东湖区望江街道江城路88号", "13805710009", "2016-05-20"),
            "valid; born in Beijing (division 110105, outside the city)", "bronze"),
        Row((_with_check(_id("339901", d(1990, 2, 1), 19)[:10] + "0230019"), "孙小川", "男", "1990-02-30",
             "3399010030009", "户主", "339901", "339901003", "示范市东湖区望江街道江城路90号", "13805710092",
             "2016-05-20"),
            "impossible birth date 1990-02-30 in the identity number (check digit right)", "ID_BIRTHDATE"),
    ]
    out += [
        # --- 339902 西山区: 5 residents (3 male, 2 female) ---------------------------------------------
        Row((huang,) + valid_huang, "valid; head of household 3399020010001", "bronze"),
        Row((_id("339902", d(1977, 12, 25), 42), "吴静", "女", "1977-12-25", "3399020010001", "配偶", "339902",
             "339902001", "示范市西山区翠屏街道梧桐路8号2幢302室", "13905710012", "2001-03-15"),
            "valid", "bronze"),
        Row((huang,) + valid_huang, "exact duplicate of the 黄海涛 row (delivered twice)", "DUPLICATE_ROW"),
        Row((_id("339902", d(2005, 5, 20), 33), "黄一鸣", "男", "2005-05-20", "3399020010001", "子", "339902",
             "339902001", "示范市西山区翠屏街道梧桐路8号2幢302室", "13905710013", "2005-06-01"),
            "valid", "bronze"),
        Row((zhou_id, "周文博", "男", "1986-10-02", "3399020020004", "户主", "339902", "339902002",
             "示范市西山区松涛街道松风路21号", "13905710014", "2010-05-01"),
            "valid; 周文博's first registration (superseded: he moved to 东湖区 in 2023)", "bronze"),
        Row((_id("339902", d(1950, 2, 28), 44), "郑桂兰", "女", "1950-02-28", "3399021010005", "户主", "339902",
             "339902101", "示范市西山区龙坞镇茶园村5组12号", "13905710015", "1985-01-10"),
            "valid; street is a town (镇) code", "bronze"),
        Row((_id("339902", d(1979, 10, 10), 35), "马俊", "男", "1979-10-10", "3399021010005", "子", "339902",
             "339902101", "示范市西山区龙坞镇茶园村5组12号", "13905710016", "1985-01-10"),
            "valid", "bronze"),
        Row((_with_check("339999" + "19870304" + "017"), "冯刚", "男", "1987-03-04", "3399020020010", "户主",
             "339902", "339902002", "示范市西山区松涛街道松风路30号", "13905710093", "2011-07-07"),
            "identity number's division 339999 does not exist in the city", "ID_DIVISION"),
        Row((_id("339902", d(1983, 8, 8), 37)[:17], "蒋伟", "男", "1983-08-08", "3399020020011", "户主",
             "339902", "339902002", "示范市西山区松涛街道松风路32号", "13905710094", "2011-07-07"),
            "identity number cut to 17 characters", "ID_LENGTH"),
        Row((_id("339902", d(1989, 9, 9), 46)[:8] + "O" + _id("339902", d(1989, 9, 9), 46)[9:], "沈丹", "女",
             "1989-09-09", "3399020020012", "户主", "339902", "339902002", "示范市西山区松涛街道松风路34号",
             "13905710095", "2012-01-01"),
            "letter O typed for the digit 0 inside the identity number", "ID_CHARSET"),
        # --- 339903 南江区: 2 residents -------------------------------------------------------------
        Row((legacy15, "何建华", "男", "1962-08-15", "3399030010006", "户主", "339903", "339903001",
             "示范市南江区江南街道滨江路6号", "13705710017", "1988-09-09"),
            "valid; legacy 15-digit identity number (upgraded to 18 in silver)", "bronze"),
        Row((_id("339903", d(1964, 1, 20), 48), "许凤英", "女", "1964-01-20", "3399030010006", "配偶", "339903",
             "339903001", "示范市南江区江南街道滨江路6号", "13705710018", "1988-09-09"),
            "valid", "bronze"),
        Row((_id("339903", d(1980, 1, 1), 39), "韩冰", "男", "1981-01-01", "3399030020013", "户主", "339903",
             "339903002", "示范市南江区长乐街道长乐路15号", "13705710096", "2009-09-09"),
            "declared birth date 1981-01-01 disagrees with the identity number's 1980-01-01",
            "ID_BIRTHDATE_MISMATCH"),
        Row((_id("339903", d(1976, 6, 6), 51), "杨雪", "女", "1976-06-06", "3399030030014", "户主", "339903",
             "339903003", "示范市南江区云帆街道云帆路2号", "13705710097", "2003-03-03"),
            "declared 女 but the identity number's sequence is odd (male)", "ID_GENDER_MISMATCH"),
        Row((_id("339903", d(1999, 9, 19), 52), "", "女", "1999-09-19", "3399030040015", "户主", "339903",
             "339903004", "示范市南江区青石街道青石路9号", "13705710098", "2019-09-19"),
            "name missing", "REQUIRED_MISSING"),
        # --- 339904 北塘区: 1 resident --------------------------------------------------------------
        Row((_id("339904", d(1988, 12, 12), 53), "郭磊", "男", "1988-12-12", "3399040020007", "户主", "339904",
             "339904002", "示范市北塘区北塘街道北塘路100号", "13605710019", "2014-02-14"),
            "valid", "bronze"),
        Row((_id("339904", d(1985, 5, 15), 55), "朱峰", "男",
             "1985-05-15", "3399090010016", "户主", "339909", "339909001", "示范市北塘区运河街道运河路1号",
             "13605710099", "2018-08-08"),
            "district 339909 / street 339909001 do not exist in the division table", "DIVISION_UNKNOWN"),
        Row((_id("339904", d(1991, 11, 11), 62), "秦岚", "女", "1991-11-11", "3399010020017", "户主", "339901",
             "339902001", "示范市东湖区清波街道解放路50号", "13605710100", "2019-11-11"),
            "street 339902001 (西山区) does not lie in the declared district 339901", "STREET_DISTRICT_MISMATCH"),
        Row((_id("339904", d(1972, 7, 2), 68), "尤佳", "女", "1972-07-02", "3399040030018", "户主", "339904",
             "339904003", "示范市北塘区和睦街道和睦路7号", "13605710101", "2021-02-30"),
            "registration date 2021-02-30 does not exist", "DATE_IMPOSSIBLE"),
        Row((_id("339904", d(1973, 3, 13), 64), "许诺", "女", "1973-03-13", "3399040040019", "户主", "339904",
             "339904004", "示范市北塘区银杏街道银杏路4号", "13605710102", "2021.03.05"),
            "registration date 2021.03.05 is in none of the accepted forms", "DATE_FORMAT"),
        Row((_id("339904", d(1994, 4, 24), 65), "施展", "男", "1994-04-24", "3399040010020", "户主", "339904",
             "339904001", "示范市北塘区运河街道运河路11号", "1360571", "2020-04-24"),
            "phone has 7 digits, not an 11-digit mobile number", "MOBILE_FORMAT"),
        # --- 339905 中和区: 2 residents; 339906 新港区 merged into 339905 on 2021-07-01 --------------
        Row((_id("339905", d(1993, 5, 5), 66), "罗晓燕", "女", "1993-05-05", "3399050020008", "户主", "339905",
             "339905002", "示范市中和区朝阳街道朝阳路66号", "13505710020", "2017-07-07"),
            "valid", "bronze"),
        Row((_id("339906", d(1958, 3, 3), 67), "梁振华", "男", "1958-03-03", "3399050050021", "户主", "339905",
             "339905005", "示范市中和区新港街道港湾路9号", "13505710021", "2022-01-05"),
            "valid; born in 新港区 (339906, merged 2021), registered in its successor street 339905005",
            "bronze"),
        Row((_id("339906", d(1960, 6, 16), 69), "卫东", "男", "1960-06-16", "3399060020022", "户主", "339906",
             "339906002", "示范市新港区临港街道临港路3号", "13505710103", "2023-03-01"),
            "district 339906 was merged into 339905 on 2021-07-01; registered 2023 under the old code",
            "DIVISION_EXPIRED"),
        Row((zhou_id, "周文博", "男", "1986-10-02", "3399010040004", "户主", "339901", "339901004",
             "示范市东湖区紫阳街道紫阳路17号", "13905710014", "2023-08-15"),
            "valid; 周文博 re-registered in 东湖区 2023-08-15: silver keeps this row (later registration)",
            "bronze"),
        Row((_id("339905", d(1997, 5, 5), 70), "蔡琳", "女", "1997-05-05", "3399050030023", "户主", "339905",
             "339905003"),
            "truncated line: 8 of 11 columns", "COLUMN_COUNT"),
    ]
    return out


def write(path: Path = DELIVERY) -> bytes:
    lines = [",".join(HEADER)] + [",".join(r.values) for r in rows()]
    data = ("\r\n".join(lines) + "\r\n").encode("gbk")
    path.write_bytes(data)
    doc = ["# Embedded household-register delivery: why each row is there", "",
           f"File: `{path.name}` (GBK, CRLF, header + {len(rows())} rows). Built by `build.py`.", "",
           "| row | outcome | reason |", "|---:|---|---|"]
    doc += [f"| {i} | {r.expect} | {r.reason} |" for i, r in enumerate(rows(), start=1)]
    (path.parent / "ROWS.md").write_text("\n".join(doc) + "\n", encoding="utf-8")
    return data


if __name__ == "__main__":
    write()
