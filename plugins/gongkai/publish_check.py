"""The last look at a built site before it is uploaded (``invoke publish``).

The build is designed so that nothing non-public can reach the output
(``publication.py`` decides, output steps read only the ``Publication``). This
module does not trust that design: it reads the *finished files*, the way a
reader or a crawler would, and refuses an upload when

- a record page (``<kind>s/<id>/`` or ``<kind>s/<id>.json``) exists that is not a
  public record, a tombstone of a withdrawn one, or the redirect of a former id,
  all as ``publish(catalog)`` decides them now;
- any file contains the text of a record that is not public: the title of a draft
  or embargoed record, or the summary, body or correction notes of any
  non-public record, withdrawn ones included (their tombstone shows title and
  reason only);
- an ``href``/``src`` (or a redirect, or a feed's or sitemap's address) that points
  inside ``SITEURL`` has no file behind it.

Each finding is a ``Problem`` (``path:line:column: message``, in Chinese), so it
reads like a validation problem.
"""

from __future__ import annotations

import gzip
import html
import os
import posixpath
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

from .catalog import Catalog
from .markup import plain_text, render_body
from .present import cn_datetime
from .problems import Problem, display_path
from .publication import Publication, publish
from .records import KIND_OF_FOLDER, Record
from .urls import RESERVED_IDS

MIN_NEEDLE = 8
"""Shorter fragments of unpublished text (「经查，」「本记录已撤回」) are too common to mean a leak."""
SKIP_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".gif", ".webp", ".ico", ".woff", ".woff2", ".ttf", ".otf", ".wasm"})
"""Files that cannot hold record text in readable form."""
LINKED_SUFFIXES = frozenset({".html", ".htm", ".xml"})
"""Files whose links are checked: pages, feeds, the sitemap."""
_SENTENCE = re.compile(r"[。！？!?；;\n]+")
_UNICODE_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
_REFRESH_URL = re.compile(r"url\s*=\s*['\"]?([^'\"]+)", re.IGNORECASE)


def check_output(
    output: Path, catalog: Catalog, siteurl: str, now: datetime | None = None, theme: Path | None = None
) -> list[Problem]:
    """Every reason not to upload ``output``, built from ``catalog`` for ``siteurl``; empty when it is fit.

    ``theme`` is the theme folder the site was built with: text its templates
    print on every page (「本记录已撤回，原内容不再公开」) is not a record's.
    """
    output = Path(output)
    if not (output / "index.html").is_file():
        return [Problem(display_path(output), 1, 1, "输出目录中没有 index.html：站点未生成或生成不完整")]
    publication = publish(catalog, now)
    problems = record_page_problems(output, catalog, publication)
    problems += leaked_text_problems(output, catalog, publication, _theme_text(theme))
    problems += broken_link_problems(output, siteurl)
    return sorted(problems)


# --- record pages -----------------------------------------------------------------


def _state(record: Record, publication: Publication) -> str:
    """Why a record is not public, in the clerk's words."""
    if record.status == "draft":
        return "草稿"
    if record.status == "withdrawn":
        return "已撤回"
    return f"预约发布，发布时间 {cn_datetime(record.published)} 晚于本次生成时间 {cn_datetime(publication.now)}"


def record_page_problems(output: Path, catalog: Catalog, publication: Publication) -> list[Problem]:
    """Record-shaped paths in the output that the publication does not account for."""
    allowed = {(r.url_kind, r.id) for r in publication.records}
    allowed |= {(t.url_kind, t.id) for t in publication.tombstones}
    allowed |= set(publication.redirects)
    problems = []
    for url_kind in KIND_OF_FOLDER:
        folder = output / url_kind
        if not folder.is_dir():
            continue
        for entry in sorted(folder.iterdir()):
            if entry.is_dir() and entry.name not in RESERVED_IDS:
                record_id, shown = entry.name, entry / "index.html"
            elif entry.is_file() and entry.suffix == ".json":
                record_id, shown = entry.stem, entry
            else:
                continue
            if (url_kind, record_id) in allowed:
                continue
            loaded = catalog.by_id.get(record_id)
            record = loaded.record if loaded else None
            if record is not None and record.url_kind == url_kind:
                message = f"输出中有未公开记录「{record_id}」（{_state(record, publication)}）的页面：{url_kind}/{entry.name}"
            else:
                message = f"输出中的 {url_kind}/{entry.name} 不对应任何公开记录、撤回说明或旧编号重定向（可能是旧版本残留）"
            problems.append(Problem(display_path(shown), 1, 1, message))
    return problems


# --- text of records that are not public ---------------------------------------------


def _fragments(text: str | None) -> list[str]:
    return [part.strip() for part in _SENTENCE.split(text or "") if part.strip()]


def _record_texts(record: Record, *, with_title: bool) -> list[str]:
    texts = [record.title] if with_title else []
    texts += _fragments(record.summary)
    texts += _fragments(plain_text(render_body(record.body)))
    texts += [part for correction in record.corrections for part in _fragments(correction.note)]
    return texts


@lru_cache(maxsize=1)
def _to_simplified():
    import opencc

    return opencc.OpenCC("t2s")


def _theme_text(theme: Path | None) -> str:
    if theme is None or not Path(theme).is_dir():
        return ""
    return "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in sorted(Path(theme).rglob("*.html")))


def unpublished_texts(catalog: Catalog, publication: Publication, boilerplate: str = "") -> dict[str, Record]:
    """Text that must appear nowhere in the output → the record it belongs to.

    A fragment that a public record (or a tombstone) also contains is left out:
    it is public anyway; so is one the theme's templates contain
    (``boilerplate``). Each fragment is also looked for in Simplified
    characters, as the search index folds Traditional text.
    """
    tombstoned = {t.id for t in publication.tombstones}
    candidates: dict[str, Record] = {}
    for record in catalog.records:
        if record.id in publication.by_id:
            continue
        for text in _record_texts(record, with_title=record.id not in tombstoned):
            for variant in (text, _to_simplified().convert(text)):
                if len(variant) >= MIN_NEEDLE:
                    candidates.setdefault(variant, record)
    if not candidates:
        return {}
    # Public records' own text, as written (Markdown unrendered: rendering every body of a
    # national-scale site costs more than the whole check; a fragment missed here is only
    # reported, never let through).
    public_text = "\n".join(
        [f"{r.title}\n{r.summary or ''}\n{r.body or ''}\n" + "\n".join(c.note for c in r.corrections) for r in publication.records]
        + [f"{t.title}\n{t.reason}" for t in publication.tombstones]
    )
    public_text += "\n" + _to_simplified().convert(public_text)
    return {text: record for text, record in candidates.items() if text not in public_text and text not in boilerplate}


def _readable_text(path: Path) -> str:
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":  # gzip-compressed fragments of a search index
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError):
            pass
    text = raw.decode("utf-8", errors="replace")
    if "\\u" in text:  # JSON written with ensure_ascii
        text = _UNICODE_ESCAPE.sub(lambda m: chr(int(m[1], 16)), text)
    return html.unescape(text) if "&" in text else text


def _output_files(output: Path) -> Iterator[Path]:
    """Every file of the output that may hold text, in a stable order."""
    for folder, subfolders, files in os.walk(output):
        subfolders.sort()
        for name in sorted(files):
            if os.path.splitext(name)[1].lower() not in SKIP_SUFFIXES:
                yield Path(folder, name)


def leaked_text_problems(output: Path, catalog: Catalog, publication: Publication, boilerplate: str = "") -> list[Problem]:
    """Each output file that contains text of a non-public record (first place per file and record)."""
    needles = unpublished_texts(catalog, publication, boilerplate)
    if not needles:
        return []
    pattern = re.compile("|".join(re.escape(n) for n in sorted(needles, key=len, reverse=True)))
    problems = []
    for path in _output_files(output):
        text = _readable_text(path)
        reported: set[str] = set()
        for match in pattern.finditer(text):
            record = needles[match.group()]
            if record.id in reported:
                continue
            reported.add(record.id)
            line, column = _place(text, match.start())
            excerpt = match.group() if len(match.group()) <= 40 else match.group()[:40] + "……"
            problems.append(Problem(
                display_path(path), line, column,
                f"含有未公开记录「{record.id}」（{_state(record, publication)}）的内容：「{excerpt}」",
            ))
    return problems


# --- internal links ----------------------------------------------------------------


_URL_ATTRIBUTE = re.compile(r"""(href|src|action|poster|data|srcset|content)=(?:"([^"]*)"|'([^']*)')""")
"""An address in a tag (as our templates and Markdown write them: lower case, quoted, no spaces
around ``=``); ``content`` only counts in a ``<meta http-equiv="refresh">``."""
_URL_ELEMENT = re.compile(r"<(loc|link)>\s*([^<\s]+)\s*</\1>")
"""Sitemaps and RSS feeds hold addresses as element text."""


def links_in(text: str, xml: bool = False) -> Iterator[tuple[int, str]]:
    """(offset of its tag, address) of every link in an HTML page, feed (``xml``) or sitemap.

    Regular expressions, not an HTML parser: the output is our own escaped
    markup (attribute values always quoted, text escaped), and this runs over
    every page of a national-scale site before each upload.
    """
    for match in _URL_ATTRIBUTE.finditer(text):
        if not text[match.start() - 1].isspace():
            continue  # the end of another name: data-href=, og:content=
        name, value = match[1], match[2] if match[2] is not None else match[3]
        if "&" in value:
            value = html.unescape(value)
        tag_start = text.rfind("<", 0, match.start())
        if name == "content":
            tag = text[tag_start:text.find(">", match.end()) + 1].lower()
            refresh = _REFRESH_URL.search(value) if "http-equiv" in tag and "refresh" in tag else None
            if refresh:
                yield tag_start, refresh[1]
        elif name == "srcset":
            yield from ((tag_start, c.split()[0]) for c in value.split(",") if c.strip())
        elif value.strip():
            yield tag_start, value.strip()
    if xml:
        yield from ((m.start(), html.unescape(m[2])) for m in _URL_ELEMENT.finditer(text))


def _place(text: str, offset: int) -> tuple[int, int]:
    """Line and column (from 1) of ``offset`` in ``text``."""
    return text.count("\n", 0, offset) + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1


class _Site:
    """Which addresses are inside the site, and the file each one means."""

    def __init__(self, output: Path, siteurl: str):
        self.output = str(Path(output).resolve())
        parts = urlsplit(siteurl.rstrip("/"))
        self.host = parts.netloc.lower()
        self.base = parts.path.rstrip("/")
        self._exists: dict[str, bool] = {}
        self._absolute: dict[str, str | None] = {}
        """Site path of each link that does not depend on the page it is on (absolute or root-relative)."""

    def page_url(self, relative: Path) -> str:
        """The address of the output file at ``relative`` (a path inside the output folder)."""
        return f"{self.base}/{relative.as_posix()}"

    def site_path(self, link: str, page_url: str) -> str | None:
        """The path inside the site that ``link`` on the page at ``page_url`` points to, or None if outside."""
        if link.startswith(("/", "http:", "https:")):
            if link not in self._absolute:
                self._absolute[link] = self._site_path(link, page_url)
            return self._absolute[link]
        return self._site_path(link, page_url)

    def _site_path(self, link: str, page_url: str) -> str | None:
        parts = urlsplit(link)
        if parts.scheme and parts.scheme not in ("http", "https"):
            return None  # mailto:, data:, tel:, …
        if parts.netloc:
            if not self.host or parts.netloc.lower() != self.host:
                return None
            path = parts.path or "/"
        elif not parts.path:
            return None  # "#section" or "?q=…" on the same page
        else:
            path = urlsplit(urljoin(page_url, link)).path
        if path == self.base:
            return ""
        if not path.startswith(self.base + "/"):
            return None
        return unquote(path[len(self.base) + 1:])

    def resolves(self, site_path: str) -> bool:
        """Whether a file answers ``site_path`` (a folder answers with its ``index.html``)."""
        if site_path not in self._exists:
            relative = posixpath.normpath(site_path) if site_path else "."
            inside = relative != ".." and not relative.startswith(("../", "/"))
            target = os.path.join(self.output, relative)
            if site_path == "" or site_path.endswith("/") or os.path.isdir(target):
                target = os.path.join(target, "index.html")
            self._exists[site_path] = inside and os.path.isfile(target)
        return self._exists[site_path]


def broken_link_problems(output: Path, siteurl: str) -> list[Problem]:
    """Links into the site (absolute, root-relative or relative) with no file behind them.

    One problem per missing target, at its first place: a link in the page
    layout is broken on every page, and the clerk needs to read it once.
    """
    output = Path(output)
    site = _Site(output, siteurl)
    first: dict[str, tuple[Path, str, int, int]] = {}
    count: Counter[str] = Counter()
    for path in _output_files(output):
        suffix = path.suffix.lower()
        if suffix not in LINKED_SUFFIXES:
            continue
        page_url = site.page_url(path.relative_to(output))
        text = path.read_text(encoding="utf-8", errors="replace")
        for offset, link in links_in(text, xml=suffix == ".xml"):
            site_path = site.site_path(link, page_url)
            if site_path is None or site.resolves(site_path):
                continue
            if site_path not in first:
                first[site_path] = (path, link, *_place(text, offset))
            count[site_path] += 1
    problems = []
    for site_path, (path, link, line, column) in first.items():
        more = f"（共 {count[site_path]} 处，此为第一处）" if count[site_path] > 1 else ""
        problems.append(Problem(display_path(path), line, column, f"站内链接「{link}」指向的文件不存在：{site_path or 'index.html'}{more}"))
    return problems


def summarize(problems: Iterable[Problem]) -> str:
    """The closing line of a failed check."""
    problems = list(problems)
    files = len({p.file for p in problems})
    return f"发布检查未通过：{files} 个文件中共 {len(problems)} 个问题；未上传任何内容。"
