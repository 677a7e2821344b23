"""The portal's static site from a tiny released and exported city (conftest.py says why each row is there)."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from portal_city import BASE_URL, HOSTILE, TinyCity, write_city

from citydata.portal import PortalError, build_portal
from citydata.portal.build import BUILDS


class _Collector(HTMLParser):
    """Text, tags and attributes of a page, parsed the way a browser tokenizes it."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(path: Path) -> _Collector:
    collector = _Collector()
    collector.feed(path.read_text(encoding="utf-8"))
    return collector


def test_every_page_is_built(tiny_city: TinyCity) -> None:
    built = build_portal(tiny_city.paths, base_url=BASE_URL)
    site = built.site
    assert (built.release, built.datasets, built.open_datasets, built.pages) == (2, 4, 3, 8)
    pages = sorted(str(p.relative_to(site)) for p in site.rglob("*.html"))
    assert pages == ["datasets/city_portrait_district.html", "datasets/dim_district.html", "datasets/index.html",
                     "datasets/population_by_district.html", "datasets/resident_extract.html",
                     "developers.html", "index.html", "releases.html"]
    for extra in ("static/portal.css", "static/portal.js", "datasets.json", "catalog.jsonld",
                  "api/3/action/package_list.json", "api/3/action/package_show/population_by_district.json",
                  "download/release-0002/SHA256SUMS"):
        assert (site / extra).is_file(), extra
    exported = sorted(p.name for p in (tiny_city.paths.exports / "release-0002").iterdir() if p.is_file())
    assert sorted(p.name for p in (site / "download" / "release-0002").iterdir() if p.is_file()) == exported
    assert not (site / "download" / "release-0001").exists()  # only the release shown
    for page in site.rglob("*.html"):  # nothing loaded from the network: the site works offline
        for tag, attrs in parse(page).tags:
            for attr in ("src", "href"):
                assert not (attrs.get(attr) or "").startswith(("http:", "https:", "//")), (page, tag, attrs)


def test_dataset_page(tiny_city: TinyCity) -> None:
    site = build_portal(tiny_city.paths, base_url=BASE_URL).site
    page = site / "datasets" / "population_by_district.html"
    html = page.read_text(encoding="utf-8")
    text = "".join(parse(page).text)
    metadata = json.loads((tiny_city.paths.exports / "release-0002" / "population_by_district.metadata.json")
                          .read_text(encoding="utf-8"))
    links = {attrs["data-format"]: attrs for tag, attrs in parse(page).tags if tag == "a" and "data-format" in attrs}
    assert sorted(links) == ["CSV", "JSON", "Parquet"]
    for dist in metadata["distributions"]:
        link = links[dist["format"]]
        assert link["href"] == f"../download/release-0002/{dist['file']}"
        assert link["data-sha256"] == dist["checksum"]["value"] and dist["checksum"]["value"] in text
        assert (site / "download" / "release-0002" / dist["file"]).stat().st_size == dist["byte_size"]
    # metadata (GB/T 21063.3 core), fields with their meaning, the pinned version and the quality summary
    for expected in ("339900-T-population_by_district", "市公安局", "无条件共享", "无条件开放", "CC-BY-4.0",
                     "户籍人口", "男性", "整数", "Delta 版本", "gold/population_by_district", "9 / 9", "每日"):
        assert expected in text, expected
    # preview: the published cells, suppressed ones as '*'
    assert "<tr><td>339902</td><td>西山区</td><td>80</td><td>*</td><td>*</td></tr>" in html
    assert "4 个小于 5 的计数单元格已隐藏" in text
    # chart of the key figure (fallback: no key_figure in this item -> its first numeric field, by name)
    assert 'class="bar-chart"' in html and "<title>东湖区：120</title>" in html
    # its district map: one path per district
    assert html.count('class="district"') == 2 and 'data-code="339901"' in html
    # release history: both releases, the current one marked
    history = text[text.index("发布历史"):]
    assert "第 2 版" in history and "第 1 版" in history and "当前" in history


def test_conditional_dataset_has_no_downloads(tiny_city: TinyCity) -> None:
    site = build_portal(tiny_city.paths, base_url=BASE_URL).site
    page = site / "datasets" / "resident_extract.html"
    text = "".join(parse(page).text)
    assert "有条件开放" in text and "如何获取" in text and "提出申请" in text
    assert not [a for tag, a in parse(page).tags if tag == "a" and "download" in (a.get("href") or "")]
    assert "不对外提供" in text and "脱敏" in text  # household_id internal, name sensitive
    assert not list((site / "download" / "release-0002").glob("resident_extract*"))


def test_text_is_escaped(tiny_city: TinyCity) -> None:
    site = build_portal(tiny_city.paths, base_url=BASE_URL).site
    for page in (site / "datasets" / "population_by_district.html", site / "datasets" / "index.html"):
        html = page.read_text(encoding="utf-8")
        assert "<script>alert" not in html and "<b>粗体</b>" not in html
        assert HOSTILE in "".join(parse(page).text) or page.name == "index.html"
    listing = (site / "datasets" / "index.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;粗体&lt;/b&gt;" in listing
    embedded = re.search(r'<script type="application/json" id="dataset-index">(.*?)</script>', listing, re.S)
    assert embedded and "</" not in embedded.group(1)  # the index cannot close its script element
    assert json.loads(embedded.group(1))[0]["title"]


def test_search_index(tiny_city: TinyCity) -> None:
    site = build_portal(tiny_city.paths, base_url=BASE_URL).site
    index = json.loads((site / "datasets.json").read_text(encoding="utf-8"))
    listing = (site / "datasets" / "index.html").read_text(encoding="utf-8")
    embedded = re.search(r'id="dataset-index">(.*?)</script>', listing, re.S)
    assert embedded and json.loads(embedded.group(1)) == index
    by_name = {entry["name"]: entry for entry in index}
    assert sorted(by_name) == ["city_portrait_district", "dim_district", "population_by_district",
                               "resident_extract"]
    population = by_name["population_by_district"]
    assert population["title"] == "分区户籍人口" and population["theme"] == "人口"
    assert population["department"] == "市公安局" and population["keywords"] == ["人口", "户籍"]
    assert "男性" in population["fields"] and "male" in population["fields"]
    assert population["formats"] == ["CSV", "JSON", "Parquet"] and population["summary"] == HOSTILE
    assert population["href"] == "datasets/population_by_district.html"
    assert by_name["resident_extract"]["opening"] == "有条件开放" and by_name["resident_extract"]["formats"] == []
    options = re.findall(r'<option value="([^"]+)">', listing)
    assert options == ["人口", "地理", "城市画像", "市公安局", "市大数据局", "市自然资源和规划局"]


def test_home_page_city_figures_and_map(tiny_city: TinyCity) -> None:
    site = build_portal(tiny_city.paths, base_url=BASE_URL).site
    page = site / "index.html"
    html = page.read_text(encoding="utf-8")
    text = " ".join(" ".join(parse(page).text).split())
    # city totals of the exported portrait: 120 + 80 residents, 50 + 35 households, 30 + 10 entities
    figures = re.findall(r'<span class="kf-label">(.*?)</span><span class="kf-value">(.*?)</span>', html)
    assert dict(figures) == {"户籍人口": "200", "户数": "85", "存续法人": "40", "面积": "200",
                             "每万人法人数": "2,000.00"}
    assert "数据截至 2025-01-31" in text
    # the district map: 东湖区 one ring, 西山区 two (MultiPolygon), coloured by residents, labelled
    paths = re.findall(r'<path class="district" d="([^"]+)" fill="(#[0-9a-f]+)"', html)
    assert [d.count("M") for d, _ in paths] == [1, 2]
    assert paths[0][1] == "#08519c" and paths[1][1] == "#eff3ff"  # 120 darkest, 80 lightest
    assert "东湖区" in text and "120" in text
    # the districts' table: name and figures, as published
    table = html[html.index('<table class="districts">'):]
    assert "<th>户籍人口（人）</th>" in table and "<td>西山区</td><td>80</td><td>35</td><td>10</td><td>94.5" in table


def test_release_history_and_rollback(tiny_city: TinyCity) -> None:
    (tiny_city.paths.releases / "CURRENT").write_text("1\n", encoding="utf-8")  # rollback to release 1
    built = build_portal(tiny_city.paths, base_url=BASE_URL)
    assert built.release == 1 and built.datasets == 2
    assert (built.site / "download" / "release-0001").is_dir()
    releases = (built.site / "releases.html").read_text(encoding="utf-8")
    assert re.search(r'<tr class="current" id="release-1">', releases)
    assert '<tr id="release-2">' in releases
    assert not (built.site / "datasets" / "city_portrait_district.html").exists()
    previewed = build_portal(tiny_city.paths, release=2, base_url=BASE_URL)  # a release that is not current
    assert "当前发布的是第 1 版" in (previewed.site / "index.html").read_text(encoding="utf-8")


def test_rebuild_swaps_the_site_atomically(tiny_city: TinyCity) -> None:
    first = build_portal(tiny_city.paths, base_url=BASE_URL)
    target = first.site.resolve()
    second = build_portal(tiny_city.paths, base_url=BASE_URL)
    assert second.site == first.site and second.site.is_symlink()
    assert second.site.resolve() != target and not target.exists()  # the old build is removed
    assert [p.name for p in (second.site.parent / BUILDS).iterdir()] == [second.site.resolve().name]
    assert (second.site / "index.html").is_file()


def test_a_plain_site_folder_is_replaced(tiny_city: TinyCity) -> None:
    site = tiny_city.paths.home / "data" / "portal" / "site"
    site.mkdir(parents=True)
    (site / "stale.html").write_text("old", encoding="utf-8")
    built = build_portal(tiny_city.paths, base_url=BASE_URL)
    assert built.site.is_symlink() and not (built.site / "stale.html").exists()


def test_no_release_yet(tmp_path: Path) -> None:
    city = write_city(tmp_path / "home", current=None)
    for path in city.paths.releases.glob("release-*.json"):
        path.unlink()
    with pytest.raises(PortalError, match="no release yet.*make demo"):
        build_portal(city.paths)


def test_missing_export_is_named(tiny_city: TinyCity) -> None:
    (tiny_city.paths.exports / "release-0002" / "dim_district.metadata.json").unlink()
    with pytest.raises(PortalError, match=r"dim_district is 无条件开放 but .*dim_district.metadata.json"):
        build_portal(tiny_city.paths)
    assert not (tiny_city.paths.home / "data" / "portal" / "site").exists()  # nothing half-built is shown


def test_a_manifest_without_catalog_items_uses_the_shipped_ones(tiny_city: TinyCity) -> None:
    path = tiny_city.paths.releases / "release-0001.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    for pin in manifest["datasets"].values():  # what releases before issue 12 wrote
        del pin["catalog_item"], pin["validation"]
    path.write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    built = build_portal(tiny_city.paths, release=1, base_url=BASE_URL)
    text = "".join(parse(built.site / "datasets" / "population_by_district.html").text)
    assert "示范市分区户籍人口统计" in text  # src/citydata/catalog/items/population_by_district.yml
    assert "本版本未记录质量检查结果" in text
