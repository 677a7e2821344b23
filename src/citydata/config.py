"""Where the platform keeps things, from environment variables with project-local defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Paths:
    """Folders of one platform instance; every default lives under the project home."""

    home: Path
    lakehouse: str  # a folder or a URI (s3://, hdfs://): table roots are strings, not Paths
    landing: Path
    exports: Path
    releases: Path

    @classmethod
    def from_env(cls, home: Path | None = None) -> Paths:
        root = Path(home or os.environ.get("CITYDATA_HOME") or Path.cwd()).resolve()
        return cls(
            home=root,
            lakehouse=os.environ.get("CITYDATA_LAKEHOUSE", str(root / "lakehouse")),
            landing=Path(os.environ.get("CITYDATA_LANDING", root / "data" / "landing")),
            exports=Path(os.environ.get("CITYDATA_EXPORTS", root / "exports")),
            releases=Path(os.environ.get("CITYDATA_RELEASES", root / "data" / "releases")),
        )
