"""Raw personal values of a simulated day's deliveries, for the e2e tests that scan logs for leaks."""

from __future__ import annotations

import csv
import io
from pathlib import Path


def personal_values(delivery: Path) -> set[str]:
    """Every ID number, name and phone of the household register, and the representatives' names in the
    credit deliveries, as delivered (values shorter than 2 characters would match anything)."""
    values: set[str] = set()
    register = io.StringIO((delivery / "police" / "household_register.csv").read_bytes().decode("gbk"))
    for row in csv.DictReader(register):
        values.update(row[c].strip() for c in ("公民身份号码", "姓名", "联系电话") if row[c].strip())
    for name in ("licences.csv", "penalties.csv"):
        for row in csv.DictReader(io.StringIO((delivery / "credit" / name).read_text(encoding="utf-8-sig"))):
            values.update(v.strip() for k, v in row.items() if k and "法定代表人" in k and v and v.strip())
    return {v for v in values if len(v) >= 2}
