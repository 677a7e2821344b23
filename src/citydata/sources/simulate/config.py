"""Parameters of a simulated city: size, seed, calendar and the defect rates injected into deliveries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

#: As-of date of day 1's delivery. Every date in the simulation derives from it and the seed,
#: never from the clock, so the same seed gives the same bytes on any day.
DAY1 = date(2025, 1, 1)


@dataclass(frozen=True)
class DefectRates:
    """Share of rows (or subjects) carrying each defect. Every injected defect is labelled in the truth.

    Rates on persons/entities are persistent: a subject with a wrong ID in one department's system
    keeps it in every delivery of that department (until a late correction, for ID checksums).
    """

    id_checksum: float = 0.005          # household register: check digit wrong -> ID_CHECKSUM
    id_birthdate: float = 0.002         # household register: impossible birth date in the ID -> ID_BIRTHDATE
    duplicate_row: float = 0.003        # a row delivered twice -> DUPLICATE_ROW (second copy)
    date_format: float = 0.10           # dates in 2019/3/5, 20190305 or 2019年3月5日 form (normalized)
    fullwidth: float = 0.01             # full-width digits in ID numbers / credit codes (normalized)
    name_variant: float = 0.03          # same person spelled differently in another department (matched by ID)
    money_wan: float = 0.30             # amounts in 万元 instead of 元 (normalized)
    uscc_checksum: float = 0.003        # market registry: credit code check character wrong -> USCC_CHECKSUM
    outside_city: float = 0.01          # POIs with coordinates outside the city -> GEO_OUTSIDE_CITY
    tax_legacy: float = 0.0             # tax API: taxpayers registered before 2015-10-01 under their legacy
                                        # 15-character tax number (division + org code) -> linked in silver
    id_correction_days: int = 60        # wrong ID numbers are corrected by the register within this many days
    truncated: tuple[str, ...] = ("health/deaths.csv",)          # files cut mid-row -> FILE_TRUNCATED
    undecodable: tuple[str, ...] = ("civil_affairs/marriages.csv",)  # files neither UTF-8 nor GBK -> FILE_ENCODING
    broken_days: tuple[int, ...] = (1,)  # days on which the truncated / undecodable files are broken


@dataclass(frozen=True)
class SimulationConfig:
    """One simulated city. `period_days` is the span between two deliveries (day d covers
    (as_of(d-1), as_of(d)]); 1 for a daily feed, 30 to get many events from a small city."""

    persons: int = 2000
    seed: int = 1
    period_days: int = 1
    page_size: int = 500                # records per page of the JSON APIs
    defects: DefectRates = field(default_factory=DefectRates)

    def as_of(self, day: int) -> date:
        """The as-of date of day `day` (day 0 is the state before the first delivery period)."""
        return DAY1 + timedelta(days=(day - 1) * self.period_days)

    def period(self, day: int) -> tuple[date, date]:
        """First and last date (inclusive) of the events delivered on `day`."""
        return self.as_of(day - 1) + timedelta(days=1), self.as_of(day)
