"""Job: standardize a source's bronze table into its silver master table (MERGE by the contract key).
`spark-submit jobs/conform_silver.py --source household_register`; data under CITYDATA_HOME (or --home)."""

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
    from citydata.pipeline import ChainConfig, build_silver

    result = build_silver(ChainConfig(paths=Paths.from_env(args.home), source=args.source))
    print(json.dumps(result, ensure_ascii=False, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
