"""The open-data portal in a real browser: Debian's headless Chromium driven by selenium over chromedriver.

On the session's simulated city (`shared_city`): build the portal of its current release, serve it on a
free port, then as a visitor would: the home page's key figures and district map, search by keyword,
filter by theme, a dataset page with its chart and its map, a download whose SHA-256 must equal the
checksum `catalog.jsonld` publishes for it, and the same pages at a 390-px phone width (nothing wider
than the screen). Screenshots are kept in `test-artifacts/portal/` (git-ignored). The browser loads
nothing from anywhere but the portal (the site works offline). `make browser` installs the browser.
"""

from __future__ import annotations

import csv
import hashlib
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest
import rdflib
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

from citydata.portal import PortalBuild, build_portal
from citydata.portal.server import PortalServer

if TYPE_CHECKING:
    from shared_city import SharedCity

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "portal"
PHONE_WIDTH = 390
DATASET = "population_by_district"  # 人口: has a key figure and district_code (chart and map)
KEYWORD = "户籍"
CHECKSUMS = """
    PREFIX dcat: <http://www.w3.org/ns/dcat#>
    PREFIX spdx: <http://spdx.org/rdf/terms#>
    SELECT ?url ?value WHERE { ?dist dcat:downloadURL ?url ; spdx:checksum/spdx:checksumValue ?value . }
"""


@pytest.fixture(scope="module")
def portal(shared_city: SharedCity) -> Iterator[tuple[PortalBuild, str]]:
    built = build_portal(shared_city.paths)
    with PortalServer(built.site, port=0) as server:
        yield built, server.url


@pytest.fixture(scope="module")
def artifacts() -> Path:
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    print(f"\nportal screenshots: {ARTIFACTS}")
    return ARTIFACTS


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[webdriver.Chrome]:
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        pytest.fail(f"{', '.join(missing)} not installed. Fix: `make browser` (Debian's chromium, chromium-driver, "
                    "fonts-noto-cjk)")
    options = Options()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900",
                     "--lang=zh-CN"):
        options.add_argument(argument)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False,
                                              "download.directory_upgrade": True})
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    driver.downloads = downloads  # type: ignore[attr-defined]
    try:
        yield driver
    finally:
        driver.quit()


def _visible_cards(driver: webdriver.Chrome) -> list[str]:
    return sorted(card.get_attribute("data-name") for card in driver.find_elements(By.CSS_SELECTOR, ".dataset-card")
                  if card.is_displayed())


def _screenshot(driver: webdriver.Chrome, path: Path, width: int) -> None:
    """The whole page at `width` CSS pixels (the emulated viewport grows to the page's height)."""
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})
    driver.save_screenshot(str(path))
    assert path.stat().st_size > 10_000, path


def _only_local_requests(driver: webdriver.Chrome, base: str) -> None:
    urls = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert [u for u in urls if not u.startswith(base)] == [], "the page loaded something from elsewhere"
    severe = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
    assert severe == [], severe


def _wait_for_download(folder: Path, name: str, timeout: float = 30) -> Path:
    deadline = time.monotonic() + timeout
    target = folder / name
    while time.monotonic() < deadline:
        if target.is_file() and not list(folder.glob("*.crdownload")):
            return target
        time.sleep(0.2)
    raise AssertionError(f"{name} was not downloaded into {folder} within {timeout} s: {list(folder.iterdir())}")


def _published_checksums(catalog: Path) -> dict[str, str]:
    """Path of each downloadURL (`/download/release-NNNN/<file>`) -> its SHA-256 in catalog.jsonld."""
    graph = rdflib.Graph().parse(catalog, format="json-ld")
    return {urlsplit(str(row.url)).path: str(row.value) for row in graph.query(CHECKSUMS)}  # type: ignore[union-attr]


def test_portal_in_a_browser(portal: tuple[PortalBuild, str], browser: webdriver.Chrome, artifacts: Path) -> None:
    built, base = portal
    wait = WebDriverWait(browser, 15)

    # home: the city's key figures and the district map, drawn from the exported geometry
    browser.get(f"{base}/index.html")
    figures = browser.find_elements(By.CSS_SELECTOR, ".key-figures .kf-value")
    assert len(figures) >= 4 and all(f.text.strip() for f in figures)
    districts = browser.find_elements(By.CSS_SELECTOR, "#city-map svg path.district")
    exported = built.site / "download" / f"release-{built.release:04d}" / "dim_district.csv"
    with exported.open(encoding="utf-8-sig", newline="") as handle:
        codes = sorted(row["district_code"] for row in csv.DictReader(handle) if row["geometry_geojson"])
    assert sorted(d.get_attribute("data-code") for d in districts) == codes
    assert all(d.get_attribute("fill").startswith("#") for d in districts)
    assert browser.find_element(By.CSS_SELECTOR, "#city-map svg").size["height"] > 100
    _only_local_requests(browser, base)
    _screenshot(browser, artifacts / "home-desktop.png", 1280)
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})

    # search by keyword: exactly the datasets whose index entry mentions it
    browser.get(f"{base}/datasets/index.html")
    index: list[dict[str, Any]] = browser.execute_script(
        "return JSON.parse(document.getElementById('dataset-index').textContent)")
    assert len(_visible_cards(browser)) == len(index) == built.datasets
    box = browser.find_element(By.ID, "q")
    box.send_keys(KEYWORD)

    def mentions(entry: dict[str, Any]) -> bool:
        text = " ".join([entry["name"], entry["title"], entry["summary"], entry["theme"], entry["department"],
                         entry["opening"], *entry["keywords"], *entry["fields"], *entry["formats"]])
        return KEYWORD in text

    expected = sorted(e["name"] for e in index if mentions(e))
    assert DATASET in expected and len(expected) < len(index)
    wait.until(lambda d: _visible_cards(d) == expected)
    assert f"共 {len(expected)} 个数据集" in browser.find_element(By.ID, "result-count").text
    _screenshot(browser, artifacts / "search-desktop.png", 1280)
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})

    # filter by theme (the keyword cleared): exactly that theme's datasets; the URL keeps the filter
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(Keys.BACKSPACE)  # typed, so the page hears it (`clear()` fires no input event)
    theme = next(e["theme"] for e in index if e["name"] == DATASET)
    Select(browser.find_element(By.ID, "theme")).select_by_value(theme)
    expected = sorted(e["name"] for e in index if e["theme"] == theme)
    wait.until(lambda d: _visible_cards(d) == expected)
    assert "theme=" in browser.current_url
    assert all(e["theme"] == theme for e in index if e["name"] in _visible_cards(browser))

    # a dataset page: its chart and its map
    browser.find_element(By.CSS_SELECTOR, f'.dataset-card[data-name="{DATASET}"] h2 a').click()
    wait.until(lambda d: d.current_url.endswith(f"/datasets/{DATASET}.html"))
    bars = browser.find_elements(By.CSS_SELECTOR, "#chart svg.bar-chart g.bar rect")
    assert bars and max(float(b.get_attribute("width")) for b in bars) > 0
    assert len(browser.find_elements(By.CSS_SELECTOR, "#dataset-map svg path.district")) == len(districts)
    assert "质量检查" in browser.page_source and "发布历史" in browser.page_source
    _only_local_requests(browser, base)
    _screenshot(browser, artifacts / "dataset-desktop.png", 1280)
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})

    # download the CSV and check it against the checksum the DCAT catalog publishes
    link = browser.find_element(By.CSS_SELECTOR, 'a.download[data-format="CSV"]')
    href = link.get_attribute("href")
    link.click()
    downloaded = _wait_for_download(browser.downloads, Path(urlsplit(href).path).name)  # type: ignore[attr-defined]
    published = _published_checksums(built.site / "catalog.jsonld")
    sha256 = hashlib.sha256(downloaded.read_bytes()).hexdigest()
    assert published[urlsplit(href).path] == sha256 == link.get_attribute("data-sha256")
    assert downloaded.read_bytes().startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM: Excel reads the Chinese text

    # a 390-px phone: the same pages fit the screen's width
    for page, name in (("index.html", "home"), ("datasets/index.html", "datasets"),
                       (f"datasets/{DATASET}.html", "dataset")):
        browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                {"width": PHONE_WIDTH, "height": 844, "deviceScaleFactor": 1, "mobile": True})
        browser.get(f"{base}/{page}")
        width = browser.execute_script("return document.documentElement.scrollWidth")
        assert width <= PHONE_WIDTH, f"{page} is {width} px wide on a {PHONE_WIDTH}-px screen"
        _screenshot(browser, artifacts / f"{name}-phone.png", PHONE_WIDTH)
    print(f"portal screenshots: {sorted(p.name for p in artifacts.iterdir())} in {artifacts}")
