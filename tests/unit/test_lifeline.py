"""The lifeline's watcher, without Spark: processes started inside `launching()` (standing in for the JVM and a
worker it started) end within a moment of their parent's SIGKILL; a process started outside is left alone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pidfd and /proc: Linux only")

PARENT = textwrap.dedent("""
    import subprocess, sys, time
    from citydata.lakehouse import lifeline

    with lifeline.launching():
        # the "JVM", and a "worker" it starts that the JVM's death would re-parent
        jvm = subprocess.Popen(["sh", "-c", "sleep 300 & echo $!; wait"], stdout=subprocess.PIPE, text=True)
        worker = int(jvm.stdout.readline())
    bystander = subprocess.Popen(["sleep", "300"])  # started outside: not the lifeline's
    print(jvm.pid, worker, bystander.pid, lifeline._lifeline.process.pid, flush=True)
    time.sleep(300)
""")


def _alive(pid: int) -> bool:
    """Running, not a zombie waiting for a reaper."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def test_what_the_parent_started_dies_with_it_and_nothing_else() -> None:
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True,
                              start_new_session=True)
    jvm, worker, bystander, watcher = map(int, parent.stdout.readline().split())
    try:
        assert all(_alive(p) for p in (jvm, worker, bystander, watcher))
        started = time.monotonic()
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait()
        while (_alive(jvm) or _alive(worker) or _alive(watcher)) and time.monotonic() - started < 5:
            time.sleep(0.05)
        seconds = time.monotonic() - started
        assert not _alive(jvm) and not _alive(worker), "the JVM stand-ins outlived their parent"
        assert not _alive(watcher)  # its work done, the watcher ends too
        assert seconds < 2, seconds
        assert _alive(bystander)  # no token, not touched
    finally:
        for pid in (jvm, worker, bystander, watcher):  # whatever is left if an assertion failed
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        if parent.poll() is None:
            os.killpg(parent.pid, signal.SIGKILL)
