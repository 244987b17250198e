"""Every URL of the site (site.md "URLs"), in one place.

Methods return *paths* relative to the site root (``cases/jz-2024-0007/``),
which is also where the file goes in the output folder (a path ending in ``/``
is written as ``index.html`` inside it). ``Urls.href`` puts ``SITEURL`` in
front, so the site works under any sub-path; ``Urls.absolute`` is for feeds
and sitemaps, which need full addresses.
"""

from __future__ import annotations

from dataclasses import dataclass

FEED_FORMATS = ("atom", "rss")
RESERVED_IDS = frozenset({"page", "circumstances", "forms"})
"""Folders under a kind's own that are not records: a listing's further pages (``cases/page/2/``) and the
case facets (``cases/forms/``). A record or former id named so would lose its page to them, so no
record of any kind may take one (``rules.py``)."""


@dataclass(frozen=True)
class Urls:
    siteurl: str
    """``SITEURL`` without a trailing slash: empty, ``/sub`` or ``https://host/sub``."""

    @classmethod
    def from_settings(cls, settings: dict) -> "Urls":
        return cls(str(settings.get("SITEURL") or "").rstrip("/"))

    # --- paths ---------------------------------------------------------------

    @staticmethod
    def home() -> str:
        return ""

    @staticmethod
    def listing(url_kind: str, page: int = 1) -> str:
        """``cases/``, then ``cases/page/2/``; ``url_kind`` is the plural."""
        return f"{url_kind}/" if page == 1 else f"{url_kind}/page/{page}/"

    @staticmethod
    def record(url_kind: str, record_id: str) -> str:
        return f"{url_kind}/{record_id}/"

    @staticmethod
    def record_json(url_kind: str, record_id: str) -> str:
        return f"{url_kind}/{record_id}.json"

    @staticmethod
    def facet(url_prefix: str, value_id: str, page: int = 1) -> str:
        """``regions/jiangzhong/`` or ``cases/forms/tiaozheng-zhiwu/page/2/``."""
        base = f"{url_prefix}/{value_id}/"
        return base if page == 1 else f"{base}page/{page}/"

    @staticmethod
    def facet_index(url_prefix: str) -> str:
        """The list of a facet's values: ``regions/`` or ``cases/forms/``."""
        return f"{url_prefix}/"

    @staticmethod
    def feed(scope: str, fmt: str = "atom") -> str:
        """``feeds/all.atom.xml``, ``feeds/cases.rss.xml`` or ``feeds/regions/jiangzhong.atom.xml``."""
        return f"feeds/{scope}.{fmt}.xml"

    @staticmethod
    def search(query: str = "") -> str:
        from urllib.parse import quote

        return "search/" + (f"?q={quote(query)}" if query else "")

    @staticmethod
    def stats() -> str:
        return "stats/"

    @staticmethod
    def not_found() -> str:
        """The page a static host serves for an address it has no file for (GitHub and GitLab Pages: ``/404.html``)."""
        return "404.html"

    @staticmethod
    def data(name: str) -> str:
        """Open data files: ``data/records.json``, ``data/cases.csv``, ``data/schema.json``."""
        return f"data/{name}"

    @staticmethod
    def static(name: str) -> str:
        """A theme asset: ``theme/css/site.css``."""
        return f"theme/{name}"

    # --- addresses -------------------------------------------------------------

    def href(self, path: str) -> str:
        """What a page links to: ``SITEURL/path`` (root-relative when ``SITEURL`` is empty)."""
        return f"{self.siteurl}/{path}"

    def absolute(self, path: str, fallback_host: str = "http://localhost") -> str:
        """A full address for feeds and sitemaps, even when ``SITEURL`` is relative."""
        base = self.siteurl if "://" in self.siteurl else fallback_host.rstrip("/") + self.siteurl
        return f"{base}/{path}"


def output_file(path: str) -> str:
    """The file a path is written to: directories get ``index.html``."""
    return path + "index.html" if path.endswith("/") or path == "" else path
