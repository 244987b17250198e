"""The output folder: every file the site consists of is written through here.

Paths come from ``urls.py`` and may contain record ids, so each one is checked
to stay inside the folder before anything is written (ids are slugs already;
this is the second lock on the door).

Incremental builds: a file may be written with a *key*, a digest of
everything it was made from. The keys of a build are kept in the output
itself (``MANIFEST``, swapped in atomically with the files it describes); when
the next build asks for the same path with the same key, the previous file is
hard-linked into the new tree instead of being made again. A file is always
replaced, never modified in place, so the new tree never changes the old.
"""

from __future__ import annotations

import json
import os
from pathlib import Path, PurePosixPath
from typing import Callable

from .urls import output_file

MANIFEST = ".gongkai-manifest.json"
"""Site path → key of every keyed file of a build (not linked from any page)."""


class UnsafePath(ValueError):
    """A path that would leave the output folder."""


class OutputTree:
    """Writes files under one root folder and remembers what it wrote."""

    def __init__(self, root: Path, previous: Path | None = None):
        self.root = Path(root)
        self.written: set[str] = set()
        self.keys: dict[str, str] = {}
        self.reused = 0
        """How many files were linked from the previous build rather than made."""
        self.previous = Path(previous) if previous else None
        self._previous_keys: dict[str, str] = {}
        if self.previous is not None:
            try:
                self._previous_keys = json.loads((self.previous / MANIFEST).read_text(encoding="utf-8"))
            except (OSError, ValueError):
                self._previous_keys = {}

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

    def write_keyed(self, path: str, key: str, make: Callable[[], str | bytes]) -> None:
        """Write what ``make()`` returns, unless the previous build wrote this path with this key."""
        name = output_file(path)
        self.keys[name] = key
        if self._previous_keys.get(name) == key and self._link_previous(path):
            self.written.add(name)
            self.reused += 1
            return
        data = make()
        self.write_bytes(path, data.encode("utf-8") if isinstance(data, str) else data)

    def _link_previous(self, path: str) -> bool:
        assert self.previous is not None
        relative = PurePosixPath(output_file(path))
        source = self.previous.joinpath(*relative.parts)
        target = self._target(path)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.link(source, target)
        except FileExistsError:
            target.unlink()
            os.link(source, target)
        except OSError:
            return False
        return True

    def save_manifest(self) -> None:
        self.write_text(MANIFEST, json.dumps(self.keys, sort_keys=True, separators=(",", ":")))
