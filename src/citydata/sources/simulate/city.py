"""Generate the simulated city's deliveries and truth for one or more days.

Layout of a day: `<out>/day-NNN/delivery/<department>/<file>`, `<out>/day-NNN/truth/*.csv` and
`<out>/day-NNN/manifest.json` (files with sizes and SHA-256, seed, dates, defect rates).
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from citydata.sources.simulate import deliveries, writers
from citydata.sources.simulate.config import DefectRates, SimulationConfig
from citydata.sources.simulate.deliveries import Day, Recorder
from citydata.sources.simulate.entities import advance_entities, initial_entities
from citydata.sources.simulate.population import advance, city_streets, initial_population
from citydata.sources.simulate.rng import stream
from citydata.sources.simulate.truth import write_truth

log = logging.getLogger(__name__)

Progress = Callable[[str], None]


@dataclass(frozen=True)
class DayResult:
    day: int
    folder: Path
    files: list[deliveries.FileInfo]
    truth: list[str]
    seconds: dict[str, float]


def day_folder(out: Path, day: int) -> Path:
    return Path(out) / f"day-{day:03d}"


def simulate(out: Path | str, days_wanted: Iterable[int] = (1,), *, persons: int = 2000, seed: int = 1,
             period_days: int = 1, page_size: int = 500, defects: DefectRates | None = None,
             progress: Progress | None = None) -> list[DayResult]:
    """Write the deliveries and truth of each wanted day (replaying the city from day 1 to the last)."""
    import time

    wanted = sorted(set(int(d) for d in days_wanted))
    if not wanted or wanted[0] < 1:
        raise ValueError(f"days must be 1 or more, got {wanted}")
    if persons < 50:
        raise ValueError(f"a city needs at least 50 persons, got {persons}")
    cfg = SimulationConfig(persons=persons, seed=seed, period_days=period_days, page_size=page_size,
                           defects=defects or DefectRates())
    note = progress or (lambda step: None)
    timings: dict[str, float] = {}

    def timed(step: str, fn, *args):
        note(step)
        start = time.perf_counter()
        value = fn(*args)
        timings[step] = timings.get(step, 0.0) + time.perf_counter() - start
        return value

    streets = city_streets(cfg.as_of(1))
    pop = timed("population", initial_population, cfg, streets, stream(seed, 0, "population"))
    taken: set[int] = set()
    ents = timed("legal entities", initial_entities, cfg, pop, streets, taken)
    n_initial = ents.size
    pois = timed("points of interest", deliveries.make_pois, cfg, streets)
    results = []
    for day in range(1, wanted[-1] + 1):
        events = timed("events", advance, pop, cfg, streets, day)
        entity_events = timed("events", advance_entities, ents, pop, cfg, streets, day, taken)
        if day not in wanted:
            continue
        folder = day_folder(Path(out), day)
        if folder.exists():
            shutil.rmtree(folder)
        rec = Recorder(folder / "delivery")
        d = Day(cfg, day, streets, pop, ents, n_initial, events, entity_events, rec)
        timed("公安 household register (GBK CSV)", deliveries.household_register, d)
        timed("公安 household register change log (GBK CSV)", deliveries.household_register_changes, d)
        timed("民政 marriages + social organizations (CSV)",
              lambda d: (deliveries.marriages(d), deliveries.social_organizations(d)), d)
        timed("卫健 births + deaths (CSV)", deliveries.health, d)
        timed("人社 social insurance (CSV)", deliveries.social_insurance, d)
        timed("市场监管 registry (XLSX)", deliveries.market_registry, d)
        timed("信用 licences, penalties, red/black lists (CSV with BOM)", deliveries.credit, d)
        timed("税务 tax API pages (JSON)", deliveries.tax, d)
        timed("互联网 POI API pages (JSON)", deliveries.internet_poi, d, pois)
        if day == 1:
            timed("自然资源 geography (GeoJSON)", deliveries.geography, d)
        due = deliveries.statistics_due(cfg, day)
        stats = timed("统计局 indicators (XLSX)", deliveries.statistics, d) if due else None
        truth = timed("truth", write_truth, d, pois, stats)
        first, last = cfg.period(day)
        manifest = {
            "city": "示范市", "division_code": "339900", "seed": seed, "persons": persons, "day": day,
            "as_of": cfg.as_of(day).isoformat(), "period": [first.isoformat(), last.isoformat()],
            "period_days": period_days, "page_size": page_size, "kind": "full" if day == 1 else "increment",
            "defect_rates": dataclasses.asdict(cfg.defects),
            "files": [dataclasses.asdict(f) for f in sorted(rec.files, key=lambda f: f.path)],
            "truth": sorted(truth),
        }
        writers.write_json(folder / "manifest.json", manifest)
        log.info("simulated city day %d: %d files in %s", day, len(rec.files), folder)
        results.append(DayResult(day, folder, sorted(rec.files, key=lambda f: f.path), sorted(truth), dict(timings)))
    return results
