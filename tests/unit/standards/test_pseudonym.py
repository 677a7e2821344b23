"""The platform's keyed hash of identity numbers: one key per platform, kept beside the lakehouse with mode 0600
(or given by the environment), and the same hash for a number however it was typed."""

from __future__ import annotations

import hashlib
import hmac
import stat
from pathlib import Path

import pytest

from citydata.standards import pseudonym
from citydata.standards.pseudonym import PseudonymKeyError, id_number_hash, key_file, keyed_hash, platform_key

ID = "11010519491231002X"  # the GB 11643 example number


@pytest.fixture(autouse=True)
def _no_key_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(pseudonym.KEY_ENV, raising=False)
    monkeypatch.delenv(pseudonym.KEY_FILE_ENV, raising=False)


def test_the_key_is_created_once_beside_the_lakehouse_readable_by_the_platform_only(tmp_path: Path) -> None:
    root = tmp_path / "home" / "lakehouse"
    path = key_file(root)
    assert path == tmp_path / "home" / "secrets" / "pseudonym.key"
    assert not path.exists()
    key = platform_key(root)
    assert len(key) == 32 and path.is_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert platform_key(str(root)) == key  # read back, not created again
    assert platform_key(tmp_path / "other" / "lakehouse") != key  # another platform, another key


def test_the_environment_overrides_the_key_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(pseudonym.KEY_ENV, "ab" * 32)
    assert platform_key(tmp_path / "lakehouse") == bytes.fromhex("ab" * 32)
    assert not (tmp_path / "secrets").exists()
    monkeypatch.setenv(pseudonym.KEY_ENV, "ab" * 4)
    with pytest.raises(PseudonymKeyError, match="at least 16"):
        platform_key(tmp_path / "lakehouse")
    monkeypatch.delenv(pseudonym.KEY_ENV)
    monkeypatch.setenv(pseudonym.KEY_FILE_ENV, str(tmp_path / "vault" / "k"))
    key = platform_key(tmp_path / "lakehouse")
    assert (tmp_path / "vault" / "k").read_text().strip() == key.hex()


def test_an_object_store_lakehouse_needs_the_key_from_the_environment() -> None:
    with pytest.raises(PseudonymKeyError, match=pseudonym.KEY_ENV):
        platform_key("s3://city-lake/prod")


def test_a_damaged_key_file_is_refused_without_quoting_it(tmp_path: Path) -> None:
    path = key_file(tmp_path / "lakehouse")
    path.parent.mkdir()
    path.write_text("not hex at all")
    with pytest.raises(PseudonymKeyError) as caught:
        platform_key(tmp_path / "lakehouse")
    assert "not hex" not in str(caught.value) and str(path) in str(caught.value)


def test_the_hash_is_hmac_sha256_of_the_standard_number() -> None:
    key = bytes(range(32))
    expected = hmac.new(key, ID.encode(), hashlib.sha256).hexdigest()
    assert keyed_hash(ID, key) == expected
    assert len(expected) == 64 and expected != hashlib.sha256(ID.encode()).hexdigest()
    # as typed: lower-case x, full-width digits, spaces; a legacy 15-digit number is upgraded first
    assert id_number_hash(" 11010519491231002x ", key) == expected
    assert id_number_hash("１１０１０５１９４９１２３１００２Ｘ", key) == expected
    assert id_number_hash("110105491231002", key) == expected  # the legacy form of the same number
    assert id_number_hash(ID, bytes(32)) != expected  # another key, another hash
