"""Files written in pieces of at most ``PIECE`` bytes: how the build writes what it keeps on disk.

Linux (6.x) caches a buffered write to ext4 in page-cache folios as large as the
write. On the machines this is built and measured on (virtual machines whose
host takes back the memory a guest leaves free), filling large folios costs
system CPU many times over: writing 100-200 MB to a new file took 0.2-1.5 s in
writes of 128 KB, 256 KB, 1 MB, 4 MB or all at once, and 0.02-0.09 s in writes
of 96, 64 or 16 KB (tmpfs, whose folios are single pages, 0.07-0.1 s whatever
the size). A clean build at 20,000 records wrote 543 MB in writes of 96 KB or
more: the open data's runs, the search corpus, the record cache, the feeds. A
piece of 64 KB costs a system call (16,000 a gigabyte), which nothing shows.
"""

from __future__ import annotations

import io
import os
from typing import Literal

PIECE = 64 * 1024
"""The most one system call writes (see the module's docstring)."""


def write_all(descriptor: int, data: bytes | bytearray | memoryview) -> None:
    """Write all of ``data`` at ``descriptor``'s position, a ``PIECE`` at most a call."""
    view = memoryview(data).cast("B")
    at = 0
    while at < len(view):
        at += os.write(descriptor, view[at:at + PIECE])


class _PieceFile(io.FileIO):
    """A file each of whose writes takes a ``PIECE`` at most: ``io.BufferedWriter`` hands what its
    buffer cannot hold straight to its raw file, and writes again after a short write."""

    def write(self, data) -> int:
        return super().write(memoryview(data).cast("B")[:PIECE])


def open_to_write(path: str | os.PathLike[str], mode: Literal["wb", "ab", "xb"] = "wb") -> io.BufferedWriter:
    """``path`` opened for writing bytes as ``open(path, mode)`` would, written in pieces."""
    return io.BufferedWriter(_PieceFile(path, mode[0]))
