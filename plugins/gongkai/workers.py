"""Output work split over forked worker processes, one share at a time, on every core.

Rendering thousands of pages is CPU-bound Python; the workers are forked once
everything they read is in memory (records, facets, the compiled templates),
so nothing is pickled to them and the memory they only read stays shared.
Each worker writes its files through its own copy of ``site.output`` and
sends back what it wrote; the parent takes it over (``OutputTree.absorb``),
and may do other work of its own meanwhile.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from typing import Any, Callable

from .site import Site

Share = Callable[[int, int], Any]
"""``work(share, shares)``: do the ``share``-th of ``shares`` parts of the work; may return what the
parent should take over besides the files (see ``ForkedWork``'s ``adopt``)."""

_job: tuple[Site, Share, int] | None = None
"""What the forked workers run (inherited, never pickled)."""


def _run_share(share: int) -> tuple[dict[str, str], set[str], int, Any]:
    assert _job is not None
    site, work, shares = _job
    output = site.output
    output.keys, output.written, output.reused = {}, set(), 0  # report only this share's files
    made = work(share, shares)
    return output.keys, output.written, output.reused, made


def freeze_for_fork() -> Callable[[], None]:
    """Keep the garbage collector off every object a forked child inherits (touching one copies its
    memory page); returns what undoes it in the parent. Objects someone froze before (the catalog's
    loaded records) stay frozen."""
    frozen_before = gc.get_freeze_count()
    gc.freeze()
    return (lambda: None) if frozen_before else gc.unfreeze


def available_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class ForkedWork:
    """``work`` running in forked workers (or, with one core, done at once here) until ``finish()``."""

    def __init__(
        self,
        site: Site,
        work: Share,
        workers: int | None = None,
        shares_per_worker: int = 4,
        adopt: Callable[[Any], None] | None = None,
    ):
        """``adopt`` is given what each forked share's ``work`` returned (with one core, ``work`` runs
        here and has nothing to hand over)."""
        global _job
        self.site = site
        self._adopt = adopt
        workers = workers or available_cores()
        self._pool = None
        if workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
            work(0, 1)
            return
        shares = workers * shares_per_worker  # small shares even out the workers' finishing times
        _job = (site, work, shares)
        thaw = freeze_for_fork()
        try:
            self._pool = multiprocessing.get_context("fork").Pool(workers)  # forks them now
            self._results = self._pool.map_async(_run_share, range(shares), chunksize=1)
        finally:
            thaw()
            _job = None

    def cancel(self) -> None:
        """Stop the workers (this process failed; what they wrote is thrown away with the build)."""
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None

    def finish(self) -> None:
        """Wait for the workers and take over the files they wrote (re-raises a worker's error)."""
        if self._pool is None:
            return
        try:
            results = self._results.get()
        finally:
            self._pool.terminate()
            self._pool.join()
            self._pool = None
        for keys, written, reused, made in results:
            self.site.output.absorb(keys, written, reused)
            if self._adopt is not None:
                self._adopt(made)
