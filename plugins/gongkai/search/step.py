"""The build's "search index" step: analyze, then write the static index, the document files and the
whoosh index (the package docstring says how)."""

from __future__ import annotations

import time
from pathlib import Path

from ..facets import region_chains
from ..records import RECORD_TYPES, Record
from ..site import Site
from ..workers import Unfinished, fork_child, return_free_memory
from .analysis import reuse_folding
from .corpus import analyze, kept_corpus, last_numbers
from .documents import KIND_ORDER, SearchDoc, numbered_records, search_document, search_documents
from .folders import final_output, whoosh_dir
from .index import Replacement, documents_to_replace, index_state, write_whoosh
from .kept import corpus_cache
from .numbering import numbering
from .shards import build_static_index, doc_file

INDEX_ROOT = "search/index/"
DOCS_ROOT = "search/docs/"
"""``<n>.json`` per document, in a folder named by the numbering (``numbering.numbering``)."""


def _write_doc_files(site: Site, folder: str, docs: list[SearchDoc], records: dict[int, Record]) -> int:
    """``<n>.json`` of each document, keyed by its record's file digest and the global key (what the
    file is made from), so an unchanged record's file is neither made nor hashed again (and a kept
    document, which has no snippet, is made again from its record only if its file must be)."""

    def make(doc: SearchDoc) -> bytes:
        if doc.snippet is None:
            doc = search_document(site, records[doc.n], doc.n)
        return doc_file(doc)

    keys = site.per_record_keys("search document", docs, make)
    site.output.write_keyed_many([f"{folder}{doc.n}.json" for doc in docs], keys, lambda n: make(docs[n]))
    return len(docs)


def write_search(site: Site) -> Unfinished:
    """Write the search page and the static index of the public records; the whoosh index is written
    by a child process, returned running (the build's next step runs beside it)."""
    timings: dict[str, float] = {}
    started = clock = time.perf_counter()
    cpu_started, child_cpu_started = time.process_time(), _children_cpu()
    vocab = site.publication.vocab
    writer = None

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = now - clock
        clock = now

    kept_as = None
    try:
        cache = corpus_cache(site)
        kept, earlier = cache.load()
        if kept:
            reuse_folding(kept.folding)
        lap("loading the corpus")
        records, numbers = numbered_records(site, last_numbers(kept, earlier))
        numbered = numbering(len(records))
        docs_folder = f"{DOCS_ROOT}{numbered}/"
        lap("numbering")
        # a full analysis writes each block's document files where it is made (on every core)
        analysis = analyze(site, records, numbers, kept, earlier, lambda docs: _write_doc_files(site, docs_folder, docs, {}))
        kept_encoded, kept_token = (kept.encoded, kept.token) if kept else (None, None)
        kept_shards = kept_encoded.shards if kept_encoded else None
        del kept  # its postings, once patched, are garbage
        docs, postings = analysis.docs, analysis.postings
        lap("analyze")

        root = Path(site.output.root).resolve()
        whoosh_target = whoosh_dir(final_output(root))
        staged = final_output(root) != root  # build.py swaps the index in after the output folder
        by_number = dict(zip(numbers, records))
        state = index_state(docs, numbered, site.fingerprints.digests, site.global_key)
        changes = documents_to_replace(whoosh_target, state)
        replace = None if changes is None else _replacement(site, by_number, *changes)
        writer = fork_child(write_whoosh, whoosh_target, docs, postings, region_chains(vocab), not staged, state, replace)
        lap("forking the whoosh writer")  # (which first returns the analysis's freed heap: freeze_for_fork)

        labels = {kind: RECORD_TYPES[kind].label for kind in KIND_ORDER}
        static = build_static_index(docs, postings, vocab, labels, numbered, docs_folder, kept_encoded, analysis.touched,
                                    analysis.changes.entries if analysis.changes else None)
        lap("encoding")
        if kept_token is None or static.digested is None or not analysis.changes.small(static.touched_rows) or static.shards != kept_shards:
            cache.save(kept_corpus(analysis, static.encoded))  # (its changes file is void: it names the corpus it patches)
            kept_as = "whole"
        else:
            analysis.changes.entries = static.digested
            if analysis.changes.differ(earlier):  # something changed since the last build
                cache.save_changes(kept_token, analysis.changes)
                kept_as = "changes"
        lap("keeping the corpus")
        analyzed, docs_written = analysis.analyzed, analysis.docs_given
        del kept_encoded, earlier, postings, analysis  # the whoosh writer has its own view of them
        base = f"{INDEX_ROOT}{static.version}/"
        files = 0
        for name, key, make in static.files():
            # keyed by content: an edit rewrites only the files whose bytes it changes
            site.output.write_keyed(base + name, key, make)
            files += 1
        size = static.encoded.size + sum(len(data) for name, data in static.made.items() if not name.startswith("t/"))
        terms, shards = static.terms, static.shards
        del static
        return_free_memory()  # the analysis's high-water mark is not the rest of the build's
        lap("index files")
        # (a forked writer of these would overlap the analysis's peak memory: 260 MB more at 20,000)
        files += len(docs) if docs_written else _write_doc_files(site, docs_folder, docs, by_number)
        lap("document files")
        _render_page(site, base, labels)
    except BaseException:
        if writer is not None:  # a failed build leaves the previous whoosh index as it was
            writer.terminate()
            writer.join()
        raise
    timings["total"] = time.perf_counter() - started
    timings["cpu"] = time.process_time() - cpu_started
    report = site.settings.get("GONGKAI_REPORT")
    if isinstance(report, dict):
        report["search"] = {
            "documents": len(docs),
            "documents_analyzed": analyzed,
            "terms": terms,
            "shards": shards,
            "index_bytes": size,
            "static_files": files,
            "whoosh_dir": str(whoosh_target),
            "whoosh_replaced": None if replace is None else replace.count(),
            "corpus_kept": kept_as,
            "seconds": timings,
        }
    ended = time.perf_counter()

    def whoosh_done(exitcode: int | None) -> None:
        if exitcode not in (0, None):
            raise RuntimeError(f"writing the whoosh index {whoosh_target} failed (exit code {exitcode})")
        timings["whoosh after the step"] = time.perf_counter() - ended  # (the next step ran meanwhile)
        timings["whoosh cpu"] = _children_cpu() - child_cpu_started

    return Unfinished(writer, whoosh_done)


def _replacement(site: Site, records: dict[int, Record], removed: list[str], added: list[int]) -> Replacement:
    """What to change in the whoosh index: the ids to delete, and the documents ``added`` (numbers)
    with their texts."""
    docs, texts = search_documents(site, [records[n] for n in added], added)
    return Replacement(removed, docs, texts)


def _render_page(site: Site, index_path: str, labels: dict[str, str]) -> None:
    """``/search/``: the form with its filters (kinds, regions with records, years) and where the index is."""
    regions = site.facets["regions"]
    site.render(
        "search.html",
        site.urls.search(),
        title="搜索",
        index_path=index_path,
        kinds=[(kind, labels[kind]) for kind in KIND_ORDER],
        regions=[(v.id, v.name, _depth(v, regions)) for v in regions.values()],
        years=list(site.facets["years"]),
    )


def _children_cpu() -> float:
    """CPU seconds used by finished child processes (the whoosh writer)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _depth(value, values) -> int:
    depth = 0
    while value.parent and value.parent in values:
        value = values[value.parent]
        depth += 1
    return depth
