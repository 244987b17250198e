"""A record's list item (``_macros.html`` ``record_item``) made in Python, byte for byte the macro's.

Every public record is shown in its listing and on its facet pages, so a
clean build renders the macro twice per record: 40,000 calls at 20,000
records, ≈70 µs each through Jinja (a macro call, a dozen attribute lookups
and escapes, four filters), ≈2.7 s of the main process. Joined here it takes
a few microseconds.

The theme stays the source of the HTML: this is used only while the macro's
text (and the environment's whitespace and escaping settings) are the ones it
was written from (``MACRO_SHA256``); a changed macro is rendered by Jinja
again. ``tests/test_pages.py`` checks both give the same HTML for every
record and style, and that the shipped macro is the one known here.
"""

from __future__ import annotations

import hashlib
import re
from typing import Callable

from jinja2 import Environment
from markupsafe import Markup

from .present import cn_date, iso
from .records import Record
from .urls import Urls

MACRO_SHA256 = "ed5ffe96a806530a024f5036c5b2d7da02e49d049a00d794193f9801757a273a"
"""sha256 of the ``record_item`` macro's text (``{% macro record_item`` to its ``endmacro``) this module copies."""
_MACRO = re.compile(r"\{% macro record_item\(.*?\{%- endmacro %\}", re.S)
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&#34;", "'": "&#39;"})
"""What Jinja's autoescape (``markupsafe.escape``) does to a string, without making a ``Markup`` of each."""


_SPECIAL = re.compile("[&<>\"']")


def escape(text: str) -> str:
    return text.translate(_ESCAPES) if _SPECIAL.search(text) else text  # (translate is slow on CJK text)


def macro_text(env: Environment) -> str | None:
    """The text of the theme's ``record_item`` macro (None when there is none)."""
    source = env.loader.get_source(env, "_macros.html")[0] if env.loader else ""
    found = _MACRO.search(source)
    return found.group() if found else None


def python_record_item(env: Environment, urls: Urls, name_of: Callable[[str | None, str], str]
                       ) -> Callable[[Record, int, bool], Markup] | None:
    """``item(record, level, show_kind)``, the macro's HTML without a summary limit; None when the
    theme's macro or the environment is not the one this copies."""
    text = macro_text(env)
    if text is None or hashlib.sha256(text.encode("utf-8")).hexdigest() != MACRO_SHA256:
        return None
    if not (env.trim_blocks and env.lstrip_blocks and env.autoescape is True):
        return None

    def item(record: Record, level: int, show_kind: bool) -> Markup:
        h = str(level)
        parts = ['<li class="record-item">\n  <h', h, ' class="record-title"><a href="',
                 escape(urls.href(urls.record(record.url_kind, record.id))), '">', escape(record.title),
                 '</a></h', h, '>\n  <p class="record-meta">\n']
        if show_kind:
            parts += ['<span class="tag tag-', escape(record.kind), '">', escape(record.label), '</span>']
        parts += ['    <time datetime="', escape(iso(record.published)), '">', escape(cn_date(record.published)),
                  '</time>\n    <span>', escape(name_of(record.region, "regions")),
                  '</span>\n    <span>', escape(name_of(record.issuer, "organizations")), '</span>\n']
        if record.kind == "case":
            parts += ['<span class="record-forms">', "、".join(escape(name_of(f, "forms")) for f in record.forms), '</span>']
        parts.append('  </p>\n')
        if record.summary:
            parts += ['  <p class="record-summary">', escape(record.summary), '</p>\n']
        parts.append('</li>')
        return Markup("".join(parts))

    return item
