"""`citydata sql serve` in its own process and real beeline against it, for the SQL endpoint's test modules
(imported by bare name: several folders hold a conftest module, so helpers do not live there)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from citydata.ports import free_port
from citydata.sql import beeline_path


@dataclass
class Outcome:
    """One statement's outcome in beeline's output: a header and rows, or an error message."""

    header: list[str]
    rows: list[list[str]]
    error: str | None = None
    text: str = ""  # the statement's output as beeline printed it


def beeline(port: int, statements: list[str], tmp_path: Path, force: bool = False) -> list[Outcome]:
    """Run the statements in one beeline session (csv2 output); one Outcome per statement."""
    script = tmp_path / f"statements-{time.monotonic_ns()}.sql"
    script.write_text(";\n".join(statements) + ";\n", encoding="utf-8")
    command = [str(beeline_path()), "-u", f"jdbc:hive2://127.0.0.1:{port}/default", "--outputformat=csv2",
               "--showHeader=true", f"--force={'true' if force else 'false'}", "-f", str(script)]
    # one stream, so that errors (stderr) stay between the results (stdout) of their neighbours
    done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600,
                          check=False)
    output = done.stdout
    # Each statement's output follows a prompt such as "0: jdbc:hive2://127.0.0.1:10000/default> ".
    chunks = re.split(r"\d+: jdbc:hive2://\S+> ", output)[1:]
    outcomes = []
    for chunk in chunks:
        lines = [line for line in chunk.splitlines() if line.strip()]
        if not lines or lines[0].startswith("Closing:"):
            continue
        if lines[0].startswith("Error:"):
            outcomes.append(Outcome([], [], error=lines[0], text=chunk))
            continue
        body = [line for line in lines if not re.match(r"^(\d+ rows?|No rows) selected", line)]
        table = [row.split(",") for row in body]
        outcomes.append(Outcome(table[0], table[1:], text=chunk))
    assert len(outcomes) == len(statements), f"{len(statements)} statements, beeline said:\n{output[-5000:]}"
    return outcomes


@contextmanager
def serving(lakehouse_root: str, logs: Path, *options: str) -> Iterator[int]:
    """`citydata sql serve` on a free port until the block ends, then Ctrl-C: it must exit 0. Yields the port;
    the server's stdout and stderr are `logs`/stdout and `logs`/stderr."""
    port = free_port()
    env = {**os.environ, "CITYDATA_SPARK_WAREHOUSE": str(logs / "warehouse"), "PYTHONUNBUFFERED": "1"}
    with (logs / "stdout").open("w") as out, (logs / "stderr").open("w") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "citydata.cli", "sql", "serve", "--lakehouse", lakehouse_root, "--port",
             str(port), *options], stdout=out, stderr=err, env=env)
    started = time.monotonic()
    try:
        while "SQL endpoint is up" not in (logs / "stdout").read_text():
            assert process.poll() is None, (logs / "stderr").read_text()[-3000:]
            assert time.monotonic() - started < 600, "the endpoint did not start in 600 s"
            time.sleep(1)
        print(f"endpoint up in {time.monotonic() - started:.0f} s")
        yield port
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    assert process.returncode == 0, (logs / "stderr").read_text()[-3000:]
    assert "stopping the SQL endpoint" in (logs / "stdout").read_text()
