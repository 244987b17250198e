"""Where a site's whoosh index lives, and how a build stages it and puts it in place.

Light on purpose (no whoosh): the build's main process swaps the index in
after the output folder (``build.py``) while the index itself is written by
the search step (``index.py``), in a forked process.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from ..build import _swap_in


def whoosh_dir(output: Path) -> Path:
    """Where the whoosh index of the site built into ``output`` lives."""
    output = Path(output).resolve()
    return output.parent / f"{output.name}.whoosh"


def final_output(root: Path) -> Path:
    """The output folder a build writes to ``root`` for (``build.py`` stages into ``.<name>.building``)."""
    from ..build import staging_path

    root = Path(root).resolve()
    name = root.name
    if name.startswith(".") and name.endswith(".building"):
        candidate = root.parent / name[1:-len(".building")]
        if staging_path(candidate) == root:
            return candidate
    return root


def whoosh_staging(directory: Path) -> Path:
    """Where the whoosh index for ``directory`` is written before it replaces it."""
    directory = Path(directory)
    return directory.with_name(directory.name + ".building")


def swap_in_whoosh(output: Path) -> None:
    """Put the whoosh index a build staged for ``output`` in place (called once the output is)."""
    directory = whoosh_dir(output)
    building = whoosh_staging(directory)
    if building.is_dir():
        _swap_in(building, directory)


def discard_staged_whoosh(output: Path) -> None:
    shutil.rmtree(whoosh_staging(whoosh_dir(output)), ignore_errors=True)
