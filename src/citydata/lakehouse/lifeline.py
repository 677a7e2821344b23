"""The Spark JVM and its Python workers end with the Python process that started them.

PySpark starts the JVM (`spark-submit`) as a child of the driver's Python process. When that process is
killed, the JVM sees its stdin close and exits, but only after its shutdown hooks, and the Python workers it
started finish what they were doing: a Delta commit of the `delta` data source runs in such a worker, and a
silver commit landed 0.5 s after the CLI was killed with SIGKILL.

`launching()` wraps the session's creation: the JVM is started with `CITYDATA_LIFELINE=<token>` in its
environment (its Python workers inherit it), and a watcher — this file run as a script, stdlib only, in a
session of its own — waits on a pidfd for the driver process to end. When it ends without having said
goodbye (SIGKILL, SIGTERM, a crash), the watcher freezes (SIGSTOP) every process carrying the token, then
kills them (SIGKILL): nothing they were doing reaches the disk afterwards. A process found by its token is
found even after the JVM's death re-parented it. A normal exit first stops the SparkContext (its jobs and
workers end, Spark's temporary folders are deleted: `atexit`), says goodbye, and the watcher gives what is
left 10 s to exit by itself before killing it. Linux only (pidfd, /proc); elsewhere nothing is watched.
Must not: import anything but the standard library at module level (the watcher runs it as a script).
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

log = logging.getLogger(__name__)

TOKEN_VARIABLE = "CITYDATA_LIFELINE"
GOODBYE = b"bye"
GRACE_SECONDS = 10.0  # after a normal exit: Spark's own shutdown (already stopped) needs well under a second


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (with the pid, a name no later process takes)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            return stat.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def holders(token: str, variable: str = TOKEN_VARIABLE) -> list[int]:
    """Live processes whose environment carries `<variable>=<token>` (default CITYDATA_LIFELINE; this process
    excluded). The standalone cluster finds its processes the same way (citydata.lakehouse.cluster)."""
    needle = b"\0" + f"{variable}={token}".encode() + b"\0"
    me, found = os.getpid(), []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            with open(f"/proc/{entry.name}/environ", "rb") as environ:
                if needle in b"\0" + environ.read() + b"\0":
                    found.append(int(entry.name))
        except OSError:  # gone meanwhile, or another user's process
            continue
    return found


def _signal(pids: list[int], signum: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signum)


def end_holders(token: str) -> list[int]:
    """Freeze every process carrying the token (again for any forked meanwhile), then kill them all."""
    frozen: set[int] = set()
    for _ in range(3):
        found = set(holders(token)) - frozen
        if not found:
            break
        _signal(sorted(found), signal.SIGSTOP)
        frozen |= found
    _signal(sorted(frozen), signal.SIGKILL)
    return sorted(frozen)


def watch(token: str, parent: int, goodbye_fd: int) -> None:
    """The watcher's loop: wait for `parent` to end, then end every process carrying `token`."""
    pid, started = token.split(".", 1)
    try:
        parent_fd: int | None = os.pidfd_open(parent)
    except ProcessLookupError:
        end_holders(token)  # the parent ended before the watcher looked
        return
    except OSError:  # a kernel before 5.3: no pidfd, poll the parent instead
        parent_fd = None
    if str(parent) != pid or _start_time(parent) != started:
        end_holders(token)  # that pid is another process now: the parent ended before the watcher looked
        return
    poller = select.poll()
    if parent_fd is not None:
        poller.register(parent_fd, select.POLLIN)
    poller.register(goodbye_fd, select.POLLIN)
    said_goodbye = parent_ended = False
    while not parent_ended:
        events = poller.poll(None if parent_fd is not None else 100)
        if parent_fd is None and _start_time(parent) != started:
            parent_ended = True
        for fd, _ in events:
            if fd == parent_fd:
                parent_ended = True
            elif os.read(goodbye_fd, 16):
                said_goodbye = True
            else:  # the parent's end of the pipe closed: its exit comes through the pidfd
                poller.unregister(goodbye_fd)
    if said_goodbye:
        deadline = time.monotonic() + GRACE_SECONDS
        while holders(token) and time.monotonic() < deadline:
            time.sleep(0.2)
    end_holders(token)


class _Lifeline:
    """This process's watcher: its token and the pipe it says goodbye through."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.token = f"{self.pid}.{_start_time(self.pid)}"
        read_end, self.goodbye = os.pipe()
        # the watcher is not this process's child in spirit: its own session, so a signal to our process group
        # (Ctrl-C, a supervisor ending a task's group) does not end it before it does its work
        self.process = subprocess.Popen(
            [sys.executable, "-I", os.path.abspath(__file__), self.token, str(self.pid), str(read_end)],
            pass_fds=(read_end,), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True)
        os.close(read_end)
        import atexit

        atexit.register(self.close)

    def close(self) -> None:
        """At a normal exit: stop the SparkContext (its jobs and workers end), then say goodbye."""
        if os.getpid() != self.pid:
            return  # a forked child inherited the handler; the watcher is its parent's
        from pyspark import SparkContext

        context = SparkContext._active_spark_context  # noqa: SLF001 - the one way to know without creating one
        if context is not None:
            try:
                context.stop()
            except Exception as error:  # noqa: BLE001 - exiting anyway; the watcher ends what is left
                log.warning("stopping Spark at exit failed (%s): the JVM is killed after %.0f s", error,
                            GRACE_SECONDS)
        with contextlib.suppress(OSError):
            os.write(self.goodbye, GOODBYE)


_lifeline: _Lifeline | None = None  # one watcher per process (a forked child starts its own)


@contextlib.contextmanager
def launching() -> Iterator[None]:
    """Around the creation of a SparkSession: a JVM started inside carries this process's token and dies with
    this process. Outside, the token is not in the environment (children started later do not carry it)."""
    global _lifeline
    if not sys.platform.startswith("linux"):
        yield
        return
    if _lifeline is None or _lifeline.pid != os.getpid():
        _lifeline = _Lifeline()
    previous = os.environ.get(TOKEN_VARIABLE)
    os.environ[TOKEN_VARIABLE] = _lifeline.token
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(TOKEN_VARIABLE, None)
        else:
            os.environ[TOKEN_VARIABLE] = previous


if __name__ == "__main__":
    watch(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
