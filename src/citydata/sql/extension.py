"""Build the read-only SparkSessionExtension (`readonly/ReadOnly.scala`) once, cached by source hash.

The Scala compiler ships in the pyspark wheel (`jars/scala-compiler-*.jar`) and runs on the JRE the
platform already needs, so no JDK, sbt or network is required. The classes go to a folder keyed by
the source's hash and the pyspark version (default `<venv>/var/citydata-sql/`, git-ignored with the
venv; `CITYDATA_SQL_BUILD_DIR` moves it); a second call finds them there. Several processes may ask
at once (tests, `make sql`): a file lock makes one of them compile.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path

log = logging.getLogger(__name__)

EXTENSION_CLASS = "citydata.sql.readonly.ReadOnlyExtension"
# Thread-local Spark property that marks a statement as an analyst's (checked by the extension).
ANALYST_PROPERTY = "citydata.sql.analyst"
_SOURCE = ("readonly", "ReadOnly.scala")
_READY = "classes.ok"


class ExtensionBuildError(RuntimeError):
    """The read-only extension could not be compiled (the message holds the compiler's output)."""


def _source() -> bytes:
    path = resources.files("citydata.sql").joinpath(*_SOURCE)
    if not path.is_file():
        raise ExtensionBuildError(
            f"{'/'.join(_SOURCE)} is missing from the installed citydata.sql package. Fix: install the project "
            "editable (`pip install -e .`, what `make setup` does) or ship *.scala as package data.")
    return path.read_bytes()


def _spark_jars() -> Path:
    import pyspark

    return Path(pyspark.__file__).resolve().parent / "jars"


def default_build_dir() -> Path:
    """Where compiled extensions are cached: $CITYDATA_SQL_BUILD_DIR, else beside the interpreter's venv."""
    explicit = os.environ.get("CITYDATA_SQL_BUILD_DIR")
    if explicit:
        return Path(explicit)
    venv = Path(sys.prefix) / "var" / "citydata-sql"
    if os.access(sys.prefix, os.W_OK):
        return venv
    return Path(tempfile.gettempdir()) / "citydata" / "sql-build"


def _java() -> str:
    home = os.environ.get("JAVA_HOME")
    candidate = Path(home) / "bin" / "java" if home else None
    if candidate and candidate.is_file():
        return str(candidate)
    found = shutil.which("java")
    if not found:
        raise ExtensionBuildError("java not found on PATH (nor $JAVA_HOME/bin/java). Fix: `make java`.")
    return found


def extension_classpath(build_dir: Path | None = None) -> Path:
    """Folder holding the compiled extension's classes (for `spark.driver.extraClassPath`); compiles if needed."""
    import pyspark

    source = _source()
    key = hashlib.sha256(source + pyspark.__version__.encode()).hexdigest()[:16]
    root = (build_dir or default_build_dir()).resolve()
    target = root / key
    if (target / _READY).is_file():
        return target / "classes"
    root.mkdir(parents=True, exist_ok=True)
    with (root / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process may be compiling the same source
        if not (target / _READY).is_file():
            _compile(source, target)
    return target / "classes"


def _compile(source: bytes, target: Path) -> None:
    jars = _spark_jars()
    compiler = [next(jars.glob(f"scala-{part}-2.*.jar"), None) for part in ("compiler", "library", "reflect")]
    if None in compiler:
        raise ExtensionBuildError(f"no scala-compiler/-library/-reflect jar in {jars}: is this the pyspark wheel?")
    shutil.rmtree(target, ignore_errors=True)
    classes = target / "classes"
    classes.mkdir(parents=True)
    source_file = target / _SOURCE[-1]
    source_file.write_bytes(source)
    command = [
        _java(), "-cp", os.pathsep.join(str(j) for j in compiler), "scala.tools.nsc.Main",
        "-classpath", os.pathsep.join(str(j) for j in sorted(jars.glob("*.jar"))),
        "-d", str(classes), str(source_file),
    ]
    log.info("compiling the read-only SQL extension into %s (once per source version)", target)
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0 or not any(classes.rglob("ReadOnlyExtension.class")):
        output = (done.stdout + done.stderr).strip()
        raise ExtensionBuildError(f"scalac failed on {source_file} (exit {done.returncode}):\n{output[-4000:]}")
    (target / _READY).write_text(f"{time.monotonic() - started:.1f} s\n")
    log.info("read-only SQL extension compiled in %.1f s", time.monotonic() - started)
