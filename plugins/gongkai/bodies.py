"""Rendering every public record's body once: in parallel, and never again for the same text.

Markdown rendering is the largest single cost of a build (Python-Markdown
takes milliseconds per body). Bodies are rendered before the output steps, on
all cores when there are many, and kept in a cache keyed by the body text and
the code's fingerprint (``buildcache``), so a rebuild renders only the bodies
that changed. Every output step then reads ``Site.body_html``.
"""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Iterable

from .buildcache import PickleCache, code_fingerprint
from .markup import render_body
from .records import Record

PARALLEL_THRESHOLD = 200
"""Below this many bodies to render, worker processes cost more than they save."""


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _render_many(texts: list[str]) -> list[str]:
    return [render_body(text) for text in texts]


def render_bodies(records: Iterable[Record], cache_dir: Path | None = None, workers: int | None = None) -> dict[str, str]:
    """Sanitized body HTML by record id, for every record that has a body."""
    cache = PickleCache(Path(cache_dir) / "bodies.pickle", code_fingerprint()) if cache_dir else None
    known: dict[str, str] = cache.load() if cache else {}
    by_digest: dict[str, str] = {}
    wanted: dict[str, str] = {}  # record id → body digest
    missing: dict[str, str] = {}  # body digest → text
    for record in records:
        if not record.body:
            continue
        digest = _digest(record.body)
        wanted[record.id] = digest
        if digest in known:
            by_digest[digest] = known[digest]
        else:
            missing[digest] = record.body
    if missing:
        digests, texts = list(missing), list(missing.values())
        workers = workers or os.cpu_count() or 1
        if workers > 1 and len(texts) >= PARALLEL_THRESHOLD:
            size = max(1, len(texts) // (workers * 4))
            chunks = [texts[i:i + size] for i in range(0, len(texts), size)]
            with ProcessPoolExecutor(workers) as pool:
                rendered = [html for chunk in pool.map(_render_many, chunks) for html in chunk]
        else:
            rendered = _render_many(texts)
        by_digest.update(zip(digests, rendered))
        if cache is not None:
            cache.save(by_digest)  # only what this build uses: the cache never grows without bound
    return {record_id: by_digest[digest] for record_id, digest in wanted.items()}
