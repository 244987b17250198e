"""Record bodies: Markdown rendered to HTML, then sanitized with an allowlist (nh3).

Nothing a record contains may run script or hide content in a reader's
browser, so the rendered HTML keeps only structural tags, no ``style``, no
event handlers, no iframes, and links only to http(s), mailto or the site
itself. Sanitizing happens after rendering: raw HTML in the Markdown and
Markdown's own output pass through the same allowlist. The one exception is
a body of plain blocks (``_plain_blocks``): our own allowlisted tags around
text with no ``<``, ``>`` or ``&``, which nh3 would return unchanged (a tenth
of a millisecond a body, two CPU seconds of a 20,000-record build).
"""

from __future__ import annotations

import html
import re
from typing import Iterator

import markdown
import markdown.treeprocessors
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

INLINE_TRIGGER = re.compile(r"[`\\\[<&*_]|  \n")
"""What every inline pattern of our Markdown needs to match (the characters its regex
starts from, or ``  \n`` for a hard line break): a text without any is left as it is."""
INLINE_PATTERNS = frozenset({
    "backtick", "escape", "reference", "link", "image_link", "image_reference", "short_reference",
    "short_image_ref", "autolink", "automail", "linebreak", "html", "entity", "em_strong",
})
"""The inline patterns ``INLINE_TRIGGER`` was written for (Python-Markdown 3.x with our extensions)."""


class _PlainTextInline(markdown.treeprocessors.InlineProcessor):
    """Python-Markdown's inline step, without trying 14 patterns on text none of them can match.

    Most text of a record body is plain Chinese prose: the stock step still
    runs every pattern on each paragraph, about a third of all the rendering
    time. Here a text in which ``INLINE_TRIGGER`` finds nothing is returned
    as is, which is exactly what the stock loop returns for it.
    """

    def _InlineProcessor__handleInline(self, data: str, patternIndex: int = 0) -> str:  # the stock private method
        if not INLINE_TRIGGER.search(data):
            return data
        return super()._InlineProcessor__handleInline(data, patternIndex)


def _markdown() -> markdown.Markdown:
    md = markdown.Markdown(extensions=["tables", "sane_lists", "fenced_code"], output_format="html")
    stock = md.treeprocessors["inline"]
    # Only where the shortcut is known to be exact: same patterns, same private method to override.
    if {p.name for p in md.inlinePatterns._priority} == INLINE_PATTERNS and hasattr(stock, "_InlineProcessor__handleInline"):
        md.treeprocessors.register(_PlainTextInline(md), "inline", 20)
    return md


_MARKDOWN = _markdown()

_NOT_PLAIN = re.compile(r"[`\\\[<>&*_|~\t\r\x02\x03]")
"""Characters that any Markdown construct beyond plain blocks needs somewhere (or that Python-Markdown
rewrites: ``&<>`` are escaped, ``\\t`` and ``\\r`` normalised, STX/ETX removed)."""
_PLAIN_LINE_START = re.compile(r"[\s#+=-]|\d+\.")
"""What may not begin a line of running text: it would start a heading, list, rule, setext
underline or indented block, or be stripped."""
_HASH_HEADING = re.compile(r"(#{1,6})([^#]*)")


def _is_plain_line(line: str) -> bool:
    return bool(line) and not _PLAIN_LINE_START.match(line) and not line[-1].isspace()


def _plain_blocks(source: str) -> str | None:
    """Python-Markdown's HTML for a body made only of plain blocks, or None for any other body.

    Most bodies are headings (``## 标题``), paragraphs of plain prose and tight
    lists of one-line items (``- 条目``), separated by blank lines. For those,
    the HTML is known without parsing: Python-Markdown takes about a millisecond
    per body, this a few microseconds. Anything else (emphasis, links, numbered
    or loose lists, tables, code, quotes, raw HTML, escapes, odd whitespace)
    returns None and goes through Python-Markdown; ``tests/test_markup.py``
    checks both give the same HTML, on every body and on random texts.
    """
    if _NOT_PLAIN.search(source):
        return None
    html: list[str] = []
    previous_list = False
    for block in _blocks(source.split("\n")):
        first = block[0]
        if first.startswith("#"):
            heading = _HASH_HEADING.fullmatch(first)
            text = heading.group(2).strip() if heading else ""
            if len(block) > 1 or not text:
                return None
            level = len(heading.group(1))
            html.append(f"<h{level}>{text}</h{level}>")
            previous_list = False
        elif first.startswith("- "):
            # A list right after a list joins it and makes it loose (<li><p>): not plain.
            if previous_list or not all(line.startswith("- ") and _is_plain_line(line[2:]) for line in block):
                return None
            html.append("<ul>\n" + "\n".join(f"<li>{line[2:]}</li>" for line in block) + "\n</ul>")
            previous_list = True
        elif all(map(_is_plain_line, block)):
            html.append("<p>" + "\n".join(block) + "</p>")
            previous_list = False
        else:
            return None
    return "\n".join(html)


def _blocks(lines: list[str]) -> Iterator[list[str]]:
    """Runs of non-empty lines (blank lines separate blocks, as Python-Markdown splits them)."""
    block: list[str] = []
    for line in lines:
        if line:
            block.append(line)
        elif block:
            yield block
            block = []
    if block:
        yield block


_CJK = "\u2e80-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef\u3000-\u303f"
_CJK_CHARACTER = re.compile(f"[{_CJK}]")
_PRE = re.compile(r"(<pre>.*?</pre>)", re.S)


def _join_cjk_lines(html_text: str) -> str:
    """Drop a soft line break between two CJK characters (outside ``<pre>``).

    Browsers show a line break in running text as a space, which is right
    between Latin words and wrong between Chinese characters (制度， 在).
    """
    if "<pre>" not in html_text:
        return _joined_lines(html_text)
    return "".join(part if part.startswith("<pre>") else _joined_lines(part) for part in _PRE.split(html_text))


def _joined_lines(text: str) -> str:
    # Line by line, not one regex over the text: a regex that starts with a lookbehind tries every
    # position of a body (20 µs for a body of 1,000 characters; this, a few).
    if "\n" not in text:
        return text
    lines = text.split("\n")
    joined = [lines[0]]
    cjk = _CJK_CHARACTER.match
    for before, after in zip(lines, lines[1:]):
        # (an empty line's neighbour is the other line break: never CJK)
        if not (before and after and cjk(before[-1]) and cjk(after[0])):
            joined.append("\n")
        joined.append(after)
    return "".join(joined)


def render_body(source: str | None) -> str:
    """Safe HTML for a Markdown body (empty for none).

    A body's ``# heading`` becomes ``<h2>``: the record title is the page's only ``<h1>``.
    """
    if not source:
        return ""
    rendered = _plain_blocks(source)
    plain = rendered is not None
    if rendered is None:
        rendered = _MARKDOWN.reset().convert(source)
    rendered = _join_cjk_lines(rendered.replace("<h1>", "<h2>").replace("</h1>", "</h2>"))
    if plain and "\x00" not in rendered and "\xa0" not in rendered:
        # allowlisted tags around text without ``<>&``: nh3 would return it as it is, but for
        # what it writes differently in text (NUL dropped, no-break space as ``&nbsp;``)
        return rendered
    return sanitize(rendered)


_CLEANER = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    attributes={tag: set(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()},
    url_schemes=set(URL_SCHEMES),
    link_rel="noopener noreferrer nofollow",
    strip_comments=True,
)
"""The allowlist, built once (``nh3.clean`` would build it again for every body)."""


def sanitize(fragment: str) -> str:
    """Keep only allowlisted tags, attributes and link schemes; drop script and style content."""
    return _CLEANER.clean(fragment)


def plain_text(fragment: str) -> str:
    """The text of sanitized HTML, for search and snippets."""
    return html.unescape(re.sub(r"<[^>]+>", " ", fragment)).strip()
