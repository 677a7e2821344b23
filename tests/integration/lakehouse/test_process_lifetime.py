"""Killing `citydata ingest` with SIGKILL mid-run ends its Spark JVM and Python workers within seconds, and no
Delta version is written after it died (citydata.lakehouse.lifeline). Before, the JVM and its workers lived on
and a silver commit landed 0.5 s after the CLI was killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from citydata.sources.simulate import simulate

pytestmark = pytest.mark.slow


def _processes() -> dict[int, tuple[int, int, str]]:
    """pid -> (parent pid, session id, state) of every process."""
    table = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue  # ended while we looked
        table[int(stat.parent.name)] = (int(fields[1]), int(fields[3]), fields[0])
    return table


def _family(root: int) -> set[int]:
    """`root`'s live descendants and the live members of its session (a re-parented worker stays in it)."""
    table = _processes()
    family, frontier = set(), [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, (ppid, _, _) in table.items() if ppid == parent]
        family.update(children)
        frontier.extend(children)
    family |= {pid for pid, (_, sid, _) in table.items() if sid == root}
    return {pid for pid in family if pid in table and table[pid][2] != "Z"}


def _alive(pids: set[int]) -> set[int]:
    table = _processes()
    return {pid for pid in pids if pid in table and table[pid][2] != "Z"}


def _commits(lakehouse: Path) -> set[str]:
    return {str(p.relative_to(lakehouse)) for p in lakehouse.glob("*/*/_delta_log/*.json")}


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def test_a_killed_cli_leaves_no_spark_process_and_writes_nothing_after(tmp_path: Path) -> None:
    [day] = simulate(tmp_path / "simulated", [1], persons=100, seed=1, period_days=30)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CITYDATA_")}
    env.update({"CITYDATA_HOME": str(tmp_path), "CITYDATA_SPARK_WAREHOUSE": str(tmp_path / "spark-warehouse")})
    lakehouse = tmp_path / "lakehouse"
    with (tmp_path / "cli.log").open("wb") as output:
        cli = subprocess.Popen([sys.executable, "-m", "citydata.cli", "ingest", "--day-folder",
                                str(day.folder / "delivery"), "--home", str(tmp_path)],
                               env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    seen: set[int] = set()
    try:
        deadline = time.monotonic() + 300
        while not _commits(lakehouse):  # mid-run: the first table is committed, sixteen sources to go
            assert cli.poll() is None, (tmp_path / "cli.log").read_text(errors="replace")[-3000:]
            assert time.monotonic() < deadline, "no Delta commit within 300 s"
            seen |= _family(cli.pid)
            time.sleep(0.05)
        seen |= _family(cli.pid)
        assert any("org.apache.spark.deploy.SparkSubmit" in _cmdline(pid) for pid in seen), "no Spark JVM seen"
        os.kill(cli.pid, signal.SIGKILL)
        killed = time.monotonic()
        at_kill = _commits(lakehouse)
        cli.wait()
        while _alive(seen) and time.monotonic() - killed < 10:
            time.sleep(0.1)
        gone = time.monotonic() - killed
        left = {pid: _cmdline(pid)[:120] for pid in _alive(seen)}
        assert left == {}, f"still running {gone:.1f} s after the CLI was killed: {left}"
        time.sleep(2)  # anything still writing would have committed by now
        assert _commits(lakehouse) == at_kill
        print(f"{len(seen)} processes of the CLI (JVM, Python workers, watcher) gone {gone:.1f} s after SIGKILL; "
              f"{len(at_kill)} Delta commits, none after")
        assert gone < 5
    finally:
        for pid in _alive(seen):
            os.kill(pid, signal.SIGKILL)
