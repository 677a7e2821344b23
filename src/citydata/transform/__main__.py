"""`python -m citydata.transform [build|run|test|compile] [-s SELECT] [--as-of YYYY-MM-DD]`.

Runs dbt by hand on a platform SparkSession against CITYDATA_LAKEHOUSE (or --lakehouse).
"""

from __future__ import annotations

import argparse
import logging
import sys

from citydata.config import Paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m citydata.transform", description=__doc__)
    parser.add_argument("command", nargs="?", default="build")
    parser.add_argument("-s", "--select", default=None)
    parser.add_argument("--lakehouse", default=None, help="lakehouse root (default: CITYDATA_LAKEHOUSE)")
    parser.add_argument("--as-of", default=None, help="as_of_date for ages and residency (YYYY-MM-DD)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    from citydata.lakehouse import get_spark
    from citydata.transform import DbtInvocationError, DbtRunError, run_dbt

    spark = get_spark(app_name="citydata-dbt")
    try:
        run_dbt(spark, args.lakehouse or Paths.from_env().lakehouse, command=args.command,
                select=args.select, vars={"as_of_date": args.as_of} if args.as_of else None)
    except (DbtRunError, DbtInvocationError) as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
