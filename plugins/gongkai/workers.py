"""Output work split over forked worker processes, one share each, on every core.

Rendering thousands of pages is CPU-bound Python; the workers are forked once
everything they read is in memory (records, facets, the compiled templates),
so nothing is pickled to them and the memory they only read stays shared.
Each worker writes its files through its own copy of ``site.output`` and
sends back what it wrote; the parent takes it over (``OutputTree.absorb``).
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from typing import Callable

from .site import Site

Share = Callable[[int, int], None]
"""``work(share, shares)``: do the ``share``-th of ``shares`` parts of the work."""

_job: tuple[Site, Share, int] | None = None
"""What the forked workers run (inherited, never pickled)."""


def _run_share(share: int) -> tuple[dict[str, str], set[str], int]:
    assert _job is not None
    site, work, shares = _job
    output = site.output
    output.keys, output.written, output.reused = {}, set(), 0  # report only this share's files
    work(share, shares)
    return output.keys, output.written, output.reused


def available_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def in_forked_workers(site: Site, work: Share, workers: int | None = None, shares_per_worker: int = 4) -> None:
    """Run ``work`` over all its shares: in forked workers when there are several cores, else here."""
    global _job
    workers = workers or available_cores()
    if workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        work(0, 1)
        return
    shares = workers * shares_per_worker  # small shares even out the workers' finishing times
    _job = (site, work, shares)
    gc.freeze()  # the collector would otherwise touch, and so copy, every inherited object
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            results = pool.map(_run_share, range(shares), chunksize=1)
    finally:
        gc.unfreeze()
        _job = None
    for keys, written, reused in results:
        site.output.absorb(keys, written, reused)
