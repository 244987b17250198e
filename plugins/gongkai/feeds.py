"""Atom and RSS 2.0 feeds (site.md "URLs"): everything, each kind, each facet value.

Journalists subscribe to these, so an entry must behave the way a feed reader
expects of a permanent thing:

* its id is the record's permanent absolute URL and never changes;
* ``updated`` is the record's last change (``updated``, else ``published``),
  or the date of its newest correction if that is later, so a correction
  brings the entry back to the top with the note at the head of its content;
* a withdrawn record's entry keeps its id but becomes the tombstone (title,
  withdrawal date, reason) with ``updated`` = the withdrawal date, in the
  "all" and kind feeds (facets of a withdrawn record are not public any more);
* entries are newest ``updated`` first (ties by id); each feed holds the newest
  ``FEED_MAX_ITEMS`` (default 50); the feed's ``updated`` is its newest
  entry's, so two builds of the same data give the same bytes (feedgen's
  ``now()`` defaults are always overridden).

The entry content is the structured fields as readable Chinese HTML plus the
sanitized body. Each record's entry is made once (``EntryCache``) and shared by
every feed it appears in: at 20,000 records the facet feeds number in the
hundreds or thousands, each with up to 50 entries, and per-entry work is what
would otherwise dominate.

Each feed starts with ``<?xml-stylesheet?>`` processing instructions: first an
XSL stylesheet (``theme/feeds/feed.xsl``) that turns it into a readable
Chinese page in a browser, then a CSS stylesheet (``feed.css``) that browsers
without XSLT (Chromium is removing it) apply to the raw XML instead. Both are
referenced by relative paths, so they are always same-origin.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date, datetime
from itertools import islice
from typing import Any, Iterable

from feedgen.entry import FeedEntry
from feedgen.feed import FeedGenerator
from lxml import etree
from pydantic import BaseModel

from .fields import CHINA_TIME
from .jsonschema import vocab_fields
from .present import cn_date, cn_datetime
from .publication import Tombstone
from .records import RECORD_TYPES, Record
from .site import Site
from .urls import FEED_FORMATS

DEFAULT_MAX_ITEMS = 50
XSL_STYLESHEET = "feeds/feed.xsl"
CSS_STYLESHEET = "feeds/feed.css"
"""Theme assets (``theme/static/feeds/``), published under ``Urls.static``."""

KIND_ORDER = ("disclosure", "case", "report")
"""The kinds' feeds in the order the site's navigation lists them."""

NOT_IN_FIELD_LIST = frozenset({
    "id", "title", "status", "summary", "body", "corrections", "withdrawal", "sources", "formerly", "personal_data",
})
"""Fields an entry shows elsewhere (title, summary, corrections, body, sources) or never (as on the record page)."""


def _moment(day: date) -> datetime:
    """A calendar date as the start of that day in China time."""
    return datetime(day.year, day.month, day.day, tzinfo=CHINA_TIME)


def entry_updated(record: Record) -> datetime:
    """When the record's entry last changed: its last change or its newest correction."""
    changed = record.last_changed
    assert changed is not None  # public records are published
    corrected = record.last_corrected
    if corrected is not None:
        changed = max(changed, _moment(corrected))
    return changed.astimezone(CHINA_TIME)


# --- readable HTML of a record's fields ---------------------------------------------


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


FIELD_SEPARATOR = _esc("；")


class FieldsHtml:
    """The structured fields of a record as Chinese HTML (labels are the schema's titles)."""

    def __init__(self, vocab):
        self.vocab = vocab
        self.vocab_fields = {kind: vocab_fields(model) for kind, model in RECORD_TYPES.items()}
        self._labels: dict[type, list[tuple[str, str]]] = {}

    def labels(self, model: type[BaseModel]) -> list[tuple[str, str]]:
        """``(field name, escaped title)`` of a model's fields, in order: worked out once per model."""
        labels = self._labels.get(model)
        if labels is None:
            labels = self._labels[model] = [(name, _esc(info.title or name)) for name, info in model.model_fields.items()]
        return labels

    def name(self, vocabulary: str, value_id: str) -> str:
        entry = getattr(self.vocab, vocabulary).get(value_id)
        return entry.name if entry else value_id

    def value(self, value: Any, vocabulary: str | None = None) -> str:
        if vocabulary is not None:
            ids = value if isinstance(value, list) else [value]
            return _esc("、".join(self.name(vocabulary, v) for v in ids))
        if isinstance(value, str):
            return _esc(value)
        if isinstance(value, bool):
            return "是" if value else "否"
        if isinstance(value, datetime):
            return _esc(cn_datetime(value))
        if isinstance(value, date):
            return _esc(cn_date(value))
        if isinstance(value, float):
            return _esc(f"{value:g}")
        if isinstance(value, BaseModel):
            return FIELD_SEPARATOR.join(
                f"{label}：{self.value(getattr(value, name))}"
                for name, label in self.labels(type(value))
                if getattr(value, name) not in (None, [], {})
            )
        if isinstance(value, dict):
            return _esc("，".join(f"{key} {item}" for key, item in value.items()))
        if isinstance(value, list):
            tag = "ol" if value and isinstance(value[0], BaseModel) else "ul"
            return f"<{tag}>" + "".join(f"<li>{self.value(item)}</li>" for item in value) + f"</{tag}>"
        return _esc(value)

    def rows(self, record: Record) -> list[tuple[str, str]]:
        refs = self.vocab_fields[record.kind]
        rows = [("类别", _esc(record.label))]
        for name, label in self.labels(RECORD_TYPES[record.kind]):
            value = getattr(record, name)
            if name in NOT_IN_FIELD_LIST or value in (None, [], {}):
                continue
            rows.append((label, self.value(value, refs.get(name))))
        return rows

    def list_html(self, record: Record) -> str:
        return "<dl>" + "".join(f"<dt>{label}</dt><dd>{value}</dd>" for label, value in self.rows(record)) + "</dl>"


# --- entries ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    """One entry of the feeds, made once and shared by every feed that lists it."""

    record_id: str
    updated: datetime
    entry: FeedEntry


RSS_NAMESPACES = {"atom": "http://www.w3.org/2005/Atom", "content": "http://purl.org/rss/1.0/modules/content/"}
"""The namespaces feedgen declares on ``<rss>``."""
INDENT = "  "
ENTRY_LEVEL = {"atom": 1, "rss": 2}
"""How deep an entry sits in the pretty-printed feed (``feed/entry``, ``rss/channel/item``)."""


class EntryCache:
    """Makes each record's (or tombstone's) feed entry once per build."""

    def __init__(self, site: Site):
        self.site = site
        self.fields = FieldsHtml(site.publication.vocab)
        self.items: dict[str, Item] = {}
        self.serialized: dict[tuple[str, str], bytes] = {}

    def url(self, url_kind: str, record_id: str) -> str:
        urls = self.site.urls
        return urls.absolute(urls.record(url_kind, record_id))

    def content(self, record: Record, url: str) -> str:
        parts: list[str] = []
        if record.summary:
            parts.append(f"<p><strong>摘要：</strong>{_esc(record.summary)}</p>")
        if record.corrections:
            notes = "".join(f"<li>{_esc(cn_date(c.on))}：{_esc(c.note)}</li>" for c in record.corrections)
            parts.append(f"<h2>更正说明</h2><ul>{notes}</ul>")
        parts.append(self.fields.list_html(record))
        body = self.site.body_html(record)
        if body:
            parts.append(f"<h2>正文</h2>{body}")
        if record.sources:
            links = "".join(f'<li><a href="{_esc(s.url)}">{_esc(s.title)}</a></li>' for s in record.sources)
            parts.append(f"<h2>来源</h2><ul>{links}</ul>")
        parts.append(f'<p><a href="{_esc(url)}">在网站上查看本记录</a></p>')
        return "\n".join(parts)

    def summary(self, record: Record) -> str:
        """Plain text: the record's summary, else a line saying what it is."""
        if record.summary:
            return record.summary
        region = self.fields.name("regions", record.region)
        issuer = self.fields.name("organizations", record.issuer)
        return f"{record.label} · {region} · {issuer} · {cn_date(record.published)}发布"

    def record(self, record: Record) -> Item:
        item = self.items.get(record.id)
        if item is None:
            url = self.url(record.url_kind, record.id)
            entry = FeedEntry()
            entry.guid(url, permalink=True)
            entry.title(record.title)
            entry.link(href=url, rel="alternate", type="text/html")
            entry.author(name=self.fields.name("organizations", record.issuer))
            assert record.published is not None
            entry.published(record.published.astimezone(CHINA_TIME))
            updated = entry_updated(record)
            entry.updated(updated)
            _plain_summary(entry, self.summary(record))
            entry.content(self.content(record, url), type="html")
            item = self.items[record.id] = Item(record.id, updated, entry)
        return item

    def items_of(self, things: Iterable[Record | Tombstone]) -> list[Item]:
        return [self.tombstone(t) if isinstance(t, Tombstone) else self.record(t) for t in things]

    def entry_xml(self, item: Item, fmt: str) -> bytes:
        """The entry as feedgen serializes it in ``fmt``, made once per build."""
        key = (item.record_id, fmt)
        xml = self.serialized.get(key)
        if xml is None:
            # Serialized inside a parent like the one feedgen's own atom_str()/rss_str() puts it
            # in (same namespaces, same indentation), then cut out of it: the same bytes.
            if fmt == "atom":
                parent, element = etree.Element("feed"), item.entry.atom_entry()
            else:
                parent, element = etree.Element("channel", nsmap=RSS_NAMESPACES), item.entry.rss_entry()
            parent.append(element)
            etree.indent(parent, space=INDENT, level=ENTRY_LEVEL[fmt] - 1)
            whole = etree.tostring(parent, encoding="UTF-8")
            start = whole.index(b">") + 2  # after the parent's start tag and its newline
            end = whole.rindex(b"</")
            xml = self.serialized[key] = whole[start:end].rstrip(b" ")
        return xml

    def tombstone(self, tombstone: Tombstone) -> Item:
        item = self.items.get(tombstone.id)
        if item is None:
            url = self.url(tombstone.url_kind, tombstone.id)
            when = cn_date(tombstone.withdrawn_on)
            entry = FeedEntry()
            entry.guid(url, permalink=True)
            entry.title(f"【已撤回】{tombstone.title}")
            entry.link(href=url, rel="alternate", type="text/html")
            updated = _moment(tombstone.withdrawn_on)
            entry.updated(updated)  # no published/pubDate: the record's own dates are not public any more
            _plain_summary(entry, f"本记录已于{when}撤回。撤回原因：{tombstone.reason}")
            entry.content(
                f"<p>本记录已于{_esc(when)}撤回。</p><p>撤回原因：{_esc(tombstone.reason)}</p>", type="html"
            )
            item = self.items[tombstone.id] = Item(tombstone.id, updated, entry)
        return item


def _plain_summary(entry: FeedEntry, text: str) -> None:
    """Plain ``text`` as the entry's Atom summary (type text) and RSS description.

    RSS readers take ``<description>`` as HTML, so there the text is escaped once more:
    a summary reading ``<script>`` must show as those characters, never become markup.
    """
    entry.summary(text)
    entry.description(html.escape(text, quote=False))  # also sets the Atom content, which entry.content() then replaces


# --- feeds ------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedSpec:
    """One feed: where it goes, what it is called, which page it belongs to, and what it lists."""

    scope: str
    title: str
    description: str
    page: str
    """The site path of the listing this feed follows."""
    things: list[Record | Tombstone]
    """Its records and tombstones, newest entry first."""
    updated: datetime
    """The feed's ``updated``: its newest entry's (the build time when it is empty)."""


def stylesheet_instructions(scope: str, site: Site) -> bytes:
    """The ``<?xml-stylesheet?>`` lines for a feed at ``feeds/<scope>``, relative (same-origin)."""
    up = "../" * (scope.count("/") + 1)
    xsl = up + site.urls.static(XSL_STYLESHEET)
    css = up + site.urls.static(CSS_STYLESHEET)
    return (
        f'<?xml-stylesheet type="text/xsl" href="{xsl}"?>\n'
        f'<?xml-stylesheet type="text/css" href="{css}"?>\n'
    ).encode("utf-8")


def _feed_head(site: Site, spec: FeedSpec) -> FeedGenerator:
    urls = site.urls
    sitename = site.setting("SITENAME", "")
    feed = FeedGenerator()
    feed.id(urls.absolute(urls.feed(spec.scope, "atom")))
    feed.title(spec.title)
    feed.subtitle(spec.description)  # also RSS <description>
    feed.language(site.setting("DEFAULT_LANG", "zh-CN"))
    feed.author(name=sitename or "公开")
    feed.generator("Gongkai")
    if site.setting("GONGKAI_LICENSE"):
        feed.rights(f"开放数据许可：{site.setting('GONGKAI_LICENSE')}")
    feed.updated(spec.updated)  # also RSS <lastBuildDate>: never the clock
    return feed


FEED_END = {"atom": b"</feed>", "rss": b"  </channel>"}
"""Where entries go in a serialized feed: they are the last children of these elements."""


def render_feed(site: Site, spec: FeedSpec, fmt: str, cache: EntryCache | None = None) -> bytes:
    """The bytes of one feed in ``fmt`` (``atom`` or ``rss``).

    With a ``cache``, each entry's XML is serialized once per build (by feedgen)
    and spliced into the feed; without, feedgen serializes the whole feed. Both
    give the same document (a test holds them to it); the first is what makes
    thousands of facet feeds cheap.
    """
    urls = site.urls
    feed = _feed_head(site, spec)
    self_type = "application/atom+xml" if fmt == "atom" else "application/rss+xml"
    feed.link(href=urls.absolute(urls.feed(spec.scope, fmt)), rel="self", type=self_type)
    feed.link(href=urls.absolute(spec.page), rel="alternate", type="text/html")  # last: RSS <link>
    items = (cache or EntryCache(site)).items_of(spec.things)
    if cache is None:
        for item in items:
            feed.add_entry(item.entry, order="append")
    xml = feed.atom_str(pretty=True) if fmt == "atom" else feed.rss_str(pretty=True)
    if cache is not None and items:
        end = xml.rindex(FEED_END[fmt])
        xml = xml[:end] + b"".join(cache.entry_xml(item, fmt) for item in items) + xml[end:]
    declaration, rest = xml.split(b"\n", 1)
    return declaration + b"\n" + stylesheet_instructions(spec.scope, site) + rest


def feed_specs(site: Site, limit: int) -> Iterable[FeedSpec]:
    """Every feed of the site, with its newest ``limit`` records and tombstones."""
    publication = site.publication
    sitename = site.setting("SITENAME", "")
    # (updated, id) for every record and tombstone: cheap, and all the ordering needs.
    keyed: list[tuple[datetime, str, Record | Tombstone]] = [(entry_updated(r), r.id, r) for r in publication.records]
    keyed += [(_moment(t.withdrawn_on), t.id, t) for t in publication.tombstones]
    keyed.sort(key=lambda k: k[1])
    keyed.sort(key=lambda k: k[0], reverse=True)
    updated = {thing_id: moment for moment, thing_id, _ in keyed}
    everything = [thing for _, _, thing in keyed]
    # Each record's place in that order, found by the object's identity (``everything`` keeps it alive):
    # a facet's newest entries are then its records' places sorted, in C, not a heap over Python keys.
    rank = {id(thing): position for position, thing in enumerate(everything)}
    empty = publication.now.astimezone(CHINA_TIME)

    def spec(scope: str, title: str, description: str, page: str, things: list[Record | Tombstone]) -> FeedSpec:
        return FeedSpec(scope, title, description, page, things, updated[things[0].id] if things else empty)

    note = f"最新 {limit} 条，按更新时间从新到旧；更正和撤回也会出现在这里。"
    yield spec("all", f"{sitename} · 全部更新", f"全站公开记录的更新。{note}", site.urls.home(), everything[:limit])
    for kind in KIND_ORDER:
        model = RECORD_TYPES[kind]
        of_kind = list(islice((thing for thing in everything if thing.kind == kind), limit))
        yield spec(f"{kind}s", f"{sitename} · {model.label}", f"{model.label}的更新。{note}", site.urls.listing(f"{kind}s"), of_kind)
    for value in site.facets.all_values():
        facet = value.facet
        newest = sorted(map(rank.__getitem__, map(id, value.records)))[:limit]
        yield spec(
            value.feed_scope,
            f"{sitename} · {facet.label}：{value.name}",
            f"{facet.label}「{value.name}」下公开记录的更新。{note}",
            site.urls.facet(facet.url_prefix, value.id),
            [everything[position] for position in newest],
        )


def listed(site: Site, spec: FeedSpec) -> tuple[str, str]:
    """What a feed lists, for its key: its records by their file digests, its tombstones by what they show.

    (Their order follows from their content, so the two sets say it all.)
    """
    records = [thing for thing in spec.things if isinstance(thing, Record)]
    tombstones = [thing for thing in spec.things if not isinstance(thing, Record)]
    return site.fingerprints.of_records(records), site.fingerprints.of(tombstones)


def write_feeds(site: Site) -> None:
    """Write every feed in every format (``Urls.feed(scope, fmt)``).

    A feed is keyed by its head and what it lists (``listed``); settings,
    vocabularies and code are in the global key. So an edit remakes exactly
    the feeds that list the edited record.
    """
    limit = int(site.setting("FEED_MAX_ITEMS", DEFAULT_MAX_ITEMS) or DEFAULT_MAX_ITEMS)
    cache = EntryCache(site)
    for spec in feed_specs(site, limit):
        made_from = (spec.scope, spec.title, spec.description, spec.page, spec.updated.isoformat(), *listed(site, spec))
        for fmt in FEED_FORMATS:
            site.write_keyed(site.urls.feed(spec.scope, fmt), lambda spec=spec, fmt=fmt: render_feed(site, spec, fmt, cache), *made_from)
