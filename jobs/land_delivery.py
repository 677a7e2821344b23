"""Job: land one delivery of a source into bronze (+ rejects). `spark-submit jobs/land_delivery.py --source
household_register --delivery path/to/file.csv`; data under CITYDATA_HOME (or --home)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--source", default="household_register", help="source contract name (schemas/<source>.yml)")
    parser.add_argument("--delivery", type=Path, default=None, help="delivered file; default: the embedded sample")
    parser.add_argument("--home", type=Path, default=None, help="platform home; default: $CITYDATA_HOME or cwd")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    from citydata.config import Paths
    from citydata.pipeline import ChainConfig, land_bronze

    result = land_bronze(ChainConfig(paths=Paths.from_env(args.home), source=args.source, delivery=args.delivery))
    print(json.dumps(result, ensure_ascii=False, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
