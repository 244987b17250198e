"""``Site``: what every output step of a build reads and writes through.

One object carries the public records (``Publication``), their facets, the
URL builder, the Jinja environment and the output folder, so that an output
module is a plain function ``write_xxx(site)`` with nothing else to find.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import jinja2

from .facets import Facets
from .markup import render_body
from .output import OutputTree
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
    bodies: dict[str, str] = field(default_factory=dict)
    """Sanitized body HTML by record id, filled on first use (or ahead of time, in parallel)."""

    def body_html(self, record: Record) -> str:
        html = self.bodies.get(record.id)
        if html is None:
            html = self.bodies[record.id] = render_body(record.body)
        return html

    def setting(self, name: str, default: Any = None) -> Any:
        return self.settings.get(name, default)

    def render(self, template: str, path: str, **context: Any) -> None:
        """Render ``template`` to the site path ``path`` (``page_path`` is set for the template)."""
        html = self.env.get_template(template).render(page_path=path, **context)
        self.output.write_text(path, html)
