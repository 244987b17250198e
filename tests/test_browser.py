"""The site in a real browser (Debian's Chromium via Playwright), served under a sub-path.

Each page type is opened, checked with axe-core (no serious or critical
violation), checked for requests to any other host, and for fitting a 360 px
phone without sideways scrolling; a reader's path through the site is
followed by clicking links, as a citizen would.
"""

from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe

from conftest import BUILD_EPOCH

from gongkai.publication import publish

AXE = Axe()
NOW = datetime.fromtimestamp(BUILD_EPOCH, tz=timezone.utc)
PAGE_TYPES = ("home", "cases", "disclosures", "reports", "case", "disclosure", "report", "facet", "facet-index",
              "tombstone", "stats", "editorial")


@pytest.fixture(scope="module")
def paths(sample_site):
    """A site path for each page type, taken from what the sample build publishes."""
    public = publish(sample_site.result.catalog, NOW)
    first = {kind: next(r for r in public.records if r.kind == kind) for kind in ("case", "disclosure", "report")}
    return {
        "home": "", "cases": "cases/", "disclosures": "disclosures/", "reports": "reports/",
        **{kind: f"{r.url_kind}/{r.id}/" for kind, r in first.items()},
        "facet": f"regions/{first['case'].region}/", "facet-index": "regions/",
        "tombstone": f"{public.tombstones[0].url_kind}/{public.tombstones[0].id}/",
        "stats": "stats/", "editorial": "data-notes/",
    }


@pytest.fixture
def requests(page):
    """Every URL the page requests."""
    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url))
    return seen


def assert_only_own_host(requests: list[str], sample_site) -> None:
    own = urlsplit(sample_site.url).netloc
    strangers = [url for url in requests if urlsplit(url).scheme in ("http", "https") and urlsplit(url).netloc != own]
    assert not strangers, f"requests to other hosts: {strangers}"


def serious_violations(page) -> list[str]:
    results = AXE.run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — " + "; ".join(n["target"][0] for n in v["nodes"][:3])
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("kind", PAGE_TYPES)
def test_page_type_passes_axe_and_loads_nothing_from_elsewhere(kind, page, requests, paths, sample_site):
    response = page.goto(f"{sample_site.url}/{paths[kind]}")
    assert response.ok, paths[kind]
    assert page.locator("h1").count() == 1
    assert serious_violations(page) == []
    assert_only_own_host(requests, sample_site)
    assert page.evaluate("getComputedStyle(document.body).fontFamily")  # the stylesheet loaded
    assert page.evaluate("document.styleSheets.length") >= 1


@pytest.mark.parametrize("kind", ("home", "case", "report", "facet", "stats"))
def test_page_fits_a_360px_phone(kind, browser, paths, sample_site):
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN")
    try:
        phone = context.new_page()
        phone.goto(f"{sample_site.url}/{paths[kind]}")
        assert phone.evaluate("document.documentElement.scrollWidth") <= 360, paths[kind]
    finally:
        context.close()


def test_a_reader_follows_links_from_home_to_record_to_facet_to_stats(page, requests, sample_site):
    page.goto(f"{sample_site.url}/")
    page.locator("header nav").get_by_role("link", name="问责案例").click()
    page.wait_for_url(f"{sample_site.url}/cases/")
    assert page.locator("h1").inner_text() == "问责案例"

    first = page.locator(".record-list .record-title a").first
    title = first.inner_text()
    first.click()
    assert page.locator("h1").inner_text() == title
    assert page.locator("ol.timeline > li").count() == 5

    region = page.locator(".facts dd a[href*='/regions/']").last
    region_name = region.inner_text()
    region.click()
    assert region_name in page.locator("h1").inner_text()
    assert page.get_by_role("link", name=title).count() >= 1  # the case is listed under its region

    page.locator(".breadcrumbs").get_by_role("link", name="地区").click()
    page.wait_for_url(f"{sample_site.url}/regions/")
    page.locator("header nav").get_by_role("link", name="统计").click()
    page.wait_for_url(f"{sample_site.url}/stats/")
    assert page.locator("figure.chart svg").count() == 5

    page.locator("footer").get_by_role("link", name="数据说明").click()
    page.wait_for_url(f"{sample_site.url}/data-notes/")
    page.locator("header").get_by_role("link", name="首页").click()
    page.wait_for_url(f"{sample_site.url}/")
    page.get_by_role("link", name="述职述廉").first.click()
    assert page.locator("h1").inner_text() == "述职述廉"
    page.locator(".record-list .record-title a").first.click()
    assert page.locator("#evaluation-heading").count() == 1
    assert_only_own_host(requests, sample_site)


def test_an_old_id_redirects_in_the_browser(page, sample_site):
    public = publish(sample_site.result.catalog, NOW)
    (url_kind, old_id), record = sorted(public.redirects.items())[0]
    page.goto(f"{sample_site.url}/{url_kind}/{old_id}/")
    page.wait_for_url(f"{sample_site.url}/{record.url_kind}/{record.id}/")
    assert page.locator("h1").inner_text() == record.title


def test_keyboard_reaches_the_skip_link_first_and_it_moves_focus_to_main(page, sample_site):
    page.goto(f"{sample_site.url}/cases/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    box = page.locator(".skip-link").bounding_box()
    assert box and box["y"] >= 0, "the focused skip link is visible"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_header_search_form_goes_to_the_search_page_with_the_query(page, sample_site):
    page.goto(f"{sample_site.url}/stats/")
    page.locator("header input[name=q]").fill("问责")
    page.locator("header form[role=search] button").click()
    page.wait_for_url(f"{sample_site.url}/search/?q=*")
    assert urlsplit(page.url).path == urlsplit(sample_site.url).path + "/search/"


@pytest.mark.parametrize("missing", ("no-such-page", "cases/2024/no-such-case/"))
def test_a_missing_address_shows_the_404_page_whose_links_work_from_any_depth(missing, page, requests, sample_site):
    response = page.goto(f"{sample_site.url}/{missing}")
    assert response.status == 404
    assert page.locator("h1").inner_text() == "页面不存在"
    assert serious_violations(page) == []
    assert_only_own_host(requests, sample_site)
    assert page.evaluate("getComputedStyle(document.querySelector('.site-header')).backgroundColor") != "rgba(0, 0, 0, 0)"

    page.locator("main form[role=search] input[name=q]").fill("问责")
    page.locator("main form[role=search] button").click()
    page.wait_for_url(f"{sample_site.url}/search/?q=*")
    page.go_back()
    page.locator("main").get_by_role("link", name="问责案例").click()
    page.wait_for_url(f"{sample_site.url}/cases/")
    page.go_back()
    page.locator("main").get_by_role("link", name="意见与纠错").click()
    page.wait_for_url(f"{sample_site.url}/policy/#feedback")
