"""The search analysis of the public records, kept between builds so that a rebuild costs what changed.

Analyzing every record (plain text of the body, folding, bigrams, counting),
sorting the postings of the whole corpus by term and encoding every term's
shard entry is most of the search step; a one-record edit, addition or
removal should cost one record's worth. So the build cache keeps, under the
build's global key (code, vocabularies, settings) and the documents'
numbering (``kept.CorpusCache``), two files:

- ``search-corpus.pickle``, what a build indexed (``Corpus``, ≈130 MB at
  20,000 records, its arrays raw and read back by mapping the file): each
  document's number and its record's file digest, the documents (without
  their snippets), the postings of the whole corpus, each term's encoded
  entry and shard with each shard file's key (``shards.EncodedTerms``);
- ``search-corpus-changes.pickle``, what differs from it since
  (``CorpusChanges``, kilobytes to a few megabytes): the analysis of the
  records changed since, and the entries of the terms whose postings that
  changes, each under a digest of the rows taken out of and put into them.

A rebuild compares numbers and digests with the corpus: the documents of
records removed, edited or renumbered since are taken out of its postings,
and the records added, edited or renumbered since are put in, their analysis
taken from the changes where their digest is the same and the others
analyzed (``postings.replace_documents``); only the entries of the terms
whose postings differ from the corpus's and from the changes' are encoded
again, and only their shards joined and hashed (``shards.encode_postings``).
The build then writes the changes file, or, once more than
``FOLD_DOCUMENTS`` documents differ or their terms have more than ``FOLD_ROWS``
postings (or the shard count changed), the corpus whole and no changes. The output is a clean
build's, byte for byte (``tests/test_search.py``, ``tests/test_safety.py``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Callable

from ..records import Record
from ..site import Site
from ..workers import made_in_order
from .analysis import folding_table
from .documents import FIELDS, SearchDoc, search_documents
from .postings import AnalyzedBlock, Postings, analyze_block, join_blocks, merge_blocks, replace_documents
from .shards import EncodedTerms

ANALYZE_DOCS = 128
"""A clean build analyzes this many documents at a time (bounds the memory of one analysis)."""
PARALLEL_BLOCKS = 16
"""From this many blocks of ``ANALYZE_DOCS`` on, forked workers analyze blocks beside this process
(``workers.made_in_order``): the step runs alone on a clean build, and analysis is most of it."""
FOLD_DOCUMENTS = 32
FOLD_ROWS = 1 << 21
"""Past this many documents changed since the kept corpus, or postings of the terms they change (each
build joins and hashes their shards, patches and loads them again: an addition or removal touches
≈700 terms with 5.8M of the 13M postings at 20,000 records, and the edits after it took 0.2–0.3 s
more each), the corpus is written whole again (≈0.3–0.7 s) instead of the changes."""


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
    token: str = field(default_factory=lambda: os.urandom(8).hex())
    """Names this corpus for its changes file (a corpus written again voids the changes of the last one)."""

    def __getstate__(self) -> dict:
        # the documents by column: pickled and read back four times faster than 20,000 tuples
        return {**self.__dict__, "docs": [list(column) for column in zip(*self.docs)]}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state, docs=[SearchDoc._make(values) for values in zip(*state["docs"])])


@dataclass
class CorpusChanges:
    """What differs from the kept corpus (``Corpus.token``): the records analyzed since, and the
    entries of the terms whose postings differ from the corpus's."""

    made_from: dict[str, tuple[int, str]]
    """Record id → (document number, record file digest) of each document of ``block``, in its order."""
    docs: list[SearchDoc]
    """``block``'s documents (without snippets)."""
    block: AnalyzedBlock | None
    removed: list[int]
    """The corpus's documents that are not in this build (removed, edited or renumbered since)."""
    entries: dict[str, tuple[bytes, bytes]]
    """Term → (digest of how its postings differ from the corpus's, its entry), for the terms whose
    postings differ (``postings.replace_documents``)."""

    @classmethod
    def none(cls) -> "CorpusChanges":
        return cls({}, [], None, [], {})

    def small(self, rows: int) -> bool:
        """Whether these changes, whose terms have ``rows`` postings, are few enough to keep apart from
        the corpus (each build patches them in again), rather than in it."""
        return len(self.made_from) + len(self.removed) <= FOLD_DOCUMENTS and rows <= FOLD_ROWS

    def differ(self, earlier: "CorpusChanges | None") -> bool:
        """Whether these are other documents than the ``earlier`` changes' (the last build's)."""
        earlier = earlier or CorpusChanges.none()
        return (self.made_from, self.removed) != (earlier.made_from, earlier.removed)


@dataclass
class Analysis:
    """The documents (in document order) and postings of this build, and what changed since the kept corpus."""

    docs: list[SearchDoc]
    postings: Postings
    made_from: dict[str, tuple[int, str | None]]
    analyzed: int
    """How many records were analyzed."""
    touched: dict[str, bytes] | None
    """The terms whose postings changed since the kept corpus, each with a digest of how; None when
    there was none to patch."""
    changes: CorpusChanges | None = None
    """What differs from the kept corpus (its ``entries`` still those of the last build); None when there was none."""
    docs_given: bool = False
    """Whether every document was given to ``analyze``'s ``made`` as it was made."""


def analyze(site: Site, records: list[Record], numbers: list[int], kept: Corpus | None,
            earlier: CorpusChanges | None = None, made: Callable[[list[SearchDoc]], object] | None = None) -> Analysis:
    """The documents and postings of ``records`` (in document order, with their ``numbers``): the
    ``kept`` corpus patched where records differ from it (their analysis taken from the ``earlier``
    changes where it is of the same record file), else every record analyzed, and then each block
    of documents is given to ``made`` where it is made (maybe a forked worker: what it writes to
    ``site.output`` is taken over; ``Analysis.docs_given`` says whether this was done)."""
    digests = site.fingerprints.digests
    made_from = {r.id: (n, digests.get(r.id)) for r, n in zip(records, numbers)}
    if kept is None:
        return _analyze_all(site, records, numbers, made_from, made)
    differ = [(n, r) for r, n in zip(records, numbers) if made_from[r.id][1] is None or kept.made_from.get(r.id) != made_from[r.id]]
    removed = [n for i, (n, digest) in kept.made_from.items() if digest is None or made_from.get(i) != (n, digest)]
    earlier = earlier or CorpusChanges.none()
    place = {i: k for k, i in enumerate(earlier.made_from)}
    same = [r.id in place and made_from[r.id][1] is not None and earlier.made_from[r.id] == made_from[r.id] for _, r in differ]
    again = [place[r.id] for (_, r), s in zip(differ, same) if s]
    fresh = [(n, r) for (n, r), s in zip(differ, same) if not s]
    added, texts = search_documents(site, [r for _, r in fresh], [n for n, _ in fresh])
    parts = ([(earlier.block, again)] if again else []) + ([(analyze_block(texts), list(range(len(added))))] if added else [])
    block_docs = [earlier.docs[k] for k in again] + added
    changes = CorpusChanges({d.id: made_from[d.id] for d in block_docs}, [d._replace(snippet=None) for d in block_docs],
                            join_blocks(parts) if parts else None, removed, earlier.entries)
    if not block_docs and not removed:
        return Analysis(kept.docs, kept.postings, made_from, 0, {}, changes)
    postings, touched = replace_documents(kept.postings, removed, changes.block, [d.n for d in block_docs])
    gone = set(removed)
    by_number = {d.n: d for d in kept.docs if d.n not in gone} | {d.n: d for d in block_docs}
    return Analysis([by_number[n] for n in sorted(by_number)], postings, made_from, len(added), touched, changes)


def last_numbers(kept: Corpus | None, earlier: CorpusChanges | None) -> dict[str, int] | None:
    """Record id → document number in the last build (the kept corpus's, changed as ``earlier`` says):
    numbering 20,000 ids again costs more than this."""
    if kept is None:
        return None
    earlier = earlier or CorpusChanges.none()
    gone = set(earlier.removed)
    numbers = {i: n for i, (n, _) in kept.made_from.items() if n not in gone}
    numbers.update((i, n) for i, (n, _) in earlier.made_from.items())
    return numbers


def _analyze_all(site: Site, records: list[Record], numbers: list[int], made_from,
                 made: Callable[[list[SearchDoc]], object] | None) -> Analysis:
    docs: list[SearchDoc] = []
    count = -(-len(records) // ANALYZE_DOCS)

    def block(k: int) -> tuple[list[SearchDoc], AnalyzedBlock]:
        part = slice(k * ANALYZE_DOCS, (k + 1) * ANALYZE_DOCS)
        part_docs, texts = search_documents(site, records[part], numbers[part])
        if made is not None:
            made(part_docs)
        return part_docs, analyze_block(texts)

    def blocks():
        parallel = count >= PARALLEL_BLOCKS
        scratch = site.setting("GONGKAI_SCRATCH_PATH")  # (where the workers leave their blocks for this process)
        made_blocks = made_in_order(block, count, site.output, scratch=scratch) if parallel else map(block, range(count))
        for k, (part_docs, analyzed) in enumerate(made_blocks):
            docs.extend(part_docs)
            yield analyzed, numbers[k * ANALYZE_DOCS:(k + 1) * ANALYZE_DOCS]

    postings = merge_blocks(blocks(), FIELDS, len(records))
    return Analysis(docs, postings, made_from, len(records), None, docs_given=made is not None)


def kept_corpus(analysis: Analysis, encoded: EncodedTerms) -> Corpus:
    """What to keep of this build's analysis (snippets are dropped: most of the documents' memory)."""
    docs = [d if d.snippet is None else d._replace(snippet=None) for d in analysis.docs]
    return Corpus(analysis.made_from, docs, analysis.postings, encoded, folding_table())
