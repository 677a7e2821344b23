"""`citydata doctor` on a lakehouse with a batch appended twice (what two runs landing the same delivery did
before batches were claimed) and an orphan file (what a killed writer leaves): the dry run reports both and
changes nothing; `--repair` removes the extra copy in ONE commit that leaves every other file of the table
and every other table as it was, deletes the orphan, and a second check finds the lakehouse healthy."""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyspark.sql import functions as F

from citydata.catalog.contracts import load_contract
from citydata.cli.main import main
from citydata.ingest.bronze import land_delivery
from citydata.lakehouse import Lakehouse

SAMPLE = (Path(__file__).parents[3] / "src" / "citydata" / "sources" / "samples" / "household_register"
          / "household_register_20261120.csv")  # 37 rows: 21 land in bronze, 16 rejected
OTHER_BATCH = "household_register-0000000000000000"


def _rows(lakehouse: Lakehouse, table: str) -> Counter:
    df = lakehouse.read("bronze", table)
    return Counter(tuple(r) for r in df.select(*sorted(df.columns)).collect())


def test_the_doctor_repairs_a_duplicated_batch_and_an_orphan_file(
        spark, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lakehouse = Lakehouse(spark, tmp_path / "lakehouse")
    landed = land_delivery(spark, lakehouse, load_contract("household_register"), SAMPLE)
    bronze = lakehouse.read("bronze", "household_register")
    first_files = set(lakehouse.files("bronze", "household_register"))
    # another batch, landed once, in files of its own: the repair must not touch them
    lakehouse.write(bronze.withColumn("_batch_id", F.lit(OTHER_BATCH)), "bronze", "household_register")
    expected = _rows(lakehouse, "household_register")
    other_files = set(lakehouse.files("bronze", "household_register")) - first_files
    # a second run appends the same batch again, an hour later
    lakehouse.write(bronze.withColumn("_ingested_at", F.col("_ingested_at") + F.expr("interval 1 hour")),
                    "bronze", "household_register")
    orphan = tmp_path / "lakehouse" / "bronze" / "household_register" / "part-00000-killedjob-000-x.c000.snappy.parquet"
    pq.write_table(pa.table({"name": ["x"]}), orphan)
    os.utime(orphan, (time.time() - 48 * 3600,) * 2)
    versions = {t: lakehouse.version(layer, t) for layer, t in lakehouse.tables()}
    assert lakehouse.count("bronze", "household_register") == 3 * landed.landed

    assert main(["doctor", "--home", str(tmp_path), "--json"]) == 1
    found = json.loads(capsys.readouterr().out)
    assert [(d["table"], d["batch_id"], d["rows"], d["extra_rows"]) for d in found["duplicated_batches"]] == [
        ("household_register", landed.batch_id, 2 * landed.landed, landed.landed)]
    assert [(o["table"], o["path"]) for o in found["orphan_files"]] == [("household_register", orphan.name)]
    assert {t: lakehouse.version(layer, t) for layer, t in lakehouse.tables()} == versions  # a dry run

    assert main(["doctor", "--home", str(tmp_path), "--repair"]) == 0
    out = capsys.readouterr().out
    assert f"repaired bronze.household_register: {landed.landed} extra rows removed" in out
    assert _rows(lakehouse, "household_register") == expected  # the first landed copy, the other batch as it was
    assert other_files and other_files <= set(lakehouse.files("bronze", "household_register"))
    assert {t: lakehouse.version(layer, t) for layer, t in lakehouse.tables()} == {
        **versions, "household_register": versions["household_register"] + 1}  # one commit; rejects untouched
    assert lakehouse.history("bronze", "household_register", 1)[0]["operation"] == "DOCTOR REPAIR"
    assert not orphan.exists()

    assert main(["doctor", "--home", str(tmp_path)]) == 0
    assert "healthy" in capsys.readouterr().out
