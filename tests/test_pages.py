"""The HTML pages (issue 3), read from the built files the way a reader's browser gets them.

Most tests read the shared sample build (``sample_site``) and check it against
what ``publish`` says is public, so they keep holding as clerks add records.
Pagination and escaping need data of their own: one small build with two
records per page (``small_site``).
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

import lxml.html
import pytest

from conftest import BUILD_EPOCH, build, case_record, disclosure_record, new_data_dir, report_record, write_record

from gongkai.catalog import load_catalog
from gongkai.charts import format_number
from gongkai.facets import FACETS, build_facets, year_of
from gongkai.fields import file_keys
from gongkai.present import cn_date
from gongkai.publication import publish
from gongkai.records import RECORD_TYPES, STAGE_ORDER, Case, Disclosure, Report

NOW = datetime.fromtimestamp(BUILD_EPOCH, tz=timezone.utc)
KIND_LABELS = {kind: cls.label for kind, cls in RECORD_TYPES.items()}


# --- helpers ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def public(sample_site):
    """What the sample build may show, as ``publish`` decides it."""
    return publish(sample_site.result.catalog, NOW)


@pytest.fixture(scope="module")
def facets(public):
    return build_facets(public)


@lru_cache(maxsize=None)
def _parse(path: Path):
    return lxml.html.fromstring(path.read_bytes())


def page(site, path: str):
    file = site.file(path)
    assert file.is_file(), f"no page at /{path}"
    return _parse(file)


def text_of(element) -> str:
    """All text of an element with white space removed (CJK text has no spaces to keep)."""
    return re.sub(r"\s+", "", element.text_content())


def site_path(site, href: str) -> str:
    """The site path an absolute link of the sample site points to (``cases/x/``)."""
    prefix = urlsplit(site.url).path.rstrip("/") + "/"
    path = urlsplit(href).path
    assert path.startswith(prefix), href
    return path[len(prefix):]


def html_files(site) -> list[Path]:
    return sorted(site.output.rglob("*.html"))


def record_links(doc, site) -> list[str]:
    """Site paths of the record pages a listing links to, in order."""
    return [site_path(site, a.get("href")) for a in doc.cssselect(".record-list .record-title a")]


def expected_texts(record, vocab) -> list[str]:
    """What a reader must find on a record's page: every structured field, in readable form."""
    texts = [record.title, cn_date(record.published), vocab.regions[record.region].name,
             vocab.organizations[record.issuer].name, record.id]
    texts += [vocab.topics[t].name for t in record.topics]
    texts += [record.summary or ""]
    if record.updated:
        texts.append(cn_date(record.updated))
    if record.approval:
        texts += [record.approval.by, cn_date(record.approval.on)]
    texts += [c.note for c in record.corrections] + [cn_date(c.on) for c in record.corrections]
    texts += [s.title for s in record.sources] + list(record.formerly)
    if isinstance(record, Case):
        subject = record.subject
        texts += [subject.name, subject.position or "", subject.level or "", record.subject_kind]
        texts += [vocab.circumstances[c].name for c in record.circumstances]
        texts += [vocab.forms[f].name for f in record.forms]
        texts += [vocab.regimes[record.regime].name, record.decision.by, cn_date(record.decision.on), record.decision.doc_no or ""]
        texts += [s.by for s in record.stages] + [cn_date(s.on) for s in record.stages] + list(record.legal_basis)
        if record.initiated_by:
            texts.append(vocab.initiators[record.initiated_by].name)
        if record.appeal and record.appeal.result:
            texts.append(record.appeal.result)
    elif isinstance(record, Disclosure):
        texts += [record.domain, vocab.categories[record.category].name, record.index_no or "", record.doc_no or "",
                  record.validity, record.disclosure_mode]
        if record.written_on:
            texts.append(cn_date(record.written_on))
    elif isinstance(record, Report):
        official, evaluation = record.official, record.evaluation
        texts += [official.name, official.position, f"{record.year}年度", record.report_kind, record.session.body,
                  cn_date(record.session.on), evaluation.method, f"{evaluation.participants}人"]
        if evaluation.score is not None:
            texts.append(format_number(evaluation.score))
        for q in record.questions:
            texts += [q.asked_by, q.question, q.answer or ""]
        for f in record.follow_up:
            texts += [f.action, cn_date(f.on), f.note or ""]
    return [re.sub(r"\s+", "", t) for t in texts if t]


# --- record pages -------------------------------------------------------------------


def test_every_public_record_has_a_page_showing_every_field(sample_site, public):
    assert {r.kind for r in public.records} == {"case", "disclosure", "report"}, "the sample data has every kind"
    for record in public.records:
        doc = page(sample_site, f"{record.url_kind}/{record.id}/")
        assert [text_of(h) for h in doc.cssselect("h1")] == [re.sub(r"\s+", "", record.title)]
        shown = text_of(doc.cssselect("main")[0])
        missing = [t for t in expected_texts(record, public.vocab) if t not in shown]
        assert not missing, f"{record.id} does not show {missing}"
        assert KIND_LABELS[record.kind] in shown
        if record.body:
            assert doc.cssselect(".record-body"), record.id


def test_record_pages_link_vocabulary_values_to_their_facet_pages(sample_site, public):
    for record in public.records:
        doc = page(sample_site, f"{record.url_kind}/{record.id}/")
        links = {site_path(sample_site, a.get("href")) for a in doc.cssselect("main a[href]") if a.get("href").startswith(sample_site.url)}
        wanted = {f"regions/{record.region}/", f"organizations/{record.issuer}/", f"years/{year_of(record)}/"}
        wanted |= {f"topics/{t}/" for t in record.topics}
        if isinstance(record, Case):
            wanted |= {f"cases/circumstances/{c}/" for c in record.circumstances}
            wanted |= {f"cases/forms/{f}/" for f in record.forms}
        wanted |= {f"{record.url_kind}/{record.id}.json", f"feeds/{record.url_kind}.atom.xml", f"feeds/{record.url_kind}.rss.xml"}
        assert wanted <= links, f"{record.id} lacks links to {sorted(wanted - links)}"


def test_dates_read_in_chinese_with_machine_readable_time(sample_site, public):
    record = public.records[0]
    doc = page(sample_site, f"{record.url_kind}/{record.id}/")
    times = doc.cssselect(".record-dates time")
    assert times[0].get("datetime") == record.published.isoformat()
    assert re.fullmatch(r"\d{4}年\d{1,2}月\d{1,2}日( \d\d:\d\d)?", times[0].text_content())


def test_case_procedure_is_a_timeline_in_procedure_order(sample_site, public):
    for case in public.of_kind("case"):
        doc = page(sample_site, f"cases/{case.id}/")
        steps = doc.cssselect("ol.timeline > li")
        assert [s.cssselect(".step-name")[0].text_content() for s in steps] == list(STAGE_ORDER)
        recorded = {s.stage: s for s in case.stages}
        for step, name in zip(steps, STAGE_ORDER):
            if name in recorded:
                assert cn_date(recorded[name].on) in step.text_content() and recorded[name].by in step.text_content()
            else:
                assert "step-missing" in step.get("class")


def test_report_evaluation_is_a_chart_with_its_data_table(sample_site, public):
    reports = [r for r in public.of_kind("report") if r.evaluation.grades]
    assert reports
    for report in reports:
        doc = page(sample_site, f"reports/{report.id}/")
        section = doc.cssselect("#evaluation-heading")[0].getparent()
        assert section.cssselect("svg rect.chart-bar")
        rows = {text_of(tr.cssselect("th")[0]): int(text_of(tr.cssselect("td")[0])) for tr in section.cssselect("table tbody tr")}
        assert rows == {g: report.evaluation.grades.get(g, 0) for g in ("好", "较好", "一般", "差")}


def test_body_is_rendered_markdown(sample_site, public):
    record = next(r for r in public.records if r.body and "## " in r.body)
    doc = page(sample_site, f"{record.url_kind}/{record.id}/")
    assert doc.cssselect(".record-body h2")


# --- listings and facets --------------------------------------------------------------


def test_listings_show_every_record_of_their_kind_newest_first(sample_site, public):
    for kind in ("case", "disclosure", "report"):
        records = public.of_kind(kind)
        doc = page(sample_site, f"{kind}s/")
        assert [text_of(h) for h in doc.cssselect("h1")] == [KIND_LABELS[kind]]
        assert record_links(doc, sample_site) == [f"{kind}s/{r.id}/" for r in records[:50]]
        published = [r.published for r in records]
        assert published == sorted(published, reverse=True)


def test_home_shows_newest_of_each_kind_counts_and_search(sample_site, public):
    doc = page(sample_site, "")
    shown = text_of(doc.cssselect("main")[0])
    for kind in ("case", "disclosure", "report"):
        records = public.of_kind(kind)
        section = doc.cssselect(f"#newest-{kind}")[0].getparent()
        assert record_links(section, sample_site) == [f"{kind}s/{r.id}/" for r in records[:5]]
        assert f"{len(records)}条{KIND_LABELS[kind]}" in shown
    forms = doc.cssselect('main form[role="search"]')
    assert forms and forms[0].cssselect('input[name="q"]')
    assert site_path(sample_site, forms[0].get("action")) == "search/"


def test_listing_pages_advertise_their_feeds(sample_site, facets):
    pages = {"": "all", "cases/": "cases", "disclosures/": "disclosures", "reports/": "reports", "stats/": "all"}
    for value in facets.all_values():
        pages[f"{value.facet.url_prefix}/{value.id}/"] = value.feed_scope
    for path, scope in pages.items():
        doc = page(sample_site, path)
        for fmt, mime in (("atom", "application/atom+xml"), ("rss", "application/rss+xml")):
            wanted = f"{sample_site.url}/feeds/{scope}.{fmt}.xml"
            assert [l.get("href") for l in doc.cssselect(f'head link[rel="alternate"][type="{mime}"]')] == [wanted], path
            visible = [a for a in doc.cssselect("main a[href]") if a.get("href") == wanted]
            assert visible, f"/{path} has no visible 订阅 link to {wanted}"
        assert "订阅" in text_of(doc.cssselect("main")[0])


def test_every_facet_value_has_a_page_listing_its_records(sample_site, facets):
    for facet in FACETS:
        index = page(sample_site, f"{facet.url_prefix}/")
        index_links = {site_path(sample_site, a.get("href")) for a in index.cssselect("main .tree a")}
        assert index_links == {f"{facet.url_prefix}/{v}/" for v in facets[facet.key]}, facet.key
        for value in facets[facet.key].values():
            doc = page(sample_site, f"{facet.url_prefix}/{value.id}/")
            assert value.name in text_of(doc.cssselect("h1")[0])
            assert record_links(doc, sample_site) == [f"{r.url_kind}/{r.id}/" for r in value.records[:50]]


def test_region_pages_roll_up_sub_regions_and_list_them(sample_site, public, facets):
    regions = public.vocab.regions
    parents = [v for v in facets["regions"].values() if v.children]
    assert parents, "the sample data has a region with records in its sub-regions"
    for value in parents:
        within = {value.id} | {e.id for e in regions.entries if value.id in {a.id for a in regions.ancestors(e.id)}}
        expected = [f"{r.url_kind}/{r.id}/" for r in public.records if r.region in within]
        doc = page(sample_site, f"regions/{value.id}/")
        assert record_links(doc, sample_site) == expected[:50]
        children = doc.cssselect("#children-heading")[0].getparent()
        assert [site_path(sample_site, a.get("href")) for a in children.cssselect("a")] == [f"regions/{c}/" for c in value.children]
        assert [text_of(a.cssselect(".count")[0]) for a in children.cssselect("a")] == [
            str(len(facets["regions"][c].records)) for c in value.children
        ]


def test_sub_region_page_leads_back_to_its_parent(sample_site, facets):
    child = next(v for v in facets["regions"].values() if v.parent in facets["regions"])
    doc = page(sample_site, f"regions/{child.id}/")
    crumbs = [site_path(sample_site, a.get("href")) for a in doc.cssselect(".breadcrumbs a")]
    assert f"regions/{child.parent}/" in crumbs


# --- withdrawn, redirected, unpublished ---------------------------------------------------


def test_tombstone_shows_only_title_withdrawal_date_and_reason(sample_site, public):
    assert public.tombstones, "the sample data has a withdrawn record"
    catalog = sample_site.result.catalog
    for tombstone in public.tombstones:
        doc = page(sample_site, f"{tombstone.url_kind}/{tombstone.id}/")
        main = text_of(doc.cssselect("main")[0])
        assert [text_of(h) for h in doc.cssselect("h1")] == [re.sub(r"\s+", "", tombstone.title)]
        assert cn_date(tombstone.withdrawn_on) in main and re.sub(r"\s+", "", tombstone.reason) in main
        record = catalog.by_id[tombstone.id].record
        hidden = [record.summary, cn_date(record.published)]
        if record.body:
            hidden.append(record.body.strip().splitlines()[0][:20])
        if isinstance(record, Case):
            hidden.append(record.subject.position)
        hidden = [re.sub(r"\s+", "", h) for h in hidden if h]
        assert not [h for h in hidden if h in main], f"the tombstone of {tombstone.id} shows more than it may"
        assert not doc.cssselect('link[type="application/json"], .record-info, .facts a')


def test_former_ids_redirect_to_the_current_page_without_script(sample_site, public):
    assert public.redirects, "the sample data has a record with `formerly`"
    for (url_kind, old_id), record in public.redirects.items():
        doc = page(sample_site, f"{url_kind}/{old_id}/")
        target = f"{sample_site.url}/{record.url_kind}/{record.id}/"
        refresh = doc.cssselect('meta[http-equiv="refresh"]')[0].get("content")
        assert re.fullmatch(rf"0;\s*url={re.escape(target)}", refresh)
        assert doc.cssselect('link[rel="canonical"]')[0].get("href") == target
        assert target in [a.get("href") for a in doc.cssselect("main a")]
        assert not doc.cssselect("script")


def test_former_ids_of_a_withdrawn_record_lead_to_its_tombstone(tmp_path):
    data = new_data_dir(tmp_path / "data")
    withdrawal = {"on": "2024-06-01", "reason": "原问责决定经复查已撤销，本案例予以撤回。"}
    write_record(data, "case", case_record(formerly=["t-case-old"], status="withdrawn", withdrawal=withdrawal))
    build(data, tmp_path / "output")
    doc = _parse(tmp_path / "output" / "cases" / "t-case-old" / "index.html")
    target = "http://example.test/gongkai/cases/t-case-1/"
    assert doc.cssselect('meta[http-equiv="refresh"]')[0].get("content") == f"0; url={target}"
    assert "撤回原因" in (tmp_path / "output" / "cases" / "t-case-1" / "index.html").read_text(encoding="utf-8")


def test_nothing_unpublished_reaches_any_page(sample_site, public):
    catalog = sample_site.result.catalog
    shown_ids = {r.id for r in public.records} | {t.id for t in public.tombstones}
    hidden = [r for r in catalog.records if r.id not in shown_ids]
    assert {r.status for r in hidden} >= {"draft"}, "the sample data has drafts"
    assert any(r.status == "approved" for r in hidden), "the sample data has an embargoed record"
    withdrawn = [catalog.by_id[t.id].record for t in public.tombstones]
    needles = [r.id for r in hidden] + [r.title for r in hidden]
    needles += [r.summary for r in hidden + withdrawn if r.summary]
    pages = {p: p.read_text(encoding="utf-8") for p in html_files(sample_site)}
    for needle in needles:
        found = [str(p.relative_to(sample_site.output)) for p, text in pages.items() if needle in text]
        assert not found, f"「{needle}」 appears in {found}"
    for record in hidden:
        assert not sample_site.file(f"{record.url_kind}/{record.id}/").exists()


# --- stats ------------------------------------------------------------------------------


def stats_table(doc, heading_id: str) -> dict[str, int]:
    section = doc.get_element_by_id(f"stats-{heading_id}")
    assert section.cssselect("svg.chart-svg"), heading_id
    return {text_of(tr.cssselect("th")[0]).replace("\u3000", ""): int(text_of(tr.cssselect("td")[0]))
            for tr in section.cssselect("table tbody tr")}


def test_stats_counts_by_kind_year_region_circumstance_and_form(sample_site, public, facets):
    doc = page(sample_site, "stats/")
    assert stats_table(doc, "kinds") == {KIND_LABELS[k]: len(public.of_kind(k)) for k in ("disclosure", "case", "report")}
    years: dict[str, int] = {}
    for record in public.records:
        years[f"{year_of(record)}年"] = years.get(f"{year_of(record)}年", 0) + 1
    assert stats_table(doc, "years") == years
    for key in ("regions", "circumstances", "forms"):
        table = stats_table(doc, key)
        expected = {v.name: len(v.records) for v in facets[key].values()}
        if key == "forms":  # a name may stand for a 2009 form and a 2019 sanction: compare as lists
            rows = doc.get_element_by_id("stats-forms").cssselect("table tbody tr")
            assert sorted(text_of(r.cssselect("th")[0]).replace("\u3000", "") for r in rows) == sorted(v.name for v in facets[key].values())
        else:
            assert table == expected, key
    cases_by_circumstance = sum(len(v.records) for v in facets["circumstances"].values())
    assert cases_by_circumstance >= len(public.of_kind("case"))


def test_stats_tables_are_for_screen_readers_and_charts_are_svg_without_script(sample_site):
    doc = page(sample_site, "stats/")
    figures = doc.cssselect("figure.chart")
    assert len(figures) == 5
    for figure in figures:
        svg = figure.cssselect("svg")[0]
        assert svg.get("aria-hidden") == "true"
        assert figure.cssselect("table caption")
    assert not doc.cssselect("script")


# --- every page ---------------------------------------------------------------------------


def test_every_page_is_accessible_by_structure_and_safe_for_a_strict_csp(sample_site):
    host = urlsplit(sample_site.url).netloc
    for file in html_files(sample_site):
        name = str(file.relative_to(sample_site.output))
        doc = _parse(file)
        assert doc.get("lang") == "zh-CN", name
        assert len(doc.cssselect("h1")) == 1, name
        for landmark in ("header", "nav", "main", "footer"):
            assert doc.cssselect(landmark), f"{name} lacks <{landmark}>"
        skip = doc.cssselect("a.skip-link")
        assert skip and doc.get_element_by_id(skip[0].get("href")[1:]) is not None, name
        levels = [int(h.tag[1]) for h in doc.iter("h1", "h2", "h3", "h4", "h5", "h6")]
        assert all(b <= a + 1 for a, b in zip(levels, levels[1:])), f"{name} skips a heading level: {levels}"
        assert not [s for s in doc.iter("script") if not s.get("src")], f"{name} has inline script"
        assert not doc.cssselect("[style], style"), f"{name} has inline style"
        assert not [a for e in doc.iter() for a in getattr(e, "attrib", {}) if a.lower().startswith("on")], name
        for element in doc.cssselect("[src], link[href]"):
            url = element.get("src") or element.get("href")
            if element.tag == "link" and element.get("rel") not in ("stylesheet", "icon", "preload", "manifest"):
                continue
            assert urlsplit(url).netloc in ("", host), f"{name} loads {url} from another host"


def test_home_page_is_under_60_kb_with_what_it_loads(sample_site):
    doc = page(sample_site, "")
    total = sample_site.file("").stat().st_size
    for element in doc.cssselect("link[rel=stylesheet], script[src], img[src]"):
        total += sample_site.file(site_path(sample_site, element.get("href") or element.get("src"))).stat().st_size
    assert total < 60_000, f"the home page transfers {total} bytes"


def test_header_has_the_site_search_form_and_navigation(sample_site):
    doc = page(sample_site, "cases/")
    form = doc.cssselect('header form[role="search"]')[0]
    assert site_path(sample_site, form.get("action")) == "search/" and form.cssselect('input[name="q"]')
    nav = [site_path(sample_site, a.get("href")) for a in doc.cssselect("header nav a")]
    assert {"", "cases/", "disclosures/", "reports/", "stats/", "search/"} <= set(nav)
    assert doc.cssselect('header nav a[aria-current="page"]')[0].text_content() == "问责案例"


# --- editorial pages and the sitemap ----------------------------------------------------------


def test_editorial_pages_exist_in_the_site_frame(sample_site):
    for path, title in (("about/", "关于本站"), ("data-notes/", "数据说明"), ("guide/", "使用指南"), ("policy/", "更正与撤回政策")):
        doc = page(sample_site, path)
        assert text_of(doc.cssselect("h1")[0]) == title
        footer = [site_path(sample_site, a.get("href")) for a in doc.cssselect("footer a")]
        assert {"about/", "data-notes/", "guide/", "policy/", "downloads/"} <= set(footer)


def test_data_notes_explain_every_field_of_the_schema(sample_site):
    shown = page(sample_site, "data-notes/").text_content()
    for cls in RECORD_TYPES.values():
        for key in file_keys(cls).values():
            assert key in shown, f"数据说明 does not explain `{key}`"


def test_404_page_links_are_absolute_so_they_work_at_any_depth(sample_site):
    doc = page(sample_site, "404.html")
    links = [e.get(a) for e in doc.iter() if isinstance(e.tag, str) for a in ("href", "src", "action") if e.get(a)]
    assert len(links) > 10
    assert all(link.startswith((sample_site.url + "/", "#")) for link in links), links


def test_guide_tells_clerks_how_to_add_correct_withdraw_and_read_errors(sample_site):
    shown = page(sample_site, "guide/").text_content()
    for needle in ("invoke new", "invoke validate", "corrections", "status: withdrawn", "行号", "列号"):
        assert needle in shown


def test_sitemap_lists_every_public_page_and_robots_points_to_it(sample_site, public, facets):
    from lxml import etree

    tree = etree.parse(str(sample_site.file("sitemap.xml")))
    locs = [e.text for e in tree.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
    assert len(locs) == len(set(locs))
    paths = {site_path(sample_site, loc) for loc in locs}
    wanted = {"", "cases/", "disclosures/", "reports/", "stats/", "about/", "data-notes/", "guide/", "policy/"}
    wanted |= {f"{r.url_kind}/{r.id}/" for r in public.records}
    wanted |= {f"{v.facet.url_prefix}/{v.id}/" for v in facets.all_values()}
    wanted |= {f"{f.url_prefix}/" for f in FACETS}
    assert wanted <= paths, sorted(wanted - paths)
    assert not {f"{t.url_kind}/{t.id}/" for t in public.tombstones} & paths
    assert not {f"{k}/{old}/" for k, old in public.redirects} & paths
    assert sample_site.file("404.html").is_file() and "404.html" not in paths
    assert all(sample_site.file(p).is_file() for p in paths)
    assert all(loc.startswith(sample_site.url + "/") for loc in locs)
    robots = sample_site.text("robots.txt")
    assert f"Sitemap: {sample_site.url}/sitemap.xml" in robots.splitlines()


# --- a small build of our own: pagination and escaping ------------------------------------------

HOSTILE_TITLE = "江中市<b>测试</b>局长因<script>alert(1)</script>被问责"


@pytest.fixture(scope="module")
def small_site(tmp_path_factory):
    root = tmp_path_factory.mktemp("pages")
    data = new_data_dir(root / "data")
    regions = ["江中市", "江中市东湖区", "江中市西塘区", "江中市", "江中市东湖区"]
    for n, region in enumerate(regions, 1):
        write_record(data, "case", case_record(f"t-case-{n}", region=region, published=f"2024-03-0{n}T10:00:00+08:00",
                                               title=f"第{n}号测试问责案例"))
    write_record(data, "case", case_record("t-case-x", title=HOSTILE_TITLE, published="2024-03-01T08:00:00+08:00",
                                           body="正文<script>alert(2)</script><p style=\"color:red\" onclick=\"x()\">段落</p>"))
    write_record(data, "disclosure", disclosure_record("t-disc-1"))
    write_record(data, "report", report_record("t-rep-1", evaluation={"method": "民主测评", "participants": 40, "score": 88.5}))
    overrides = root / "templates"  # an operator's own template, the Pelican way
    overrides.mkdir()
    (overrides / "stats.html").write_text(
        '{% extends "!theme/stats.html" %}{% block content %}<p id="operator-note">本地说明</p>{{ super() }}{% endblock %}',
        encoding="utf-8",
    )
    output = root / "output"
    build(data, output, siteurl="http://example.test/gk", GONGKAI_PAGE_SIZE=2, THEME_TEMPLATES_OVERRIDES=[str(overrides)])
    return output


def small(output: Path, path: str):
    file = output / (path + "index.html")
    assert file.is_file(), path
    return lxml.html.fromstring(file.read_bytes())


def test_listings_paginate_newest_first(small_site):
    seen = []
    for n, path in enumerate(("cases/", "cases/page/2/", "cases/page/3/"), 1):
        doc = small(small_site, path)
        links = [urlsplit(a.get("href")).path for a in doc.cssselect(".record-list .record-title a")]
        assert len(links) == 2
        seen += links
        pager = doc.cssselect("nav.pager")[0]
        assert pager.cssselect('a[aria-current="page"]')[0].text_content() == str(n)
        assert bool(pager.cssselect('a[rel="prev"]')) == (n > 1)
        assert bool(pager.cssselect('a[rel="next"]')) == (n < 3)
    assert seen == [f"/gk/cases/t-case-{n}/" for n in (5, 4, 3, 2, 1)] + ["/gk/cases/t-case-x/"]
    assert not (small_site / "cases/page/4/index.html").exists()
    assert not (small_site / "cases/page/1/index.html").exists()
    next_href = small(small_site, "cases/").cssselect('nav.pager a[rel="next"]')[0].get("href")
    assert next_href == "http://example.test/gk/cases/page/2/"


def test_facet_pages_paginate_too(small_site):
    first = small(small_site, "regions/jiangzhong/")
    assert "共 8 条" in first.text_content().replace("\n", "")  # 6 cases + 1 disclosure + 1 report, with sub-regions
    assert (small_site / "regions/jiangzhong/page/4/index.html").is_file()
    assert not small(small_site, "reports/").cssselect("nav.pager")


def test_record_text_is_escaped_and_body_sanitized(small_site):
    raw = (small_site / "cases/t-case-x/index.html").read_text(encoding="utf-8")
    assert "<script" not in raw and "<b>测试</b>" not in raw
    assert "&lt;b&gt;测试&lt;/b&gt;" in raw
    doc = lxml.html.fromstring(raw)
    assert not doc.cssselect("[style], [onclick]")
    assert "段落" in doc.cssselect(".record-body")[0].text_content()


def test_report_with_only_a_score_has_no_grade_chart(small_site):
    doc = small(small_site, "reports/t-rep-1/")
    assert "88.5" in doc.cssselect("#evaluation-heading")[0].getparent().text_content()
    assert not doc.cssselect(".evaluation svg")


def test_an_operator_overrides_a_template_the_pelican_way(small_site):
    doc = small(small_site, "stats/")
    assert doc.get_element_by_id("operator-note").text_content() == "本地说明"
    assert doc.cssselect("figure.chart svg"), "the overriding template extends the theme's own"


# --- incremental rebuilds -------------------------------------------------------------


def _page_keys(output: Path) -> dict[str, str]:
    manifest = json.loads((output / ".gongkai-manifest.json").read_text(encoding="utf-8"))
    return {name: key for name, key in manifest["keys"].items() if name.endswith(".html")}


def _pages_showing(record_id: str, data: Path, size: int) -> set[str]:
    """The HTML files that show a record: its page, the listing and facet pages it is on, maybe home."""
    public = publish(load_catalog(data), NOW)
    record = public.by_id[record_id]

    def page_of(records, base: str) -> str:
        number = [r.id for r in records].index(record_id) // size + 1
        return f"{base}index.html" if number == 1 else f"{base}page/{number}/index.html"

    shown = {f"{record.url_kind}/{record.id}/index.html", page_of(public.of_kind(record.kind), f"{record.url_kind}/")}
    for facet in FACETS:
        for value in build_facets(public)[facet.key].values():
            if record in value.records:
                shown.add(page_of(value.records, f"{facet.url_prefix}/{value.id}/"))
    if record in public.of_kind(record.kind)[:5]:
        shown.add("index.html")
    return shown


def test_an_edit_remakes_only_the_pages_that_show_the_record(tmp_path):
    data = new_data_dir(tmp_path / "data")
    regions = ["江中市", "江中市东湖区", "江中市西塘区"]
    for n in range(1, 13):
        write_record(data, "case", case_record(f"t-case-{n}", region=regions[n % 3], title=f"第{n}号测试问责案例",
                                               published=f"2024-03-{n:02d}T10:00:00+08:00"))
    write_record(data, "disclosure", disclosure_record("t-disc-1"))
    output = tmp_path / "output"
    build(data, output, GONGKAI_PAGE_SIZE=2)
    before = _page_keys(output)
    edited = "t-case-3"  # an older case: not on the home page, on the second page of listings
    write_record(data, "case", case_record(edited, region=regions[0], title="第3号测试问责案例（已更正标题）",
                                           published="2024-03-03T10:00:00+08:00"))
    result = build(data, output, GONGKAI_PAGE_SIZE=2)
    after = _page_keys(output)
    remade = {name for name in after if before.get(name) != after[name]}
    expected = _pages_showing(edited, data, 2)
    assert "index.html" not in expected and len(expected) > 5  # its page, a listing page and facet pages
    assert remade == expected
    assert result.report["reused"] >= len(after) - len(remade)
    assert "（已更正标题）" in (output / "cases/t-case-3/index.html").read_text(encoding="utf-8")


def test_pages_shifted_by_an_addition_are_made_from_kept_items(tmp_path, monkeypatch):
    """A new record moves every older one down its listings and facets, so those pages are all made
    again; with a build cache their list items come from the last build, and only the new record's
    item is rendered (the pages equal a clean build's: tests/test_safety.py)."""
    from gongkai.pages import KEPT_STYLES, RecordItems

    data, output, cache = new_data_dir(tmp_path / "data"), tmp_path / "output", tmp_path / "cache"
    for n in range(1, 13):
        write_record(data, "case", case_record(f"t-case-{n}", title=f"第{n}号测试问责案例",
                                               published=f"2024-03-{n:02d}T10:00:00+08:00"))
    build(data, output, GONGKAI_PAGE_SIZE=2, GONGKAI_CACHE_PATH=str(cache))
    before = _page_keys(output)
    rendered: list[str] = []  # the records whose kept-style items the macro renders
    render = RecordItems._render

    def counted(self, record, style):
        if style in KEPT_STYLES:
            rendered.append(record.id)
        return render(self, record, style)

    monkeypatch.setattr(RecordItems, "_render", counted)
    write_record(data, "case", case_record("t-case-new", title="新增的测试问责案例", published="2024-03-20T10:00:00+08:00"))
    build(data, output, GONGKAI_PAGE_SIZE=2, GONGKAI_CACHE_PATH=str(cache))
    after = _page_keys(output)
    shifted = [name for name in after if name.startswith("cases/page/") and before.get(name) != after[name]]
    assert len(shifted) >= 5  # every listing page after the first: 13 cases, 2 a page
    assert sorted(rendered) == ["t-case-new"] * len(KEPT_STYLES)
    assert "第1号测试问责案例" in (output / "cases/page/7/index.html").read_text(encoding="utf-8")


def test_record_pages_made_by_forked_workers_are_those_made_in_one_process(tmp_path, monkeypatch):
    """A clean build of many records makes their pages in forked workers, each a run of the records
    in the order they lie in memory; every page is there, as one process makes it. From nothing, every
    page goes to the workers; over an earlier build, pages are first checked here, in small batches."""
    import os
    import time

    from gongkai import pages

    data = new_data_dir(tmp_path / "data")
    for n in range(30):
        write_record(data, "case", case_record(f"t-case-{n:02d}", title=f"第{n}号测试问责案例"))
        write_record(data, "report", report_record(f"t-rep-{n:02d}"))
    build(data, tmp_path / "one")
    monkeypatch.setattr(pages, "FIRST_BATCH", 4)
    monkeypatch.setattr(pages, "FORK_AFTER_MADE", 1)  # the rest (56 pages) go to the workers
    record_page = pages.record_page

    def noted(site, record):
        with (tmp_path / "makers").open("a") as file:  # (a forked worker's list is its own)
            file.write(f"{os.getpid()}\n")
        time.sleep(0.005)
        return record_page(site, record)

    monkeypatch.setattr(pages, "record_page", noted)
    build(data, tmp_path / "forked")
    made_by = (tmp_path / "makers").read_text().split()
    assert len(made_by) == 60 and str(os.getpid()) not in made_by
    one = sorted(p.relative_to(tmp_path / "one") for p in (tmp_path / "one").rglob("*.html"))
    assert one == sorted(p.relative_to(tmp_path / "forked") for p in (tmp_path / "forked").rglob("*.html"))
    for path in one:
        assert (tmp_path / "one" / path).read_bytes() == (tmp_path / "forked" / path).read_bytes(), path
    (tmp_path / "makers").unlink()
    build(data, tmp_path / "forked", siteurl="http://other.test/gongkai")  # every page again, over a build
    made_by = (tmp_path / "makers").read_text().split()
    assert len(made_by) == 60 and made_by.count(str(os.getpid())) == 4
