"""Word tables for names, addresses and enterprises, and vectorized name building.

Only invented combinations: no real person, enterprise or address is reproduced.
"""

from __future__ import annotations

import numpy as np

SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
_SURNAME_WEIGHTS = np.array([1.0 / (rank + 8) for rank in range(len(SURNAMES))])
SURNAME_P = _SURNAME_WEIGHTS / _SURNAME_WEIGHTS.sum()

GIVEN_CHARS = list(
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏飞鑫宇浩然子轩梓涵欣怡雨婷佳琪嘉俊博文思远"
    "志国建新海波晨阳昊天一诺若曦语嫣宏亮春梅秋菊雪松永丹彤瑶琳璐晶晓东辉凯峰"
)

#: Simplified -> traditional/variant forms a department's legacy system may hold (the same person
#: spelled differently across departments).
VARIANTS = {
    "张": "張", "陈": "陳", "刘": "劉", "杨": "楊", "黄": "黃", "赵": "趙", "吴": "吳", "孙": "孫",
    "马": "馬", "郑": "鄭", "罗": "羅", "谢": "謝", "韩": "韓", "冯": "馮", "邓": "鄧", "伟": "偉",
    "丽": "麗", "军": "軍", "艳": "艷", "娟": "娟", "涛": "濤", "华": "華", "兰": "蘭", "红": "紅",
    "鹏": "鵬", "飞": "飛", "国": "國", "建": "建", "辉": "輝", "凯": "凱", "峰": "峯", "晓": "曉",
    "东": "東", "阳": "陽", "宇": "宇", "杰": "傑", "强": "強", "静": "靜", "敏": "敏", "梅": "楳",
}

ROADS = list("中山人民解放建设新华和平文化胜利长江黄河滨江湖滨江南北京上海延安东风青年工农朝阳光明")
ROAD_SUFFIX = ("路", "街", "大道", "巷")

TRADE_WORDS = ("华信", "恒泰", "明达", "瑞丰", "金桥", "安康", "宏远", "新创", "博雅", "鼎盛", "海纳",
               "天诚", "同德", "众合", "启航", "远景", "锦程", "汇通", "嘉禾", "立信", "卓越", "正大",
               "长青", "兴业", "智联", "云帆", "星河", "方圆", "诚达", "润泽")

POI_CATEGORIES = (
    ("050000", "餐饮服务", ("餐厅", "面馆", "小吃店", "火锅店", "咖啡馆")),
    ("060000", "购物服务", ("超市", "便利店", "商场", "水果店")),
    ("070000", "生活服务", ("理发店", "洗衣店", "快递站", "营业厅")),
    ("080000", "体育休闲服务", ("健身房", "体育馆", "棋牌室")),
    ("090000", "医疗保健服务", ("诊所", "药店", "社区卫生服务中心")),
    ("100000", "住宿服务", ("酒店", "宾馆", "民宿")),
    ("110000", "风景名胜", ("公园", "广场")),
    ("141200", "学校", ("小学", "中学", "幼儿园")),
    ("150000", "交通设施服务", ("公交站", "停车场", "加油站")),
    ("160000", "金融保险服务", ("银行", "ATM", "保险营业部")),
)


def person_names(rng: np.random.Generator, n: int,
                 surname_idx: np.ndarray | None = None) -> tuple[np.ndarray, list[str]]:
    """n names (surname + 1 or 2 given characters); returns the surname indices and the names."""
    if surname_idx is None:
        surname_idx = rng.choice(len(SURNAMES), size=n, p=SURNAME_P)
    first = rng.integers(0, len(GIVEN_CHARS), size=n)
    second = rng.integers(0, len(GIVEN_CHARS), size=n)
    two = rng.random(n) < 0.7
    s, g = SURNAMES, GIVEN_CHARS
    names = [
        s[a] + g[b] + (g[c] if t else "")
        for a, b, c, t in zip(surname_idx.tolist(), first.tolist(), second.tolist(), two.tolist())
    ]
    return surname_idx, names


def variant(name: str, how: float) -> str:
    """The same person's name as another department's system spells it (never equal to `name`)."""
    if how < 0.5:
        changed = "".join(VARIANTS.get(char, char) for char in name)
        if changed != name:
            return changed
    if how < 0.8:
        return name[0] + " " + name[1:]          # a space typed between surname and given name
    return name[0] + "\u3000" + name[1:]         # an ideographic space
