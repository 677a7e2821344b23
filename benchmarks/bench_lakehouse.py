"""Benchmark: the Delta layer (delta data source + Lakehouse.read) against plain Spark Parquet.

One run, same generated data both ways (default 5,000,000 rows, 10 columns, partitioned by
district x year): write, full read (count + sum), selective reads (partition filter, statistics
filter). Prints rows/s and Delta/plain time ratios. Run with `make bench-lakehouse`.
Environment: BENCH_ROWS (default 5000000), BENCH_DIR (default <CITYDATA_HOME>/data/bench-lakehouse).
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
os.environ.setdefault("CITYDATA_SPARK_DRIVER_MEMORY", "4g")

from pyspark.sql import DataFrame, SparkSession  # noqa: E402
from pyspark.sql import functions as F  # noqa: E402

from citydata.lakehouse import Lakehouse, get_spark  # noqa: E402

ROWS = int(os.environ.get("BENCH_ROWS", "5000000"))
TASKS = 4
READS = 3  # each read is timed 3 times, best kept


def generate(spark: SparkSession, rows: int) -> DataFrame:
    """10 columns; partition columns district (16 values) and year (6 values) -> 96 partitions."""
    return spark.range(0, rows, numPartitions=TASKS).select(
        F.col("id"),
        F.concat(F.lit("1101"), F.lpad(((F.col("id") * 7) % 16).cast("string"), 2, "0")).alias("district"),
        (F.lit(2019) + (F.col("id") * 13) % 6).cast("int").alias("year"),
        F.concat(F.lit("name-"), (F.col("id") % 100_000).cast("string")).alias("name"),
        ((F.col("id") * 37) % 10_000 / 100.0).alias("amount"),
        ((F.col("id") * 11) % 500).cast("int").alias("qty"),
        F.timestamp_seconds(F.lit(1_700_000_000) + F.col("id")).alias("event_ts"),
        ((F.col("id") % 3) == 0).alias("flag"),
        F.element_at(F.array(*[F.lit(c) for c in "ABCDEFGH"]), (F.col("id") % 8 + 1).cast("int"))
        .alias("category"),
        F.date_add(F.lit("1950-01-01").cast("date"), (F.col("id") % 25_000).cast("int"))
        .alias("birth_date"),
    )


def timed(label: str, fn: Callable[[], Any], repeat: int = 1) -> tuple[float, Any]:
    """Best wall time of `repeat` runs (reads are short and the machine is shared)."""
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    note = f" (best of {repeat})" if repeat > 1 else ""
    print(f"  {label:<52} {best:8.2f} s{note}", flush=True)
    return best, result


def main() -> int:
    home = Path(os.environ.get("CITYDATA_HOME", Path.cwd()))
    bench_dir = Path(os.environ.get("BENCH_DIR", home / "data" / "bench-lakehouse")).resolve()
    shutil.rmtree(bench_dir, ignore_errors=True)
    bench_dir.mkdir(parents=True)
    spark = get_spark(app_name="bench-lakehouse")
    lh = Lakehouse(spark, bench_dir / "lake")
    plain = str(bench_dir / "plain")
    df = generate(spark, ROWS)
    print(f"bench-lakehouse: {ROWS:,} rows, {len(df.columns)} columns, partitions district x year, "
          f"{TASKS} write tasks, master {spark.sparkContext.master}")

    # Warm up both paths (JVM JIT, Python workers, data source lookup) on a small table.
    warm = generate(spark, 20_000)
    lh.write(warm, "bench", "warmup", partition_by=["district", "year"])
    warm.write.mode("overwrite").partitionBy("district", "year").parquet(str(bench_dir / "warm"))
    lh.read("bench", "warmup").count()

    print("write")
    t_gen, _ = timed("generate only (noop sink)", lambda: df.write.format("noop").mode("overwrite").save())
    t_plain_w, _ = timed("plain df.write.partitionBy(...).parquet",
                         lambda: df.write.mode("overwrite").partitionBy("district", "year").parquet(plain))
    t_delta_w, _ = timed("delta Lakehouse.write (one commit)",
                         lambda: lh.write(df, "bench", "events", partition_by=["district", "year"]))
    files = lh.files("bench", "events")
    print(f"  delta files: {len(files)}, plain files: {len(list(Path(plain).rglob('*.parquet')))}")

    def full(d: DataFrame) -> tuple[int, float]:
        row = d.agg(F.count(F.lit(1)).alias("n"), F.sum("amount").alias("s")).collect()[0]
        return row["n"], row["s"]

    def same(a: tuple[int, float], b: tuple[int, float]) -> bool:
        # Equal counts; sums equal up to floating-point summation order.
        return a[0] == b[0] and abs((a[1] or 0) - (b[1] or 0)) <= 1e-9 * max(1.0, abs(a[1] or 0))

    print("full read (count + sum(amount))")
    t_plain_r, r_plain = timed("plain spark.read.parquet", lambda: full(spark.read.parquet(plain)), READS)
    t_delta_r, r_delta = timed("delta Lakehouse.read (native Parquet)",
                               lambda: full(lh.read("bench", "events")), READS)
    t_py_r, r_py = timed("delta spark.read.format('delta') (Python reader)",
                         lambda: full(spark.read.format("delta").load(lh.path("bench", "events"))))
    assert r_plain[0] == ROWS and same(r_plain, r_delta) and same(r_plain, r_py), (r_plain, r_delta, r_py)

    where_part = "district = '110105' AND year = 2020"
    lo, hi = ROWS // 2, ROWS // 2 + ROWS // 100
    where_stats = f"id BETWEEN {lo} AND {hi}"
    print(f"selective read, partition filter: {where_part}")
    t_p_plain, n1 = timed("plain read + where (Spark partition pruning)",
                          lambda: full(spark.read.parquet(plain).where(where_part)), READS)
    t_p_nopr, n2 = timed("delta read all files + where (no pruning)",
                         lambda: full(lh.read("bench", "events").where(where_part)), READS)
    t_p_delta, n3 = timed("delta Lakehouse.read(where=...) (pruned)",
                          lambda: full(lh.read("bench", "events", where=where_part)), READS)
    assert same(n1, n2) and same(n2, n3), (n1, n2, n3)
    pruned_p = len(lh.files("bench", "events", where=where_part))
    print(f"  files handed to Spark: {pruned_p} of {len(files)}")
    print(f"selective read, statistics filter: {where_stats}")
    t_s_plain, m1 = timed("plain read + where (row-group stats only)",
                          lambda: full(spark.read.parquet(plain).where(where_stats)), READS)
    t_s_nopr, m2 = timed("delta read all files + where (no pruning)",
                         lambda: full(lh.read("bench", "events").where(where_stats)), READS)
    t_s_delta, m3 = timed("delta Lakehouse.read(where=...) (pruned)",
                          lambda: full(lh.read("bench", "events", where=where_stats)), READS)
    assert same(m1, m2) and same(m2, m3), (m1, m2, m3)
    pruned_s = len(lh.files("bench", "events", where=where_stats))
    print(f"  files handed to Spark: {pruned_s} of {len(files)}")

    def rate(seconds: float) -> str:
        return f"{ROWS / seconds / 1e6:6.2f} M rows/s"

    print("\nsummary")
    print(f"  write      plain {t_plain_w:6.2f} s ({rate(t_plain_w)})  delta {t_delta_w:6.2f} s "
          f"({rate(t_delta_w)})  delta/plain {t_delta_w / t_plain_w:.2f}x  (generation alone {t_gen:.2f} s)")
    print(f"  full read  plain {t_plain_r:6.2f} s ({rate(t_plain_r)})  delta {t_delta_r:6.2f} s "
          f"({rate(t_delta_r)})  delta/plain {t_delta_r / t_plain_r:.2f}x  "
          f"python reader {t_py_r:.2f} s ({t_py_r / t_plain_r:.2f}x)")
    print(f"  partition-filtered read  plain {t_p_plain:.2f} s  delta unpruned {t_p_nopr:.2f} s  "
          f"delta pruned {t_p_delta:.2f} s  pruned/unpruned {t_p_delta / t_p_nopr:.2f}x  "
          f"pruned/plain {t_p_delta / t_p_plain:.2f}x")
    print(f"  stats-filtered read      plain {t_s_plain:.2f} s  delta unpruned {t_s_nopr:.2f} s  "
          f"delta pruned {t_s_delta:.2f} s  pruned/unpruned {t_s_delta / t_s_nopr:.2f}x  "
          f"pruned/plain {t_s_delta / t_s_plain:.2f}x")
    goal = t_delta_w <= 1.5 * t_plain_w
    print(f"  goal: delta write within 1.5x of plain Parquet: {'met' if goal else 'NOT met'}")
    spark.stop()
    shutil.rmtree(bench_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
