"""Gongkai: a Pelican plugin that publishes validated disclosure, case and report records."""

from __future__ import annotations

import os

# Before numpy is imported (the search step uses it): we make no BLAS call, and OpenBLAS's thread pool,
# made at import and shut down and woken around each of a build's forks, spun on the other core:
# 0.2 s of a clean build's time at 20,000 records (docs/performance.md). A value set outside is kept.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
# Nor does numpy ask for transparent huge pages for its large arrays (``madvise``): on a virtual machine whose
# host takes back the memory its guest leaves free, a huge page is 2 MB the host must give back, and 500 MB of
# arrays took 2.1-3.1 s of system CPU in huge pages against 0.17-0.22 s in 4 KB pages (docs/performance.md).
os.environ.setdefault("NUMPY_MADVISE_HUGEPAGE", "0")


def _generators(pelican):
    from .generator import RecordsGenerator

    return RecordsGenerator


def register() -> None:
    """Pelican's plugin entry point."""
    from pelican import signals

    # Held strongly (it lives as long as this module anyway): blinker's weak reference called back while the
    # interpreter tore the modules down, and printed a traceback after a failed `invoke publish`.
    signals.get_generators.connect(_generators, weak=False)
