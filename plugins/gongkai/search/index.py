"""The whoosh index of the public records: what ``invoke search`` answers from.

It lives *beside* the output folder, in ``<output>.whoosh/`` (``output.whoosh/``
for ``output/``): whoosh names its files at random, so inside the output it
would break byte-identical builds, and a static host has no use for it. It
holds only what ``documents.py`` takes from ``site.publication``.

Written in bulk: whoosh's own writer analyzes and pools every posting in
Python (about 25 µs each, ten minutes for 20,000 long records), so the
postings that ``postings.py`` already sorted are fed straight to whoosh's
segment writer (``_write_segment``); the result is an ordinary whoosh index
that whoosh searches and scores itself (BM25F), with the same analyzer in its
schema for anyone who queries it with whoosh's own parser.
"""

from __future__ import annotations

import itertools
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from whoosh import fields, formats, index
from whoosh.codec.whoosh3 import W3Codec
from whoosh.analysis import Token, Tokenizer
from whoosh.filedb.filestore import FileStorage

from .analysis import fold
from .analysis import tokens as analyze
from .documents import FIELDS, SearchDoc
from .folders import whoosh_dir, whoosh_staging
from ..build import _swap_in
from ..buildcache import PickleCache
from .postings import Postings

STATE = "gongkai-state.pickle"
"""Beside whoosh's files: what the index holds (numbering, each document's record digest), so the next
build can update it in place of writing it whole."""
STATE_FORMAT = "index state 3"
"""The salt of ``STATE`` (``buildcache.PickleCache``): a file of another format holds nothing."""
MAX_STALE_SHARE = 0.02
"""An update leaves the replaced documents deleted but counted in whoosh's statistics (document count,
field lengths, document frequencies) until the index is written whole: at most this share of them."""
COMPOUND = False
"""Whether whoosh assembles each segment's files into one: it copies them to do so, and opening a
compound segment copies its whole postings from the mapped file into memory (``BufferFile``), which
took 0.12 s of every edit's index update at 20,000 records; separate files are read where they lie."""
BLOCK_LIMIT = 1024
"""Postings per block of a term's list, where whoosh writes 128: every block is a few Python calls and two
pickles, so fewer, longer blocks write faster (whoosh CPU of a clean build at 20,000 records: 4.9-5.0 s
against 5.3-5.7 s with 256); blocks are not zlib-compressed either (a local index: speed over size)."""
MAX_SEGMENTS = 8
"""An update adds a segment; past this many, the update segments (all but the one written whole) are
merged into the new one (``_merge_updates``): a few documents each, milliseconds to merge."""
STORED_LEVEL = 0
"""zlib's level for each document's stored fields in whoosh's column (whoosh's own: 3). Level 0 stores
without deflating, and whoosh reads it the same; deflating 20,000 pickles of some 290 bytes took 5.5 µs
each, mostly zlib's set-up, to save 40 bytes a document."""


class _CountingFile:
    """A file being written that counts where it is: whoosh asks its postings and terms files where they
    are (``tell``) several times a term, and a buffered file asks the system each time (70,000 ``lseek``
    calls in Python wrappers, 0.25 s of a clean build's index at 20,000 records)."""

    def __init__(self, file):
        self._file, self._at = file, file.tell()

    def write(self, data) -> int:
        written = self._file.write(data)
        self._at += written
        return written

    def tell(self) -> int:
        return self._at

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        self._at = self._file.seek(offset, whence)
        return self._at

    def __getattr__(self, name: str):  # flush, close, fileno, …
        return getattr(self._file, name)


class _CountingStorage(FileStorage):
    """whoosh's storage of files in a folder, whose new files count where they are (``_CountingFile``)."""

    def create_file(self, name, excl=False, mode="wb", **kwargs):
        created = super().create_file(name, excl, mode, **kwargs)
        created.file = _CountingFile(created.file)
        return created


class ChineseTokenizer(Tokenizer):
    """whoosh's view of ``analysis.tokens`` (folded bigrams, unigrams and words)."""

    def __call__(self, value, positions=False, chars=False, keeporiginal=False, removestops=True,
                 start_pos=0, start_char=0, tokenize=True, mode="", **kwargs):
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        for pos, text in enumerate(analyze(value) if tokenize else [fold(value)]):
            token.text = token.original = text
            token.boost = 1.0
            token.stopped = False
            if positions:
                token.pos = start_pos + pos
            yield token


class FrequencyAsWeight(formats.Frequency):
    """whoosh's ``Frequency`` without a value per posting: the frequency is kept as the posting's weight only.

    BM25F scores a posting by its weight (the frequency, field boost 1), as whoosh's postings file
    keeps it anyway; the same frequency again as a 4-byte value was a third of that file (53 of 136 MB
    at 20,000 records). No query of ours reads a value (``Frequency``'s phrase and span queries need
    positions, which these fields do not have).
    """

    posting_size = 0

    def word_values(self, value, analyzer, **kwargs):
        return ((word, frequency, weight, b"") for word, frequency, weight, _ in super().word_values(value, analyzer, **kwargs))

    def encode(self, value) -> bytes:
        return b""


def schema() -> fields.Schema:
    def text(stored: bool = False) -> fields.TEXT:
        field = fields.TEXT(analyzer=ChineseTokenizer(), phrase=False, stored=stored)
        field.format = FrequencyAsWeight()
        return field

    return fields.Schema(
        title=text(stored=True),
        subject=text(),
        body=text(),
        id=fields.ID(stored=True, unique=True),
        kind=fields.ID(stored=True),
        regions=fields.KEYWORD(),
        year=fields.ID(stored=True),
        url=fields.STORED(),
        date=fields.STORED(),
        n=fields.STORED(),
    )


def _filter_terms(doc: SearchDoc, region_chain: dict[str, list[str]]) -> dict[str, list[str]]:
    return {"id": [doc.id], "kind": [doc.kind], "regions": region_chain[doc.region], "year": [doc.year]}


@dataclass
class IndexState:
    """What ``STATE`` says of an index: under which global key and numbering it was written, each
    document's number and record digest by record id, and how many deleted documents it still counts
    (``stale``)."""

    salt: str
    numbering: str
    documents: dict[str, list]
    """Record id → [document number, record digest]."""
    stale: int = 0

    @classmethod
    def read(cls, directory: Path) -> "IndexState | None":
        # a pickle: the 2 MB of JSON it was took 0.08 s to read on every build at 20,000 records
        state = PickleCache(Path(directory) / STATE, STATE_FORMAT).load()
        return state if isinstance(state, cls) else None

    def write(self, directory: Path) -> None:
        PickleCache(Path(directory) / STATE, STATE_FORMAT).save(self)


def index_state(docs: list[SearchDoc], numbered: str, digests: dict[str, str], salt: str) -> IndexState:
    """The state of an index of ``docs`` (``numbered`` is ``numbering.numbering``)."""
    return IndexState(salt, numbered, {d.id: [d.n, digests.get(d.id)] for d in docs})


def documents_to_replace(directory: Path, wanted: IndexState) -> tuple[list[str], list[int]] | None:
    """What changed since the index in ``directory`` was written, when updating it is right: the
    record ids whose documents to delete (records removed, edited or renumbered) and the numbers of
    the documents to add (records added, edited or renumbered). None (write it whole) when the
    global key or the numbering's table changed, or the deleted documents it would count in all
    pass ``MAX_STALE_SHARE`` (the count includes those dropped since by merging update segments:
    the index is written whole a little early rather than late)."""
    live = IndexState.read(directory)
    if (live is None or not wanted.salt or live.salt != wanted.salt or live.numbering != wanted.numbering
            or not index.exists_in(str(directory))):
        return None
    removed = [i for i, now in live.documents.items() if now[1] is None or wanted.documents.get(i) != now]
    added = sorted(n for i, (n, digest) in wanted.documents.items() if digest is None or live.documents.get(i) != [n, digest])
    if live.stale + len(removed) > MAX_STALE_SHARE * len(wanted.documents):
        return None
    wanted.stale = live.stale + len(removed)
    return removed, added


@dataclass
class Replacement:
    """Documents to delete from the live index (by record id) and documents to add, with their texts
    (field → one per document)."""

    removed: list[str]
    docs: list[SearchDoc]
    texts: dict[str, list[str]]

    def count(self) -> int:
        """How many records' documents change (an edited record is deleted and added)."""
        return len(set(self.removed) | {d.id for d in self.docs})


def write_whoosh(directory: Path, docs: list[SearchDoc], postings: Postings, region_chain: dict[str, list[str]],
                 swap: bool = True, state: IndexState | None = None, replace: Replacement | None = None) -> None:
    """Write the whoosh index of ``docs`` for ``directory`` (replaced as a whole when complete).

    With ``replace``, the live index's files are hard-linked into the staging folder and only
    those documents are deleted and added again there (whoosh writes new segment files and a new
    table of contents, and never changes a file it wrote: the live index stays as it was).

    With ``swap=False`` the complete index stays staged beside it: ``build.py`` swaps it in
    (``swap_in_whoosh``) only after the output folder itself, so a build that fails or is
    killed after this leaves the previous index, matching the previous site.
    """
    directory = Path(directory)
    building = whoosh_staging(directory)
    if building.exists():
        shutil.rmtree(building)
    building.mkdir(parents=True)
    try:
        if replace is not None:
            _update_index(directory, building, replace, region_chain)
        else:
            _write_index(building, docs, postings, region_chain)
        if state is not None:
            state.write(building)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    if swap:
        _swap_in(building, directory)  # the same two renames as the output folder's


def _write_index(building: Path, docs: list[SearchDoc], postings: Postings, region_chain: dict[str, list[str]]) -> None:
    ix = _CountingStorage(str(building)).create_index(schema())
    writer = ix.writer(codec=W3Codec(blocklimit=BLOCK_LIMIT, compression=0), compound=COMPOUND)
    sch = ix.schema
    lengths = postings.lengths.tolist()
    perdoc = writer.perdocwriter
    perdoc._colwriters["_stored"]._child._level = STORED_LEVEL  # (whoosh's pickle column → its zlib column)
    for docnum, doc in enumerate(docs):  # whoosh numbers documents densely: docnum is the place in document order
        perdoc.start_doc(docnum)
        for fieldno, name in enumerate(FIELDS):
            perdoc.add_field(name, sch[name], doc.title if name == "title" else None, lengths[doc.n][fieldno])
        for name, value in (("id", doc.id), ("kind", doc.kind), ("year", doc.year), ("url", doc.url), ("date", doc.date), ("n", doc.n)):
            perdoc.add_field(name, sch[name], value, 0)
        perdoc.finish_doc()
    writer.docnum = len(docs)
    writer._added = True
    writer._flush_segment = lambda: _write_segment(writer, docs, postings, region_chain)  # type: ignore[method-assign]
    writer.commit()


def _update_index(live: Path, building: Path, replace: Replacement, region_chain: dict[str, list[str]]) -> None:
    for entry in os.scandir(live):
        if entry.is_file() and not entry.name.endswith("LOCK") and entry.name != STATE:
            os.link(entry.path, building / entry.name)
    if not replace.removed and not replace.docs:
        return
    writer = index.open_dir(str(building)).writer(compound=COMPOUND)
    try:
        _delete_documents(writer, replace.removed)
        for i, doc in enumerate(replace.docs):
            filters = _filter_terms(doc, region_chain)
            writer.add_document(
                **{name: replace.texts[name][i] for name in FIELDS}, id=doc.id, kind=doc.kind,
                regions=" ".join(filters["regions"]), year=doc.year, url=doc.url, date=doc.date, n=doc.n,
            )
        writer.commit(mergetype=_merge_updates)  # a new segment; whoosh never rewrites the files of the others
    except BaseException:
        writer.cancel()
        raise


def _delete_documents(writer, record_ids: list[str]) -> None:
    """Delete the documents of ``record_ids``: ``delete_by_term`` read through the index's reader, without
    whoosh's query module (importing it took 0.05 s of every update)."""
    reader = writer.reader()
    try:
        for record_id in record_ids:
            if ("id", record_id) in reader:
                for docnum in reader.postings("id", record_id).all_ids():
                    writer.delete_document(docnum)
    finally:
        reader.close()


def _merge_updates(writer, segments: list) -> list:
    """whoosh's merge policy for an update: while the new segment makes at most ``MAX_SEGMENTS``, keep
    every segment; past it, merge the update segments (all but the largest, the one written whole)
    into the new one. Writing the index whole instead took 3 s of every eighth edit at 20,000 records."""
    if len(segments) < MAX_SEGMENTS:  # with the new one, at most MAX_SEGMENTS
        return segments
    from whoosh.reading import SegmentReader

    written_whole = max(segments, key=lambda segment: segment.doc_count_all())
    for segment in segments:
        if segment is not written_whole:
            reader = SegmentReader(writer.storage, writer.schema, segment)
            writer.add_reader(reader)  # its live documents only: what was deleted there is gone
            reader.close()
    return [written_whole]


def _write_segment(writer, docs: list[SearchDoc], postings: Postings, region_chain: dict[str, list[str]]) -> None:
    """Feed the sorted postings to whoosh's field writer (what ``SegmentWriter`` does after pooling)."""
    import numpy as np

    writer.perdocwriter.close()
    out = writer.fieldwriter
    sch = writer.schema
    encoded = [t.encode("utf-8") for t in postings.terms]  # numbered in text order, as whoosh writes them
    docnum_of = np.zeros(len(postings.lengths), dtype=np.int32)  # document number → whoosh's docnum
    docnum_of[[d.n for d in docs]] = np.arange(len(docs), dtype=np.int32)
    filters = [_filter_terms(d, region_chain) for d in docs]  # (once for all four fields)
    for name in sorted(sch.names()):
        if name in postings.fields:
            fieldno = postings.fields.index(name)
            out.start_field(name, sch[name])
            for low, high, rows in postings.chunks():
                mine = postings.field[rows] == fieldno
                bounds = np.searchsorted(postings.term_numbers(low, high)[mine], np.arange(high - low + 1))
                docs_of = postings.doc[rows][mine]
                _write_field(out, encoded[low:high], bounds, docnum_of[docs_of], postings.tf[rows][mine], postings.lengths[docs_of, fieldno])
            out.finish_field()
        elif sch[name].indexed:  # (id, kind, regions, year: each posting weight 1, no length)
            terms: dict[bytes, list[int]] = {}
            for docnum, filter_terms in enumerate(filters):
                for value in filter_terms[name]:
                    terms.setdefault(value.encode("utf-8"), []).append(docnum)
            ordered = sorted(terms)
            bounds = np.cumsum([0, *map(len, map(terms.__getitem__, ordered))])
            docs_of = np.fromiter(itertools.chain.from_iterable(map(terms.__getitem__, ordered)), dtype=np.int32, count=int(bounds[-1]))
            out.start_field(name, sch[name])
            _write_field(out, ordered, bounds, docs_of, np.ones(len(docs_of), dtype=np.uint8), np.zeros(len(docs_of), dtype=np.int32))
            out.finish_field()
    out.close()


def _write_field(out, encoded: list[bytes], bounds, docs, tfs, lengths) -> None:
    """Write one field's postings (numpy arrays sorted by term number) through whoosh's writers.

    What ``W3PostingsWriter.add_posting`` does one posting at a time (whoosh-reloaded
    2.7.5, pinned) is done here a block at a time: each term's postings are cut into
    blocks of ``blocklimit``, each block's buffers are copied from numpy arrays, and
    its statistics and minified ids (delta-encoded from the block's first id) and
    weights are computed for the whole field at once instead of per posting;
    ``finish_term`` writes each term's last block. Per-posting Python values are
    made one block at a time, so memory stays that of the arrays.
    """
    import numpy as np

    writer = out._postwriter
    writer._mini_ids = lambda: writer._block_ids
    writer._mini_weights = lambda: writer._block_weights
    limit = writer._blocklimit
    counts = np.diff(bounds)
    blocks = (counts + limit - 1) // limit
    first_block = (np.cumsum(blocks) - blocks).tolist()
    within = np.arange(int(blocks.sum())) - np.repeat(np.cumsum(blocks) - blocks, blocks)
    block_starts = np.repeat(bounds[:-1], blocks) + within * limit
    def per_block(ufunc, values) -> list:
        return ufunc.reduceat(values, block_starts).tolist() if len(block_starts) else []

    shortest, longest = per_block(np.minimum, lengths), per_block(np.maximum, lengths)
    least, most = per_block(np.minimum, tfs), per_block(np.maximum, tfs)
    first_ids = docs[block_starts].tolist()
    deltas = np.diff(docs, prepend=0)
    ids_bytes = docs.astype(np.uint32).tobytes()  # array("I") and array("f") buffers, filled by copying
    weight_bytes = tfs.astype(np.float32).tobytes()
    no_values = [b""] * limit  # (``FrequencyAsWeight``: a term written inline keeps one per posting)
    ends, block_starts, blocks = bounds[1:].tolist(), block_starts.tolist(), blocks.tolist()
    for t in range(len(encoded)):
        if not blocks[t]:
            continue
        out.start_term(encoded[t])
        for block in range(first_block[t], first_block[t] + blocks[t]):
            start = block_starts[block]
            end = min(start + limit, ends[t])
            if block != first_block[t]:
                writer._write_block()
                writer._new_block()
            writer._ids.frombytes(ids_bytes[4 * start:4 * end])
            writer._weights.frombytes(weight_bytes[4 * start:4 * end])
            writer._values.extend(no_values[:end - start])
            writer._maxweight = float(most[block])
            writer._minlength, writer._maxlength = shortest[block], longest[block]
            writer._block_ids = (first_ids[block], *deltas[start + 1:end].tolist())
            if least[block] == most[block]:
                writer._block_weights = None if most[block] == 1 else float(most[block])
            else:
                # As ints, which whoosh scores exactly as the floats it would store: a pickled float
                # is 9 bytes, a small int 2 (the postings file of 20,000 records: 136 MB as floats).
                writer._block_weights = tuple(tfs[start:end].tolist())
        out.finish_term()


def open_index(output: Path) -> index.Index:
    """The whoosh index of the site built into ``output``; ``FileNotFoundError`` when there is none."""
    directory = whoosh_dir(output)
    if not index.exists_in(str(directory)):
        raise FileNotFoundError(directory)
    return index.open_dir(str(directory), readonly=True)
