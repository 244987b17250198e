"""``Site``: what every output step of a build reads and writes through.

One object carries the public records (``Publication``), their facets, the
URL builder, the Jinja environment and the output folder, so that an output
module is a plain function ``write_xxx(site)`` with nothing else to find.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import jinja2

from .bodies import Bodies
from .facets import Facets
from .fingerprint import Fingerprinter
from .markup import render_body
from .output import OutputTree, Pieces
from .publication import Publication
from .records import Record
from .urls import Urls


@dataclass
class Site:
    settings: dict[str, Any]
    publication: Publication
    facets: Facets
    urls: Urls
    output: OutputTree
    env: jinja2.Environment
    fingerprints: Fingerprinter = field(default_factory=lambda: Fingerprinter({}))
    """Digests what pages are made from (records by their file digests)."""
    global_key: str = ""
    """Digest of code, theme, settings and vocabularies: part of every page key."""
    bodies: Bodies | dict[str, str] = field(default_factory=dict)
    """Sanitized body HTML by record id, rendered ahead of time (``bodies.render_bodies``)."""

    def body_html(self, record: Record) -> str:
        html = self.bodies.get(record.id)
        return html if html is not None else render_body(record.body)

    def setting(self, name: str, default: Any = None) -> Any:
        return self.settings.get(name, default)

    def render(self, template: str, path: str, made_from: str | None = None, **context: Any) -> None:
        """Render ``template`` to the site path ``path`` (``page_path`` is set for the template).

        The page is made again only when its template, what it is made from or
        the build's global key changed since the previous build. What it is made
        from is ``made_from`` when given (a string saying it, cheaper than walking
        the context; it must cover every record-derived thing the page shows), else the
        context itself; templates must therefore read records only from
        ``context`` (globals are build-wide: settings, vocabularies, URLs).
        """
        self.write_keyed(
            path,
            lambda: self.env.get_template(template).render(page_path=path, **context),
            template,
            context if made_from is None else made_from,
        )

    def key(self, path: str, *made_from: Any) -> str:
        """The key of the file at ``path`` made from ``made_from`` (and what the global key covers)."""
        return self.fingerprints.key(self.global_key, path, *made_from)

    def write_keyed(self, path: str, make: Callable[[], str | bytes | bytearray | Pieces], *made_from: Any) -> None:
        """Write ``make()`` at ``path``, or reuse the previous build's file if ``made_from`` is unchanged."""
        self.output.write_keyed(path, self.key(path, *made_from), make)

    def per_record_keys(self, family: str, items: Sequence[Any], content: Callable[[Any], bytes]) -> list[str]:
        """The keys of one file per record (``items`` have the record's ``id``) made from that record
        alone: one digest of ``family`` and the global key, then the record's file digest, not a digest
        per file (20,000 of them on every build). Without a file digest (a Site made by hand), a digest
        of ``content(item)``."""
        salt = self.key(family)[:24]
        digests = self.fingerprints.digests
        return [salt + (digests.get(item.id) or hashlib.sha256(content(item)).hexdigest())[:40] for item in items]

    def write_per_record(self, family: str, records: Sequence[Record], path_of: Callable[[Record], str],
                         make: Callable[[Record], str | bytes | bytearray | Pieces]) -> int:
        """``write_keyed`` for one file per record made from that record alone (its page, its JSON),
        checked together (``per_record_keys``, ``OutputTree.write_keyed_many``). Returns how many were made."""
        keys = self.per_record_keys(family, records, lambda record: record.model_dump_json().encode("utf-8"))
        return self.output.write_keyed_many([path_of(record) for record in records], keys, lambda n: make(records[n]))
