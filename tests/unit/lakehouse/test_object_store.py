"""The delta-rs side of the lakehouse on an S3 root (moto's S3 server on 127.0.0.1), with its storage options
from configuration (CITYDATA_STORAGE_*): create, append, read back, time travel, versions, history, the
statistics policy, a refused append — no Spark (a Lakehouse built without a session). What Spark needs to reach
the same root is in docs/scale.md; tests/integration/lakehouse/test_object_store_spark.py checks its message.
"""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable
from s3_server import S3Server, moto_s3_server

from citydata.config import storage_options_from_env
from citydata.lakehouse import Lakehouse, LakehouseError, SchemaMismatchError
from citydata.lakehouse.storage import filesystem, is_local, s3_filesystem_arguments, scheme_of

ROOT = "s3://city-lake/prod"


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    with moto_s3_server() as server:
        server.create_bucket("city-lake")
        yield server


def _people(ids: list[int], names: list[str]) -> pa.Table:
    return pa.table({"resident_id": pa.array(ids, pa.int64()), "name": pa.array(names, pa.string()),
                     "district": pa.array(["330102"] * len(ids), pa.string())})


def test_storage_options_come_from_prefixed_variables() -> None:
    env = {"CITYDATA_STORAGE_AWS_ENDPOINT_URL": "http://127.0.0.1:9000", "CITYDATA_STORAGE_aws_region": "cn-north-1",
           "CITYDATA_STORAGE_": "ignored: no option name", "CITYDATA_LAKEHOUSE": "s3://b/p", "AWS_REGION": "x"}
    assert storage_options_from_env(env) == {"AWS_ENDPOINT_URL": "http://127.0.0.1:9000", "AWS_REGION": "cn-north-1"}
    assert storage_options_from_env({}) == {}


def test_pyarrow_gets_the_same_endpoint_and_keys_as_delta_rs() -> None:
    args = s3_filesystem_arguments({"aws_endpoint_url": "http://127.0.0.1:9000", "AWS_ACCESS_KEY_ID": "k",
                                    "AWS_SECRET_ACCESS_KEY": "s", "AWS_REGION": "us-east-1",
                                    "AWS_VIRTUAL_HOSTED_STYLE_REQUEST": "true"})
    assert args == {"access_key": "k", "secret_key": "s", "region": "us-east-1", "endpoint_override": "127.0.0.1:9000",
                    "scheme": "http", "force_virtual_addressing": True}
    # an endpoint without a scheme is HTTPS, as delta-rs reads it
    assert s3_filesystem_arguments({"AWS_ENDPOINT_URL": "oss-cn-hangzhou.aliyuncs.com"}) == {
        "endpoint_override": "oss-cn-hangzhou.aliyuncs.com", "scheme": "https"}
    assert [scheme_of(r) for r in ("/srv/lake", "file:///srv/lake", "S3://b/p", "hdfs://nn:8020/lake")] == [
        "", "file", "s3", "hdfs"]
    assert [is_local(r) for r in ("/srv/lake", "file:///srv/lake", "s3://b/p")] == [True, True, False]


def test_delta_rs_side_of_the_lakehouse_on_s3(s3: S3Server, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in s3.storage_options.items():
        monkeypatch.setenv(f"CITYDATA_STORAGE_{key}", value)
    lake = Lakehouse(None, ROOT, personal_columns=lambda layer, table: {"name"})
    assert lake.storage_options == s3.storage_options  # from configuration, not passed by the caller
    assert lake.tables() == [] and not lake.exists("silver", "person")

    assert lake.write_arrow(_people([1, 2, 3], ["张三", "李四", "王五"]), "silver", "person") == 0
    assert lake.write_arrow(_people([4], ["赵六"]), "silver", "person") == 1

    assert lake.exists("silver", "person") and lake.tables() == [("silver", "person")]
    assert lake.version("silver", "person") == 1
    assert lake.count("silver", "person") == 4
    rows = lake.arrow_dataset("silver", "person").to_table().sort_by("resident_id").to_pylist()
    assert [(r["resident_id"], r["name"]) for r in rows] == [(1, "张三"), (2, "李四"), (3, "王五"), (4, "赵六")]
    # time travel: version 0 is the first write alone
    assert lake.count("silver", "person", version=0) == 3
    assert sorted(lake.arrow_dataset("silver", "person", version=0).to_table()["resident_id"].to_pylist()) == [1, 2, 3]
    assert len(lake.files("silver", "person", version=0)) == 1 and len(lake.files("silver", "person")) == 2
    assert all(f.startswith(f"{ROOT}/silver/person/") for f in lake.files("silver", "person"))
    assert [(h["version"], h["operation"]) for h in lake.history("silver", "person")] == [(1, "WRITE"), (0, "WRITE")]
    assert lake.distinct_values("silver", "person", "district") == {"330102"}

    # statistics policy: no min/max of the personal column in the Delta log nor in the Parquet footers
    log_stats = pa.table(DeltaTable(f"{ROOT}/silver/person", storage_options=s3.storage_options)
                         .get_add_actions(flatten=True)).column_names
    assert "min.resident_id" in log_stats and "min.name" not in log_stats and "max.name" not in log_stats
    fs, _ = filesystem(ROOT, s3.storage_options)
    footer = pq.ParquetFile(lake.files("silver", "person")[0].split("://", 1)[1], filesystem=fs).metadata
    columns = {footer.row_group(0).column(i).path_in_schema: footer.row_group(0).column(i)
               for i in range(footer.num_columns)}
    assert columns["name"].statistics is None and columns["resident_id"].statistics.has_min_max

    # an append with other columns is refused before anything is written; an overwrite replaces the schema
    with pytest.raises(SchemaMismatchError, match="silver/person"):
        lake.write_arrow(pa.table({"resident_id": pa.array([5], pa.int64())}), "silver", "person")
    assert lake.version("silver", "person") == 1
    assert lake.write_arrow(pa.table({"resident_id": pa.array([9], pa.int64())}), "silver", "person",
                            mode="overwrite") == 2
    assert lake.count("silver", "person") == 1 and lake.count("silver", "person", version=1) == 4
    assert lake.history("silver", "person", limit=1)[0]["operation"] == "OVERWRITE"


def test_spark_operations_on_a_lakehouse_without_a_session_say_so(s3: S3Server) -> None:
    lake = Lakehouse(None, "s3://city-lake/empty", storage_options=s3.storage_options)
    assert lake.write_arrow(_people([1], ["x"]), "bronze", "t") == 0
    with pytest.raises(LakehouseError, match="built without a SparkSession: only its delta-rs side works"):
        lake.read("bronze", "t")
