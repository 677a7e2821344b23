"""Pseudonymous join keys (STANDARDS.md, "Personal information"): HMAC-SHA256 of an identifier with the
platform's secret key, as 64 lower-case hex characters.

Why keyed: an identity number has few possible values (division, birth date, sequence), so a plain hash is
reversed by hashing every candidate. With the key, a hash in a Delta log's statistics or a Parquet footer says
nothing to whoever lacks the key, and the key never leaves the platform: it is read from
`CITYDATA_PSEUDONYM_KEY` (64 hex characters, e.g. from a secret store), else from the file named by
`CITYDATA_PSEUDONYM_KEY_FILE`, else from `secrets/pseudonym.key` beside the lakehouse root (for the default
layout, `$CITYDATA_HOME/secrets/pseudonym.key`), created on first use with mode 0600 in a 0700 folder.
Every process of one platform (CLI, Airflow tasks, tests) finds the same key through the lakehouse root.
Rotating the key changes every hash: see docs/lakehouse.md.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from citydata.standards import idcard

KEY_ENV = "CITYDATA_PSEUDONYM_KEY"
KEY_FILE_ENV = "CITYDATA_PSEUDONYM_KEY_FILE"
KEY_BYTES = 32
SQL_FUNCTION = "citydata_hash"


class PseudonymKeyError(RuntimeError):
    """The platform's pseudonym key cannot be found, created or read."""


def key_file(lakehouse_root: str | os.PathLike[str]) -> Path:
    """Where the key file of the platform whose lakehouse is at `lakehouse_root` lives."""
    explicit = os.environ.get(KEY_FILE_ENV)
    if explicit:
        return Path(explicit)
    root = str(lakehouse_root)
    if "://" in root and not root.startswith("file://"):
        raise PseudonymKeyError(
            f"the lakehouse root {root!r} is not a local folder, so no key file is kept beside it: set "
            f"{KEY_ENV} (64 hex characters) or {KEY_FILE_ENV} (a local file readable only by the platform)")
    local = root.removeprefix("file://")
    return Path(local).resolve().parent / "secrets" / "pseudonym.key"


def platform_key(lakehouse_root: str | os.PathLike[str]) -> bytes:
    """The platform's pseudonym key (32 bytes): from the environment, else its key file, created on first use."""
    from_env = os.environ.get(KEY_ENV)
    if from_env:
        try:
            key = bytes.fromhex(from_env.strip())
        except ValueError as exc:
            raise PseudonymKeyError(f"{KEY_ENV} must be hex characters (64 of them)") from exc
        if len(key) < 16:
            raise PseudonymKeyError(f"{KEY_ENV} is {len(key)} bytes: use at least 16 (64 hex characters for 32)")
        return key
    path = key_file(lakehouse_root)
    if not path.exists():
        _create_key_file(path)
    try:
        key = bytes.fromhex(path.read_text(encoding="ascii").strip())
    except (OSError, ValueError) as exc:
        raise PseudonymKeyError(f"cannot read the pseudonym key at {path}: {type(exc).__name__}. It must hold "
                                "64 hex characters; restore it from backup (a new key changes every hash)") from exc
    if len(key) < 16:
        raise PseudonymKeyError(f"the pseudonym key at {path} is {len(key)} bytes; restore it from backup")
    return key


def _create_key_file(path: Path) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        # O_EXCL: two processes creating the key at once keep one key (the loser reads the winner's)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(secrets.token_hex(KEY_BYTES) + "\n")


def keyed_hash(value: str, key: bytes) -> str:
    """HMAC-SHA256 of `value` (UTF-8) with `key`, 64 lower-case hex characters."""
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()


def id_number_hash(id_number: str, key: bytes) -> str:
    """The keyed hash of an identity number in its standard form (half-width, no spaces, upper-case X,
    a legacy 15-digit number upgraded), so a lookup typed as delivered finds the stored person."""
    result = idcard.validate(id_number)
    standard = result.value if result.ok and result.value else idcard.normalize(id_number)
    return keyed_hash(standard, key)


def register_sql_function(spark, lakehouse_root: str | os.PathLike[str]) -> str:  # noqa: ANN001 - SparkSession
    """Register `citydata_hash(id_number)` in the session (a Python function: the key stays in Python, never in
    a query plan or a function body an analyst could print). Returns the function's name."""
    key = platform_key(lakehouse_root)

    def citydata_hash(id_number: str | None) -> str | None:
        return None if id_number is None else id_number_hash(id_number, key)

    spark.udf.register(SQL_FUNCTION, citydata_hash, "string")
    return SQL_FUNCTION
