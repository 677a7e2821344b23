"""citydata: a city data middle platform (城市级数据中台).

Sources land in Delta Lake (bronze, silver), dbt builds the five base theme databases (gold) on
Spark SQL, Great Expectations gates each catalog release, and open datasets are exported.
See ARCHITECTURE.md for the data flow; each subpackage says what it owns.
"""

__version__ = "0.1.0"
