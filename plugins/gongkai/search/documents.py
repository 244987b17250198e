"""What of a public record is searchable, and in which field.

Three weighted text fields (site search finds a *name*, a *unit*, a *place*
or a *kind of failure*, so the name of the person or the document number of a
notice weighs more than a word in the body):

- ``title`` (boost 3): the record's title;
- ``subject`` (boost 2): the accountable person or the reporting official
  (name, position, unit), or a notice's 文号 and 索引号;
- ``body`` (boost 1): summary, body text and every other textual field,
  vocabulary names included (region, issuer, topics, circumstances, forms …).

Documents are numbered by (year, kind, region, newest first): each combination
is then one run of numbers, so the browser learns the facets of every
document from a table of a few hundred runs instead of a per-document list.
Only ``site.publication.records`` is read: tombstones and everything not
public never reach the index.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from ..facets import year_of
from ..fields import CHINA_TIME
from ..markup import plain_text
from ..records import Case, Disclosure, Record, Report
from ..site import Site

FIELDS: tuple[str, ...] = ("title", "subject", "body")
BOOSTS: dict[str, float] = {"title": 3.0, "subject": 2.0, "body": 1.0}
KIND_ORDER: tuple[str, ...] = ("case", "disclosure", "report")
SNIPPET_CHARS = 1000
"""Characters of summary and body the browser gets for a result's snippet."""


@dataclass(frozen=True)
class SearchDoc:
    """One public record as the search index sees it."""

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
    snippet: str
    """Summary and body text, cut to ``SNIPPET_CHARS``: what result snippets are made from."""


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


def ordered_records(site: Site) -> list[Record]:
    """The public records in document order: year (newest first), kind, region, then newest first."""
    vocab = site.publication.vocab
    region_rank = {entry.id: i for i, entry in enumerate(vocab.regions)}
    return sorted(  # stable: newest first within a run
        site.publication.records,
        key=lambda r: (-int(year_of(r)), KIND_ORDER.index(r.kind), region_rank.get(r.region, len(region_rank))),
    )


def search_documents(site: Site, records: list[Record], first: int = 0) -> tuple[list[SearchDoc], dict[str, list[str]]]:
    """``records`` as search documents numbered from ``first``, and their texts: field → one per document.

    The texts are kept apart so they can be dropped once analyzed: they are most of the corpus's memory.
    """
    vocab = site.publication.vocab
    docs = []
    texts: dict[str, list[str]] = {f: [] for f in FIELDS}
    for n, record in enumerate(records, first):
        body = plain_text(site.body_html(record))
        snippet = _join([record.summary, body])[:SNIPPET_CHARS]
        docs.append(SearchDoc(
            n=n,
            id=record.id,
            kind=record.kind,
            url=site.urls.record(record.url_kind, record.id),
            title=record.title,
            date=record.published.astimezone(CHINA_TIME).date().isoformat(),
            region=record.region,
            year=year_of(record),
            snippet=snippet,
        ))
        texts["title"].append(record.title)
        texts["subject"].append(_join(_subject(record)))
        texts["body"].append(_join([record.summary, body, *_details(record, vocab)]))
    return docs, texts
