"""Job: build silver from a source's bronze: the silver step that reads it (the population master for the
household register, a generic step for a source without a master). `spark-submit jobs/conform_silver.py --source
household_register`; data under CITYDATA_HOME (or --home). Prints the step's main table, rows and version."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--source", default="household_register", help="source contract name (schemas/<source>.yml)")
    parser.add_argument("--home", type=Path, default=None, help="platform home; default: $CITYDATA_HOME or cwd")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    from citydata.config import Paths
    from citydata.ingest.runner import run_silver_step, step_for_source
    from citydata.lakehouse import Lakehouse, get_spark

    step = step_for_source(args.source)
    spark = get_spark(app_name=f"citydata-silver-{step.name}")
    lakehouse = Lakehouse(spark, Paths.from_env(args.home).lakehouse)
    result = run_silver_step(spark, lakehouse, step)
    main_table = step.outputs[0]
    print(json.dumps({"step": step.name, "table": f"silver/{main_table}",
                      "rows": result["tables"][f"silver/{main_table}"],
                      "version": lakehouse.version("silver", main_table), "tables": result["tables"],
                      "seconds": result["seconds"]}, ensure_ascii=False, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
