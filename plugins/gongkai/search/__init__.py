"""Search (issue 5): a whoosh index for the terminal and a static index for the browser.

``write_search(site)`` is the build's "search index" step. It reads only
``site.publication`` (through ``documents.py``), analyzes every public record
once (``postings.py``), and from those postings writes

- the static index under ``search/index/<version>/`` and ``search/docs/``
  (``shards.py``), which ``theme/static/js/search.js`` queries on the page
  ``/search/``;
- the whoosh index beside the output folder (``index.py``), which
  ``invoke search`` queries (``query.py``); it is written by a forked process
  while this one encodes the static index.

Both rank with the same BM25F scores, so the browser and the terminal agree.
Every static file is keyed by its content, so a rebuild rewrites only the
files an edit changed.
"""

from __future__ import annotations

import gc
import hashlib
import multiprocessing
import os
import signal
import time
from pathlib import Path
from typing import Iterator

from ..buildcache import PickleCache
from ..records import RECORD_TYPES, Record
from ..site import Site
from ..workers import freeze_for_fork
from .blockcache import Block, BlockCache, block_bounds
from .documents import FIELDS, KIND_ORDER, SearchDoc, numbered_records, search_documents
from .index import Replacement, documents_to_replace, final_output, index_state, whoosh_dir, write_whoosh
from .postings import AnalyzedBlock, Postings, analyze_block, merge_blocks
from .shards import build_static_index, doc_file, numbering

INDEX_ROOT = "search/index/"
DOCS_ROOT = "search/docs/"
"""``<n>.json`` per document, in a folder named by the numbering (``shards.numbering``)."""


def region_chains(vocab) -> dict[str, list[str]]:
    """Each region id → itself and its ancestors (a filter on a city finds its districts)."""
    return {e.id: [e.id] + [a.id for a in vocab.regions.ancestors(e.id)] for e in vocab.regions}


def _in_child(target, *args) -> multiprocessing.process.BaseProcess | None:
    """Run ``target(*args)`` in a forked process (inline where fork is unavailable)."""
    if "fork" not in multiprocessing.get_all_start_methods():
        target(*args)
        return None
    process = multiprocessing.get_context("fork").Process(
        target=_with_parent, args=(os.getpid(), target, *args), name=f"gongkai-{target.__name__}")
    gc.collect()  # garbage freed now is not copied into the child
    thaw = freeze_for_fork()
    try:
        process.start()
    finally:
        thaw()
    return process


def _write_doc_files(site: Site, folder: str, docs: list[SearchDoc]) -> int:
    """``<n>.json`` of each document, keyed by its record's file digest and the global key (what the
    file is made from), so an unchanged record's file is neither made nor hashed again."""
    digests = site.fingerprints.digests
    for doc in docs:
        # (Without a digest, a Site made by hand, the file is keyed by its content.)
        made_from = digests.get(doc.id) or doc_file(doc).decode("utf-8")
        site.write_keyed(f"{folder}{doc.n}.json", lambda doc=doc: doc_file(doc), made_from)
    return len(docs)


def _with_parent(parent: int, target, *args) -> None:
    """Run ``target(*args)``, but die with the build that forked us: a build killed part-way
    (``kill -9``) must not leave a writer running beside the next build."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG (Linux)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the build died before we could ask
        os._exit(1)
    target(*args)


def write_search(site: Site) -> None:
    """Write the search page, the static index and the whoosh index of the public records."""
    timings: dict[str, float] = {}
    started = clock = time.perf_counter()
    cpu_started, child_cpu_started = time.process_time(), _children_cpu()
    vocab = site.publication.vocab
    writer = None
    try:
        records, docs, postings, analyzed_blocks = _analyze(site)
        _return_free_memory()
        timings["analyze"] = time.perf_counter() - clock

        root = Path(site.output.root).resolve()
        whoosh_target = whoosh_dir(final_output(root))
        staged = final_output(root) != root  # build.py swaps the index in after the output folder
        numbered = numbering(len(docs))
        state = index_state(docs, numbered, site.fingerprints.digests, site.global_key)
        changes = documents_to_replace(whoosh_target, state)
        replace = None if changes is None else _replacement(site, records, *changes)
        del records
        writer = _in_child(write_whoosh, whoosh_target, docs, postings, region_chains(vocab), not staged, state, replace)

        clock = time.perf_counter()
        labels = {kind: RECORD_TYPES[kind].label for kind in KIND_ORDER}
        docs_folder = f"{DOCS_ROOT}{numbered}/"
        encoded = _encoded_units(site)
        known = encoded.load() if encoded else {}
        static = build_static_index(docs, postings, vocab, labels, numbered, docs_folder, known)
        if encoded and static.units.keys() != known.keys():
            encoded.save(static.units)
        del known
        del postings  # the whoosh writer has its own view of them
        base = f"{INDEX_ROOT}{static.version}/"
        for name, data in sorted(static.files.items()):
            # keyed by content: an edit rewrites only the files whose bytes it changes
            site.output.write_keyed(base + name, hashlib.sha256(data).hexdigest(), lambda data=data: data)
        files, size = len(static.files), sum(map(len, static.files.values()))
        terms, shards = static.terms, static.shards
        del static
        _return_free_memory()
        # a forked writer of these would overlap the analysis's peak memory (260 MB more at 20,000)
        files += _write_doc_files(site, docs_folder, docs)
        timings["static index"] = time.perf_counter() - clock
        _render_page(site, base, labels)
    except BaseException:
        if writer is not None:  # a failed build leaves the previous whoosh index as it was
            writer.terminate()
            writer.join()
        raise
    clock = time.perf_counter()
    if writer is not None:
        writer.join()
        if writer.exitcode != 0:
            raise RuntimeError(f"writing the whoosh index {whoosh_target} failed (exit code {writer.exitcode})")
    timings["waiting for whoosh"] = time.perf_counter() - clock
    timings["total"] = time.perf_counter() - started
    timings["cpu"] = time.process_time() - cpu_started
    timings["whoosh cpu"] = _children_cpu() - child_cpu_started
    report = site.settings.get("GONGKAI_REPORT")
    if isinstance(report, dict):
        report["search"] = {
            "documents": len(docs),
            "blocks_analyzed": analyzed_blocks,
            "terms": terms,
            "shards": shards,
            "index_bytes": size,
            "static_files": files,
            "whoosh_dir": str(whoosh_target),
            "whoosh_replaced": None if replace is None else replace.count(),
            "seconds": timings,
        }


def _analyze(site: Site) -> tuple[dict[int, Record], list[SearchDoc], Postings, int]:
    """The records by document number, their documents (in document order) and postings; only the
    blocks whose records changed since the previous build are analyzed (``blockcache.py``). Also how
    many blocks were."""
    records, numbers = numbered_records(site)
    cache_dir = site.setting("GONGKAI_CACHE_PATH")
    cache = BlockCache(Path(cache_dir) if cache_dir else None, site.global_key)
    digests = site.fingerprints.digests
    docs: list[SearchDoc] = []
    analyzed = 0

    def blocks() -> Iterator[tuple[AnalyzedBlock, list[int]]]:
        nonlocal analyzed
        for first, end in block_bounds([r.id for r in records]):
            part = records[first:end]
            key = cache.key([r.id for r in part], [digests.get(r.id) for r in part])
            block = cache.load(key)
            if block is None:
                block_docs, texts = search_documents(site, part, range(len(part)))
                block = Block(block_docs, analyze_block(texts))
                cache.save(key, block)
                analyzed += 1
            docs.extend(block.numbered(numbers[first:end]))
            yield block.analysis, numbers[first:end]

    postings = merge_blocks(blocks(), FIELDS, len(records))
    cache.prune()
    return dict(zip(numbers, records)), docs, postings, analyzed


def _replacement(site: Site, records: dict[int, Record], removed: list[str], added: list[int]) -> Replacement:
    """What to change in the whoosh index: the ids to delete, and the documents ``added`` (numbers)
    with their texts."""
    chosen = [records[n] for n in added]
    docs, texts = search_documents(site, chosen, added)
    return Replacement(removed, docs, texts)


def _encoded_units(site: Site) -> PickleCache | None:
    """Where the encoded shard entries of the previous build are kept (``shards.encode_postings``)."""
    cache_dir = site.setting("GONGKAI_CACHE_PATH")
    return PickleCache(Path(cache_dir) / "search-terms.pickle", site.global_key) if cache_dir and site.global_key else None


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


def _return_free_memory() -> None:
    """Give the heap freed by the analysis back to the system (glibc keeps it otherwise), so the
    build's peak is not the analysis's high-water mark for the rest of the build."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


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
