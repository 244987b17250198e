"""The record cache: validated records by file, in buckets, with a stat index like git's.

A rebuild must not parse, validate or even read 20,000 unchanged files. Each
cached record is kept with its file's stat (size, mtime, ctime, inode): when
all four are unchanged, the file is taken as unchanged without reading it;
otherwise its bytes are hashed again, and only when the digest differs is it
loaded and validated again. A stat taken within ``RACY_NS`` of the moment the
file was read is not trusted later (a write in the same timestamp tick would
keep the mtime), so such a file is hashed again on the next build, as git
does with "racily clean" entries.

The records are spread over ``BUCKETS`` files by a hash of their path, each
``{path: (stat key, loaded record)}`` (``encode``): an edit rewrites one
bucket, not the whole cache, and a clean build's workers each pickle whole
buckets and write them beside the cache (``RecordCache.stage``), for the parent
to read and move into place. Every bucket carries a salt
(code, vocabularies, working directory): any change there discards it.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import zlib
from dataclasses import replace
from pathlib import Path
from typing import Any, BinaryIO, Callable

from .piecewise import open_to_write
from .storedrecord import StoredRecord, WholeRecords

BUCKETS = 64
"""Enough that an edit rewrites ~1/64 of the records, few enough that loading opens few files."""

RACY_NS = 2_000_000_000
"""A file modified this close to when it was read may change again within the same mtime tick (2 s: FAT's granularity)."""

StatKey = tuple[int, int, int, int]
Entries = dict[str, tuple["StatKey | None", Any]]
"""Path → (its stat when read, or None if not to be trusted; the loaded record)."""


def bucket_of(path: str) -> int:
    """The bucket of a file, stable across builds and processes (unlike ``hash``)."""
    return zlib.crc32(path.encode("utf-8", "surrogateescape")) % BUCKETS


def stat_key(stat: os.stat_result) -> StatKey:
    return (stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino)


def trusted_stat_key(stat: os.stat_result | None, read_ns: int) -> StatKey | None:
    """The stat to remember for a file read at ``read_ns``, unless it changed too recently to trust."""
    # Every write sets the mtime, so only a recent mtime can hide a later write
    # (ctime is compared, not judged: a fresh copy of old files is not racy).
    if stat is None or stat.st_mtime_ns > read_ns - RACY_NS:
        return None
    return stat_key(stat)


LENGTH_BYTES = 8
"""The length of a bucket's entries (its summaries), before them."""


def encode(salt: str, entries: Entries, derived: Callable[[Any], dict[str, Any]] | None = None) -> bytes:
    """A bucket's file contents (pickled in workers, so the parent only writes bytes): the salt, the
    entries with each record's ``StoredRecord`` summary and where its whole pickle is (``Span``), and
    then the whole records' pickles, one after another, which loading leaves on disk until read.
    ``derived(record)``: values worked out from a record (under the salt) to keep in its summary too."""
    wholes: list[bytes] = []
    at = 0
    stored = {}
    for path, (stat, loaded) in entries.items():
        record = loaded.record
        whole = StoredRecord.whole_pickle(record)
        wholes.append(whole)
        summary = StoredRecord.summary_of(record)
        if derived is not None and not isinstance(record, StoredRecord):
            summary.update(derived(record))
        # (``__class__``: a stored record's is its record's)
        stored[path] = (stat, replace(loaded, record=None, facet_keys=None), record.__class__, summary, at, len(whole))
        at += len(whole)
    summaries = pickle.dumps(stored, protocol=pickle.HIGHEST_PROTOCOL)
    return b"".join([pickle.dumps(salt, protocol=pickle.HIGHEST_PROTOCOL),
                     len(summaries).to_bytes(LENGTH_BYTES, "little"), summaries, *wholes])


def decode(source: BinaryIO, salt: str) -> Entries:
    """A bucket's entries from its file or bytes (``source``, read up to the whole records); empty
    when torn or made under another salt (then without unpickling them)."""
    try:
        if pickle.load(source) != salt:
            return {}
        length = int.from_bytes(source.read(LENGTH_BYTES), "little")
        summaries = source.read(length)
        if len(summaries) != length:
            return {}
        stored = pickle.loads(summaries)
    except (EOFError, pickle.UnpicklingError, ValueError, TypeError, AttributeError, ImportError, IndexError):
        return {}
    start = source.tell()
    if isinstance(source, io.BytesIO):
        wholes = WholeRecords(start, data=source.getvalue())
    else:
        wholes = WholeRecords(start, descriptor=os.dup(source.fileno()))
    entries: Entries = {}
    for path, (stat, loaded, record_class, summary, at, size) in stored.items():
        # (pickled without its record, which is set here once: as if made with it)
        object.__setattr__(loaded, "record", StoredRecord(record_class, summary, (at, size), source=wholes))
        entries[path] = (stat, loaded)
    return entries


class RecordCache:
    """The bucket files of one data folder under one salt."""

    def __init__(self, folder: Path, salt: str):
        self.folder, self.salt = Path(folder), salt

    @classmethod
    def for_data(cls, cache_dir: Path, data_dir: Path, salt: str) -> "RecordCache":
        name = hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:16]
        return cls(Path(cache_dir) / f"records-{name}", salt)

    def _path(self, bucket: int) -> Path:
        return self.folder / f"{bucket:02d}.pickle"

    def load(self, bucket: int) -> Entries:
        """A bucket's entries; empty when missing, torn or made under another salt."""
        try:
            with open(self._path(bucket), "rb") as file:
                return decode(file, self.salt)
        except OSError:
            return {}

    def save(self, bucket: int, data: bytes) -> None:
        """Write a bucket atomically: a killed build leaves the previous bucket, never a torn one."""
        self.put_in_place(bucket, self.stage(bucket, data))

    def stage(self, bucket: int, data: bytes) -> str:
        """Write a bucket's bytes to a temporary file beside it, and give its path (``put_in_place`` it,
        or remove it). A clean build's load workers write theirs so: 1.6 MB a bucket sent through a
        pipe stalled a worker whenever the parent, busy with the bucket before, did not read it."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self._path(bucket)
        temporary = path.with_name(f"{path.name}.{os.getpid()}{STAGED_SUFFIX}")
        with open_to_write(temporary) as out:
            out.write(data)
        return str(temporary)

    def put_in_place(self, bucket: int, staged: str) -> None:
        """Replace the bucket with the file ``stage`` wrote."""
        os.replace(staged, self._path(bucket))

    def remove_stale_staged(self) -> None:
        """Remove the temporary bucket files of processes that have ended (a killed or failed build's)."""
        try:
            names = os.listdir(self.folder)
        except OSError:
            return
        for name in names:
            if name.endswith(STAGED_SUFFIX) and not _running(name.removesuffix(STAGED_SUFFIX).rpartition(".")[2]):
                try:
                    os.unlink(self.folder / name)
                except OSError:
                    pass


STAGED_SUFFIX = ".tmp"
"""The end of a temporary bucket file's name (``<bucket>.pickle.<pid>.tmp``)."""


def _running(pid: str) -> bool:
    """Whether the process ``pid`` (its text) is alive."""
    if not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except OSError:  # alive, someone else's
        return True
    return True
