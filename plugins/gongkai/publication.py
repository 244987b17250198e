"""The one place that decides what is public (records.md, "What is published").

Every output reads a ``Publication``, never the catalog: a record is public
when it is ``approved`` and its ``published`` time is not after the build
time; a ``withdrawn`` record that had been published leaves only a
``Tombstone`` (id, title, withdrawal date and reason; its former ids still
redirect to it). Drafts, embargoed records and everything else about
withdrawn ones are simply not here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cached_property
from datetime import date, datetime, timezone

from .catalog import Catalog
from .records import Record
from .vocabulary import Vocabularies


def build_time() -> datetime:
    """"Now" for this build: ``SOURCE_DATE_EPOCH`` when set (reproducible builds), else the clock."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch:
        return datetime.fromtimestamp(int(epoch), tz=timezone.utc)
    return datetime.now(tz=timezone.utc).replace(microsecond=0)


@dataclass(frozen=True)
class Tombstone:
    """All that remains public of a withdrawn record."""

    id: str
    kind: str
    title: str
    withdrawn_on: date
    reason: str
    formerly: tuple[str, ...] = ()
    """The record's former ids: their addresses lead to the tombstone as they led to the record."""

    @property
    def url_kind(self) -> str:
        return self.kind + "s"


@dataclass
class Publication:
    """What this build may show: public records (newest first) and tombstones."""

    now: datetime
    vocab: Vocabularies
    records: list[Record]
    """Public records, newest ``published`` first, ties by id."""
    tombstones: list[Tombstone]
    redirects: dict[tuple[str, str], Record | Tombstone] = field(init=False)
    """``(url_kind, old id)`` → the public record, or the tombstone of the withdrawn one, that now has it."""
    _by_kind: dict[str, list[Record]] = field(init=False, repr=False)

    @cached_property
    def by_id(self) -> dict[str, Record]:
        """Public record id → the record; made when first asked (a build does not ask: 20 ms at 20,000)."""
        return {r.id: r for r in self.records}

    def __post_init__(self) -> None:
        self.redirects = {(r.url_kind, old): r for r in [*self.records, *self.tombstones] for old in r.formerly}
        self._by_kind = {}
        for record in self.records:  # grouped once: several outputs ask, and 20,000 records take a while
            self._by_kind.setdefault(record.kind, []).append(record)

    def of_kind(self, kind: str) -> list[Record]:
        """The public records of ``kind``, newest first (a new list: callers may change it)."""
        return list(self._by_kind.get(kind, ()))


def publish(catalog: Catalog, now: datetime | None = None) -> Publication:
    """Select what is public at ``now`` (default: the build time)."""
    now = now or build_time()
    # Times are compared as POSIX timestamps: the same order as the datetimes (to the microsecond),
    # without calling each one's pydantic tzinfo on every comparison; and in one pass over the records.
    cutoff = now.timestamp()
    public: list[Record] = []
    published: dict[int, float] = {}
    tombstones = []
    for record in catalog.records:
        if record.published is None:
            continue
        moment = record.published.timestamp()
        if moment > cutoff:
            continue
        if record.status == "approved":
            public.append(record)
            published[id(record)] = moment
        elif record.status == "withdrawn" and record.withdrawal:
            withdrawal = record.withdrawal
            tombstones.append(Tombstone(record.id, record.kind, record.title, withdrawal.on, withdrawal.reason, tuple(record.formerly)))
    # The catalog's records are in id order, and the sort is stable: ties stay by id.
    public.sort(key=lambda r: published[id(r)], reverse=True)
    return Publication(now, catalog.vocab, public, tombstones)
