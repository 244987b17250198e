"""The build's processes ask for memory the way a virtual machine serves it cheaply (docs/performance.md)."""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import ROOT


def test_numpy_asks_for_no_huge_pages_and_openblas_makes_no_threads():
    environment = {k: v for k, v in os.environ.items() if k not in ("NUMPY_MADVISE_HUGEPAGE", "OPENBLAS_NUM_THREADS")}
    script = ("import gongkai, numpy; from numpy._core.multiarray import _get_madvise_hugepage; "
              "print(_get_madvise_hugepage(), len(os.listdir('/proc/self/task')))")  # (the system's threads)
    found = subprocess.run([sys.executable, "-c", "import os; " + script], cwd=ROOT / "plugins", env=environment,
                           capture_output=True, text=True, check=True).stdout.split()
    assert found == ["False", "1"]
