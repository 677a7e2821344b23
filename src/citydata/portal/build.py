"""Build the static portal site of a release into `data/portal/site/` and swap it in atomically.

The site is rendered from Jinja2 templates (package data in `templates/`, autoescaped) into a new folder
beside the live one; `site` is a symbolic link that is then replaced in one rename, so a web server never
serves half a build. Pages link relatively and load nothing from the network: the site works offline,
from any host and from the file system.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from citydata.config import Paths
from citydata.portal.content import UPDATE_CYCLES, PortalContent, PortalError, load_content
from citydata.portal.figures import format_number
from citydata.release.manifest import current_number, release_numbers

log = logging.getLogger(__name__)

SITE_TITLE = "示范市公共数据开放平台"
DEFAULT_BASE_URL = "http://127.0.0.1:8090"
BUILDS = ".builds"  # rendered sites, beside `site`; the link names the live one


@dataclass(frozen=True)
class PortalBuild:
    site: Path  # the live site folder (a link to the build)
    release: int
    pages: int
    datasets: int
    open_datasets: int
    seconds: float
    base_url: str


def portal_root(paths: Paths) -> Path:
    """`<home>/data/portal`: the site link and its builds."""
    return paths.home / "data" / "portal"


def site_dir(paths: Paths) -> Path:
    return portal_root(paths) / "site"


def base_url_of(base_url: str | None = None) -> str:
    """The portal's public URL: the argument, else CITYDATA_PORTAL_URL, else http://127.0.0.1:8090."""
    return (base_url or os.environ.get("CITYDATA_PORTAL_URL") or DEFAULT_BASE_URL).rstrip("/")


def _filesize(size: int | None) -> str:
    if size is None:
        return "—"
    if size < 1024:
        return f"{size} 字节"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


def environment() -> Environment:
    env = Environment(loader=PackageLoader("citydata.portal", "templates"),
                      autoescape=select_autoescape(default=True, default_for_string=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["num"] = format_number
    env.filters["filesize"] = _filesize
    env.filters["cycle"] = lambda cycle: UPDATE_CYCLES.get(str(cycle), cycle)
    return env


def _render(env: Environment, out: Path, template: str, page: str, **context: Any) -> None:
    """Render `template` to `out/page`; `root` is the relative way back to the site root."""
    depth = page.count("/")
    html = env.get_template(template).render(root="../" * depth, page=page, **context)
    target = out / page
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(html, encoding="utf-8")


def _copy_static(out: Path) -> None:
    static = resources.files("citydata.portal") / "templates" / "static"
    (out / "static").mkdir(parents=True, exist_ok=True)
    for entry in static.iterdir():
        if entry.is_file() and not entry.name.startswith("."):
            (out / "static" / entry.name).write_bytes(entry.read_bytes())


def _copy_exports(content: PortalContent, out: Path, base_url: str) -> None:
    """The release's export folder under download/release-NNNN/; its catalog.jsonld and api/ at the root."""
    source = content.export_dir
    if not source.is_dir():
        if any(d.exported for d in content.datasets):
            raise PortalError(f"release {content.release}: no export folder {source}. Fix: export the release")
        return
    shutil.copytree(source, out / "download" / source.name)
    catalog = source / "catalog.jsonld"
    if catalog.is_file():
        shutil.copy2(catalog, out / "catalog.jsonld")
        text = catalog.read_text(encoding="utf-8")
        if f"{base_url}/download/" not in text:
            log.warning("portal: %s does not link downloads under %s/download/ (exported for another base URL?)",
                        catalog, base_url)
    else:
        log.warning("portal: release %d has no catalog.jsonld in %s", content.release, source)
    if (source / "api").is_dir():
        shutil.copytree(source / "api", out / "api")
    else:
        log.warning("portal: release %d has no CKAN api/ folder in %s", content.release, source)


def render_site(content: PortalContent, out: Path, *, base_url: str) -> int:
    """Write every page of `content` into `out` (an empty folder); the number of HTML pages."""
    env = environment()
    common = {"site_title": SITE_TITLE, "content": content, "release": content.release,
              "current": content.current, "base_url": base_url, "catalog_name": content.manifest.get("catalog", "")}
    index = [d.search_entry(f"datasets/{d.name}.html") for d in content.datasets]
    pages = [("home.html", "index.html", {}),
             ("datasets.html", "datasets/index.html", {"index": index}),
             ("releases.html", "releases.html", {}),
             ("developers.html", "developers.html", {})]
    pages += [("dataset.html", f"datasets/{d.name}.html", {"dataset": d}) for d in content.datasets]
    for template, page, extra in pages:
        _render(env, out, template, page, **common, **extra)
    (out / "datasets.json").write_text(json.dumps(index, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    _copy_static(out)
    _copy_exports(content, out, base_url)
    return len(pages)


def _swap_in(build: Path, site: Path) -> None:
    """Point `site` at `build` in one rename, then remove the builds no longer linked."""
    if site.exists() and not site.is_symlink():  # a plain folder (copied site, older layout): set it aside
        aside = build.parent / f"replaced-{time.time_ns()}"
        site.rename(aside)
    link = site.with_name(f".site-{os.getpid()}-{time.time_ns()}")
    link.symlink_to(build.relative_to(site.parent))
    link.replace(site)  # rename(2): atomic
    # Builds named before this one are no longer linked; a later one may be another build still running.
    for old in build.parent.iterdir():
        if old.name < build.name or old.name.startswith("replaced-"):
            shutil.rmtree(old)


def build_portal(paths: Paths, *, release: int | None = None, base_url: str | None = None) -> PortalBuild:
    """Build the portal of `release` (default: the current one) from the releases and exports folders.

    Raises PortalError when there is no release yet or the release was not exported.
    """
    started = time.perf_counter()
    numbers = release_numbers(paths.releases)
    current = current_number(paths.releases)
    if current is None:
        raise PortalError(f"no release yet in {paths.releases}: nothing to publish. Fix: run `make demo` first "
                          "(or `citydata run-day --day-folder …`), which releases and exports the catalog")
    number = current if release is None else int(release)
    if number not in numbers:
        raise PortalError(f"no release {number} in {paths.releases} (releases: {numbers})")
    url = base_url_of(base_url)
    content = load_content(paths.releases, paths.exports, number, current)
    root = portal_root(paths)
    builds = root / BUILDS
    builds.mkdir(parents=True, exist_ok=True)
    # Named by start time first, so a later build sorts after every earlier one (see _swap_in).
    build = builds / f"{time.time_ns():020d}-release-{number:04d}-{os.getpid()}"
    build.mkdir()
    try:
        pages = render_site(content, build, base_url=url)
    except BaseException:
        shutil.rmtree(build, ignore_errors=True)
        raise
    site = site_dir(paths)
    _swap_in(build, site)
    seconds = time.perf_counter() - started
    result = PortalBuild(site=site, release=number, pages=pages, datasets=len(content.datasets),
                         open_datasets=sum(d.exported for d in content.datasets), seconds=seconds, base_url=url)
    log.info("portal: release %d, %d pages (%d datasets, %d open) in %.2f s -> %s", number, pages,
             result.datasets, result.open_datasets, seconds, site)
    return result
