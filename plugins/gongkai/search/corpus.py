"""The search analysis of the public records, kept between builds so that a rebuild costs what changed.

Analyzing every record (plain text of the body, folding, bigrams, counting),
sorting the postings of the whole corpus by term and encoding every term's
shard entry is most of the search step; a one-record edit, addition or
removal should cost one record's worth. So the build cache keeps, in
``<cache>/search-corpus.pickle`` under the build's global key (code,
vocabularies, settings) and the documents' numbering (``kept.CorpusCache``),
what the last build indexed (``Corpus``): each document's number and its record's file digest, the documents (without their
snippets), the postings of the whole corpus, and each term's encoded entry and shard with each
shard file's key (``shards.EncodedTerms``).

A rebuild compares numbers and digests: the documents of records removed,
edited or renumbered are taken out of the postings, the records added, edited
or renumbered are analyzed and put in (``postings.replace_documents``), and
only the entries of the terms whose postings changed are encoded again
(``shards.encode_postings``). When nothing changed nothing is analyzed,
patched or saved. The output is a clean build's, byte for byte
(``tests/test_search.py``, ``tests/test_safety.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..records import Record
from ..site import Site
from .analysis import folding_table
from .documents import FIELDS, SearchDoc, search_documents
from .postings import Postings, analyze_block, merge_blocks, replace_documents
from .shards import EncodedTerms

ANALYZE_DOCS = 128
"""A clean build analyzes this many documents at a time (bounds the memory of one analysis)."""


@dataclass
class Corpus:
    """What one build indexed: enough for the next to patch it."""

    made_from: dict[str, tuple[int, str | None]]
    """Record id → (document number, record file digest)."""
    docs: list[SearchDoc]
    """In document order, without snippets (``doc_file`` makes them again from the record when needed)."""
    postings: Postings
    encoded: EncodedTerms
    """Each term's encoded shard entry and shard, each shard file's key."""
    folding: tuple[str, dict[str, str]]
    """OpenCC's version and the Traditional → Simplified table the postings were folded with
    (``analysis.traditional_to_simplified``): a patch folds as they were, and the table is not made again."""

    def __getstate__(self) -> dict:
        # the documents by column: pickled and read back four times faster than 20,000 tuples
        return {**self.__dict__, "docs": [list(column) for column in zip(*self.docs)]}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state, docs=[SearchDoc._make(values) for values in zip(*state["docs"])])


@dataclass
class Analysis:
    """The documents (in document order) and postings of this build, and what changed since the kept corpus."""

    docs: list[SearchDoc]
    postings: Postings
    made_from: dict[str, tuple[int, str | None]]
    analyzed: int
    """How many records were analyzed."""
    touched: set[str] | None
    """The terms whose postings changed since the kept corpus; None when there was none to patch."""


def analyze(site: Site, records: list[Record], numbers: list[int], kept: Corpus | None) -> Analysis:
    """The documents and postings of ``records`` (in document order, with their ``numbers``): the
    ``kept`` corpus patched where records changed, else every record analyzed."""
    digests = site.fingerprints.digests
    made_from = {r.id: (n, digests.get(r.id)) for r, n in zip(records, numbers)}
    if kept is None:
        return _analyze_all(site, records, numbers, made_from)
    changed = [(n, r) for r, n in zip(records, numbers) if made_from[r.id][1] is None or kept.made_from.get(r.id) != made_from[r.id]]
    removed = [n for i, (n, digest) in kept.made_from.items() if digest is None or made_from.get(i) != (n, digest)]
    if not changed and not removed:
        return Analysis(kept.docs, kept.postings, made_from, 0, set())
    added, texts = search_documents(site, [r for _, r in changed], [n for n, _ in changed])
    postings, touched = replace_documents(kept.postings, removed, analyze_block(texts) if added else None, [d.n for d in added])
    gone = set(removed)
    by_number = {d.n: d for d in kept.docs if d.n not in gone} | {d.n: d for d in added}
    return Analysis([by_number[n] for n in sorted(by_number)], postings, made_from, len(added), touched)


def _analyze_all(site: Site, records: list[Record], numbers: list[int], made_from) -> Analysis:
    docs: list[SearchDoc] = []

    def blocks():
        for first in range(0, len(records), ANALYZE_DOCS):
            part_docs, texts = search_documents(site, records[first:first + ANALYZE_DOCS], numbers[first:first + ANALYZE_DOCS])
            docs.extend(part_docs)
            yield analyze_block(texts), numbers[first:first + ANALYZE_DOCS]

    postings = merge_blocks(blocks(), FIELDS, len(records))
    return Analysis(docs, postings, made_from, len(records), None)


def kept_corpus(analysis: Analysis, encoded: EncodedTerms) -> Corpus:
    """What to keep of this build's analysis (snippets are dropped: most of the documents' memory)."""
    docs = [d if d.snippet is None else d._replace(snippet=None) for d in analysis.docs]
    return Corpus(analysis.made_from, docs, analysis.postings, encoded, folding_table())
