"""The HTML pages of the site (site.md "URLs"): what a citizen browses.

Home, the three listings (paginated), one page per public record, the facet
listings and their index pages, ``/stats/``, tombstones of withdrawn records,
redirect pages for every ``formerly`` id, and the ``404.html`` a static host
serves for a missing address. Everything here reads
``site.publication`` and ``site.facets`` only, so nothing that is not public
can reach a page; every path comes from ``site.urls``.

The templates live in the theme (``theme/templates``) and are loaded through
Pelican's environment, so an operator overrides any of them the Pelican way.
This module computes what the templates need (pagination, feed links, facet
trees, SVG charts) and passes it in; the templates only lay it out.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from operator import attrgetter
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from markupsafe import Markup, escape

from .charts import Bar, bar_chart, format_number
from .facets import FACET_BY_KEY, FACETS, Facet, Facets, FacetValue, year_of
from .fields import CHINA_TIME
from .fragments import FragmentStore
from .records import RECORD_TYPES, STAGE_ORDER, Case, CaseStage, Record, Report
from .site import Site
from .templating import prepare_templates
from .urls import Urls
from .workers import ForkedWork

HOME_NEWEST = 5
"""Newest records of each kind on the home page (keeps it well under 60 KB)."""
PAGER_WINDOW = 2
"""Page numbers shown either side of the current one in a pager."""
FIRST_BATCH, FORK_BATCH = 200, 1000
FORK_AFTER_MADE = 100
"""Record pages are checked here in batches, the first small (on a clean build every page is made,
and the cores wait meanwhile), then doubling up to ``FORK_BATCH``; once a batch makes this many, the
rest go to forked workers."""


@dataclass(frozen=True)
class Kind:
    """One kind of record as the site presents it."""

    kind: str
    url_kind: str
    label: str


KINDS: tuple[Kind, ...] = tuple(
    Kind(kind, kind + "s", RECORD_TYPES[kind].label) for kind in ("disclosure", "case", "report")
)
"""In the order of the navigation: disclosures, cases, reports."""
KIND_BY_NAME = {k.kind: k for k in KINDS}


@dataclass(frozen=True)
class Feed:
    """A feed a page advertises (``<link rel="alternate">`` and a visible 订阅 link)."""

    title: str
    atom: str
    rss: str


def feed_of(site: Site, scope: str, title: str) -> Feed:
    return Feed(title, site.urls.feed(scope, "atom"), site.urls.feed(scope, "rss"))


@dataclass(frozen=True)
class Pagination:
    """Where one page of a listing sits among the others."""

    number: int
    count: int
    total: int
    """Records in the whole listing."""
    path_of: Callable[[int], str]

    @property
    def path(self) -> str:
        return self.path_of(self.number)

    @property
    def made_from(self) -> str:
        """What a page shows of its pagination (the other pages' paths follow from the page's own)."""
        return f"{self.number}/{self.count}/{self.total}"

    @property
    def previous(self) -> str | None:
        return self.path_of(self.number - 1) if self.number > 1 else None

    @property
    def next(self) -> str | None:
        return self.path_of(self.number + 1) if self.number < self.count else None

    def numbers(self) -> list[int | None]:
        """Page numbers to offer: first, last and a window around this one; ``None`` marks a gap."""
        shown = {1, self.count, *range(self.number - PAGER_WINDOW, self.number + PAGER_WINDOW + 1)}
        out: list[int | None] = []
        for n in sorted(n for n in shown if 1 <= n <= self.count):
            if out and out[-1] is not None and n - out[-1] > 1:
                out.append(None)
            out.append(n)
        return out


def paginate(records: Sequence[Record], size: int, path_of: Callable[[int], str]) -> Iterator[tuple[Pagination, Sequence[Record]]]:
    """Pages of ``size`` records (at least one page, possibly empty)."""
    size = max(1, int(size))
    count = max(1, -(-len(records) // size))
    for number in range(1, count + 1):
        yield Pagination(number, count, len(records), path_of), records[(number - 1) * size : number * size]


@dataclass
class TreeNode:
    """A facet value with the values under it, for index pages and charts."""

    value: FacetValue
    children: list["TreeNode"]


def facet_tree(site: Site, key: str) -> list[TreeNode]:
    values = site.facets[key]

    def node(value: FacetValue, depth: int) -> TreeNode:
        kids = [values[c] for c in value.children if c in values] if depth < 16 else []
        return TreeNode(value, [node(child, depth + 1) for child in kids])

    return [node(value, 0) for value in site.facets.top_level(key)]


def flatten(tree: list[TreeNode], level: int = 0) -> Iterator[tuple[FacetValue, int]]:
    for node in tree:
        yield node.value, level
        yield from flatten(node.children, level + 1)


def kind_counts(records: Sequence[Record]) -> list[tuple[Kind, int]]:
    counted = Counter(map(attrgetter("kind"), records))
    return [(k, counted[k.kind]) for k in KINDS]


def book_title(name: str) -> str:
    """A regulation's name in title marks: 《中国共产党问责条例》."""
    return name if name.startswith("《") else f"《{name}》"


def facet_path(urls: Urls, facets: Facets, key: str, value_id: str | None) -> str | None:
    """The facet page of a value, or None when no public record has it."""
    if value_id is None or value_id not in facets[key]:
        return None
    return urls.facet(FACET_BY_KEY[key].url_prefix, value_id)


# --- what every template gets ---------------------------------------------------


def case_timeline(case: Case) -> list[tuple[str, CaseStage | None]]:
    """A case's stages in ``STAGE_ORDER``, each with the case's entry for it (the first, if two) or None.

    (What ``selectattr`` did per stage in the template took a twelfth of a case page's time.)"""
    entries: dict[str, CaseStage] = {}
    for entry in case.stages:
        entries.setdefault(entry.stage, entry)
    return [(stage, entries.get(stage)) for stage in STAGE_ORDER]


def template_helpers(urls: Urls, facets: Facets) -> dict[str, Any]:
    """Helpers every page template may call: Jinja globals of the build (see ``generator.template_globals``).

    ``facet_href`` depends on which facet values have records; a page's key does not
    need it: a record page links only its own values (which have a page through it),
    and a facet page's links are in its key (ancestors, children).
    """

    def facet_href(key: str, value_id: str | None) -> str | None:
        return facet_path(urls, facets, key, value_id)

    links: dict[tuple[str, str | None, str, type], Markup] = {}

    def facet_link(key: str, value_id: str | None, name: str) -> Markup:
        """``name`` linked to its facet page (just the name when the value has no page).

        Made once per value and name (2 µs, and a record page links ten or so of a few thousand in
        all); keyed by the name's class too, since a ``Markup`` name is not escaped again."""
        link = links.get((key, value_id, name, name.__class__))
        if link is None:
            path = facet_href(key, value_id)
            link = escape(name) if path is None else Markup(f'<a href="{escape(urls.href(path))}">{escape(name)}</a>')
            links[(key, value_id, name, name.__class__)] = link
        return link

    return {
        "kinds": KINDS,
        "kind_of": KIND_BY_NAME,
        "facet_href": facet_href,
        "facet_link": facet_link,
        "year_of": year_of,
        "case_timeline": case_timeline,
        "number": format_number,
        "book": book_title,
    }


@dataclass(frozen=True, eq=False)
class ItemStyle:
    """How a listing shows its records: the arguments of the ``record_item`` macro.

    Compared and hashed by identity (the styles are the constants below): each of a build's
    140,000 item lookups hashes one, and a dataclass's own hash is a Python call on a tuple."""

    level: int
    show_kind: bool = False
    summary_chars: int | None = None


LISTING_ITEM = ItemStyle(2)
FACET_ITEM = ItemStyle(3, show_kind=True)
HOME_ITEM = ItemStyle(3, summary_chars=60)


KEPT_STYLES = (LISTING_ITEM, FACET_ITEM)
"""The styles every public record's item is shown in (its listing, its facets): kept between builds."""


class RecordItems:
    """Each record's list item HTML (``_macros.html`` ``record_item``), made once per style.

    A record appears on seven or so listing and facet pages; rendering its item
    once and joining strings is what makes those pages cheap. Made on first
    use, so a rebuild that reuses every page renders none. With a build cache,
    the items in ``KEPT_STYLES`` are also kept between builds (``items``
    fragments, by the record's file digest, under the global key): adding or
    removing a record shifts every later page of its listings and facets, and
    those pages are then made from kept items, not from the macro again.
    """

    def __init__(self, site: Site):
        self._macro = site.env.get_template("_macros.html").module.record_item
        self._made: dict[tuple[ItemStyle, str], Markup] = {}
        self._digests = site.fingerprints.digests
        self._records = site.publication.records
        cache_dir = site.setting("GONGKAI_CACHE_PATH")
        self._store = FragmentStore(Path(cache_dir), "items", site.global_key) if cache_dir and site.global_key else None

    def _render(self, record: Record, style: ItemStyle) -> Markup:
        return self._macro(record, style.level, style.show_kind, style.summary_chars)

    def html(self, record: Record, style: ItemStyle) -> Markup:
        made = self._made.get((style, record.id))
        if made is not None:
            return made
        key = self._digests.get(record.id) if self._store is not None and style in KEPT_STYLES else None
        if key is None:
            made = self._made[(style, record.id)] = self._render(record, style)
            return made
        if self._store.keep(key):
            kept = [Markup(self._store.part(key, part).decode("utf-8")) for part in range(len(KEPT_STYLES))]
        else:
            kept = [self._render(record, kept_style) for kept_style in KEPT_STYLES]
            self._store.add(key, [str(html).encode("utf-8") for html in kept])
        for kept_style, html in zip(KEPT_STYLES, kept):
            self._made[(kept_style, record.id)] = html
        return self._made[(style, record.id)]

    def save(self) -> None:
        """Keep the items of every public record for the next build (those this build did not need too)."""
        if self._store is None:
            return
        digests = self._digests
        self._store.keep_all(filter(None, map(digests.get, (record.id for record in self._records))))
        self._store.save()


@dataclass(frozen=True)
class ItemList:
    """The list items of a page's records, rendered only when the page is made."""

    records: Sequence[Record]
    style: ItemStyle
    made_by: RecordItems = field(compare=False, repr=False)

    def made_from(self, site: Site) -> str:
        """What a page key needs of the list: its style and its records' digests."""
        return f"{self.style!r}:{site.fingerprints.of_records(self.records)}"

    def __iter__(self) -> Iterator[Markup]:
        return (self.made_by.html(record, self.style) for record in self.records)

    def __len__(self) -> int:
        return len(self.records)


# --- the pages ------------------------------------------------------------------


def site_feed(site: Site) -> Feed:
    return feed_of(site, "all", "全部记录")


def write_home(site: Site, items: RecordItems, by_kind: dict[str, list[Record]]) -> None:
    sections = [(k, len(by_kind[k.kind]), ItemList(by_kind[k.kind][:HOME_NEWEST], HOME_ITEM, items)) for k in KINDS]
    total, feeds = len(site.publication.records), [site_feed(site)]
    made_from = repr((total, feeds, [(kind, count, newest.made_from(site)) for kind, count, newest in sections]))
    site.render("home.html", site.urls.home(), made_from=made_from, title="首页", sections=sections,
                total=total, feeds=feeds)


def write_listings(site: Site, items: RecordItems, by_kind: dict[str, list[Record]]) -> None:
    size = site.setting("GONGKAI_PAGE_SIZE", 50)
    for kind in KINDS:
        feed = feed_of(site, kind.url_kind, kind.label)
        path_of = lambda n, k=kind.url_kind: site.urls.listing(k, n)
        for pagination, shown in paginate(by_kind[kind.kind], size, path_of):
            page_items = ItemList(shown, LISTING_ITEM, items)
            made_from = f"{(kind, feed)!r}|{pagination.made_from}|{page_items.made_from(site)}"
            site.render("listing.html", pagination.path, made_from=made_from,
                        title=kind.label, kind=kind, items=page_items, pagination=pagination, feeds=[feed])


def _ancestors(site: Site, value: FacetValue) -> list[tuple[str, str | None]]:
    """(name, facet path or None) of the value's parents, outermost first."""
    vocabulary = getattr(site.publication.vocab, value.facet.key, None)
    chain: list[tuple[str, str | None]] = []
    parent = value.parent
    while vocabulary is not None and parent and len(chain) < 32:
        entry = vocabulary.get(parent)
        if entry is None:
            break
        chain.append((entry.name, facet_path(site.urls, site.facets, value.facet.key, entry.id)))
        parent = getattr(entry, "parent", None)
    return chain[::-1]


def write_facets(site: Site, items: RecordItems) -> None:
    size = site.setting("GONGKAI_PAGE_SIZE", 50)
    for value in site.facets.all_values():
        facet = value.facet
        children = [site.facets[facet.key][c] for c in value.children]
        ancestors = _ancestors(site, value)
        feed = feed_of(site, value.feed_scope, f"{facet.label}：{value.name}")
        path_of = lambda n, f=facet, v=value: site.urls.facet(f.url_prefix, v.id, n)
        counts = [(k, value.kind_counts.get(k.kind, 0)) for k in KINDS]
        # What every page of this value shows besides its own records: not the value's whole record list.
        shared = repr((facet.key, value.id, value.name, ancestors, [(c.id, c.name, len(c.records)) for c in children],
                       counts, feed))
        for pagination, shown in paginate(value.records, size, path_of):
            page_items = ItemList(shown, FACET_ITEM, items)
            made_from = f"{shared}|{pagination.made_from}|{page_items.made_from(site)}"
            site.render("facet.html", pagination.path, made_from=made_from,
                        title=f"{facet.label}：{value.name}", facet=facet, value=value, ancestors=ancestors,
                        children=children, counts=counts, items=page_items, pagination=pagination, feeds=[feed])


def _circumstance_groups(site: Site) -> list[tuple[str, list[TreeNode]]]:
    vocab, values = site.publication.vocab, site.facets["circumstances"]
    groups: list[tuple[str, list[TreeNode]]] = []
    for regime in vocab.regimes:
        nodes = [TreeNode(values[c.id], []) for c in regime.circumstances if c.id in values]
        if nodes:
            groups.append((book_title(regime.name), nodes))
    return groups


def _tree_shown(nodes: list[TreeNode]) -> list[tuple[str, str, int, list]]:
    """What an index page shows of a facet tree: ids, names and counts (not the records)."""
    return [(n.value.id, n.value.name, len(n.value.records), _tree_shown(n.children)) for n in nodes]


def write_facet_indexes(site: Site) -> None:
    for facet in FACETS:
        if facet.key == "circumstances":
            groups = _circumstance_groups(site)
        else:
            groups = [("", facet_tree(site, facet.key))]
        shown = repr((facet, [(heading, _tree_shown(nodes)) for heading, nodes in groups]))
        site.render("facet_index.html", site.urls.facet_index(facet.url_prefix), made_from=shown,
                    title=facet.label, facet=facet, groups=groups)


def facet_indexes(site: Site) -> list[tuple[Facet, str]]:
    """Every facet and the path of its index page (for the stats page and the sitemap)."""
    return [(facet, site.urls.facet_index(facet.url_prefix)) for facet in FACETS]


def stats_charts(site: Site) -> list[dict[str, Any]]:
    """The charts of /stats/: counts by kind, year, region, circumstance and form."""
    facets, records = site.facets, site.publication.records
    tree_bars = lambda key: [Bar(v.name, len(v.records), level) for v, level in flatten(facet_tree(site, key))]
    by_year = sorted(facets["years"].values(), key=lambda v: v.id)
    charts = [
        ("kinds", "按类别", "各类记录数", "类别", [Bar(k.label, n) for k, n in kind_counts(records)], ""),
        ("years", "按发布年份", "各年份发布的记录数", "年份", [Bar(v.name, len(v.records)) for v in by_year], ""),
        ("regions", "按地区", "各地区的记录数（含下级地区）", "地区", tree_bars("regions"), ""),
        ("circumstances", "按问责情形", "问责案例按问责情形的数量（一案可有多个情形）", "问责情形",
         [Bar(v.name, len(v.records)) for v in facets["circumstances"].values()], ""),
        ("forms", "按问责方式", "问责案例按问责方式的数量（具体处分计入其所属方式）", "问责方式", tree_bars("forms"), ""),
    ]
    out = []
    for key, heading, caption, label_header, bars, unit in charts:
        facet = FACET_BY_KEY.get(key)
        out.append({
            "id": key,
            "heading": heading,
            "chart": bar_chart(bars, caption, label_header=label_header, value_header="记录数", unit=unit),
            "index": site.urls.facet_index(facet.url_prefix) if facet else None,
            "index_label": f"全部{facet.label}" if facet else None,
        })
    return out


def write_stats(site: Site) -> None:
    records = site.publication.records
    charts, latest, feeds = stats_charts(site), records[0].published if records else None, [site_feed(site)]
    made_from = repr((len(records), latest, feeds, charts))  # what the page shows, nothing walked
    site.render("stats.html", site.urls.stats(), made_from=made_from, title="统计", charts=charts,
                total=len(records), latest=latest, feeds=feeds)


def write_not_found(site: Site) -> None:
    """``404.html``: shows no record, so it is made from nothing but the build's global key."""
    site.render("404.html", site.urls.not_found(), made_from="", title="页面不存在")


def evaluation_chart(record: Report) -> Markup | None:
    """The report's 测评 grades as a small bar chart (None when it gives only a score)."""
    grades = record.evaluation.grades
    if not grades:
        return None
    bars = [Bar(grade, grades.get(grade, 0)) for grade in ("好", "较好", "一般", "差")]
    return bar_chart(bars, "测评等次票数", label_header="等次", value_header="票数", unit="票")


def record_page(site: Site, record: Record) -> str:
    """The HTML of a public record's page."""
    urls, kind = site.urls, KIND_BY_NAME[record.kind]
    extra = {"evaluation_chart": evaluation_chart(record)} if isinstance(record, Report) else {}
    path = urls.record(kind.url_kind, record.id)
    body = Markup(site.body_html(record)) if record.body else None
    return site.env.get_template(f"record_{record.kind}.html").render(
        page_path=path, title=record.title, record=record, kind=kind, body=body,
        json_path=urls.record_json(kind.url_kind, record.id), feeds=[feed_of(site, kind.url_kind, kind.label)],
        **extra)


def write_records(site: Site, records: Sequence[Record], share: int = 0, shares: int = 1) -> int:
    """Write the pages of the ``share``-th of ``shares`` runs of ``records``; returns how many were made.

    A record page shows the record and build-wide things only (vocabularies,
    URLs, the facet pages of its own values, which exist because it is public),
    so the record alone, by its file digest, keys the page; its context is
    made only when the page is.
    """
    urls = site.urls
    mine = records[share * len(records) // shares:(share + 1) * len(records) // shares]
    return site.write_per_record("record page", mine, lambda record: urls.record(record.url_kind, record.id),
                                 lambda record: record_page(site, record))


def start_record_pages(site: Site) -> ForkedWork | None:
    """Record pages: checked here while most are reused (an edit); once many must be made (at once when
    there is no earlier build's file to keep), the rest go to forked workers, returned running so that
    this process can do other pages meanwhile."""
    records = site.publication.records
    checked, size = 0, FIRST_BATCH
    while checked < len(records) and not site.output.from_nothing:  # (from nothing, every page is made)
        batch = records[checked:checked + size]
        checked += len(batch)
        if write_records(site, batch) >= FORK_AFTER_MADE:
            break
        size = min(2 * size, FORK_BATCH)
    # In the order the records lie in this process's memory (``id``), so that each forked worker's runs
    # touch pages of it no other worker touches: reading a record raises reference counts, and the
    # kernel copies every page a child writes (every worker took every other record: 107,000 page
    # copies at 20,000 records, 70,000 so, and 0.2 s less of the workers' CPU).
    rest = sorted(records[checked:], key=id)
    return ForkedWork(site, lambda share, shares: write_records(site, rest, share, shares)) if rest else None


def write_tombstones(site: Site) -> None:
    for tombstone in site.publication.tombstones:
        site.render("tombstone.html", site.urls.record(tombstone.url_kind, tombstone.id), made_from=repr(tombstone),
                    title=tombstone.title, tombstone=tombstone, kind=KIND_BY_NAME[tombstone.kind])


def write_redirects(site: Site) -> None:
    for (url_kind, old_id), record in sorted(site.publication.redirects.items()):
        target = site.urls.record(record.url_kind, record.id)
        site.render("redirect.html", site.urls.record(url_kind, old_id), made_from=repr((record.title, old_id, target)),
                    title=record.title, old_id=old_id, target=target)


def public_pages(site: Site) -> Iterator[tuple[str, datetime | None]]:
    """Every page this module writes that a crawler should find, with when it last changed (in China time).

    Tombstones and redirect pages are left out: they are not content of their own.
    """
    size = site.setting("GONGKAI_PAGE_SIZE", 50)
    urls, records = site.urls, site.publication.records
    # Read once per record (public records are published, so never None), then found by the object's
    # identity in C: a record is listed on seven pages or so. All in one time zone, because datetimes
    # that share a tzinfo compare without calling it (30 times faster).
    changed = {id(r): r.last_changed.astimezone(CHINA_TIME) for r in records}

    def latest(listed: Sequence[Record]) -> datetime | None:
        return max(map(changed.__getitem__, map(id, listed)), default=None)

    newest = latest(records)
    yield urls.home(), newest
    for kind in KINDS:
        of_kind = site.publication.of_kind(kind.kind)
        newest_of_kind = latest(of_kind)
        for pagination, _ in paginate(of_kind, size, lambda n, k=kind.url_kind: urls.listing(k, n)):
            yield pagination.path, newest_of_kind
    for value in site.facets.all_values():
        newest_of_value = latest(value.records)
        path_of = lambda n, v=value: urls.facet(v.facet.url_prefix, v.id, n)
        for pagination, _ in paginate(value.records, size, path_of):
            yield pagination.path, newest_of_value
    for _, path in facet_indexes(site):
        yield path, None
    yield urls.stats(), newest
    for record in records:
        yield urls.record(record.url_kind, record.id), changed[id(record)]  # (converted once, above)


def write_pages(site: Site) -> None:
    """Write every HTML page of the records: record pages in forked workers while this process does the rest."""
    prepare_templates(site)
    items = RecordItems(site)
    for template in (f"record_{kind.kind}.html" for kind in KINDS):
        site.env.get_template(template)  # compiled once, before the workers fork
    write_redirects(site)
    write_tombstones(site)  # before the record pages, so a record's URL always wins
    record_pages = start_record_pages(site)
    try:
        by_kind = {kind.kind: site.publication.of_kind(kind.kind) for kind in KINDS}
        write_home(site, items, by_kind)
        write_listings(site, items, by_kind)
        write_facets(site, items)
        write_facet_indexes(site)
        write_stats(site)
        write_not_found(site)
    except BaseException:
        if record_pages is not None:
            record_pages.cancel()
        raise
    if record_pages is not None:
        record_pages.finish()
    items.save()
