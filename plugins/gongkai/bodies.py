"""Rendering every public record's body once: in parallel, and never again for the same record file.

Markdown rendering is the largest single cost of a clean build (Python-Markdown
takes about a millisecond per body). Bodies are rendered before the output
steps, on all cores when there are many, and kept between builds in a
``FragmentStore`` under the record's file digest (the code's fingerprint is
the store's salt), so a rebuild renders only the bodies of changed records.
Nothing is held in memory: an output step asks ``Site.body_html`` for a body
when it needs one, and only the pages, feeds and fragments made again do.
"""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Iterable

from .buildcache import code_fingerprint
from .fragments import FragmentStore
from .markup import render_body
from .records import Record

PARALLEL_THRESHOLD = 200
"""Below this many bodies to render, worker processes cost more than they save."""


def body_bytes(text: str) -> bytes:
    """A body's HTML as the store keeps it."""
    return render_body(text).encode("utf-8")


def body_store(cache_dir: Path | None, scratch: Path | None = None) -> FragmentStore:
    """The bodies kept in the build cache folder ``cache_dir`` (a temporary store without one)."""
    return FragmentStore(Path(cache_dir) if cache_dir else None, "bodies", code_fingerprint(), scratch=scratch)


def _render_many(texts: list[str]) -> list[bytes]:
    return [body_bytes(text) for text in texts]


class Bodies:
    """Sanitized body HTML by record id, read from the store when asked for."""

    def __init__(self, store: FragmentStore, keys: dict[str, str]):
        self._store = store
        self._keys = keys
        """Record id → the key of its body in the store (records with a body only)."""

    def get(self, record_id: str) -> str | None:
        key = self._keys.get(record_id)
        return None if key is None else self._store.part(key, 0).decode("utf-8")

    def save(self) -> None:
        """Keep the bodies this build used for the next one (or remove a temporary store)."""
        self._store.save()


def render_bodies(
    records: Iterable[Record],
    digests: dict[str, str],
    cache_dir: Path | None = None,
    workers: int | None = None,
    rendered: dict[str, bytes] | None = None,
    scratch: Path | None = None,
    loaded: FragmentStore | None = None,
) -> Bodies:
    """Render the bodies of ``records`` that the cache does not hold; ``digests``: record id → file digest.

    ``rendered``: bodies rendered already by file digest (``Catalog.rendered_bodies``: the load workers
    render the body of each record they parse); taken into the store, and emptied. ``loaded``: the
    body store of the same cache folder that the load workers added theirs to (``Catalog.body_store``),
    taken as this build's. ``scratch``: where to keep the store without a cache folder (``FragmentStore``).
    """
    rendered = rendered if rendered is not None else {}
    if loaded is not None and cache_dir and loaded.folder == Path(cache_dir):
        store = loaded
    else:
        if loaded is not None:  # (a catalog loaded with another cache folder: its bodies are rendered again)
            loaded.close()
        store = body_store(cache_dir, scratch)
    keys: dict[str, str] = {}
    missing: dict[str, str] = {}  # store key → text
    for record in records:
        if not record.has_body:
            continue
        key = digests.get(record.id) or hashlib.sha256(record.body.encode("utf-8")).hexdigest()
        keys[record.id] = key
        if key in missing or store.keep(key):
            continue
        if key in rendered:
            store.add(key, [rendered[key]])
        else:
            missing[key] = record.body
    rendered.clear()  # the bodies of records that are not public go too
    if missing:
        texts = list(missing.values())
        workers = workers or os.cpu_count() or 1
        if workers > 1 and len(texts) >= PARALLEL_THRESHOLD:
            size = max(1, len(texts) // (workers * 4))
            chunks = [texts[i:i + size] for i in range(0, len(texts), size)]
            with ProcessPoolExecutor(workers) as pool:
                rendered = [html for chunk in pool.map(_render_many, chunks) for html in chunk]
        else:
            rendered = _render_many(texts)
        for key, html in zip(missing, rendered):
            store.add(key, [html])
    return Bodies(store, keys)
