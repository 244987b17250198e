"""The output folder: every file the site consists of is written through here.

Paths come from ``urls.py`` and may contain record ids, so each one is checked
to stay inside the folder before anything is written (ids are slugs already;
this is the second lock on the door). A file is replaced, never modified in
place, so an output tree that shares files with a previous build (hard links,
see ``build.py``) never changes the previous build's files.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from .urls import output_file


class UnsafePath(ValueError):
    """A path that would leave the output folder."""


class OutputTree:
    """Writes files under one root folder and remembers what it wrote."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.written: set[str] = set()

    def _target(self, path: str) -> Path:
        relative = PurePosixPath(output_file(path))
        if relative.is_absolute() or ".." in relative.parts or "\\" in path or "\0" in path:
            raise UnsafePath(f"refusing to write outside the output folder: {path!r}")
        return self.root.joinpath(*relative.parts)

    def write_bytes(self, path: str, data: bytes) -> None:
        """Write ``data`` at the site path ``path`` (``cases/x/`` means ``cases/x/index.html``)."""
        target = self._target(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(target.name + ".tmp")
        with open(temporary, "wb") as out:
            out.write(data)
        os.replace(temporary, target)
        self.written.add(output_file(path))

    def write_text(self, path: str, text: str) -> None:
        self.write_bytes(path, text.encode("utf-8"))
