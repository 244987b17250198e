"""A record as the record cache gives it back: what every build reads of it at hand, the rest on first use.

A rebuild reads every record's id, kind, status, dates and facet values
(publication, facets, listings, feeds, sitemap), but the whole record only of
the few whose pages, feed entries or search documents it makes again.
Unpickling 20,000 whole records (about six pydantic objects each) took most
of a rebuild's loading time, so the cache keeps each record as two parts: its
``SUMMARY`` values, unpickled with the cache, and the whole record pickled
apart, read and unpickled the first time anything else of it is read (the
cache's bucket files hold the whole records after the summaries, so loading
reads only the summaries: ``recordcache``).

A ``StoredRecord`` stands in for its record everywhere: it answers every
attribute and method (``model_dump`` too) and ``isinstance`` as the record
would. Only ``type()`` tells them apart (so code asks ``record.kind``, not
``type(record)``), and pydantic's ``==`` on the record's side, which does not
know a ``StoredRecord`` (compare from the stored side, or ``model_dump()``).
A summary value read on every build and missing from ``SUMMARY`` is not an
error, only slow: ``tests/test_recordcache.py`` checks that a rebuild with
nothing changed unpickles no whole record.
"""

from __future__ import annotations

import os
import weakref
from functools import cache
from typing import Any, Union

from . import recordpickle
from .records import Record

SUMMARY = (
    "id", "kind", "url_kind", "title", "status", "published", "last_changed", "last_corrected", "has_body", "formerly",
    "region", "issuer", "topics", "year_published", "circumstances", "forms",  # facet values (facets.py)
)
"""What every build reads of every record (publication, facets, feeds, sitemap, redirects); only the
names a record's class has are kept."""


@cache
def _summary_names(record_class: type[Record]) -> tuple[str, ...]:
    """The ``SUMMARY`` names a record class has: its fields and its properties. (Asked of the class
    per record, a missing name went through pydantic's metaclass ``__getattr__``, 10 µs a record.)"""
    return tuple(name for name in SUMMARY if name in record_class.model_fields or hasattr(record_class, name))


class WholeRecords:
    """Where the whole records' pickles of one cache bucket are: its file, from ``start`` (kept open, so
    that a later build step replacing the bucket file does not change what is read), or its bytes."""

    def __init__(self, start: int, descriptor: int | None = None, data: bytes | None = None):
        self.start, self._descriptor, self._data = start, descriptor, data
        if descriptor is not None:  # closed with the last record that reads it (or at exit, before modules go)
            weakref.finalize(self, os.close, descriptor)

    def read(self, offset: int, length: int) -> bytes:
        at = self.start + offset
        if self._descriptor is None:
            assert self._data is not None
            return self._data[at:at + length]
        data = os.pread(self._descriptor, length, at)
        if len(data) != length:
            raise EOFError(f"record cache file cut short: {length} bytes wanted at {at}, {len(data)} read")
        return data


Span = tuple[int, int]
"""Where a whole record's pickle is among its bucket's (``WholeRecords``): offset, length."""


class StoredRecord:
    """A record whose ``SUMMARY`` values are at hand and whose other parts are unpickled when first read."""

    def __init__(self, record_class: type[Record], summary: dict[str, Any], pickled: Union[bytes, Span, None],
                 record: Record | None = None, source: WholeRecords | None = None):
        """``pickled``: the whole record's pickle, or where ``source`` has it."""
        self.__dict__.update(summary)
        self._record_class = record_class
        self._pickled = pickled
        self._record = record
        self._source = source

    @staticmethod
    def summary_of(record: "Record | StoredRecord") -> dict[str, Any]:
        """The ``SUMMARY`` values of a record (only the names its class has)."""
        if isinstance(record, StoredRecord):
            return {name: value for name, value in record.__dict__.items() if not name.startswith("_")}
        return {name: getattr(record, name) for name in _summary_names(type(record))}

    @staticmethod
    def whole_pickle(record: "Record | StoredRecord") -> bytes:
        """The whole record, pickled (as the cache keeps it)."""
        if isinstance(record, StoredRecord):
            if record._record is None:
                return record._read_pickle()
            record = record._record
        return recordpickle.dumps(record)

    def _read_pickle(self) -> bytes:
        if isinstance(self._pickled, tuple):
            assert self._source is not None
            return self._source.read(*self._pickled)
        assert self._pickled is not None
        return self._pickled

    @staticmethod
    def whole(record: "Record | StoredRecord") -> Record:
        """The record itself, unpickled if it is stored."""
        return record.record if isinstance(record, StoredRecord) else record

    @property
    def __class__(self) -> type[Record]:  # isinstance(stored, Case) as for its record
        return self._record_class

    @property
    def record(self) -> Record:
        """The whole record (unpickled now if it was not yet)."""
        if self._record is None:
            self._record = recordpickle.loads(self._read_pickle())
            self._pickled = self._source = None  # the record holds it all now
        return self._record

    def __getattr__(self, name: str) -> Any:
        # Only called for what the summary does not hold.
        if name.startswith("__") or name in ("_record", "_pickled", "_record_class", "_source"):
            raise AttributeError(name)
        return getattr(self.record, name)

    def __eq__(self, other: object) -> bool:
        return self.record == (other.record if isinstance(other, StoredRecord) else other)

    def __hash__(self) -> int:
        return hash(self.record)

    def __reduce__(self):
        return (StoredRecord, (self._record_class, StoredRecord.summary_of(self), StoredRecord.whole_pickle(self)))

    def __repr__(self) -> str:
        return f"StoredRecord({self._record_class.__name__} {self.id!r})"
