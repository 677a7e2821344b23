"""A CSV that looks plain to the driver's scan but not to a task lands (or is refused) the connector's way.

The scan checks the header, quotes, blank lines and line ends; only the tasks decode the body. A body byte
no GBK reads, or a control character, is found by a task: the landing then reads the file with its
connector, whose rules decide — here, the file is refused whole (FILE_ENCODING) and nothing is written.
A body that GBK cannot read but GB18030 can is read by the connector as GB18030, and lands. Both ways a delivery
lands: in Spark tasks (`driver_rows=0`) and, for a small one, on the driver (`DRIVER_ROWS`).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from citydata.catalog.contracts import load_contract
from citydata.ingest.bronze import BRONZE, DRIVER_ROWS, DeliveryRejectedError, land_delivery
from citydata.ingest.csv_landing import plan_csv
from citydata.lakehouse import Lakehouse
from citydata.sources.simulate import DefectRates, simulate

REGISTER = load_contract("household_register")


@pytest.fixture(scope="module")
def register(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    root = tmp_path_factory.mktemp("fallback")
    simulate(root, [1], persons=60, seed=4, defects=DefectRates(truncated=(), undecodable=()))
    return (root / "day-001" / "delivery" / REGISTER.delivery.path).read_bytes()


def _with_body(tmp_path: Path, register: bytes, old: bytes, new: bytes) -> Path:
    header, body = register.split(b"\r\n", 1)
    assert old in body
    path = tmp_path / "day-001" / "police" / "household_register.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes(header + b"\r\n" + body.replace(old, new, 1))
    assert plan_csv(REGISTER, path, parallelism=2) is not None  # plain to the driver's scan
    return path


@pytest.mark.parametrize("driver_rows", [0, DRIVER_ROWS])
@pytest.mark.parametrize("new, why", [(b"\x80", "a byte no GBK or GB18030 reads"),
                                      (b"\x01", "a control character")])
def test_a_body_only_a_task_finds_unreadable_is_refused_whole_and_nothing_written(spark, tmp_path, register,
                                                                                  new, why, driver_rows):
    path = _with_body(tmp_path, register, "户主".encode("gbk"), new)
    lakehouse = Lakehouse(spark, tmp_path / "lakehouse")
    with pytest.raises(DeliveryRejectedError) as refused:
        land_delivery(spark, lakehouse, REGISTER, path, driver_rows=driver_rows)
    assert refused.value.reason == "FILE_ENCODING", why
    assert not lakehouse.exists(BRONZE, REGISTER.tables.bronze)


@pytest.mark.parametrize("driver_rows", [0, DRIVER_ROWS])
def test_a_body_gb18030_reads_lands_through_the_connector(spark, tmp_path, register, driver_rows):
    # a four-byte GB18030 character outside GBK (𠀀, U+20000) in one relation-to-head value
    path = _with_body(tmp_path, register, "户主".encode("gbk"), "𠀀".encode("gb18030"))
    lakehouse = Lakehouse(spark, tmp_path / "lakehouse")
    landed = land_delivery(spark, lakehouse, REGISTER, path, driver_rows=driver_rows)
    assert landed.encoding == "gb18030"
    assert landed.landed + landed.rejected == landed.delivered == register.count(b"\r\n") - 1
    assert lakehouse.count(BRONZE, REGISTER.tables.bronze) == landed.landed
