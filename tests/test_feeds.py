"""Feeds (issue 4): what a journalist's feed reader gets, read from built files.

The sample build (``sample_site``) shows that every feed parses and holds the
right entries in the right order. What a correction, a withdrawal and a new
record do needs the same record built more than once with changes: the
``history`` fixture builds one small data set three times (v1, v2 with a
correction and a new record, v3 with a withdrawal).
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import feedparser
import jinja2
import pytest
from lxml import etree

from conftest import BUILD_EPOCH, SAMPLE_DATA, build, case_record, disclosure_record, new_data_dir, report_record, write_record

from gongkai import feeds
from gongkai.catalog import load_catalog
from gongkai.facets import build_facets
from gongkai.output import OutputTree
from gongkai.publication import publish
from gongkai.site import Site
from gongkai.urls import Urls

NOW = datetime.fromtimestamp(BUILD_EPOCH, tz=timezone.utc)
SITEURL = "http://example.test/gongkai"


def feed_files(output: Path) -> list[Path]:
    return sorted((output / "feeds").rglob("*.xml"))


def parse(path: Path):
    parsed = feedparser.parse(path.read_bytes())
    assert not parsed.bozo, f"{path}: {parsed.get('bozo_exception')}"
    return parsed


def when(entry) -> datetime:
    return datetime.fromisoformat(entry.updated)


# --- the sample build ------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_publication():
    publication = publish(load_catalog(SAMPLE_DATA), NOW)
    return publication, build_facets(publication)


def test_every_feed_of_the_sample_parses_and_exists(sample_site, sample_publication):
    publication, facets = sample_publication
    scopes = ["all", "cases", "disclosures", "reports"] + [v.feed_scope for v in facets.all_values()]
    expected = {sample_site.file(Urls.feed(scope, fmt)) for scope in scopes for fmt in ("atom", "rss")}
    found = set(feed_files(sample_site.output))
    assert found == expected
    for path in found:
        parsed = parse(path)
        assert parsed.version == ("atom10" if path.name.endswith(".atom.xml") else "rss20")
        assert parsed.feed.title


def test_all_feed_lists_everything_newest_first(sample_site, sample_publication):
    publication, _ = sample_publication
    expected_ids = {f"{sample_site.url}/{r.url_kind}/{r.id}/" for r in publication.records}
    expected_ids |= {f"{sample_site.url}/{t.url_kind}/{t.id}/" for t in publication.tombstones}
    atom = parse(sample_site.file("feeds/all.atom.xml"))
    rss = parse(sample_site.file("feeds/all.rss.xml"))
    assert len(atom.entries) == min(50, len(expected_ids))
    ids = [e.id for e in atom.entries]
    assert len(set(ids)) == len(ids) and set(ids) <= expected_ids
    assert [e.id for e in rss.entries] == ids  # RSS guid = the same permanent URL
    assert all(e.link == e.id for e in atom.entries)
    times = [when(e) for e in atom.entries]
    assert times == sorted(times, reverse=True)
    assert datetime.fromisoformat(atom.feed.updated) == times[0]


def test_kind_and_facet_feeds_hold_their_records(sample_site, sample_publication):
    publication, facets = sample_publication
    for kind in ("case", "disclosure", "report"):
        parsed = parse(sample_site.file(f"feeds/{kind}s.atom.xml"))
        expected = [r for r in publication.records if r.kind == kind] + [t for t in publication.tombstones if t.kind == kind]
        assert len(parsed.entries) == min(50, len(expected))
        assert all(f"/{kind}s/" in e.id for e in parsed.entries)
    for value in facets.all_values():
        parsed = parse(sample_site.file(Urls.feed(value.feed_scope, "atom")))
        newest = sorted(value.records, key=lambda r: (-feeds.entry_updated(r).timestamp(), r.id))[:50]
        assert [e.id for e in parsed.entries] == [f"{sample_site.url}/{r.url_kind}/{r.id}/" for r in newest], value.feed_scope
        times = [when(e) for e in parsed.entries]
        assert times == sorted(times, reverse=True)
        assert value.name in parsed.feed.title


def test_entry_content_is_readable_chinese_with_the_body(sample_site, sample_publication):
    publication, _ = sample_publication
    record = publication.by_id["jz-zw-2024-0021"]  # has a correction, sources and a body
    parsed = parse(sample_site.file("feeds/disclosures.atom.xml"))
    entry = next(e for e in parsed.entries if e.id.endswith(f"/disclosures/{record.id}/"))
    html = entry.content[0].value
    assert entry.content[0].type == "text/html"
    for text in ("发布机构", "江中市人民政府办公室", "公开类别", "索引号", "更正说明", "2024年5月10日", "修订要点", "来源"):
        assert text in html
    assert "<h2>修订要点</h2>" in html  # the sanitized body HTML, not Markdown
    assert entry.summary == record.summary
    assert entry.published.startswith("2024-05-08T09:00:00")


def test_sample_tombstone_is_in_the_kind_feed_only_as_a_tombstone(sample_site, sample_publication):
    publication, _ = sample_publication
    tombstone = publication.tombstones[0]
    for scope in ("all", f"{tombstone.url_kind}"):
        parsed = parse(sample_site.file(f"feeds/{scope}.atom.xml"))
        entry = next(e for e in parsed.entries if e.id.endswith(f"/{tombstone.url_kind}/{tombstone.id}/"))
        assert entry.title == f"【已撤回】{tombstone.title}"
        assert tombstone.reason in entry.content[0].value
        assert "published" not in entry


def test_feeds_link_their_stylesheets_on_the_same_site(sample_site):
    for path in feed_files(sample_site.output):
        head = path.read_bytes()[:400].decode("utf-8", errors="ignore")
        lines = head.splitlines()
        assert lines[1].startswith('<?xml-stylesheet type="text/xsl" href="')
        assert lines[2].startswith('<?xml-stylesheet type="text/css" href="')
        for line in lines[1:3]:
            href = line.split('href="', 1)[1].split('"', 1)[0]
            assert "://" not in href and not href.startswith("/")  # relative: same origin, any sub-path
            assert (path.parent / href).resolve().is_file()


def test_the_stylesheet_makes_a_readable_chinese_page(sample_site):
    transform = etree.XSLT(etree.parse(str(sample_site.file("theme/feeds/feed.xsl"))))
    for name in ("feeds/all.atom.xml", "feeds/regions/jiangzhong.rss.xml"):
        feed = feedparser.parse(sample_site.file(name).read_bytes())
        page = etree.tostring(transform(etree.parse(str(sample_site.file(name)))), encoding="unicode", method="html")
        assert '<html lang="zh-CN">' in page and "这是一个订阅源" in page
        assert feed.feed.title in page
        assert feed.entries[0].title in page
        assert "style=" not in page and "<script" not in page


def test_a_browser_shows_a_feed_as_a_page(sample_site, page):
    page.goto(f"{sample_site.url}/feeds/cases.atom.xml")
    assert page.locator("h1").inner_text().endswith("问责案例")
    assert page.locator(".feed-entries > li").count() > 0
    assert "订阅源" in page.locator(".feed-note").inner_text()


# --- corrections, withdrawals, new records ---------------------------------------------

BODY = "正文标记XQBODY1"
SUMMARY = "摘要标记XQSUM1"
SUBJECT = "姓名标记XQSUBJ1"
NOTE = "更正说明标记XQNOTE1"
REASON = "撤回原因标记XQREASON1"


def _a(**changes) -> dict:
    subject = {"name": SUBJECT, "position": "某局局长", "organization": "某局", "level": "县处级"}
    return case_record("t-a", published="2024-03-05T10:00:00+08:00", body=BODY, summary=SUMMARY, subject=subject, **changes)


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    """One data set built three times: v1; v2 = a corrected and c new; v3 = a withdrawn."""
    root = tmp_path_factory.mktemp("feeds-history")
    data = new_data_dir(root / "data")
    write_record(data, "case", _a())
    write_record(data, "disclosure", disclosure_record("t-b", published="2024-04-02"))
    write_record(data, "report", report_record("t-r", published="2024-01-25"))
    build(data, root / "v1", siteurl=SITEURL)
    write_record(data, "case", _a(corrections=[{"on": "2024-06-01", "note": NOTE}]))
    write_record(data, "case", case_record("t-c", published="2024-05-01T08:00:00+08:00"))
    build(data, root / "v2", siteurl=SITEURL)
    withdrawn = _a(status="withdrawn", withdrawal={"on": "2024-07-01", "reason": REASON},
                   corrections=[{"on": "2024-06-01", "note": NOTE}])
    write_record(data, "case", withdrawn)
    build(data, root / "v3", siteurl=SITEURL)
    return root


def entry_of(output: Path, scope: str, record_id: str, kind: str = "case"):
    parsed = parse(output / "feeds" / f"{scope}.atom.xml")
    matches = [e for e in parsed.entries if e.id == f"{SITEURL}/{kind}s/{record_id}/"]
    return matches[0] if matches else None


def test_a_correction_updates_the_entry_and_shows_the_note(history):
    before = entry_of(history / "v1", "all", "t-a")
    after = entry_of(history / "v2", "all", "t-a")
    assert before.id == after.id
    assert before.updated.startswith("2024-03-05T10:00:00") and NOTE not in before.content[0].value
    assert after.updated.startswith("2024-06-01T00:00:00+08:00")
    assert NOTE in after.content[0].value and BODY in after.content[0].value
    assert after.published == before.published
    all_v2 = parse(history / "v2" / "feeds" / "all.atom.xml")
    assert all_v2.entries[0].id == after.id  # the correction brings it to the top
    assert all_v2.feed.updated == after.updated
    rss = parse(history / "v2" / "feeds" / "cases.rss.xml")
    assert NOTE in next(e for e in rss.entries if e.id == after.id).content[0].value


def test_a_new_record_appears_at_the_top(history):
    v1 = parse(history / "v1" / "feeds" / "cases.atom.xml")
    v2 = parse(history / "v2" / "feeds" / "regions" / "jiangzhong.atom.xml")
    assert [e.id for e in v1.entries] == [f"{SITEURL}/cases/t-a/"]
    assert f"{SITEURL}/cases/t-c/" in [e.id for e in v2.entries]
    v2_all = parse(history / "v2" / "feeds" / "all.atom.xml")
    # t-a (corrected 2024-06-01) then t-c (new, 2024-05-01), then the older ones
    assert [e.id.rsplit("/", 2)[-2] for e in v2_all.entries] == ["t-a", "t-c", "t-b", "t-r"]


def test_a_withdrawal_leaves_only_the_tombstone(history):
    output = history / "v3"
    for scope in ("all", "cases"):
        entry = entry_of(output, scope, "t-a")
        assert entry is not None and entry.title.startswith("【已撤回】")
        assert entry.updated.startswith("2024-07-01T00:00:00+08:00")
        assert REASON in entry.content[0].value and "2024年7月1日" in entry.content[0].value
    assert parse(output / "feeds" / "all.atom.xml").entries[0].id == f"{SITEURL}/cases/t-a/"
    for path in feed_files(output):
        text = path.read_text(encoding="utf-8")
        for marker in (BODY, SUMMARY, SUBJECT, NOTE):
            assert marker not in text, f"{marker} in {path}"
    for path in feed_files(output):  # its facets are not public any more
        if path.parent != output / "feeds":
            assert f"{SITEURL}/cases/t-a/" not in path.read_text(encoding="utf-8"), path


def test_feeds_hold_the_newest_n(tmp_path):
    data = new_data_dir(tmp_path / "data")
    for day in range(1, 8):
        write_record(data, "case", case_record(f"t-n{day}", published=f"2024-03-0{day}T10:00:00+08:00"))
    build(data, tmp_path / "out", siteurl=SITEURL, FEED_MAX_ITEMS=3)
    for path in feed_files(tmp_path / "out"):
        parsed = parse(path)
        expected = [] if path.name.startswith(("disclosures.", "reports.")) else ["t-n7", "t-n6", "t-n5"]
        assert [e.id.rsplit("/", 2)[-2] for e in parsed.entries] == expected, path


def test_spliced_entries_equal_feedgens_own_rendering(history, tmp_path):
    """Entries are serialized once and spliced in; the bytes equal feedgen rendering each feed whole."""
    publication = publish(load_catalog(history / "data"), NOW)
    settings = {"SITENAME": "公开", "GONGKAI_LICENSE": "CC BY 4.0", "DEFAULT_LANG": "zh-CN"}
    site = Site(settings, publication, build_facets(publication), Urls(SITEURL), OutputTree(tmp_path), jinja2.Environment())
    cache = feeds.EntryCache(site)
    specs = list(feeds.feed_specs(site, 50))
    assert specs
    for spec in specs:
        for fmt in ("atom", "rss"):
            assert feeds.render_feed(site, spec, fmt, cache) == feeds.render_feed(site, spec, fmt), spec.scope


def test_two_builds_give_identical_feeds(history, tmp_path):
    build(history / "data", tmp_path / "again", siteurl=SITEURL)
    first, second = feed_files(history / "v3"), feed_files(tmp_path / "again")
    assert [p.relative_to(history / "v3") for p in first] == [p.relative_to(tmp_path / "again") for p in second]
    for a, b in zip(first, second):
        assert a.read_bytes() == b.read_bytes(), a


def test_a_rebuild_in_place_remakes_exactly_the_changed_feeds(tmp_path):
    """Feeds are keyed by what they list: an incremental build must not keep a stale one."""
    data = new_data_dir(tmp_path / "data")
    write_record(data, "case", _a())
    write_record(data, "report", report_record("t-r", published="2024-01-25"))
    output = tmp_path / "out"
    build(data, output, siteurl=SITEURL)
    report_feed = (output / "feeds" / "reports.atom.xml").read_bytes()
    write_record(data, "case", _a(corrections=[{"on": "2024-06-01", "note": NOTE}]))
    result = build(data, output, siteurl=SITEURL)
    assert NOTE in entry_of(output, "cases", "t-a").content[0].value
    assert NOTE in entry_of(output, "regions/jiangzhong", "t-a").content[0].value
    assert (output / "feeds" / "reports.atom.xml").read_bytes() == report_feed
    assert result.report["reused"] > 0
