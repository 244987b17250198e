"""The output folder: every file the site consists of is written through here.

Paths come from ``urls.py`` and may contain record ids, so each one is checked
to stay inside the folder before anything is written (ids are slugs already;
this is the second lock on the door).

Incremental builds. A file may be written with a *key*, a digest of
everything it was made from. The keys of a build are kept in the output
itself (``MANIFEST``, swapped in atomically with the files it describes). A
build is made in a staging folder and swapped in whole (``build.py``), so the
live site never holds half a build; to make that cheap at 20,000 records,
the staging folder is not filled from nothing:

- the tree retired by the previous swap (the *spare*, ``.<output>.previous``,
  the site as it was two builds ago) is *recycled*: renamed to be the staging
  folder, so every file whose key has not changed since then is already in
  place and costs nothing;
- a file whose key equals the live output's is hard-linked from it;
- anything else is made.

A file that may share its inode with the live site (a recycled or linked
file with more than one link) is replaced (a new inode), never written in
place; a recycled file the staging tree alone holds is written in place. A big file
that changed in a few places may be made of ranges of the live site's copy
(``previous_file``, ``CopiedRange``), copied into the new file. A recycled
tree is trusted only within the build that recycled it: its manifest is
taken out first (``RECYCLED``), so a build killed half-way leaves a staging
folder nobody will reuse.
"""

from __future__ import annotations

import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence, TypeVar

import orjson

from .piecewise import FileWriter
from .urls import output_file

MANIFEST = ".gongkai-manifest.json"
"""Keys of a build's keyed files and the list of its other files (not linked from any page)."""
RECYCLED = ".gongkai-recycled.json"
"""The manifest of a recycled tree while a build is updating it."""
MANIFEST_FORMAT = 2


class UnsafePath(ValueError):
    """A path that would leave the output folder."""


@dataclass(frozen=True)
class CopiedRange:
    """Bytes of an existing file, copied into a new file (a block at a time, ``piecewise.FileWriter``)."""

    file: str
    offset: int
    length: int


Pieces = Iterable[bytes | bytearray | CopiedRange]
"""A file's contents in order: bytes, and ranges of other files (a list, or pieces made as they are written)."""
WrittenApart = tuple[dict[str, str], set[str], int]
"""What a worker's copy of an ``OutputTree`` wrote: its files' keys, their names, how many it reused."""
T = TypeVar("T")


def _open_for_writing(target: str) -> tuple[int, bool]:
    """A descriptor to write ``target`` from its start, in a staging tree (not live), and whether
    it is an old file written over.

    A new file gets a new inode. A recycled file is written in place when this
    tree alone holds it (one link), and replaced (unlinked, then created) when
    it shares its inode with the live site, which must never change. Writing
    in place matters after a change of code or templates, when every file is
    made again: on ext4, creating tens of thousands of inodes just after
    freeing as many is many times slower (``recently_deleted`` in inode
    allocation), and a rebuild took four times a clean build. It is written
    over, not truncated first: the caller cuts it to length when done
    (``FileInPieces.close``), since ext4 flushes a file truncated to zero when it is
    closed (``auto_da_alloc``), which took 0.45 s for the 150 MB ``records.json``.
    """
    try:  # a new file, a new inode: nobody else can see it yet
        return os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644), False
    except FileExistsError:
        pass
    try:
        descriptor = os.open(target, os.O_WRONLY | os.O_NOFOLLOW)
    except OSError:
        descriptor = -1
    if descriptor >= 0:
        status = os.fstat(descriptor)
        if stat.S_ISREG(status.st_mode) and status.st_nlink == 1:
            return descriptor, True
        os.close(descriptor)
    # Shared with the live site (or not a plain file): the staging tree is not live, so unlinking
    # first is as safe as a temporary file and one call cheaper.
    os.unlink(target)
    return os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644), False


class FileInPieces:
    """A file of the output being written, a piece at a time: bytes, or ranges of other files
    (``OutputTree.write_bytes``, ``OutputTree.write_keyed_in_pieces``); once large, past the page cache."""

    def __init__(self, descriptor: int, written_over: bool, sources: dict[str, int], written: Callable[[], None]):
        self._descriptor, self._written_over, self._sources, self._written = descriptor, written_over, sources, written
        self._writer = FileWriter(descriptor)  # (a large file past the page cache: nothing here reads it)

    def add(self, piece: bytes | bytearray | CopiedRange) -> None:
        if isinstance(piece, CopiedRange):
            if piece.file not in self._sources:
                self._sources[piece.file] = os.open(piece.file, os.O_RDONLY)
            self._writer.copy(self._sources[piece.file], piece.offset, piece.length)
        else:
            self._writer.write(piece)

    def forget(self, source: str) -> None:
        """Close the file ``source`` if ranges were copied from it: none will be again (a deleted file's
        pages are freed only once nothing holds it open)."""
        descriptor = self._sources.pop(source, None)
        if descriptor is not None:
            os.close(descriptor)

    def close(self, done: bool = True) -> None:
        """End the file (``done``: what was added is all of it, and it counts as written; else it is
        left as it is, for the failed build's staging folder to go with)."""
        try:
            if done:
                self._writer.close()
            if done and self._written_over:
                # (end the file where writing ended: what a recycled file held beyond it goes)
                os.ftruncate(self._descriptor, os.lseek(self._descriptor, 0, os.SEEK_CUR))
        finally:
            os.close(self._descriptor)
            for source in self._sources.values():
                os.close(source)
        if done:
            self._written()


def file_in(root: Path | str, path: str) -> str:
    """The file of the site path ``path`` under ``root``; refuses a path that would leave ``root``.

    Plain strings, not ``pathlib``: this runs for each of 70,000 files of a build.
    """
    name = output_file(path)
    if name.startswith("/") or "\\" in name or "\0" in name or ".." in name.split("/"):
        raise UnsafePath(f"refusing to write outside the output folder: {path!r}")
    return os.path.join(root, name)


def spare_path(output: Path) -> Path:
    """Where the tree retired by the last swap waits to be recycled."""
    return output.parent / f".{output.name}.previous"


def _read_manifest(path: Path) -> dict | None:
    try:
        manifest = orjson.loads(path.read_bytes())
    except (OSError, ValueError):  # (orjson.JSONDecodeError is a ValueError)
        return None
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        return None
    return manifest


def _identity(path: Path) -> tuple[int, int, int, int] | None:
    """What tells a file from any other and from its own earlier versions (a rename keeps it)."""
    try:
        found = os.stat(path)
    except OSError:
        return None
    return found.st_dev, found.st_ino, found.st_size, found.st_mtime_ns


_recycled_read: tuple[tuple[int, int, int, int] | None, dict] | None = None
"""The manifest ``recycle_spare`` read (and renamed to ``RECYCLED``), with the file's identity, for the
``OutputTree`` that takes the tree over: 72,000 keys at 20,000 records take 40 ms to parse, once is enough."""


def _read_recycled(path: Path) -> dict | None:
    """The manifest at ``path``, from ``recycle_spare``'s reading when it is still the same file."""
    global _recycled_read
    handed, _recycled_read = _recycled_read, None
    if handed is not None and handed[0] is not None and handed[0] == _identity(path):
        return handed[1]
    return _read_manifest(path)


def recycle_spare(output: Path, staging: Path, unkeyed_dirs: Iterable[str] = ()) -> bool:
    """Make the spare tree the staging folder, ready to be updated; ``False`` if there is none to use.

    The files the spare holds without a key (written by Pelican or made on
    every build) and the folders in ``unkeyed_dirs`` (the theme's static
    files, copied by Pelican) are removed first: whoever writes them next may
    write in place, and they must not be left over if no longer made.
    """
    spare = spare_path(output)
    if not spare.is_dir():
        return False
    manifest = _read_manifest(spare / MANIFEST)
    if manifest is None:
        shutil.rmtree(spare)
        return False
    os.rename(spare, staging)
    os.rename(staging / MANIFEST, staging / RECYCLED)
    global _recycled_read
    _recycled_read = (_identity(staging / RECYCLED), manifest)
    for name in manifest.get("unkeyed", ()):
        try:
            os.unlink(file_in(staging, name))
        except FileNotFoundError:
            pass
    for folder in unkeyed_dirs:
        shutil.rmtree(os.path.dirname(file_in(staging, folder.strip("/") + "/")), ignore_errors=True)
    return True


def swap_in(staging: Path, output: Path) -> None:
    """Put the finished ``staging`` tree in place of ``output``; the old tree becomes the spare.

    Two renames: the live folder is never a mix of two builds.
    """
    spare = spare_path(output)
    if spare.exists():
        shutil.rmtree(spare)
    if output.exists():
        os.rename(output, spare)
    os.rename(staging, output)


class OutputTree:
    """Writes files under one root folder and remembers what it wrote."""

    def __init__(self, root: Path, previous: Path | None = None):
        self.root = Path(root)
        self._root = str(root)
        self.written: set[str] = set()
        """Every file of this build made or reused through this tree (output file names)."""
        self.keys: dict[str, str] = {}
        self.reused = 0
        """How many keyed files were kept from an earlier build rather than made."""
        self.previous = Path(previous) if previous else None
        self.also_written: set[str] = set()
        """Files others (Pelican) wrote into the tree; listed in the manifest as unkeyed."""
        self._previous_keys: dict[str, str] = {}
        if self.previous is not None:
            manifest = _read_manifest(self.previous / MANIFEST)
            self._previous_keys = manifest["keys"] if manifest else {}
        self._in_place: dict[str, str] = {}
        """Keys of the files already in ``root`` (a recycled tree), read once and removed."""
        recycled = _read_recycled(self.root / RECYCLED)
        if recycled is not None:
            self._in_place = recycled["keys"]
            (self.root / RECYCLED).unlink()
        self._folders: set[str] = set()

    @property
    def from_nothing(self) -> bool:
        """Whether no earlier build's file can be kept (nothing recycled in place, no live site to link
        from): every keyed file will be made."""
        return not self._in_place and not self._previous_keys

    def _target(self, path: str) -> str:
        return file_in(self._root, path)

    def _folder_for(self, target: str) -> None:
        folder = os.path.dirname(target)
        if folder not in self._folders:
            # Mostly a record's own folder in one made already: ``mkdir`` alone, not ``makedirs``
            # (which first stats the parent: a tenth of a record page worker's time was in them).
            try:
                os.mkdir(folder)
            except FileNotFoundError:
                os.makedirs(folder, exist_ok=True)
            except FileExistsError:
                if not os.path.isdir(folder):
                    raise
            self._folders.add(folder)

    def write_bytes(self, path: str, data: bytes | bytearray | Pieces) -> None:
        """Write ``data`` at the site path ``path`` (``cases/x/`` means ``cases/x/index.html``).

        ``data`` may be pieces (``Pieces``), some of them ranges of other files.
        """
        pieces = [data] if isinstance(data, (bytes, bytearray)) else data
        # The sources a list names are opened first: one may be the recycled file this one replaces
        # (pieces made as they are written name files of the build's scratch folder only).
        known = pieces if isinstance(pieces, (list, tuple)) else ()
        sources = {piece.file: os.open(piece.file, os.O_RDONLY) for piece in known if isinstance(piece, CopiedRange)}
        file = self._in_pieces(path, sources)
        try:
            for piece in pieces:
                file.add(piece)
        except BaseException:
            file.close(done=False)
            raise
        file.close()

    def write_text(self, path: str, text: str) -> None:
        self.write_bytes(path, text.encode("utf-8"))

    def write_keyed_in_pieces(self, path: str, key: str) -> FileInPieces | None:
        """``write_keyed`` for a file made a piece at a time, beside other work (the open data's joined
        files, a part as each worker's share is done): None when an earlier build made it with this
        key, else the file to ``add`` pieces to and ``close``."""
        name = output_file(path)
        self.keys[name] = key
        return None if self._reused(name, path, key) else self._in_pieces(path, {})

    def _in_pieces(self, path: str, sources: dict[str, int]) -> FileInPieces:
        """The file at ``path``, open to write from its start; ``sources`` (open descriptors of files
        its ranges come from, by name) are closed with it."""
        try:
            target = self._target(path)
            self._folder_for(target)
            descriptor, written_over = _open_for_writing(target)
        except BaseException:
            for source in sources.values():
                os.close(source)
            raise
        return FileInPieces(descriptor, written_over, sources, lambda: self.written.add(output_file(path)))

    def write_keyed(self, path: str, key: str, make: Callable[[], str | bytes | bytearray | Pieces]) -> None:
        """Write what ``make()`` returns, unless an earlier build made this path with this key."""
        name = output_file(path)
        self.keys[name] = key
        if not self._reused(name, path, key):
            self._write_made(path, make())

    def _reused(self, name: str, path: str, key: str) -> bool:
        """Whether the file an earlier build made with ``key`` is in place or linked from the live site
        (then it counts as written)."""
        # (A file already written by this build, say a redirect where a record's page now is, is not
        # the recycled one any more, whatever its key said.)
        if (self._in_place.get(name) == key and name not in self.written) or (
            self._previous_keys.get(name) == key and self._link_previous(path)
        ):
            self.written.add(name)
            self.reused += 1
            return True
        return False

    def _write_made(self, path: str, data: str | bytes | bytearray | Pieces) -> None:
        self.write_bytes(path, data.encode("utf-8") if isinstance(data, str) else data)

    def write_keyed_many(self, paths: Sequence[str], keys: Sequence[str],
                         make: Callable[[int], str | bytes | bytearray | Pieces]) -> int:
        """``write_keyed(paths[n], keys[n], lambda: make(n))`` for every ``n``. Returns how many were made.

        A rebuild checks 20,000 record pages this way: the files already in place with their keys
        are found in one comprehension (a dict lookup each), and only the others are looked at one by one.
        """
        names = [output_file(path) for path in paths]
        pairs = dict(zip(names, keys))
        self.keys.update(pairs)
        kept = self._in_place.get  # (intersecting the two item views made and hashed a tuple per item: 5x slower)
        in_place = {name for name, key in pairs.items() if kept(name) == key} - self.written
        self.written |= in_place
        self.reused += len(in_place)
        made = 0
        for n, name in enumerate(names):
            if name not in in_place and not self._reused(name, paths[n], keys[n]):
                self._write_made(paths[n], make(n))
                made += 1
        return made

    def file_of(self, path: str) -> str:
        """The file this build writes (or wrote) for the site path ``path``."""
        return self._target(path)

    def previous_file(self, path: str, key: str) -> str | None:
        """The live site's file at ``path`` if the previous build made it with ``key``, so its bytes are known."""
        if self.previous is None or self._previous_keys.get(output_file(path)) != key:
            return None
        return file_in(self.previous, path)

    def _link_previous(self, path: str) -> bool:
        assert self.previous is not None
        source = file_in(self.previous, path)
        target = self._target(path)
        self._folder_for(target)
        try:
            try:
                os.link(source, target)
            except FileExistsError:  # a recycled file: the staging tree is not live, unlink it
                os.unlink(target)
                os.link(source, target)
        except OSError:
            return False  # then it is made
        return True

    def written_apart(self, work: Callable[[], T]) -> tuple[T, WrittenApart]:
        """``work()`` writing through this tree (a forked worker's copy of the parent's), and what it
        wrote, for the parent to ``absorb``: only that, not what the copy had from the parent."""
        self.keys, self.written, self.reused = {}, set(), 0
        made = work()
        return made, (self.keys, self.written, self.reused)

    def absorb(self, written: WrittenApart) -> None:
        """Take over what a worker process wrote into this tree through its copy of it (``written_apart``)."""
        keys, names, reused = written
        self.keys.update(keys)
        self.written.update(names)
        self.reused += reused

    def finish(self) -> None:
        """Remove what a recycled tree held that this build no longer makes, then save the manifest."""
        for name in self._in_place.keys() - self.written:
            target = self._target(name)
            try:
                os.unlink(target)
            except FileNotFoundError:
                continue
            folder = os.path.dirname(target)
            while folder != self._root:  # a deleted record's folder goes with it
                try:
                    os.rmdir(folder)
                except OSError:
                    break
                folder = os.path.dirname(folder)
        self._in_place = {}
        unkeyed = sorted((self.written - self.keys.keys()) | self.also_written)
        manifest = {"format": MANIFEST_FORMAT, "keys": self.keys, "unkeyed": unkeyed}
        # orjson: the same compact, sorted JSON as the json module, six times faster at 72,000 keys.
        self.write_bytes(MANIFEST, orjson.dumps(manifest, option=orjson.OPT_SORT_KEYS))
