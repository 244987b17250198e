"""Runs of a sequence cut by the hashes of its items, so a run depends on its own items only.

The search caches keep work by run (``blockcache.py``: blocks of documents;
``shards.py``: units of terms). A run ends after an item whose hash says so,
not at a fixed count, so inserting or removing an item changes its own run and
leaves the runs before and after it as they were: a rebuild finds them again.
"""

from __future__ import annotations

from typing import Iterable


def hash_cuts(hashes: Iterable[int], average: int, longest: int | None = None) -> list[tuple[int, int]]:
    """``[first, end)`` ranges of the items: a run ends after an item whose hash is 0 modulo ``average``,
    or once it holds ``longest`` items."""
    bounds, first, count = [], 0, 0
    for count, value in enumerate(hashes, 1):
        if value % average == 0 or (longest is not None and count - first >= longest):
            bounds.append((first, count))
            first = count
    if first < count:
        bounds.append((first, count))
    return bounds
