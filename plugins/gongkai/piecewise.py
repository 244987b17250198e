"""How the build writes what it keeps on disk: small files in pieces, large ones past the page cache.

Every page of a new file's page cache is memory the system must find, and on
the machines this is built and measured on (virtual machines whose host takes
back the memory a guest leaves free) new memory is dear and its price moves:
a clean build at 20,000 records writes 1.4 GB, and filling 100 MB of page cache
took 0.02 s of system CPU one minute and 0.8 s the next (``docs/performance.md``).

- A file is written a ``PIECE`` at most a system call: Linux (6.x) caches a
  buffered write to ext4 in page-cache folios as large as the write, and large
  folios run out of the memory the host has not taken back first (writes of
  128 KB and more cost 4-10 ms of system CPU a megabyte where 64 KB cost
  0.2-0.8 ms).
- A file that reaches ``DIRECT_FROM`` bytes is written past the page cache
  (``O_DIRECT``, ``FileWriter``): the build never reads it back (the open data's
  joined files, the feeds, the manifest, the search corpus it keeps for the next
  build), and a direct write takes no page of memory at all: 0.04-0.06 ms of CPU
  a megabyte, and 0.3 ms of waiting for the disk here, where a buffered write
  took 0.2-8 ms of CPU. Its last partial block goes through the page cache, and
  a file system that refuses direct writes gets all of it that way.
"""

from __future__ import annotations

import errno
import fcntl
import io
import mmap
import os
from typing import Literal

PIECE = 64 * 1024
"""The most one system call writes through the page cache (see the module's docstring)."""
DIRECT_FROM = 256 * 1024
"""A file that reaches this size is written past the page cache."""
DIRECT_BLOCK = 1 << 20
"""Bytes a direct write takes at a time: a multiple of any block size a file system aligns direct writes to."""
_ALIGN = 4096
"""Where a direct write may end: the largest logical block size a disk has."""


def write_all(descriptor: int, data: bytes | bytearray | memoryview) -> None:
    """Write all of ``data`` at ``descriptor``'s position, a ``PIECE`` at most a call."""
    view = memoryview(data).cast("B")
    at = 0
    while at < len(view):
        at += os.write(descriptor, view[at:at + PIECE])


_spare_blocks: list[mmap.mmap] = []
"""Blocks of ``DIRECT_BLOCK`` a finished ``FileWriter`` left for the next (a new one is new memory)."""


class FileWriter:
    """A new file's bytes from its beginning, given in any sizes: written in pieces when the file stays
    under ``DIRECT_FROM``, else in aligned blocks past the page cache (``O_DIRECT``), its last partial
    block in pieces. ``close`` writes what is held back; the descriptor stays the caller's."""

    def __init__(self, descriptor: int):
        self._descriptor = descriptor
        self._held = bytearray()
        """What is not written yet while the file is under ``DIRECT_FROM``."""
        self._block: mmap.mmap | None = None
        """Once the file reaches ``DIRECT_FROM``: its next block, page-aligned as direct writes need."""
        self._view: memoryview | None = None
        self._filled = 0
        self._direct: bool | None = None
        """Whether writes go past the page cache: unknown until the first block is written."""

    def write(self, data: bytes | bytearray | memoryview) -> None:
        view = memoryview(data).cast("B")
        if self._view is None:
            if len(self._held) + len(view) < DIRECT_FROM:
                self._held += view
                return
            self._start_blocks()
        while view:
            taken = min(len(view), DIRECT_BLOCK - self._filled)
            self._view[self._filled:self._filled + taken] = view[:taken]
            self._filled += taken
            view = view[taken:]
            if self._filled == DIRECT_BLOCK:
                self._write_block(DIRECT_BLOCK)

    def copy(self, source: int, offset: int, length: int) -> None:
        """Append ``length`` bytes of the open file ``source`` from ``offset``."""
        if self._view is None:
            if len(self._held) + length < DIRECT_FROM:
                self._held += _read_exactly(source, offset, length)
                return
            self._start_blocks()
        while length:
            free = self._view[self._filled:self._filled + min(length, DIRECT_BLOCK - self._filled)]
            taken = os.preadv(source, [free], offset)
            if not taken:
                raise OSError(errno.EIO, "a file to copy from is shorter than expected")
            self._filled += taken
            offset += taken
            length -= taken
            if self._filled == DIRECT_BLOCK:
                self._write_block(DIRECT_BLOCK)

    def close(self) -> None:
        """Write what is held back (the file ends where the writing ends)."""
        if self._view is None:
            write_all(self._descriptor, self._held)
            return
        try:
            aligned = self._filled - self._filled % _ALIGN
            if aligned and self._direct is not False:
                self._write_block(aligned)
            if self._direct:
                _set_direct(self._descriptor, False)
            write_all(self._descriptor, self._view[:self._filled])
        finally:
            self._view.release()
            _spare_blocks.append(self._block)
            self._view = self._block = None

    def _start_blocks(self) -> None:
        # (private: Python maps anonymous memory shared by default, and a forked process writing beside
        # this one would then write into the same block)
        self._block = _spare_blocks.pop() if _spare_blocks else mmap.mmap(
            -1, DIRECT_BLOCK, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
        self._view = memoryview(self._block)
        held, self._held = self._held, bytearray()
        self._view[:len(held)] = held
        self._filled = len(held)

    def _write_block(self, size: int) -> None:
        """Write the first ``size`` bytes of the block (direct when it can), keep the rest at its start."""
        if self._direct is None:
            self._direct = _set_direct(self._descriptor, True)
        at = 0
        while self._direct and at < size:
            try:
                written = os.write(self._descriptor, self._view[at:size])
            except OSError as error:  # (a file system that takes the flag and not the write)
                if error.errno != errno.EINVAL:
                    raise
                written = 0
            at += written
            if not written or written % _ALIGN:  # (what follows would not be aligned)
                self._direct = _set_direct(self._descriptor, False)
        write_all(self._descriptor, self._view[at:size])
        rest = self._filled - size
        self._view[:rest] = self._view[size:self._filled]
        self._filled = rest


def _set_direct(descriptor: int, on: bool) -> bool:
    """Turn direct writing on or off for ``descriptor``; whether it is on now."""
    flags = fcntl.fcntl(descriptor, fcntl.F_GETFL)
    try:
        fcntl.fcntl(descriptor, fcntl.F_SETFL, flags | os.O_DIRECT if on else flags & ~os.O_DIRECT)
    except OSError:
        return False
    return on


def _read_exactly(source: int, offset: int, length: int) -> bytes:
    data = os.pread(source, length, offset)
    if len(data) != length:
        raise OSError(errno.EIO, "a file to copy from is shorter than expected")
    return data


class _PieceFile(io.FileIO):
    """A file each of whose writes takes a ``PIECE`` at most: ``io.BufferedWriter`` hands what its
    buffer cannot hold straight to its raw file, and writes again after a short write."""

    def write(self, data) -> int:
        return super().write(memoryview(data).cast("B")[:PIECE])


class _WriterFile(io.RawIOBase):
    """A new file written through a ``FileWriter``, which holds what it is given until it has a block
    to write (so no ``io.BufferedWriter`` above it: that would copy every byte once more)."""

    def __init__(self, path: str | os.PathLike[str], mode: str):
        self._file = io.FileIO(path, mode)
        self._writer = FileWriter(self._file.fileno())
        self._at = 0

    def writable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._at

    def write(self, data) -> int:
        view = memoryview(data).cast("B")
        self._writer.write(view)
        self._at += len(view)
        return len(view)

    def close(self) -> None:
        if self.closed:
            return
        try:
            self._writer.close()
        finally:
            self._file.close()
            super().close()


def open_to_write(path: str | os.PathLike[str], mode: Literal["wb", "ab", "xb"] = "wb",
                  read_back: bool = True) -> io.BufferedWriter | io.RawIOBase:
    """``path`` opened for writing bytes as ``open(path, mode)`` would, written in pieces; a new file that
    this build will not read (``read_back=False``) is written past the page cache once it is large
    (not a file appended to: its writes start anywhere, and a direct one must start on a block)."""
    if not read_back and mode != "ab":
        return _WriterFile(path, mode[0])
    return io.BufferedWriter(_PieceFile(path, mode[0]))
