"""What one build may reuse from the last: keys that say when reuse is safe.

A cache is never trusted blindly. Everything cached is keyed by what it was
made from: a record by its file's bytes, and all of it by ``code_fingerprint``
(the plugin's code, the theme, and the vocabularies), so changing a template,
a setting or the code invalidates what it touches.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from pathlib import Path
from typing import Any, BinaryIO

from .piecewise import open_to_write

ROOT = Path(__file__).resolve().parents[2]
CODE_DIRS = (ROOT / "plugins" / "gongkai", ROOT / "theme")


def _tree_digest(folders: tuple[Path, ...]) -> str:
    digest = hashlib.sha256()
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


_code_digest: str | None = None


def code_fingerprint() -> str:
    """A digest of the plugin's code and the theme: any change there invalidates every cache."""
    global _code_digest
    if _code_digest is None:
        _code_digest = _tree_digest(CODE_DIRS)
    return _code_digest


def default_cache_dir() -> Path:
    return Path(os.environ.get("GONGKAI_CACHE", ROOT / ".cache" / "build"))


_UNREADABLE = (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError, AttributeError, ImportError)
"""What reading a missing, torn or foreign pickle file may raise: then it holds nothing for us."""


class PickleCache:
    """A value (a dictionary unless said otherwise) kept in one pickle file, valid only under the same ``salt``.

    The file is two pickles, the salt and then the value, so whether it holds a
    value for this salt is known without reading the value. Written to a
    temporary file and renamed into place, so a killed build leaves the
    previous cache or none, never a torn one.
    """

    def __init__(self, path: Path, salt: str):
        self.path, self.salt = Path(path), salt

    def holds_value(self) -> bool:
        """Whether a value was saved under this salt (only the salt is read)."""
        try:
            with open(self.path, "rb") as source:
                return pickle.load(source) == self.salt
        except _UNREADABLE:
            return False

    def load(self) -> Any:
        """The value saved under this salt, else an empty dictionary."""
        try:
            with open(self.path, "rb") as source:
                if pickle.load(source) != self.salt:
                    return {}
                return self._read_value(source)
        except _UNREADABLE:
            return {}

    def _read_value(self, source: BinaryIO) -> Any:
        """The value after the salt (what ``_write_value`` wrote)."""
        return pickle.load(source)

    def _write_value(self, out: BinaryIO, value: Any) -> None:
        pickle.dump(value, out, protocol=pickle.HIGHEST_PROTOCOL)

    def save(self, entries: Any) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(self.path.name + f".{os.getpid()}.tmp")
        with open_to_write(temporary, read_back=False) as out:  # (the next build reads it)
            pickle.dump(self.salt, out, protocol=pickle.HIGHEST_PROTOCOL)
            self._write_value(out, entries)
        # The old file goes first: ext4 writes out a file renamed over another before the rename
        # returns (auto_da_alloc), 0.7 s for the 124 MB search corpus at 20,000 records. A build
        # killed in between leaves no cache, which only costs the next build time.
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass
        os.rename(temporary, self.path)
