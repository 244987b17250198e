"""The documents' numbering: the hash table record ids are numbered in, and the name of that scheme.

Light on purpose (no numpy): the build's main process names the numbering to
find the kept corpus (``kept.py``) before it forks the search step.
"""

from __future__ import annotations

import hashlib

FORMAT = 3
"""The static index's format (``shards.py``); its files are named by it, as by the numbering."""


def table_size(count: int) -> int:
    """The range document numbers are hashed into: a power of two at least twice ``count``, so
    collisions are few; it changes (and every document moves) only when ``count`` crosses a power of two."""
    size = 16
    while size < 2 * count:
        size *= 2
    return size


def numbering(doc_count: int) -> str:
    """What gives document numbers their meaning: the format and the table ids are hashed into
    (``documents.document_numbers``), which changes only when the count crosses a power of two."""
    return hashlib.sha256(f"{FORMAT}\0{table_size(doc_count)}".encode()).hexdigest()[:12]
