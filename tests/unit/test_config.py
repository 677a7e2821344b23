from pathlib import Path

from citydata.config import Paths


def test_defaults_live_under_the_project_home(tmp_path: Path, monkeypatch) -> None:
    for name in ("CITYDATA_LAKEHOUSE", "CITYDATA_LANDING", "CITYDATA_EXPORTS", "CITYDATA_RELEASES"):
        monkeypatch.delenv(name, raising=False)
    paths = Paths.from_env(tmp_path)
    assert paths.lakehouse == str(tmp_path / "lakehouse")
    assert paths.exports == tmp_path / "exports"


def test_lakehouse_root_may_be_a_uri(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("CITYDATA_LAKEHOUSE", "s3://city-lake/prod")
    assert Paths.from_env(tmp_path).lakehouse == "s3://city-lake/prod"
