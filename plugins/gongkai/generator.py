"""The Pelican generator that turns validated records into the site.

Records do not go through Pelican's article pipeline (too slow at 20,000
records: see the speed issue); this generator reads the catalog, selects what
is public, groups facets once, and runs each output step in ``OUTPUT_STEPS``
over one shared ``Site``. Templates come from Pelican's theme machinery, so an
operator overrides them the Pelican way (``THEME_TEMPLATES_OVERRIDES``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from pathlib import Path
from typing import Callable

from pelican import signals
from pelican.generators import Generator

from . import exports, feeds, pages, sitemap, templating
from .bodies import Bodies, render_bodies
from .buildcache import PickleCache, code_fingerprint
from .catalog import Catalog, load_catalog
from .facets import FACETS, build_facets
from .fingerprint import Fingerprinter
from .output import OutputTree
from .present import jinja_filters
from .progress import count_outputs
from .publication import build_time, publish
from .search.kept import only_patches
from .site import Site
from .urls import Urls
from .workers import BackgroundSteps, Unfinished, run_steps

log = logging.getLogger(__name__)


def write_search(site: Site) -> Unfinished:
    """The search step (``search.step``), imported where it runs: on a rebuild that is a forked process,
    and numpy and whoosh (a quarter of a second) are not for this one to import. Returns the whoosh
    writer it leaves running."""
    from .search.step import write_search as step

    return step(site)


OUTPUT_STEPS: tuple[tuple[str, Callable[[Site], Unfinished | None]], ...] = (
    ("pages", pages.write_pages),
    ("feeds", feeds.write_feeds),
    ("open data", exports.write_exports),
    ("search index", write_search),
    ("sitemap", sitemap.write_sitemap),
)
"""Each output of a build, in order; each reads only the ``Site`` (so only public records)."""

BACKGROUND_STEPS = ("search index", "sitemap")
"""The steps forked to run, in order, beside the others (``workers.BackgroundSteps``): the search
index, the longest on a rebuild, and the sitemap, which fits in the time the parent's steps take
longer; both only write their files, so a rebuild's output steps take the time of the longer side.
Only when the search step patches a kept corpus (``search.kept.only_patches``): analyzing every
record beside the page workers took a clean build's peak memory past 1 GB at 20,000 records; then
all steps run in this process, ``ALONE_FIRST`` first."""

ALONE_FIRST = ("search index", "feeds")
"""When the search step analyzes every record (a clean build), these steps run first, then the others in
``OUTPUT_STEPS``'s order: the search index alone but for the worker sharing its analysis (its memory
peak), then the feeds beside the whoosh writer it leaves running (``workers.Unfinished``: about a second
in which a core waited for it), waited for as the feeds end, so that it is gone before the record
pages' workers are forked."""


class RecordsGenerator(Generator):
    """Adds the records to a Pelican build (registered by ``gongkai.register``)."""

    def generate_context(self) -> None:
        catalog: Catalog | None = self.settings.get("GONGKAI_CATALOG")
        if catalog is None:  # run by plain `pelican`, not `invoke build`
            catalog = load_catalog(Path(self.settings.get("GONGKAI_DATA_PATH", "data")))
        self.catalog = catalog
        # Pelican writes the editorial pages before this generator's output step; the manifest lists them.
        self.pelican_wrote: set[str] = set()
        signals.content_written.connect(self._note_pelican_file)
        self.publication = publish(catalog, build_time())
        self.facets = build_facets(self.publication, {item.record.id: item.facet_keys for item in catalog.loaded
                                                      if item.facet_keys is not None})
        self.urls = Urls.from_settings(self.settings)
        self.env.filters.update(jinja_filters(catalog.vocab))
        self.env.globals.update(self.template_globals())
        templating.tune(self.env)  # (its globals are all set now; no template is loaded yet)
        # Pelican's own page templates (content/) share the navigation.
        self.context["gongkai_nav"] = self.env.globals["gongkai_nav"]
        cache_dir = self.settings.get("GONGKAI_CACHE_PATH")
        if cache_dir:  # made by pydantic, a tenth of a second, from the code and the vocabularies only
            salt = f"{code_fingerprint()}\0{catalog.vocab_digest}"
            exports.schema_of(catalog.vocab, PickleCache(Path(cache_dir) / "published-schema.pickle", salt))
        # The 数据下载 page (content/pages/downloads.md) gets its file list, fields and licence.
        exports.fill_downloads_page(self.context.get("pages", ()), self.settings, self.urls, self.publication)

    def _note_pelican_file(self, path: str, context: object = None) -> None:
        self.pelican_wrote.add(Path(os.path.relpath(path, self.output_path)).as_posix())

    def template_globals(self) -> dict:
        urls = self.urls
        # Few globals: every macro import diffs the importing template's globals against its own.
        # `settings` holds them all; base.html's few are also bare names, as Pelican's pages have them.
        settings = {k: v for k, v in self.settings.items() if k.isupper() and k != "GONGKAI_CATALOG"}
        base_names = ("SITENAME", "SITESUBTITLE", "SITEURL", "DEFAULT_LANG", "THEME_STATIC_DIR",
                      "GONGKAI_EDITORIAL_PAGES", "GONGKAI_LICENSE")
        return {
            "settings": settings,
            **{name: settings[name] for name in base_names if name in settings},
            "url": urls.href,
            "urls": urls,
            "static": lambda name: urls.href(urls.static(name)),
            "vocab": self.publication.vocab,
            "facet_defs": FACETS,
            **pages.template_helpers(urls, self.facets),
            "gongkai_nav": [
                ("首页", urls.home()),
                ("党务政务公开", urls.listing("disclosures")),
                ("问责案例", urls.listing("cases")),
                ("述职述廉", urls.listing("reports")),
                ("统计", urls.stats()),
                ("搜索", urls.search()),
            ],
        }

    def global_key(self) -> str:
        """What every output depends on besides its own records: code, theme, vocabularies, settings."""
        volatile = {"GONGKAI_CATALOG", "GONGKAI_REPORT", "GONGKAI_PREVIOUS_OUTPUT", "GONGKAI_CACHE_PATH",
                    "GONGKAI_SCRATCH_PATH", "OUTPUT_PATH"}
        settings = {k: v for k, v in self.settings.items() if k.isupper() and k not in volatile}
        settings_json = json.dumps(settings, sort_keys=True, default=lambda o: type(o).__name__, ensure_ascii=False)
        parts = (code_fingerprint(), self.catalog.vocab_digest, settings_json)
        return hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()

    def generate_output(self, writer) -> None:
        previous = self.settings.get("GONGKAI_PREVIOUS_OUTPUT")
        site = Site(
            settings=self.settings,
            publication=self.publication,
            facets=self.facets,
            urls=self.urls,
            output=OutputTree(Path(self.output_path), Path(previous) if previous else None),
            env=self.env,
            fingerprints=Fingerprinter({item.record.id: item.digest for item in self.catalog.loaded}),
            global_key=self.global_key(),
        )
        report = self.settings.get("GONGKAI_REPORT", {})
        report["steps"] = {}
        cache_dir = self.settings.get("GONGKAI_CACHE_PATH")
        steps = dict(OUTPUT_STEPS)
        background: BackgroundSteps | None = None
        bodies: Bodies | None = None

        def render() -> Bodies:
            started = time.perf_counter()
            site.bodies = made = render_bodies(self.publication.records, site.fingerprints.digests,
                                               Path(cache_dir) if cache_dir else None,
                                               rendered=self.catalog.rendered_bodies, loaded=self.catalog.take_body_store(),
                                               scratch=self.settings.get("GONGKAI_SCRATCH_PATH"))
            report["steps"]["bodies"] = time.perf_counter() - started
            return made

        beside = only_patches(site)
        try:
            # The bodies first on a clean build (the HTML the load workers rendered is stored and freed
            # before the search step's memory peak), after forking on a rebuild (the search step is
            # the longest, and it does not read them).
            if not beside:
                bodies = render()
                report["beside"] = None
                order = [*ALONE_FIRST, *(name for name in steps if name not in ALONE_FIRST)]
                run_steps(site, [(name, steps[name]) for name in order], report["steps"])
            else:
                background = BackgroundSteps(site, [(name, steps.pop(name)) for name in BACKGROUND_STEPS], beside, report["steps"])
                report["beside"] = list(BACKGROUND_STEPS) if background.forked else None
                bodies = render()
                run_steps(site, steps.items(), report["steps"])
                started = time.perf_counter()
                background.finish()
                report["steps"]["waiting for the forked steps"] = time.perf_counter() - started
                report["steps"].update(background.seconds)
        except BaseException:
            if background is not None:
                background.cancel()
            raise
        finally:
            if bodies is not None:
                bodies.save()
            # (also when the build fails: a receiver left connected is called while the interpreter exits)
            signals.content_written.disconnect(self._note_pelican_file)
        site.output.also_written |= self.pelican_wrote
        site.output.finish()
        report["reused"] = site.output.reused
        report["records"] = len(self.publication.records)
        report["tombstones"] = len(self.publication.tombstones)
        report.update(count_outputs(site.output.written | site.output.also_written))
