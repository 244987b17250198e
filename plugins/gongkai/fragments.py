"""Byte fragments kept between builds and found again by key: what big files are joined from.

A file made of one piece per record (``records.json``, the CSVs) need not be
serialised again from every record when one record changed: its pieces are
cached by the record's digest, and the file is joined from them. Serialising
20,000 records costs seconds; copying their cached bytes costs milliseconds.

On disk (in the build cache folder) a store is an index (where each part of
each fragment is, how many parts and bytes each segment holds of them, and
each segment's size) and a few *segment* files. A build appends the fragments
it makes to a new segment of its own, or takes over files already joined from
them as segments (``adopt_joined``: a clean build's records.json and CSVs,
hard-linked), and then replaces the index atomically (temporary file, rename),
so a killed or concurrent build never leaves an index pointing at bytes that
are not there: segments are never changed once written, only deleted when no
index names them. When the segments hold more dead bytes than live ones, or
too many segments have piled up, the live fragments are copied into one new
segment. Nothing is held in memory but the index (key → where the bytes are).

A big file changes by a record or two between builds, so the store also
remembers how it joined each file (``Joined``: which fragments, where they
begin and end). The next build writes the file as the runs of fragments it
shares at the start and at the end with the live site's copy, copied from
that copy, around the few fragments that changed (``splice``).
"""

from __future__ import annotations

import os
import pickle
import secrets
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from .output import CopiedRange, Pieces
from .piecewise import open_to_write, write_all

MAX_SEGMENTS = 8
"""More segments than this (one per build that made anything) are merged into one."""

Place = tuple[str, int, int]
"""Where one part of a fragment is: segment, offset, length."""
Entry = tuple[Place, ...]
"""Where each part of a fragment is (``add`` puts them one after another in a segment; a file taken
over by ``adopt_joined`` holds one part of many fragments)."""


@dataclass(frozen=True)
class Joined:
    """How a build joined a file from fragments: enough to find their bytes in it again."""

    file_key: str
    """The file's key in that build's output manifest: a file with this key holds exactly these bytes."""
    keys: tuple[str, ...]
    part: int
    separator: bytes
    start: int
    """Where the first fragment begins (after the head)."""
    end: int
    """Where the last fragment ends (the tail follows)."""
    size: int


class FragmentStore:
    """Fragments by key: each a fixed number of byte strings (``parts``), valid only under ``salt``.

    Without a folder it keeps its segments in a temporary one, removed by ``save``: made in
    ``scratch`` when given (a build's, beside its output: ``build.scratch_path``), so that what a
    killed build leaves there is removed by the next build, not left in the system's temp folder.
    Forked workers may add to their inherited copy (each to a segment of its
    own) and hand what they made to the parent: ``made_here`` and ``adopt``.
    """

    def __init__(self, folder: Path | None, name: str, salt: str, scratch: Path | None = None):
        self.temporary = folder is None
        self.folder = Path(tempfile.mkdtemp(prefix="gongkai-fragments-", dir=scratch)) if folder is None else Path(folder)
        self.name, self.salt = name, salt
        self._entries: dict[str, Entry] = {}
        """Key → where each of its parts is."""
        self._segments: dict[str, list[int]] = {}
        """Segment → [parts, bytes] of ``_entries`` in it, kept as entries come and go (saved in the
        index with each segment's size), so that neither loading nor saving walks 20,000 entries."""
        self._used: set[str] = set()
        self._files: dict[str, int] = {}
        """Segment → open file descriptor."""
        self._new: str | None = None
        """This process's segment, to which ``add`` appends."""
        self._new_pid = 0
        self._new_size = 0
        self._joined_before: dict[str, Joined] = {}
        """File → how the previous build joined it."""
        self._joined: dict[str, Joined] = {}
        """File → how this build joined it (saved for the next)."""
        if not self.temporary:
            self._load()

    # --- reading ---------------------------------------------------------------

    def _index_path(self) -> Path:
        return self.folder / f"{self.name}.index"

    def _load(self) -> None:
        try:
            with open(self._index_path(), "rb") as source:
                salt, entries, joined, segments = pickle.load(source)
        except (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError, AttributeError, ImportError):
            return
        if salt != self.salt:
            return
        for segment, (count, size, file_size) in segments.items():
            try:
                descriptor = os.open(self._segment_path(segment), os.O_RDONLY)
            except OSError:
                continue
            if os.fstat(descriptor).st_size < file_size:  # not what the index describes: trust none of it
                os.close(descriptor)
                continue
            self._files[segment] = descriptor
            self._segments[segment] = [count, size]
        if len(self._files) < len(segments):
            entries = {key: entry for key, entry in entries.items() if all(place[0] in self._files for place in entry)}
        self._entries = entries
        self._joined_before = joined

    def _segment_path(self, segment: str) -> Path:
        return self.folder / f"{self.name}-{segment}.segment"

    def keep(self, key: str) -> bool:
        """Whether the store holds ``key``; if it does, it is kept for the next build."""
        if key in self._entries:
            self._used.add(key)
            return True
        return False

    def keep_all(self, keys: Iterable[str]) -> None:
        """``keep`` for each of ``keys`` (those the store holds), in one set operation."""
        self._used |= self._entries.keys() & set(keys)

    def part(self, key: str, part: int) -> bytes:
        """One part of the fragment at ``key``."""
        segment, offset, length = self._entries[key][part]
        return os.pread(self._files[segment], length, offset)

    def join(self, keys: Sequence[str], part: int, head: bytes = b"", separator: bytes = b"", tail: bytes = b"") -> bytearray:
        """``head``, then part ``part`` of each fragment with ``separator`` between them, then ``tail``: one buffer."""
        total = len(head) + len(tail) + len(separator) * max(0, len(keys) - 1)
        total += self._span(keys, part, b"")
        joined = bytearray(total)
        view = memoryview(joined)
        view[:len(head)] = head
        position = len(head)
        for number, key in enumerate(keys):
            if number and separator:
                view[position:position + len(separator)] = separator
                position += len(separator)
            segment, offset, size = self._entries[key][part]
            # Read straight into the buffer: no copy of the fragment on the way.
            if size and os.preadv(self._files[segment], [view[position:position + size]], offset) != size:
                raise OSError(f"{self.name}: a segment is shorter than its index says")
            position += size
        view[position:] = tail
        return joined

    def _span(self, keys: Sequence[str], part: int, separator: bytes) -> int:
        """The length of part ``part`` of the fragments at ``keys`` joined with ``separator``."""
        entries = self._entries
        return sum(entries[key][part][2] for key in keys) + len(separator) * max(0, len(keys) - 1)

    def joined_before(self, name: str) -> Joined | None:
        """How the previous build joined the file ``name`` (``note_joined``), if it did."""
        return self._joined_before.get(name)

    def note_joined(self, name: str, file_key: str, keys: Sequence[str], part: int, head: bytes = b"",
                    separator: bytes = b"", tail: bytes = b"") -> None:
        """Remember that the file ``name`` (keyed ``file_key``) is this join, for the next build's ``splice``."""
        end = len(head) + self._span(keys, part, separator)
        self._joined[name] = Joined(file_key, tuple(keys), part, separator, len(head), end, end + len(tail))

    def splice(self, keys: Sequence[str], part: int, head: bytes = b"", separator: bytes = b"", tail: bytes = b"",
               before: Joined | None = None, source: str | None = None) -> bytearray | Pieces:
        """What ``join`` gives, with the fragments it shares with the file ``source`` as ranges of it.

        ``source`` is a file ``before`` describes. The runs of fragments at the
        start and at the end that the two joins have in common are copied from
        it; only the fragments between them are read. A record edited, added
        or removed leaves one fragment to read.
        """
        if before is None or source is None or (before.part, before.separator) != (part, separator):
            return self.join(keys, part, head, separator, tail)
        if os.stat(source).st_size != before.size:  # not the file it says it is: copy nothing from it
            return self.join(keys, part, head, separator, tail)
        old, shared = before.keys, min(len(before.keys), len(keys))
        prefix = 0
        while prefix < shared and old[prefix] == keys[prefix]:
            prefix += 1
        suffix = 0
        while suffix < shared - prefix and old[-1 - suffix] == keys[-1 - suffix]:
            suffix += 1
        runs: list[bytes | bytearray | CopiedRange] = []
        if prefix:
            runs.append(CopiedRange(source, before.start, self._span(keys[:prefix], part, separator)))
        if prefix + suffix < len(keys):
            runs.append(self.join(keys[prefix:len(keys) - suffix], part, separator=separator))
        if suffix:
            length = self._span(keys[len(keys) - suffix:], part, separator)
            runs.append(CopiedRange(source, before.end - length, length))
        pieces: list[bytes | bytearray | CopiedRange] = [head]
        for number, run in enumerate(runs):
            if number:
                pieces.append(separator)
            pieces.append(run)
        pieces.append(tail)
        return pieces

    # --- writing ---------------------------------------------------------------

    def add(self, key: str, parts: Iterable[bytes]) -> None:
        """Keep ``parts`` under ``key`` (appended to this build's new segment)."""
        parts = list(parts)
        if self._new is None or self._new_pid != os.getpid():  # a forked worker writes a segment of its own
            self._new, self._new_pid, self._new_size = secrets.token_hex(8), os.getpid(), 0
            self.folder.mkdir(parents=True, exist_ok=True)
            self._files[self._new] = os.open(self._segment_path(self._new), os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
        write_all(self._files[self._new], b"".join(parts))
        entry, at = [], self._new_size
        for part in parts:
            entry.append((self._new, at, len(part)))
            at += len(part)
        self._put(key, tuple(entry))
        self._new_size = at
        self._used.add(key)

    def _put(self, key: str, entry: Entry) -> None:
        if key in self._entries:  # made again: the old bytes are dead
            self._counted(self._entries[key], -1)
        self._entries[key] = entry
        self._counted(entry, 1)

    def _counted(self, entry: Entry, sign: int) -> None:
        """Count the parts of ``entry`` in (``sign`` 1) or out of (-1) their segments."""
        for segment, _, length in entry:
            counts = self._segments.setdefault(segment, [0, 0])
            counts[0] += sign
            counts[1] += sign * length

    def made_here(self, keys: Iterable[str]) -> dict[str, Entry]:
        """Where the fragments at ``keys`` are: what a worker sends its parent to ``adopt``."""
        return {key: self._entries[key] for key in keys}

    def adopt(self, entries: dict[str, Entry]) -> None:
        """Take over fragments a forked worker added to its copy of this store."""
        for segment in {place[0] for entry in entries.values() for place in entry} - self._files.keys():
            self._files[segment] = os.open(self._segment_path(segment), os.O_RDONLY)
        for key, entry in entries.items():
            if self._entries.get(key) != entry:
                self._put(key, entry)
        self._used.update(entries)

    def adopt_joined(self, files: Sequence[tuple[str, int, int, bytes, Sequence[str]]],
                     lengths: dict[str, tuple[int, ...]]) -> None:
        """Take over, as segments of this store, files joined from fragments it does not hold yet: a
        clean build's records.json and CSVs, whose fragments the workers made straight into them
        (``lengths``: each key's parts' lengths). Each of ``files`` is (path, part, where the first
        fragment starts, separator, keys in order); it is hard-linked into the store's folder, so
        the fragments' bytes are not written a second time (copied where it cannot be linked). The
        file must never change in place, as no file of the build's output does (``output.py``)."""
        places: dict[str, list[Place | None]] = {key: [None] * len(parts) for key, parts in lengths.items()}
        for path, part, start, separator, keys in files:
            segment = secrets.token_hex(8)
            target = self._segment_path(segment)
            self.folder.mkdir(parents=True, exist_ok=True)
            try:
                os.link(path, target)
            except OSError:  # (another file system, or one without links)
                shutil.copyfile(path, target)
            self._files[segment] = os.open(target, os.O_RDONLY)
            at = start
            for number, key in enumerate(keys):
                if number:
                    at += len(separator)
                length = lengths[key][part]
                places[key][part] = (segment, at, length)
                at += length
        for key, entry in places.items():
            if None in entry:
                raise ValueError(f"{self.name}: no joined file holds every part of fragment {key}")
            self._put(key, tuple(entry))  # type: ignore[arg-type]
        self._used.update(places)

    def save(self) -> None:
        """Keep only the fragments this build used or made, for the next build; close the segments."""
        if self.temporary:
            self.close()
            shutil.rmtree(self.folder, ignore_errors=True)
            return
        live = self._entries
        dropped = live.keys() - self._used
        if dropped:  # (a copy in C, then the few entries an edit leaves behind)
            live = dict(live)
            for key in dropped:
                self._counted(live.pop(key), -1)
        segments = {segment: counts for segment, counts in self._segments.items() if counts[0]}
        live_bytes = sum(size for _, size in segments.values())
        sizes = {segment: os.fstat(self._files[segment]).st_size for segment in segments}
        if len(segments) > MAX_SEGMENTS or sum(sizes.values()) > 2 * live_bytes + (1 << 20):
            live = self._compacted(live)
            self._segments = {}
            for entry in live.values():
                self._counted(entry, 1)
            segments = self._segments
            sizes = {segment: size for segment, (_, size) in segments.items()}  # one segment, just written
        index = {segment: (count, size, sizes[segment]) for segment, (count, size) in segments.items()}
        temporary = self._index_path().with_name(f"{self.name}.index.{os.getpid()}.tmp")
        with open_to_write(temporary) as out:
            pickle.dump((self.salt, live, self._joined, index), out, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temporary, self._index_path())
        named = index.keys()
        self.close()
        for path in self.folder.glob(f"{self.name}-*.segment"):
            if path.name.removeprefix(f"{self.name}-").removesuffix(".segment") not in named:
                path.unlink(missing_ok=True)

    def _compacted(self, live: dict[str, Entry]) -> dict[str, Entry]:
        """The live fragments copied, in their first parts' order, into one new segment."""
        segment = secrets.token_hex(8)
        compacted = {}
        with open_to_write(self._segment_path(segment), "xb") as out:
            offset = 0
            for key, entry in sorted(live.items(), key=lambda item: item[1][0][:2]):
                moved = []
                for old, start, length in entry:
                    out.write(os.pread(self._files[old], length, start))
                    moved.append((segment, offset, length))
                    offset += length
                compacted[key] = tuple(moved)
        return compacted

    def close(self) -> None:
        """Close the segments (``save`` does); alone, without saving, what this build added is dropped
        (the next ``save`` of the folder's store removes its segment files)."""
        for descriptor in self._files.values():
            os.close(descriptor)
        self._files = {}
