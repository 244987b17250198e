"""Facets: the ways to slice public records (region, organization, topic, year, circumstance, form).

Computed once per build in one pass over the public records, so every output
(facet pages, facet feeds, stats, search filters) shares the same grouping and
nothing filters a list per value (which is what makes Pelican's tag pages grow
with the square of the number of articles).

A record counts under its region *and every ancestor region*, and a case's
specific sanction (留党察看二年) also counts under the form it belongs to
(纪律处分), so a city's page lists its districts' records too.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, Mapping

from .publication import Publication
from .records import Case, Record
from .vocabulary import Vocabularies


@dataclass(frozen=True)
class Facet:
    """One way to slice records."""

    key: str
    """``regions``, ``organizations``, ``topics``, ``years``, ``circumstances``, ``forms``."""
    label: str
    """Its Chinese name."""
    url_prefix: str
    """Where its pages live: ``regions`` or ``cases/circumstances``."""
    cases_only: bool = False


FACETS: tuple[Facet, ...] = (
    Facet("regions", "地区", "regions"),
    Facet("organizations", "发布机构", "organizations"),
    Facet("topics", "主题", "topics"),
    Facet("years", "年份", "years"),
    Facet("circumstances", "问责情形", "cases/circumstances", cases_only=True),
    Facet("forms", "问责方式", "cases/forms", cases_only=True),
)
FACET_BY_KEY = {facet.key: facet for facet in FACETS}


@dataclass
class FacetValue:
    """One value of a facet and the public records under it, newest first."""

    facet: Facet
    id: str
    name: str
    records: list[Record] = field(default_factory=list)
    parent: str | None = None
    """The parent value's id (regions, organizations, sanctions under a form)."""
    children: list[str] = field(default_factory=list)
    """Child values that have records, in vocabulary order."""
    kind_counts: dict[str, int] = field(default_factory=dict)
    """Kind → how many of ``records`` are of it (only kinds it has)."""

    @property
    def feed_scope(self) -> str:
        """The feed path scope: ``regions/jiangzhong`` → ``feeds/regions/jiangzhong.atom.xml``."""
        return f"{self.facet.key}/{self.id}"


def year_of(record: Record) -> str:
    """The publication year in China time (``Record.year_published``), as the year facet's value id."""
    assert record.published is not None
    return str(record.year_published)


def region_chains(vocab: Vocabularies) -> dict[str, list[str]]:
    """Each region id → itself and its ancestors: a record counts under every region that contains
    its own (the region facet, and the search filter on a city that finds its districts)."""
    return {e.id: [e.id] + [a.id for a in vocab.regions.ancestors(e.id)] for e in vocab.regions}


def _facet_values(record: Record, vocab: Vocabularies, regions: dict[str, list[str]]) -> Iterator[tuple[str, str]]:
    """(facet key, value) of every facet value ``record`` has, each once, in ``FACETS`` order;
    ``regions``: ``region_chains`` of the vocabularies."""
    for value in regions[record.region]:
        yield "regions", value
    yield "organizations", record.issuer
    for value in dict.fromkeys(record.topics):
        yield "topics", value
    yield "years", year_of(record)
    if isinstance(record, Case):
        for value in dict.fromkeys(record.circumstances):
            yield "circumstances", value
        forms = dict.fromkeys(record.forms)  # a sanction counts under the form it belongs to too
        for form in record.forms:
            parent = vocab.forms[form].parent
            if parent:
                forms.setdefault(parent)
        for value in forms:
            yield "forms", value


FACET_KEYS = "facet_keys"
"""The name of a stored record's summary value (``storedrecord``) that holds its ``facet_keys``."""


def facet_keys(record: Record, vocab: Vocabularies, regions: dict[str, list[str]] | None = None) -> tuple[str, ...]:
    """Every facet value of ``record`` as ``"<facet key>\0<value id>"`` (``_facet_values``, in order). The
    record cache keeps them in each record's summary (under ``FACET_KEYS``, made under the same
    vocabularies), so that grouping 20,000 records does not work them out again on every build."""
    return tuple(f"{key}\0{value}" for key, value in _facet_values(record, vocab, regions or region_chains(vocab)))


def _vocabulary_for(facet: str, vocab: Vocabularies):
    return None if facet == "years" else getattr(vocab, facet)


@dataclass
class Facets:
    """Every facet value that has at least one public record."""

    values: dict[str, dict[str, FacetValue]]
    """facet key → value id → value, in vocabulary order (years newest first)."""

    def __getitem__(self, key: str) -> dict[str, FacetValue]:
        return self.values[key]

    def all_values(self) -> Iterable[FacetValue]:
        for facet in FACETS:
            yield from self.values[facet.key].values()

    def top_level(self, key: str) -> list[FacetValue]:
        """Values whose parent has no records of its own here (the roots of a tree)."""
        values = self.values[key]
        return [v for v in values.values() if not v.parent or v.parent not in values]


def build_facets(publication: Publication, known: Mapping[str, tuple[str, ...]] | None = None) -> Facets:
    """Group the public records by every facet, in one pass; ``known``: record id → its ``facet_keys``
    worked out already under the same vocabularies (``LoadedRecord.facet_keys``)."""
    vocab = publication.vocab
    known = known or {}
    by_key: dict[str, list[Record]] = {}
    keys_of_kind: dict[str, list[str]] = {}
    regions = region_chains(vocab)
    for record in publication.records:  # already newest first
        keys = record.__dict__.get(FACET_KEYS) or known.get(record.id) or facet_keys(record, vocab, regions)
        # counted by kind below, in C: counting each value's list again (every record seven times or
        # so) reads 170,000 scattered records at 20,000, and a Counter per value costs 25 ms more
        keys_of_kind.setdefault(record.kind, []).extend(keys)
        for key in keys:
            members = by_key.get(key)
            if members is None:
                members = by_key[key] = []
            members.append(record)
    counted = {kind: Counter(keys) for kind, keys in keys_of_kind.items()}
    grouped: dict[str, dict[str, tuple[list[Record], dict[str, int]]]] = {f.key: {} for f in FACETS}
    for key, members in by_key.items():
        facet, value = key.split("\0", 1)
        grouped[facet][value] = (members, {kind: counts[key] for kind, counts in counted.items() if key in counts})
    values: dict[str, dict[str, FacetValue]] = {}
    for facet in FACETS:
        found = grouped[facet.key]
        vocabulary = _vocabulary_for(facet.key, vocab)
        if vocabulary is None:
            order: list[str] = sorted(found, reverse=True)
            name: Callable[[str], str] = lambda value: f"{value}年"
            parent_of: Callable[[str], str | None] = lambda value: None
        else:
            order = [e.id for e in vocabulary if e.id in found]
            name = lambda value, v=vocabulary: v[value].name
            parent_of = lambda value, v=vocabulary: getattr(v[value], "parent", None)
        values[facet.key] = {
            value: FacetValue(facet, value, name(value), found[value][0], parent_of(value), kind_counts=found[value][1])
            for value in order
        }
        for value in values[facet.key].values():
            if value.parent in values[facet.key]:
                values[facet.key][value.parent].children.append(value.id)
    return Facets(values)
