"""Job: land one delivery of a source into bronze (+ rejects). `spark-submit jobs/land_delivery.py --source
household_register --delivery path/to/file.csv` (or `--delivery-folder DAY/delivery`: the contract's delivery.path
under it); data under CITYDATA_HOME (or --home). Without either: the source's embedded sample delivery."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--source", default="household_register", help="source contract name (schemas/<source>.yml)")
    parser.add_argument("--delivery", type=Path, default=None, help="the delivered file (or folder of API pages)")
    parser.add_argument("--delivery-folder", type=Path, default=None, help="a day's delivery folder")
    parser.add_argument("--home", type=Path, default=None, help="platform home; default: $CITYDATA_HOME or cwd")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    from citydata.catalog.contracts import load_contract
    from citydata.config import Paths
    from citydata.ingest.bronze import land_delivery
    from citydata.ingest.runner import delivery_of
    from citydata.lakehouse import Lakehouse, get_spark
    from citydata.sources.samples import sample_delivery

    contract = load_contract(args.source)
    where = args.delivery or (delivery_of(contract, args.delivery_folder) if args.delivery_folder
                              else sample_delivery(args.source))
    spark = get_spark(app_name=f"citydata-land-{args.source}")
    result = land_delivery(spark, Lakehouse(spark, Paths.from_env(args.home).lakehouse), contract, where)
    print(json.dumps({"source": args.source, "batch_id": result.batch_id, "file": result.file,
                      "encoding": result.encoding, "delivered": result.delivered, "landed": result.landed,
                      "rejected": result.rejected, "rejects_by_reason": result.rejects_by_reason,
                      "already_landed": result.already_landed, "bronze_version": result.bronze_version,
                      "rejects_version": result.rejects_version}, ensure_ascii=False, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
