"""The portal's safety guarantees, proved end to end on real builds (issue 6).

- Nothing leaks: canary records in every non-public state carry a marker in
  every text field; no byte of the output (nor the terminal's whoosh index)
  holds one, except a withdrawn record's title and withdrawal reason on its
  tombstone page and its feed tombstone entries.
- Nothing runs: records full of script-injection payloads give HTML with no
  injected script, handler, style or dangerous URL, and real headless Chromium
  fires no dialog and runs no payload on their pages, the listings and search.
- Nothing is lost: a build killed part-way or stopped by a validation error
  leaves the previous output byte for byte as it was.
- The same data gives the same bytes: two clean builds, and a cached
  incremental rebuild against a clean build of the edited data.
- No path escapes the output folder.
"""

from __future__ import annotations

import gzip
import hashlib
import html
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote, unquote, urljoin, urlsplit

import lxml.etree
import lxml.html
import pytest
import yaml

from conftest import (
    BUILD_EPOCH, ROOT, SAMPLE_DATA, build, case_record, disclosure_record, new_data_dir, report_record,
    write_record,
)

from gongkai.build import scratch_path, staging_path
from gongkai.catalog import ProblemsFound, load_catalog
from gongkai.output import MANIFEST, MANIFEST_FORMAT, OutputTree, UnsafePath
from gongkai.search.index import whoosh_dir
from gongkai.search.query import search as whoosh_search
from gongkai.search.shards import read_shard
from gongkai.synthetic import generate

KINDS = ("case", "disclosure", "report")
RECORD_OF = {"case": case_record, "disclosure": disclosure_record, "report": report_record}
SITEURL = "http://example.test/gongkai"

# --- 1. nothing non-public leaks ----------------------------------------------------------

MARK = "CANARY7f3a"
"""Every canary marker starts with this; markers are ASCII letters and digits only, so the
search analyzer keeps each one as a single (lower-cased) word."""
NON_PUBLIC = {
    # state: (changes, has a tombstone)
    "draft": ({"status": "draft", "published": "2020-01-01"}, False),  # approved-looking draft, long "published"
    "embargoed": ({"published": "2026-11-01T08:00:01+08:00"}, False),  # one second after the build time
    "withdrawn": ({"status": "withdrawn", "published": "2026-10-01"}, True),
    "withdrawnpublic": ({"status": "withdrawn", "published": "2019-06-01"}, True),  # public for years, then withdrawn
    "withdrawnembargoed": ({"status": "withdrawn", "published": "2027-01-01"}, False),  # withdrawn before its embargo ended
}
TOMBSTONE_FIELDS = ("title", "withdrawalreason")
"""All that a tombstone may show of a withdrawn record (besides its id and withdrawal date)."""


def marker(state: str, kind: str, field: str) -> str:
    return f"{MARK}{state}{kind}{field}"


def canary_id(state: str, kind: str) -> str:
    """Ids of records that never were public carry the marker; tombstones keep their id at their URL."""
    return f"gone-{state}-{kind}" if NON_PUBLIC[state][1] else f"{MARK.lower()}-{state}-{kind}"


def canary(state: str, kind: str) -> dict:
    """A record of ``kind`` in ``state`` with a unique marker in every text field it has."""
    def m(field: str) -> str:
        return marker(state, kind, field)

    changes, _ = NON_PUBLIC[state]
    record = RECORD_OF[kind](
        canary_id(state, kind),
        title=f"标题{m('title')}",
        summary=f"摘要{m('summary')}",
        body=f"## 小标题{m('bodyheading')}\n\n正文{m('body')}，见[链接](https://example.org/{m('bodylink')})。\n",
        approval={"by": m("approvalby"), "on": "2019-05-01"},
        corrections=[{"on": "2027-02-01", "note": f"更正{m('correction')}"}],
        sources=[{"title": f"来源{m('sourcetitle')}", "url": f"https://example.org/{m('sourceurl')}"}],
        personal_data=[{"kind": "手机号码", "reason": m("personaldatareason")}],
        **changes,
    )
    if record["status"] == "withdrawn":
        record["withdrawal"] = {"on": "2027-02-01", "reason": f"撤回原因{m('withdrawalreason')}"}
    if state in ("draft", "embargoed"):
        record["formerly"] = [f"{MARK.lower()}-{state}-{kind}-old"]  # must not become a redirect
    if kind == "case":
        record.update(
            subject={"name": m("subjectname"), "position": m("subjectposition"),
                     "organization": m("subjectorganization"), "level": m("subjectlevel")},
            stages=[{"stage": "启动", "on": "2019-01-02", "by": m("stagestart")},
                    {"stage": "决定", "on": "2019-02-20", "by": m("stagedecision")},
                    {"stage": "执行", "on": "2019-02-28", "by": m("stageexecution")}],
            decision={"by": m("decisionby"), "on": "2019-02-20", "doc_no": m("decisiondocno")},
            appeal={"filed": True, "result": m("appealresult")},
            legal_basis=[m("legalbasis")],
        )
    elif kind == "disclosure":
        record.update(index_no=m("indexno"), doc_no=m("docno"), written_on="2019-01-01")
    else:
        record.update(
            official={"name": m("officialname"), "position": m("officialposition"), "organization": m("officialorganization")},
            year=2019,
            session={"body": m("sessionbody"), "on": "2019-01-15"},
            evaluation={"method": m("evaluationmethod"), "participants": 10, "score": 90.0},
            questions=[{"asked_by": m("askedby"), "question": m("question"), "answer": m("answer")}],
            follow_up=[{"action": m("followupaction"), "on": "2019-03-01", "note": m("followupnote")}],
        )
    return record


def tree_files(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (relative POSIX path → bytes), sorted."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


_UNICODE_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")


def readable_forms(data: bytes) -> str:
    """The bytes of a file as every text a reader or program could get out of them, lower-cased:
    gunzipped, UTF-8, HTML/XML entities resolved, JSON ``\\u`` escapes and URL percent-escapes decoded."""
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    text = data.decode("utf-8", errors="replace")
    forms = [text, html.unescape(text), _UNICODE_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text), unquote(text)]
    return "\n".join(forms).lower()


_MARKER_WORD = re.compile(MARK.lower() + r"[a-z0-9]*")


@pytest.fixture(scope="module")
def leaky(tmp_path_factory):
    """One public record of each kind beside canaries of every kind in every non-public state, built."""
    root = tmp_path_factory.mktemp("leak")
    data = new_data_dir(root / "data")
    for kind in KINDS:
        write_record(data, kind, RECORD_OF[kind](f"public-{kind}", title=f"公开记录VISIBLE7f3a{kind}"))
        for state in NON_PUBLIC:
            write_record(data, kind, canary(state, kind))
    result = build(data, root / "out", siteurl=SITEURL)
    assert len(result.catalog.records) == len(KINDS) * (1 + len(NON_PUBLIC)), "every canary must be a valid record"
    return root / "out"


def test_canaries_are_valid_records_in_the_intended_states(leaky):
    """The leak test proves nothing unless the canaries load and only the public records publish."""
    from datetime import datetime, timezone

    from gongkai.publication import publish

    catalog = load_catalog(leaky.parent / "data")
    publication = publish(catalog, datetime.fromtimestamp(BUILD_EPOCH, tz=timezone.utc))
    assert sorted(r.id for r in publication.records) == sorted(f"public-{k}" for k in KINDS)
    assert sorted(t.id for t in publication.tombstones) == sorted(
        canary_id(s, k) for k in KINDS for s, (_, tomb) in NON_PUBLIC.items() if tomb)
    assert publication.redirects == {}


def test_no_canary_marker_in_any_byte_of_the_output(leaky):
    """Scan every file of the output and of the whoosh index beside it; only tombstone text is allowed,
    and only on the tombstone page and in feeds."""
    allowed_words = {
        marker(state, kind, field).lower(): f"{kind}s/{canary_id(state, kind)}/index.html"
        for kind in KINDS for state, (_, tomb) in NON_PUBLIC.items() if tomb for field in TOMBSTONE_FIELDS
    }
    found: dict[str, set[str]] = {}  # allowed marker → files it is in
    leaks: list[str] = []
    scanned = 0
    for root, prefix in ((leaky, ""), (whoosh_dir(leaky), "<whoosh>/")):
        assert root.is_dir(), root
        for name, data in tree_files(root).items():
            scanned += 1
            text = readable_forms(data)
            for match in _MARKER_WORD.finditer(text):
                word, where = match.group(), prefix + name
                page = allowed_words.get(word)
                if page is not None and (where == page or (where.startswith("feeds/") and where.endswith(".xml"))):
                    found.setdefault(word, set()).add(where)
                else:
                    context = text[max(0, match.start() - 60):match.end() + 20].replace("\n", " ")
                    leaks.append(f"{where}: {word} … {context!r}")
    assert scanned > 50
    assert not leaks, f"{len(leaks)} non-public markers in the output:\n" + "\n".join(sorted(set(leaks))[:40])
    # The tombstone text is there (so the scan reads these files), on the tombstone page and in feeds.
    assert set(found) == set(allowed_words), sorted(set(allowed_words) - set(found))
    for word, page in allowed_words.items():
        assert page in found[word], f"{word} missing from its tombstone {page}"
        assert any(w.startswith("feeds/") for w in found[word]), f"{word} is in no feed tombstone entry"
    # Sanity: the public records are in the output, found the same way.
    assert "visible7f3acase" in readable_forms((leaky / "cases" / "public-case" / "index.html").read_bytes())


def test_no_page_or_redirect_for_what_never_was_public(leaky):
    for kind in KINDS:
        for state, (_, tomb) in NON_PUBLIC.items():
            page = leaky / f"{kind}s" / canary_id(state, kind)
            assert page.is_dir() == tomb, page
            assert not (leaky / f"{kind}s" / f"{canary_id(state, kind)}.json").exists()
            assert not (leaky / f"{kind}s" / f"{MARK.lower()}-{state}-{kind}-old").exists()
        # a tombstone page holds nothing but the tombstone: no other field label of the record
        for state, (_, tomb) in NON_PUBLIC.items():
            if tomb:
                text = (leaky / f"{kind}s" / canary_id(state, kind) / "index.html").read_text(encoding="utf-8")
                assert marker(state, kind, "title") in text and marker(state, kind, "withdrawalreason") in text


def test_search_indexes_do_not_find_canaries(leaky):
    """Neither the terminal's whoosh index (``invoke search``) nor the browser's static index knows a marker."""
    for kind in KINDS:
        for state in NON_PUBLIC:
            for field in ("title", "summary", "body", "withdrawalreason"):
                answer = whoosh_search(leaky, marker(state, kind, field))
                assert answer.total == 0 and not answer.hits, (state, kind, field)
    assert whoosh_search(leaky, "VISIBLE7f3acase").total == 1  # the index answers at all
    shards = list((leaky / "search" / "index").glob("*/t/*.bin"))
    assert shards
    for shard in shards:
        terms = read_shard(shard.read_bytes())
        assert not [t for t in terms if t.startswith(MARK.lower())], shard


# --- 2. nothing injected runs ---------------------------------------------------------------

XSS_FLAG = "window.__xss=1"
PAYLOADS = [
    "<script>alert(1)</script>",
    '<img src=x onerror="window.__xss=1">',
    "<img src=x onerror=alert(1)>",
    '<svg onload="window.__xss=1">',
    "<svg><script>alert(1)</script></svg>",
    '<svg><a xlink:href="javascript:alert(1)"><text x="20" y="20">x</text></a></svg>',
    '<math><mtext><table><mglyph><style><img src=x onerror="window.__xss=1">',
    '<math href="javascript:alert(1)">m</math>',
    '<iframe src="javascript:alert(1)"></iframe>',
    '<iframe srcdoc="<script>parent.__xss=1</script>"></iframe>',
    '<object data="javascript:alert(1)"></object>',
    '<embed src="javascript:alert(1)">',
    "<style>body{display:none}</style>",
    '<p style="display:none">藏起来的字</p>',
    '<a href="javascript:alert(1)">js</a>',
    '<a href="JaVaScRiPt:alert(1)">mixed</a>',
    '<a href="&#106;avascript:alert(1)">entity</a>',
    '<a href="&#x6A;avascript&colon;alert(1)">hexentity</a>',
    '<a href=" javascript:alert(1)">space</a>',
    '<a href="java&#9;script:alert(1)">tab</a>',
    '<a href="data:text/html,<script>alert(1)</script>">data</a>',
    '<a href="vbscript:msgbox(1)">vb</a>',
    '<a href="#" onclick="window.__xss=1">click</a>',
    '<details open ontoggle="window.__xss=1">d</details>',
    '<input autofocus onfocus="window.__xss=1">',
    '<form action="javascript:alert(1)"><button>b</button></form>',
    '<base href="javascript:alert(1)//">',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<link rel="stylesheet" href="https://evil.example/x.css">',
    '"><script>alert(1)</script>',
    "'><img src=x onerror=alert(1)>",
    "</textarea><script>alert(1)</script>",
    "</title><script>alert(1)</script>",
    "</script><script>alert(1)</script>",
    "<!--<img src=x onerror=alert(1)>-->",
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
    "{{ 7*7 }}",
    "{% raw %}",
    "${7*7}",
]
MARKDOWN_PAYLOADS = [
    "[x](javascript:alert(1))",
    "[y](JaVaScRiPt:alert(1))",
    "[z](&#106;avascript:alert(1))",
    "[d](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![i](javascript:alert(1))",
    '![j](x "onerror=alert(1)")',
    "<javascript:alert(1)>",
    "[r][ref]\n\n[ref]: javascript:alert(1)",
    '[t](https://example.org/ "title\\" onmouseover=\\"alert(1)")',
]
URL_PAYLOADS = [
    'https://example.org/"><script>alert(1)</script>',
    'https://example.org/"onmouseover="window.__xss=1"',
    "https://example.org/'><img/src=x/onerror=alert(1)>",
]
INJECT_WORD = "注入探针"
"""In every injected record's title, so the search page finds them all."""
INJECT_SITE = "safety-inject"
"""The injected site's folder under ``server_root`` and its sub-path on the server."""


def injected(kind: str, n: int) -> dict:
    """A public record of ``kind`` whose every text field carries payloads (``n`` picks which ones)."""
    pick = [PAYLOADS[(n * 7 + i) % len(PAYLOADS)] for i in range(4)]
    title_payloads = ["{{ 7*7 }}"] + pick
    body = "\n\n".join([
        "# 标题 <script>alert(1)</script>",
        *PAYLOADS, *MARKDOWN_PAYLOADS,
        "<div>\n" + "\n".join(PAYLOADS) + "\n</div>",
        "```\n<script>alert(1)</script>\n```",
        "| a | b |\n|---|---|\n| <img src=x onerror=\"window.__xss=1\"> | [x](javascript:alert(1)) |",
    ])
    record = RECORD_OF[kind](
        f"inject-{kind}-{n}",
        title=(f"{INJECT_WORD}{n} " + " ".join(title_payloads))[:200],
        summary=" ".join(["{{ 7*7 }}"] + PAYLOADS[n::3])[:300],
        body=body,
        corrections=[{"on": "2024-06-01", "note": p} for p in pick],
        sources=[{"title": p, "url": URL_PAYLOADS[i % len(URL_PAYLOADS)]} for i, p in enumerate(pick)],
    )
    if kind == "case":
        record.update(
            subject={"name": pick[0], "position": pick[1], "organization": pick[2], "level": pick[3]},
            decision={"by": pick[1], "on": "2024-02-20", "doc_no": pick[2]},
            appeal={"filed": True, "result": pick[3]},
            legal_basis=pick,
        )
    elif kind == "disclosure":
        record.update(index_no=pick[0], doc_no=pick[1])
    else:
        record.update(
            official={"name": pick[0], "position": pick[1], "organization": pick[2]},
            session={"body": pick[3], "on": "2024-01-15"},
            evaluation={"method": pick[0], "participants": 40, "score": 88.5},
            questions=[{"asked_by": pick[1], "question": pick[2], "answer": pick[3]}],
            follow_up=[{"action": pick[0], "on": "2024-02-01", "note": pick[1]}],
        )
    return record


INJECTED = [(kind, n) for kind in KINDS for n in range(2)]


@pytest.fixture(scope="module")
def hostile(server, server_root):
    """The injected records (and one plain one of each kind) built and served under its own sub-path."""
    name = INJECT_SITE
    data = hostile_data(server_root.parent / f"{server_root.name}-{name}-data")
    siteurl = f"{server}/{name}"
    build(data, server_root / name, siteurl=siteurl)
    return server_root / name, siteurl


THEME_SCRIPT = re.compile(rf"^/{INJECT_SITE}/theme/js/[a-z0-9_.-]+\.js$")
"""The only scripts a page may load: the theme's own."""
DANGEROUS_URL = re.compile(r"^\s*(javascript|vbscript|data|file):", re.I)


def html_problems(document, siteurl: str, where: str) -> list[str]:
    """What in one parsed page could run script, load something foreign or hide text.

    ``<svg>`` is allowed (the site draws its own charts); what an svg could carry (script, handlers,
    styles, javascript: links) is checked like anything else."""
    problems = []
    own_prefix = siteurl.rstrip("/")
    for element in document.iter():
        if not isinstance(element.tag, str):
            continue
        tag = element.tag.lower()
        if tag == "script":
            src = element.get("src", "")
            if not THEME_SCRIPT.match(urlsplit(urljoin(own_prefix + "/", src)).path if src else ""):
                problems.append(f"{where}: <script> {lxml.html.tostring(element)[:120]!r}")
        for attribute, value in element.attrib.items():
            name = attribute.lower()
            if name.startswith("on"):
                problems.append(f"{where}: {tag} {name}={value[:60]!r}")
            if name == "style":
                problems.append(f"{where}: {tag} style={value[:60]!r}")
            if name in ("href", "src", "action", "formaction", "data", "srcdoc", "xlink:href", "poster", "background") \
                    and DANGEROUS_URL.match(html.unescape(value).replace("\t", "").replace("\n", "")):
                problems.append(f"{where}: {tag} {name}={value[:60]!r}")
        if tag in ("iframe", "object", "embed", "frame", "frameset", "applet", "base", "math", "textarea", "img"):
            problems.append(f"{where}: <{tag}>")
        if tag == "style":
            problems.append(f"{where}: <style>")
        if tag == "meta" and element.get("http-equiv", "").lower() == "refresh":
            problems.append(f"{where}: meta refresh")
        if tag in ("link",) and element.get("href", "") and not element.get("href", "").startswith(own_prefix + "/") \
                and element.get("rel", "") not in ("alternate", "canonical"):
            problems.append(f"{where}: <link href={element.get('href')!r}>")
    return problems


def test_built_html_holds_no_injected_markup(hostile):
    output, siteurl = hostile
    problems: list[str] = []
    pages = sorted(output.rglob("*.html"))
    assert len(pages) > 30
    for path in pages:
        text = path.read_text(encoding="utf-8")
        where = path.relative_to(output).as_posix()
        problems += html_problems(lxml.html.document_fromstring(text), siteurl, where)
        assert "alert(1)</script>" not in text.replace("&lt;/script&gt;", ""), where
    assert not problems, "\n".join(problems[:40])


def test_template_syntax_in_records_shows_literally(hostile):
    output, _ = hostile
    for kind, n in INJECTED:
        document = lxml.html.parse(str(output / f"{kind}s" / f"inject-{kind}-{n}" / "index.html")).getroot()
        heading = document.find(".//h1").text_content()
        assert heading.startswith(f"{INJECT_WORD}{n} {{{{ 7*7 }}}}"), heading
        assert "<script>alert(1)</script>" in document.text_content()  # shown as text, not run
        assert "49" not in heading


def test_feeds_and_json_carry_no_executable_markup(hostile):
    output, siteurl = hostile
    problems: list[str] = []
    feeds = sorted((output / "feeds").rglob("*.xml"))
    assert feeds
    for path in feeds:
        where = path.relative_to(output).as_posix()
        tree = lxml.etree.parse(str(path))  # well-formed XML: payloads are escaped, not markup
        for element in tree.iter():
            if not isinstance(element.tag, str):
                continue
            local = lxml.etree.QName(element).localname
            assert local not in ("script", "iframe", "img", "svg", "style"), f"{where}: XML element <{local}>"
            # What a reader takes as HTML: Atom text constructs of type html, RSS description and content:encoded.
            as_html = element.get("type") in ("html", "xhtml") if path.name.endswith(".atom.xml") \
                else local in ("description", "encoded")
            if as_html and element.text:
                fragment = lxml.html.fragment_fromstring(element.text, create_parent="div")
                problems += html_problems(fragment, siteurl, f"{where} <{local}>")
    for path in sorted(output.rglob("*.json")):
        where = path.relative_to(output).as_posix()
        data = json.loads(path.read_bytes())
        for key, text in _keyed_strings(data):
            if key.endswith("html"):  # a field that claims to be HTML must be clean
                problems += html_problems(lxml.html.fragment_fromstring(text, create_parent="div"), siteurl, f"{where} {key}")
    assert not problems, "\n".join(problems[:40])
    for path in sorted(output.rglob("*.json")):
        assert path.read_bytes().lstrip()[:1] in (b"{", b"["), path  # served as data, not HTML


def test_feed_readers_show_payloads_as_text(hostile):
    """A reader parsing the feeds (feedparser) gets each summary and title back as the literal text."""
    import feedparser

    output, _ = hostile
    records = {f"inject-{kind}-{n}": injected(kind, n) for kind, n in INJECTED}

    def shown(detail) -> str:
        """The text a reader shows for a parsed text construct (HTML must hold no tag at all)."""
        if detail.type == "text/html":
            assert "<" not in detail.value, detail.value[:200]
            return html.unescape(detail.value)
        return detail.value

    for name in ("all.atom.xml", "all.rss.xml"):
        feed = feedparser.parse(str(output / "feeds" / name))
        entries = [e for e in feed.entries if "/inject-" in e.link]
        assert len(entries) == len(INJECTED), name
        for entry in entries:
            record = records[entry.link.rstrip("/").rsplit("/", 1)[1]]
            assert shown(entry.summary_detail) == record["summary"], name
            assert shown(entry.title_detail) == record["title"], name


def _keyed_strings(value, key: str = ""):
    if isinstance(value, str):
        yield key, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _keyed_strings(v, str(k).lower())
    elif isinstance(value, list):
        for v in value:
            yield from _keyed_strings(v, key)


def test_no_injected_script_runs_in_chromium(hostile, page):
    output, siteurl = hostile
    dialogs: list[str] = []
    errors: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(f"{dialog.type}: {dialog.message}"), dialog.dismiss()))
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" and not message.text.startswith("Failed to load resource") else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("response", lambda response: errors.append(f"{response.status} {response.url}")
            if response.status >= 400 and not response.url.endswith("/favicon.ico") else None)
    paths = [f"{kind}s/inject-{kind}-{n}/" for kind, n in INJECTED]
    paths += ["", "cases/", "disclosures/", "reports/", "regions/jiangzhong/", "feeds/cases.atom.xml", "feeds/cases.rss.xml"]
    for path in paths:
        page.goto(f"{siteurl}/{path}", wait_until="load")
        page.wait_for_timeout(100)
        assert page.evaluate("window.__xss") is None, path
        assert page.evaluate(ON_ATTRIBUTES) == [], path
    page.goto(f"{siteurl}/search/?q={quote(INJECT_WORD)}", wait_until="load")
    page.wait_for_selector("#search-results li", timeout=10_000)
    page.wait_for_timeout(200)
    assert page.locator("#search-results li").count() == len(INJECTED)
    assert page.evaluate("window.__xss") is None
    assert page.evaluate(ON_ATTRIBUTES) == []
    assert not dialogs, dialogs
    assert not errors, errors


ON_ATTRIBUTES = """() => [...document.querySelectorAll('*')].flatMap(
    e => [...e.attributes].filter(a => a.name.toLowerCase().startsWith('on')).map(a => e.tagName + ' ' + a.name))"""


# --- 3. a failed or killed build loses nothing -----------------------------------------------


def tree_digest(root: Path) -> str:
    """A digest of every path and every byte under ``root``."""
    digest = hashlib.sha256()
    for name, data in tree_files(root).items():
        digest.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    return digest.hexdigest()


def small_data(target: Path, title: str) -> Path:
    data = new_data_dir(target)
    write_record(data, "case", case_record("t-case", title=title))
    write_record(data, "report", report_record("t-rep"))
    return data


BUILD_SCRIPT = """
import sys
sys.path.insert(0, {plugins!r})
from gongkai.build import build_site
build_site({data!r}, {output!r}, overrides={{"SITEURL": {siteurl!r}}})
"""


def writing_into(folder: Path, since: float) -> bool:
    """Whether a file under ``folder`` was written after ``since`` (recycled and linked files are older)."""
    try:
        return any(p.stat().st_mtime > since for p in folder.rglob("*") if p.is_file())
    except FileNotFoundError:
        return False


@pytest.mark.parametrize("kill_when", ["cases", "search"])
@pytest.mark.parametrize("earlier_builds", [1, 2])
def test_a_build_killed_part_way_leaves_the_previous_output(tmp_path, kill_when, earlier_builds):
    """Killed while writing pages (into ``cases/``), or in the search step (into ``search/``), when a
    forked helper is writing the whoosh index. After two builds the killed one is updating the recycled
    spare tree, whose unchanged files are hard links shared with the live site."""
    output = tmp_path / "out"
    for n in range(earlier_builds):
        build(small_data(tmp_path / f"old{n}", f"原来的标题{n}"), output, siteurl=SITEURL)
    before, whoosh_before = tree_digest(output), tree_digest(whoosh_dir(output))
    started = time.time()
    changed = tmp_path / "changed"
    generate(changed, 300, seed=3)  # slow enough to be caught part-way
    staging = staging_path(output)
    script = BUILD_SCRIPT.format(plugins=str(ROOT / "plugins"), data=str(changed), output=str(output), siteurl=SITEURL)
    system_temp = tmp_path / "system-temp"
    system_temp.mkdir()
    env = {**os.environ, "SOURCE_DATE_EPOCH": str(BUILD_EPOCH), "TMPDIR": str(system_temp)}
    process = subprocess.Popen([sys.executable, "-c", script], env=env, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        # wait until the build is writing its pages into the staging folder
        while not writing_into(staging / kill_when, started):
            assert process.poll() is None, f"the build ended before it could be killed: {process.stderr.read()!r}"
            assert time.monotonic() < deadline, "the build never started writing"
            time.sleep(0.005)
        os.kill(process.pid, signal.SIGKILL)  # the build process alone, as `kill -9` would
        assert process.wait(timeout=30) == -signal.SIGKILL
        settled = time.monotonic() + 0.2
        while living_in_group(process.pid) and time.monotonic() < settled:
            time.sleep(0.01)
        assert living_in_group(process.pid) == [], "a helper of the killed build is still running"
        time.sleep(0.5)
        assert tree_digest(output) == before, "a killed build changed the previous output"
        assert tree_digest(whoosh_dir(output)) == whoosh_before, "a killed build changed the previous whoosh index"
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)  # anything the killed build left running
        except ProcessLookupError:
            pass
        process.stderr.close()
    assert staging.exists(), "the kill came too late to prove anything"
    # Its temporary fragment stores (no cache folder) are beside the output, for the next build to remove.
    assert list(scratch_path(output).glob("gongkai-fragments-*")), "the killed build had no fragment store yet"
    assert list(system_temp.iterdir()) == [], "a killed build left files in the system's temp folder"
    result = build(small_data(tmp_path / "new", "新的标题"), output, siteurl=SITEURL)
    assert "新的标题" in (output / "cases" / "t-case" / "index.html").read_text(encoding="utf-8")
    assert result.report["records"] == 2
    leftovers = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".") or p.name.endswith(".building"))
    assert leftovers == [".out.previous"], leftovers  # the spare tree the next build recycles, nothing else (no scratch)
    assert whoosh_search(output, "新的标题").total == 1  # the index of the new site, swapped in with it


def living_in_group(group: int) -> list[int]:
    """Processes of a process group that are still running (not zombies), from /proc (Linux)."""
    alive = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[2]) == group:
            alive.append(int(stat.parent.name))
    return alive


def test_a_build_with_validation_errors_exits_1_and_leaves_the_previous_output(tmp_path):
    output = tmp_path / "out"
    data = small_data(tmp_path / "data", "原来的标题")
    build(data, output, siteurl=SITEURL)
    before = tree_digest(output)
    bad = case_record("t-bad", summery="拼错的字段")
    write_record(data, "case", bad)
    write_record(data, "case", case_record("t-case", title="新的标题", region="不存在的地区"))
    process = subprocess.run(
        ["invoke", "build", "--data", str(data), "--output", str(output)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "SOURCE_DATE_EPOCH": str(BUILD_EPOCH)},
    )
    assert process.returncode == 1, process.stdout + process.stderr
    both = process.stdout + process.stderr
    assert "Traceback" not in both, both
    lines = re.findall(r"^(\S+\.yaml):(\d+):(\d+): .+$", both, re.M)
    assert {Path(path).name for path, _, _ in lines} >= {"t-bad.yaml", "t-case.yaml"}, both
    assert tree_digest(output) == before
    assert not staging_path(output).exists()


# --- 4. the same data gives the same bytes ---------------------------------------------------


def first_difference(a: Path, b: Path) -> str | None:
    """``None`` when the trees are byte-identical, else what differs first."""
    files_a, files_b = tree_files(a), tree_files(b)
    if list(files_a) != list(files_b):
        only_a = sorted(set(files_a) - set(files_b))[:5]
        only_b = sorted(set(files_b) - set(files_a))[:5]
        return f"different files: only in {a.name}: {only_a}; only in {b.name}: {only_b}"
    for name in files_a:
        if files_a[name] != files_b[name]:
            x, y = files_a[name], files_b[name]
            at = next((i for i, (p, q) in enumerate(zip(x, y)) if p != q), min(len(x), len(y)))
            return f"{name} differs at byte {at}: {x[max(0, at - 60):at + 60]!r} vs {y[max(0, at - 60):at + 60]!r}"
    return None


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    root = tmp_path_factory.mktemp("synthetic")
    generate(root / "data", 300, seed=7)
    return root


def test_two_clean_builds_of_the_shipped_data_are_byte_identical(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(SAMPLE_DATA, data)
    build(data, tmp_path / "one", siteurl=SITEURL)
    build(data, tmp_path / "two-elsewhere", siteurl=SITEURL)
    assert first_difference(tmp_path / "one", tmp_path / "two-elsewhere") is None, \
        first_difference(tmp_path / "one", tmp_path / "two-elsewhere")


def test_two_clean_builds_of_synthetic_data_are_byte_identical(synthetic, tmp_path):
    build(synthetic / "data", tmp_path / "one", siteurl=SITEURL)
    build(synthetic / "data", tmp_path / "two", siteurl=SITEURL)
    difference = first_difference(tmp_path / "one", tmp_path / "two")
    assert difference is None, difference


def hostile_data(folder: Path) -> Path:
    """The injected records, and one plain record of each kind, in a new data folder."""
    data = new_data_dir(folder)
    for kind in KINDS:
        write_record(data, kind, RECORD_OF[kind](f"plain-{kind}"))
    for kind, n in INJECTED:
        write_record(data, kind, injected(kind, n))
    return data


@pytest.mark.parametrize("which", ["hostile", "shipped"])
def test_the_tuned_jinja_renders_every_file_as_stock_jinja(which, tmp_path, monkeypatch):
    """``templating.tune`` (joined output, its own escaping, direct calls) changes the cost of a page,
    never a byte: every file of a build with stock Jinja equals the tuned build's, on records whose
    every field carries markup, quotes and template syntax, and on the shipped data."""
    import gongkai.templating

    data = hostile_data(tmp_path / "data") if which == "hostile" else SAMPLE_DATA
    tuned_envs = []
    tune = gongkai.templating.tune
    monkeypatch.setattr(gongkai.templating, "tune", lambda env: (tune(env), tuned_envs.append(env)))
    build(data, tmp_path / "tuned", siteurl=SITEURL)
    assert [env.code_generator_class for env in tuned_envs] == [gongkai.templating.JoinedOutputCodeGenerator]
    monkeypatch.setattr(gongkai.templating, "tune", lambda env: None)
    build(data, tmp_path / "stock", siteurl=SITEURL)
    difference = first_difference(tmp_path / "tuned", tmp_path / "stock")
    assert difference is None, difference


def edit_data(data: Path, round_: int = 0) -> None:
    """Edit one record (title and body), add one, delete one."""
    cases = sorted((data / "cases").rglob("*.yaml"))
    edited, deleted = cases[0], cases[1]
    text = edited.read_text(encoding="utf-8")
    text, titles = re.subn(r'^title: "', 'title: "修改后的标题', text, count=1, flags=re.M)
    text, bodies = re.subn(r"^body: \|\n", "body: |\n  修改后的正文。\n\n", text, count=1, flags=re.M)
    assert titles == bodies == 1, "the synthetic record's layout changed"
    edited.write_text(text, encoding="utf-8")
    deleted.unlink()
    write_record(data, "disclosure", disclosure_record(f"t-added-{round_}", title=f"新增的公开记录{round_}"))


def test_a_cached_rebuild_after_edits_equals_a_clean_build(synthetic, tmp_path):
    """Issue 8: an incremental build (files linked from the previous output, cached records and bodies)
    gives exactly what a clean build of the edited data gives."""
    data, cache, output = tmp_path / "data", tmp_path / "cache", tmp_path / "out"
    shutil.copytree(synthetic / "data", data)
    with_cache = {"cache_dir": cache}
    _build_cached(data, output, **with_cache)
    # A fresh output folder beside the kept build cache (a CI job that keeps only the cache): every file
    # is made again, the search index's from the kept corpus (nothing analyzed), and is a clean build's.
    result = _build_cached(data, tmp_path / "fresh", **with_cache)
    assert result.report["search"]["documents_analyzed"] == 0 and result.report["reused"] == 0
    difference = first_difference(tmp_path / "fresh", output)
    assert difference is None, f"fresh output: {difference}"
    # The first rebuild links unchanged files from the live output; later ones recycle the spare tree.
    for round_, recycled in enumerate((False, True, True)):
        edit_data(data, round_)
        result = _build_cached(data, output, **with_cache)
        assert result.report["recycled"] is recycled
        assert result.report["reused"] > 100, "the rebuild did not reuse the previous output"
        clean = tmp_path / f"clean{round_}"
        build(data, clean, siteurl=SITEURL)
        difference = first_difference(output, clean)
        assert difference is None, f"rebuild {round_ + 1}: {difference}"
        assert not staging_path(output).exists()


def _build_cached(data: Path, output: Path, cache_dir: Path):
    from conftest import build_epoch
    from gongkai.build import build_site

    with build_epoch():
        return build_site(data, output, overrides={"SITEURL": SITEURL}, cache_dir=cache_dir)


# --- 5. no path leaves the output folder ------------------------------------------------------

HOSTILE_IDS = ["../../etc/x", "..%2f..%2fetc%2fx", "/etc/passwd", "..", "a/../../b", "C:\\x", "x\0y", "%2e%2e"]


@pytest.mark.parametrize("record_id", HOSTILE_IDS)
def test_validation_refuses_path_traversal_ids(tmp_path, record_id):
    data = new_data_dir(tmp_path / "data")
    write_record(data, "case", case_record("t-ok"))
    text = yaml.safe_dump(case_record(record_id), allow_unicode=True)
    (data / "cases" / "hostile.yaml").write_text(text, encoding="utf-8")
    output = tmp_path / "out"
    with pytest.raises(ProblemsFound) as caught:
        build(data, output, siteurl=SITEURL)
    messages = "\n".join(str(p) for p in caught.value.problems)
    assert "hostile.yaml" in messages and "id" in messages, messages
    assert not output.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]


@pytest.mark.parametrize("vocab_id", ["../../etc/x", "..%2fx", "/abs", "a/b"])
def test_validation_refuses_path_traversal_vocabulary_ids(tmp_path, vocab_id):
    data = new_data_dir(tmp_path / "data")
    topics = data / "vocab" / "topics.yaml"
    entries = yaml.safe_load(topics.read_text(encoding="utf-8"))
    entries.append({"id": vocab_id, "name": "穿越目录的主题"})
    topics.write_text(yaml.safe_dump(entries, allow_unicode=True, sort_keys=False), encoding="utf-8")
    write_record(data, "case", case_record("t-ok", topics=["穿越目录的主题"]))
    output = tmp_path / "out"
    with pytest.raises(ProblemsFound) as caught:
        build(data, output, siteurl=SITEURL)
    assert "topics.yaml" in "\n".join(str(p) for p in caught.value.problems)
    assert not output.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]


@pytest.mark.parametrize("path", [
    "../x.html", "../../etc/passwd", "/etc/passwd", "cases/../../x/", "a/..\\..\\b", "x\0y", "..", "cases/..", "../",
])
def test_output_tree_refuses_unsafe_paths(tmp_path, path):
    root = tmp_path / "site"
    tree = OutputTree(root)
    with pytest.raises(UnsafePath):
        tree.write_text(path, "x")
    with pytest.raises(UnsafePath):
        tree.write_keyed(path, "key", lambda: "x")
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) in ([], ["site"])


def test_output_tree_writes_safe_paths_inside(tmp_path):
    tree = OutputTree(tmp_path / "site")
    tree.write_text("cases/x/", "页")
    tree.write_text("feeds/all.atom.xml", "<feed/>")
    assert (tmp_path / "site" / "cases" / "x" / "index.html").read_text(encoding="utf-8") == "页"
    assert tree.written == {"cases/x/index.html", "feeds/all.atom.xml"}


def test_a_previous_manifest_cannot_link_files_from_outside(tmp_path):
    """The manifest of the previous output is data on disk: a forged entry must not link a file from elsewhere."""
    previous = tmp_path / "previous"
    previous.mkdir()
    (tmp_path / "secret.txt").write_text("secret", encoding="utf-8")
    forged = {"format": MANIFEST_FORMAT, "keys": {"../secret.txt": "k"}, "unkeyed": []}
    (previous / MANIFEST).write_text(json.dumps(forged), encoding="utf-8")
    tree = OutputTree(tmp_path / "site", previous)
    with pytest.raises(UnsafePath):
        tree.write_keyed("../secret.txt", "k", lambda: "x")


def test_a_recycled_file_is_not_kept_once_this_build_wrote_its_path(tmp_path):
    """The recycled tree's key for a path is void once the build has written that path otherwise."""
    from gongkai.output import recycle_spare, spare_path, swap_in

    output = tmp_path / "out"
    for content in ("一", "二"):  # two builds: the first becomes the spare
        staging = staging_path(output)
        tree = OutputTree(staging)
        tree.write_keyed("cases/x/", "key-x", lambda: content)
        tree.finish()
        swap_in(staging, output)
    assert spare_path(output).is_dir()
    staging = staging_path(output)
    assert recycle_spare(output, staging)
    tree = OutputTree(staging, output)
    tree.write_text("cases/x/", "跳转页")
    tree.write_keyed("cases/x/", "key-x", lambda: "记录页")
    # not the redirect this build wrote over the recycled file, but the live output's file of that key
    assert (staging / "cases" / "x" / "index.html").read_text(encoding="utf-8") == "二"


def test_a_staging_file_shared_with_the_live_site_is_replaced_one_it_alone_holds_is_rewritten(tmp_path):
    """Writing in place saves making new inodes (slow on ext4 just after as many were freed), but a
    file that is also the live site's (a hard link) must never change under a reader."""
    live, staging = tmp_path / "live", tmp_path / "staging"
    for folder in (live, staging):
        folder.mkdir()
    (live / "shared.html").write_text("live page", encoding="utf-8")
    os.link(live / "shared.html", staging / "shared.html")
    (staging / "alone.html").write_text("an older page, rather longer than the new one", encoding="utf-8")
    alone_inode = (staging / "alone.html").stat().st_ino
    tree = OutputTree(staging)
    tree.write_text("shared.html", "new page")
    tree.write_text("alone.html", "new page")
    assert (live / "shared.html").read_text(encoding="utf-8") == "live page"
    assert (staging / "shared.html").read_text(encoding="utf-8") == "new page"
    assert (staging / "shared.html").stat().st_ino != (live / "shared.html").stat().st_ino
    assert (staging / "alone.html").read_text(encoding="utf-8") == "new page"  # truncated, not just overwritten
    assert (staging / "alone.html").stat().st_ino == alone_inode


def test_a_file_written_in_pieces_is_its_pieces_cut_to_length_and_reused_by_its_key(tmp_path):
    """``write_keyed_in_pieces`` (the open data's joined files, a worker's run at a time): bytes and
    ranges of other files in order, over a longer recycled file cut to their length, counted as
    written only once closed; a path the live site holds with the same key is linked, not made."""
    from gongkai.output import CopiedRange

    live, staging = tmp_path / "live", tmp_path / "staging"
    live_tree = OutputTree(live)
    live_tree.write_keyed("data/records.json", "key-1", lambda: "上次的内容")
    live_tree.finish()
    run = tmp_path / "run"
    run.write_bytes("甲乙丙丁".encode("utf-8") * 200_000)  # (2.4 MB: written past the page cache, in blocks)
    (staging / "data").mkdir(parents=True)
    (staging / "data" / "all.csv").write_bytes(b"a recycled file, longer than what is written over it" * 100_000)
    tree = OutputTree(staging, live)
    assert tree.write_keyed_in_pieces("data/records.json", "key-1") is None  # (linked from the live site)
    file = tree.write_keyed_in_pieces("data/all.csv", "key-2")
    file.add(b"head,")
    file.add(CopiedRange(str(run), 3, 6))
    file.add(b",")
    file.add(CopiedRange(str(run), 12, 700_001 * 3))
    file.add(b",tail")
    assert "data/all.csv" not in tree.written
    file.close()
    body = run.read_bytes()[12:12 + 700_001 * 3]
    assert (staging / "data" / "all.csv").read_bytes() == "head,乙丙,".encode("utf-8") + body + b",tail"
    assert (staging / "data" / "records.json").read_text(encoding="utf-8") == "上次的内容"
    assert {"data/all.csv", "data/records.json"} <= tree.written
    assert tree.keys["data/all.csv"] == "key-2"


def test_a_search_step_failing_beside_the_others_fails_the_build_and_keeps_the_output(tmp_path, monkeypatch):
    """On a rebuild the search step runs in a forked process; its error must stop the build with the
    child's traceback, and leave the live output and its search index as they were."""
    from gongkai import generator

    data, output, cache = small_data(tmp_path / "data", "原来的标题"), tmp_path / "out", tmp_path / "cache"
    _build_cached(data, output, cache)
    before, whoosh_before = tree_digest(output), tree_digest(whoosh_dir(output))

    def broken(site):
        raise ValueError("搜索索引步骤出错")

    monkeypatch.setattr(generator, "OUTPUT_STEPS", tuple(
        (name, broken if name == "search index" else step) for name, step in generator.OUTPUT_STEPS))
    write_record(data, "case", case_record("t-case", title="新的标题"))
    with pytest.raises(Exception, match="搜索索引步骤出错"):
        _build_cached(data, output, cache)
    assert tree_digest(output) == before
    assert tree_digest(whoosh_dir(output)) == whoosh_before
    assert not staging_path(output).exists()


@pytest.mark.parametrize("rebuild", [False, True], ids=["clean", "rebuild"])
def test_the_whoosh_writer_failing_fails_the_build_and_keeps_the_output(tmp_path, monkeypatch, rebuild):
    """The search step leaves its whoosh writer running while the next step (the feeds on a clean
    build, the sitemap on a rebuild) goes on beside it; the writer's failure must still stop the
    build and leave the live output and its search index as they were."""
    data, output, cache = small_data(tmp_path / "data", "原来的标题"), tmp_path / "out", tmp_path / "cache"
    _build_cached(data, output, cache)
    before, whoosh_before = tree_digest(output), tree_digest(whoosh_dir(output))

    def broken(*args):
        raise ValueError("whoosh 索引写入出错")

    monkeypatch.setattr("gongkai.search.step.write_whoosh", broken)
    write_record(data, "case", case_record("t-case", title="新的标题"))
    with pytest.raises(RuntimeError, match="writing the whoosh index .* failed"):
        _build_cached(data, output, cache if rebuild else tmp_path / "empty-cache")  # no kept corpus: a clean build's order
    assert tree_digest(output) == before
    assert tree_digest(whoosh_dir(output)) == whoosh_before
    assert not staging_path(output).exists()
