"""The simulated city 示范市 (339900): deliveries in each department's own format, with known
defects, plus the truth the marts must reproduce. Same seed, same bytes.

Entry points: `simulate(out, days, persons=…, seed=…)` writes the files; `ApiServer` serves the
paged JSON sources (tax, internet POIs) of a day on 127.0.0.1.
Must not: write to the lakehouse or read the clock.
"""

from citydata.sources.simulate.city import DayResult, day_folder, simulate
from citydata.sources.simulate.config import DAY1, DefectRates, SimulationConfig
from citydata.sources.simulate.server import ApiServer, Fault

__all__ = ["DAY1", "ApiServer", "DayResult", "DefectRates", "Fault", "SimulationConfig", "day_folder", "simulate"]
