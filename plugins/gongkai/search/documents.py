"""What of a public record is searchable, and in which field.

Three weighted text fields (site search finds a *name*, a *unit*, a *place*
or a *kind of failure*, so the name of the person or the document number of a
notice weighs more than a word in the body):

- ``title`` (boost 3): the record's title;
- ``subject`` (boost 2): the accountable person or the reporting official
  (name, position, unit), or a notice's 文号 and 索引号;
- ``body`` (boost 1): summary, body text and every other textual field,
  vocabulary names included (region, issuer, topics, circumstances, forms …).

Documents are numbered by a hash of their record's id (``document_numbers``),
so adding or removing a record leaves the other records' numbers as they were
(but for the few beside it in the table), and a rebuild rewrites only what
holds that record. Only ``site.publication.records`` is read: tombstones and everything not
public never reach the index.
"""

from __future__ import annotations

import hashlib
from typing import Iterable, NamedTuple

import numpy as np

from ..facets import year_of
from ..fields import CHINA_TIME
from ..markup import plain_text
from ..records import Case, Disclosure, Record, Report
from ..site import Site
from .numbering import table_size

FIELDS: tuple[str, ...] = ("title", "subject", "body")
BOOSTS: dict[str, float] = {"title": 3.0, "subject": 2.0, "body": 1.0}
KIND_ORDER: tuple[str, ...] = ("case", "disclosure", "report")
SNIPPET_CHARS = 1000
"""Characters of summary and body the browser gets for a result's snippet."""


class SearchDoc(NamedTuple):
    """One public record as the search index sees it (a named tuple, not a frozen dataclass: the kept
    corpus makes 20,000 of them again on every build, 0.1 s as dataclasses)."""

    n: int
    id: str
    kind: str
    url: str
    """Site path of the record page (``cases/jz-2024-0007/``)."""
    title: str
    date: str
    """Publication date in China time, ``2024-03-05``."""
    region: str
    year: str
    snippet: str | None
    """Summary and body text, cut to ``SNIPPET_CHARS``: what result snippets are made from (None in
    the documents kept between builds, ``corpus.py``)."""


def _join(values: Iterable[object]) -> str:
    return "\n".join(str(v) for v in values if v not in (None, ""))


def _subject(record: Record) -> list[object]:
    if isinstance(record, Case):
        s = record.subject
        return [s.name, s.position, s.organization]
    if isinstance(record, Report):
        o = record.official
        return [o.name, o.position, o.organization]
    if isinstance(record, Disclosure):
        return [record.doc_no, record.index_no]
    return []


def _names(vocabulary, ids: Iterable[str | None]) -> list[str]:
    return [vocabulary[i].name for i in ids if i and vocabulary.get(i)]


def _details(record: Record, vocab) -> list[object]:
    """Every other textual field, vocabulary ids turned into their names."""
    values: list[object] = [record.label]
    values += _names(vocab.regions, [record.region]) + [r.name for r in vocab.regions.ancestors(record.region)]
    values += _names(vocab.organizations, [record.issuer]) + _names(vocab.topics, record.topics)
    values += [c.note for c in record.corrections] + [s.title for s in record.sources]
    if isinstance(record, Disclosure):
        values += [record.domain, record.validity, record.disclosure_mode]
        values += _names(vocab.categories, [record.category])
    elif isinstance(record, Case):
        values += _names(vocab.regimes, [record.regime]) + [record.subject_kind, record.subject.level]
        values += [c.name for c in vocab.regimes[record.regime].circumstances if c.id in record.circumstances]
        values += _names(vocab.forms, record.forms) + _names(vocab.initiators, [record.initiated_by])
        values += [record.decision.by, record.decision.doc_no] + [s.by for s in record.stages]
        values += list(record.legal_basis)
        if record.appeal:
            values.append(record.appeal.result)
        if record.referred_for_prosecution:
            values.append("移送检察机关依法审查起诉")
    elif isinstance(record, Report):
        values += [record.year, record.report_kind, record.session.body, record.evaluation.method]
        for q in record.questions:
            values += [q.asked_by, q.question, q.answer]
        for f in record.follow_up:
            values += [f.action, f.note]
    return values


def document_numbers(ids: list[str]) -> list[int]:
    """Each id's document number, a function of the set of ids alone.

    An id's home is a hash of it modulo ``table_size``; ids go, in order of
    (home, id), each to the first free number at or after its home (linear
    probing without wrapping, so a number may pass the table's end). Adding or
    removing an id moves only the ids after it in its run of taken numbers
    (about one, with the table at most half full).
    """
    size = table_size(len(ids))
    homes = [int.from_bytes(hashlib.blake2b(i.encode("utf-8"), digest_size=8).digest(), "little") % size for i in ids]
    order = sorted(range(len(ids)), key=lambda k: (homes[k], ids[k]))
    placed = np.arange(len(ids), dtype=np.int64)
    numbers = np.empty(len(ids), dtype=np.int64)
    # the i-th placed id takes max(its home, the previous one's number + 1) = i + max over j <= i of (home_j - j)
    numbers[order] = np.maximum.accumulate(np.asarray([homes[k] for k in order], dtype=np.int64) - placed) + placed
    return numbers.tolist()


def numbered_records(site: Site, known: dict[str, int] | None = None) -> tuple[list[Record], list[int]]:
    """The public records in document order, and their document numbers (ascending): ``known``'s
    if it numbers exactly these records' ids (the last build's, ``corpus.last_numbers``), else
    ``document_numbers`` (a function of the set of ids: the same ids, the same numbers)."""
    records = list(site.publication.records)
    ids = [r.id for r in records]
    if known is not None and len(known) == len(ids) and all(i in known for i in ids):
        numbers = [known[i] for i in ids]
    else:
        numbers = document_numbers(ids)
    order = sorted(range(len(records)), key=numbers.__getitem__)
    return [records[k] for k in order], [numbers[k] for k in order]


def search_document(site: Site, record: Record, n: int, body: str | None = None) -> SearchDoc:
    """``record`` as search document number ``n``, without its texts (what its document file needs);
    ``body``: the plain text of its body, when the caller has it already."""
    if body is None:
        body = plain_text(site.body_html(record))
    return SearchDoc(
        n=n,
        id=record.id,
        kind=record.kind,
        url=site.urls.record(record.url_kind, record.id),
        title=record.title,
        date=record.published.astimezone(CHINA_TIME).date().isoformat(),
        region=record.region,
        year=year_of(record),
        snippet=_join([record.summary, body])[:SNIPPET_CHARS],
    )


def search_documents(site: Site, records: list[Record], numbers: Iterable[int]) -> tuple[list[SearchDoc], dict[str, list[str]]]:
    """``records`` as search documents with the given ``numbers``, and their texts: field → one per document.

    The texts are kept apart so they can be dropped once analyzed: they are most of the corpus's memory.
    """
    vocab = site.publication.vocab
    docs = []
    texts: dict[str, list[str]] = {f: [] for f in FIELDS}
    for n, record in zip(numbers, records):
        body = plain_text(site.body_html(record))
        docs.append(search_document(site, record, n, body))
        texts["title"].append(record.title)
        texts["subject"].append(_join(_subject(record)))
        texts["body"].append(_join([record.summary, body, *_details(record, vocab)]))
    return docs, texts
