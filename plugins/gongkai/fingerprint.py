"""Fingerprints of what a page is made from, so an unchanged page is not made again.

``Fingerprinter.of(value)`` digests a template's context: a record stands for
its file's digest (its content, nothing else), containers for their items,
dataclasses and other objects for their fields. Vocabularies, settings, code
and theme are not in it: they are in the build's global key (see
``generator.py``), which is part of every page key. Large values that many
pages share (a facet with thousands of records) are digested once per build.
"""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import date, datetime
from typing import Any, Sequence

from pydantic import BaseModel

from .records import Record

_SHARED_MIN = 32
"""Containers at least this long are memoised: many pages pass the same big list."""


class Fingerprinter:
    def __init__(self, digests: dict[str, str]):
        self.digests = digests
        """Record id → digest of the record's file."""
        self._memo: dict[int, tuple[Any, str]] = {}
        self._records: dict[str, str] = {}
        """Record id → its token (``of_record``)."""
        self._by_object: dict[int, str] = {}
        self._objects: list[Record] = []

    def key(self, *parts: Any) -> str:
        try:  # the common case, 20,000 times a build: strings only, no walk
            text = "S\0" + "\0".join(parts)  # never equal to a walk's text, which starts with "["
        except TypeError:
            text = self.of(parts)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def of_record(self, record: Record) -> str:
        """A record stands for its file's digest (its content, nothing else); made once per record."""
        token = self._records.get(record.id)
        if token is None:
            token = self._records[record.id] = f"R{record.id}:{self.digests.get(record.id) or record.model_dump_json()}"
        return token

    def of_records(self, records: Sequence[Record]) -> str:
        """What ``of`` says of a list of records, digested, without walking it generically.

        Listing and facet pages list each record seven times or so (190,000
        entries at 20,000 records), so this runs in C, and finds a record's
        token by the object's identity: reading 190,000 scattered records'
        ids costs more than everything else in a rebuild's page keys.
        """
        try:
            text = ",".join(map(self._by_object.__getitem__, map(id, records)))
        except KeyError:
            for record in records:
                if id(record) not in self._by_object:
                    self._by_object[id(record)] = self.of_record(record)
                    self._objects.append(record)  # kept alive, so its id stays its own
            text = ",".join(map(self._by_object.__getitem__, map(id, records)))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def of(self, value: Any) -> str:
        if value is None or isinstance(value, (bool, int, float, str)):
            return repr(value)
        if isinstance(value, (date, datetime)):
            return value.isoformat()
        if isinstance(value, Record):
            return self.of_record(value)
        memo = self._memo.get(id(value))
        if memo is not None and memo[0] is value:
            return memo[1]
        if isinstance(value, BaseModel):
            result = repr(value)
        elif isinstance(value, dict):
            result = "{" + ",".join(f"{self.of(k)}:{self.of(v)}" for k, v in value.items()) + "}"
        elif isinstance(value, (list, tuple)):
            result = "[" + ",".join(self.of(item) for item in value) + "]"
        elif isinstance(value, (set, frozenset)):
            result = "{" + ",".join(sorted(self.of(item) for item in value)) + "}"
        elif dataclasses.is_dataclass(value):
            # A field declared with compare=False is a helper (a back-reference to the site), not content.
            fields = ",".join(
                f"{f.name}={self.of(getattr(value, f.name))}" for f in dataclasses.fields(value) if f.compare
            )
            result = f"{type(value).__name__}({fields})"
        elif callable(value):
            # Functions are code (in the global key); what they compute for a page is in its other parts.
            result = f"fn:{getattr(value, '__qualname__', type(value).__name__)}"
        elif hasattr(value, "__dict__"):
            result = f"{type(value).__name__}({self.of(vars(value))})"
        else:
            result = repr(value)
        if isinstance(value, (list, tuple, dict)) and len(value) >= _SHARED_MIN or dataclasses.is_dataclass(value):
            result = hashlib.sha256(result.encode("utf-8")).hexdigest()
            self._memo[id(value)] = (value, result)
        return result
