"""``sitemap.xml`` and ``robots.txt``: every public page, for crawlers.

The pages come from ``pages.public_pages`` (the same enumeration that wrote
them, so the two cannot drift apart) plus the editorial pages of
``content/pages`` that this build produced (``GONGKAI_EDITORIAL_PAGES``).
Tombstones, redirects and anything not public are not listed. Addresses are
absolute (``Urls.absolute``), as the sitemap protocol requires; a site with
more than 50,000 pages gets a sitemap index over numbered sitemaps.
"""

from __future__ import annotations

from datetime import datetime
from typing import Iterable, Iterator
from xml.sax.saxutils import escape

from .fields import CHINA_TIME
from .pages import public_pages
from .site import Site
from .urls import output_file

SITEMAP = "sitemap.xml"
ROBOTS = "robots.txt"
MAX_URLS = 50_000
"""The protocol's limit per sitemap file."""
XMLNS = "http://www.sitemaps.org/schemas/sitemap/0.9"


def editorial_pages(site: Site) -> Iterator[str]:
    """Editorial pages (``about/`` …) that exist in this build's output."""
    for _label, path in site.setting("GONGKAI_EDITORIAL_PAGES", []):
        if (site.output.root / output_file(path)).is_file():
            yield path


def sitemap_entries(site: Site) -> list[tuple[str, datetime | None]]:
    """Each page once (the first time it is listed), with when it last changed."""
    unique: dict[str, datetime | None] = {}
    for path, changed in public_pages(site):
        unique.setdefault(path, changed)
    for path in editorial_pages(site):
        unique.setdefault(path, None)
    return list(unique.items())


def _urlset(site: Site, entries: Iterable[tuple[str, datetime | None]]) -> str:
    base = escape(site.urls.absolute(""))  # escaped once: escaping is per character
    lines = []
    for path, changed in entries:
        lastmod = f"<lastmod>{changed.astimezone(CHINA_TIME).date().isoformat()}</lastmod>" if changed else ""
        lines.append(f"<url><loc>{base}{escape(path)}</loc>{lastmod}</url>")
    body = "\n".join(lines)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="{XMLNS}">\n{body}\n</urlset>\n'


def write_sitemap(site: Site) -> None:
    entries = sitemap_entries(site)
    if len(entries) <= MAX_URLS:
        site.output.write_text(SITEMAP, _urlset(site, entries))
    else:
        parts = []
        for number, start in enumerate(range(0, len(entries), MAX_URLS), 1):
            name = f"sitemap-{number}.xml"
            site.output.write_text(name, _urlset(site, entries[start : start + MAX_URLS]))
            parts.append(f"<sitemap><loc>{escape(site.urls.absolute(name))}</loc></sitemap>")
        index = "\n".join(parts)
        site.output.write_text(
            SITEMAP, f'<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="{XMLNS}">\n{index}\n</sitemapindex>\n'
        )
    site.output.write_text(ROBOTS, f"User-agent: *\nAllow: /\n\nSitemap: {site.urls.absolute(SITEMAP)}\n")
