"""Where the platform keeps things, from environment variables with project-local defaults."""

from __future__ import annotations

import os
from collections.abc import Mapping
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


# Storage options of an object-store lakehouse root (s3://bucket/prefix, oss://, hdfs://…): one environment
# variable per delta-rs option, the option's own name after the prefix, e.g. CITYDATA_STORAGE_AWS_ENDPOINT_URL.
# A prefix rather than one JSON variable: a Kubernetes Secret maps onto it with `envFrom: {prefix: ...}`, and a
# key can be set or overridden alone.
STORAGE_OPTION_PREFIX = "CITYDATA_STORAGE_"


def storage_options_from_env(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """delta-rs storage options from CITYDATA_STORAGE_<OPTION> variables ({} when none is set).

    The names are delta-rs's (object_store's), upper-cased: AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_ALLOW_HTTP, AWS_VIRTUAL_HOSTED_STYLE_REQUEST,
    AWS_S3_ALLOW_UNSAFE_RENAME, TIMEOUT, … (docs/scale.md lists them)."""
    source = os.environ if environ is None else environ
    return {name[len(STORAGE_OPTION_PREFIX):].upper(): value for name, value in source.items()
            if name.startswith(STORAGE_OPTION_PREFIX) and len(name) > len(STORAGE_OPTION_PREFIX)}
