"""Record bodies: Markdown rendered to HTML, then sanitized with an allowlist (nh3).

Nothing a record contains may run script or hide content in a reader's
browser, so the rendered HTML keeps only structural tags, no ``style``, no
event handlers, no iframes, and links only to http(s), mailto or the site
itself. Sanitizing happens after rendering: raw HTML in the Markdown and
Markdown's own output pass through the same allowlist.
"""

from __future__ import annotations

import html
import re

import markdown
import nh3

ALLOWED_TAGS = frozenset({
    "p", "br", "hr", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "code",
    "ul", "ol", "li", "dl", "dt", "dd", "strong", "em", "b", "i", "u", "s", "del", "ins",
    "sub", "sup", "mark", "small", "abbr", "a",
    "table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption",
})
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "th": {"colspan", "rowspan", "scope"},
    "td": {"colspan", "rowspan"},
    "ol": {"start"},
}
URL_SCHEMES = frozenset({"http", "https", "mailto"})

_MARKDOWN = markdown.Markdown(extensions=["tables", "sane_lists", "fenced_code"], output_format="html")
_HEADING = re.compile(r"<(/?)h1>")
_CJK = "\u2e80-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef\u3000-\u303f"
_CJK_LINE_BREAK = re.compile(f"(?<=[{_CJK}])\n(?=[{_CJK}])")
_PRE = re.compile(r"(<pre>.*?</pre>)", re.S)


def _join_cjk_lines(html_text: str) -> str:
    """Drop a soft line break between two CJK characters (outside ``<pre>``).

    Browsers show a line break in running text as a space, which is right
    between Latin words and wrong between Chinese characters (制度， 在).
    """
    parts = _PRE.split(html_text)
    return "".join(part if part.startswith("<pre>") else _CJK_LINE_BREAK.sub("", part) for part in parts)


def render_body(source: str | None) -> str:
    """Safe HTML for a Markdown body (empty for none).

    A body's ``# heading`` becomes ``<h2>``: the record title is the page's only ``<h1>``.
    """
    if not source:
        return ""
    rendered = _MARKDOWN.reset().convert(source)
    rendered = _join_cjk_lines(_HEADING.sub(r"<\1h2>", rendered))
    return sanitize(rendered)


def sanitize(fragment: str) -> str:
    """Keep only allowlisted tags, attributes and link schemes; drop script and style content."""
    return nh3.clean(
        fragment,
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def plain_text(fragment: str) -> str:
    """The text of sanitized HTML, for search and snippets."""
    return html.unescape(re.sub(r"<[^>]+>", " ", fragment)).strip()
