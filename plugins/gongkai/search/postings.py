"""The inverted index of the whole corpus, analyzed and scored at once with numpy.

Analyzing 20,000 records token by token in Python takes tens of seconds, so
this module does what ``analysis.tokens`` does (same folding, same bigrams,
same words: ``tests/test_search.py`` checks they agree) over the whole corpus
as arrays of code points, then sorts every (term, document, field) once.

Scores are not computed here: the static index ships each posting's term
frequencies and whoosh's one-byte field lengths (``length_bytes``), and the
browser scores them with BM25F from the collection statistics in
``meta.json`` (``shards.py``), as whoosh does. So a posting's bytes depend
only on its own document, and an edit changes only the shards of the terms
it touches.
"""

from __future__ import annotations

import hashlib
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Iterator

import numpy as np

from .analysis import CJK_RANGES, MAX_WORD, _translation

K1 = 1.2
B = 0.75
"""whoosh's BM25F defaults (``whoosh.scoring.BM25F``)."""

_BIGRAM_SHIFT = 18
"""A bigram is the key ``first << 18 | second`` (every CJK code point is below 2**18)."""
_WORD_BASE = 1 << 40
"""Words (letters and digits) get keys from here on."""
_DOC_BITS = 20
_MAX_DOCS = 1 << _DOC_BITS


_CJK, _ALNUM = 1, 2


@lru_cache(maxsize=1)
def _tables() -> tuple[np.ndarray, np.ndarray]:
    """Per code point: its folded code point, and the class of the folded one (CJK, letter/digit, other)."""
    folded = np.arange(0x110000, dtype=np.uint32)
    for code, target in _translation().items():
        folded[code] = ord(target)
    classes = np.zeros(0x110000, dtype=np.uint8)
    for low, high in CJK_RANGES:
        classes[low:high + 1] = _CJK
    classes[ord("0"):ord("9") + 1] = _ALNUM
    classes[ord("a"):ord("z") + 1] = _ALNUM
    return folded, classes[folded]


@dataclass
class Postings:
    """Every (term, document, field) with its frequency, grouped by term."""

    doc_count: int
    """How many documents there are (their numbers have gaps: ``documents.document_numbers``)."""
    fields: tuple[str, ...]
    terms: list[str]
    """Distinct terms in code point (= UTF-8 byte) order, as whoosh stores them; a term's number is its place here."""
    starts: np.ndarray
    """Where each term's rows start (and, last, the number of rows): term ``t`` has rows ``starts[t]:starts[t + 1]``."""
    lengths: np.ndarray
    """Tokens per (document number, field): a row for every number up to the largest at least (0 where no document is)."""
    columns: "Columns"
    """Per row (term, document, field), sorted by term, then document, then field: the document, the
    field and the frequency (``doc``, ``field``, ``tf``; ``rows`` reads a few rows without making them all)."""

    @property
    def doc(self) -> np.ndarray:
        return self.columns.whole()[0]

    @property
    def field(self) -> np.ndarray:
        return self.columns.whole()[1]

    @property
    def tf(self) -> np.ndarray:
        return self.columns.whole()[2]

    def rows(self, rows: np.ndarray) -> list[np.ndarray]:
        """``[doc, field, tf]`` of ``rows`` (ascending row numbers)."""
        return self.columns.at(rows)

    def chunks(self, rows: int = 1 << 18) -> Iterator[tuple[int, int, slice]]:
        """Consecutive term ranges ``[low, high)`` of about ``rows`` postings each, and their rows:
        what is encoded or written at a time, so memory stays bounded."""
        low = 0
        while low < len(self.terms):
            high = max(low + 1, int(np.searchsorted(self.starts, self.starts[low] + rows, side="right")) - 1)
            yield low, high, slice(int(self.starts[low]), int(self.starts[high]))
            low = high

    def term_numbers(self, low: int = 0, high: int | None = None) -> np.ndarray:
        """The term number of each row of the terms ``[low, high)``, counted from ``low``."""
        high = len(self.terms) if high is None else high
        return np.repeat(np.arange(high - low, dtype=np.int32), np.diff(self.starts[low:high + 1]))

    def length_bytes(self) -> np.ndarray:
        """Per (document, field): the one-byte length whoosh stores (``length_to_byte``), uint8."""
        return length_bytes(self.lengths)


class Columns:
    """The ``doc``, ``field`` and ``tf`` columns of a ``Postings``: made, or a splice of a kept
    corpus's columns (``replace_documents``) made only when asked for whole.

    An edit's static index encodes only the terms it touches, and its whoosh index and kept corpus
    take only its documents: reading those rows where they lie in the kept columns saves copying
    20 million rows (0.2–0.3 s at 20,000 records) on the rebuild's longest path.
    """

    def __init__(self, made: list[np.ndarray] | None = None, splice: "_Splice | None" = None):
        self._made = made
        self._splice = splice

    def whole(self) -> list[np.ndarray]:
        if self._made is None:
            self._made, self._splice = self._splice.make(), None
        return self._made

    def at(self, rows: np.ndarray) -> list[np.ndarray]:
        if self._made is not None:
            return [column[rows] for column in self._made]
        return self._splice.take(rows)

    def __getstate__(self) -> dict:
        return {"_made": self.whole(), "_splice": None}  # (a kept corpus holds its columns)


def length_bytes(lengths: np.ndarray) -> np.ndarray:
    """The one-byte lengths whoosh stores for these field lengths (``length_to_byte``), uint8."""
    from whoosh.util.numeric import _length_byte_cache

    cache = np.asarray(_length_byte_cache, dtype=np.int64)
    return np.minimum(np.searchsorted(cache, lengths, side="left"), 255).astype(np.uint8)


def quantized_length(length_byte: np.ndarray) -> np.ndarray:
    """The field length whoosh's BM25F uses for a stored length byte (``byte_to_length``)."""
    from whoosh.util.numeric import _length_byte_cache

    return np.asarray(_length_byte_cache, dtype=np.int64)[length_byte]


def _field_keys(values: list[str], first: int, words: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """Term keys and document numbers of every token of ``values`` (documents ``first``…), in no order."""
    fold, class_of = _tables()
    joined = "\n".join(values)  # a newline separates tokens, so documents never run together
    raw = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)
    codes, classes = fold[raw], class_of[raw]
    doc_of = np.repeat(np.arange(first, first + len(values), dtype=np.int64), [len(v) + 1 for v in values])[: len(codes)]
    cjk = classes == _CJK
    before = np.r_[False, cjk[:-1]]
    after = np.r_[cjk[1:], False]
    pairs = np.flatnonzero(cjk & after)
    singles = np.flatnonzero(cjk & ~before & ~after)
    wide = codes.astype(np.int64)
    alnum = classes == _ALNUM
    starts = np.flatnonzero(alnum & ~np.r_[False, alnum[:-1]])
    ends = np.minimum(np.flatnonzero(alnum & ~np.r_[alnum[1:], False]) + 1, starts + MAX_WORD)
    folded = codes.tobytes().decode("utf-32-le")
    ids = [words.setdefault(folded[s:e], len(words)) for s, e in zip(starts.tolist(), ends.tolist())]
    key = np.concatenate([
        wide[pairs] << _BIGRAM_SHIFT | wide[pairs + 1], wide[singles], np.asarray(ids, dtype=np.int64) + _WORD_BASE,
    ])
    return key, np.concatenate([doc_of[pairs], doc_of[singles], doc_of[starts]])


@dataclass
class AnalyzedBlock:
    """The analysis of a run of consecutive documents, on its own: what the build cache keeps.

    Its document numbers count from the block's first document and its words
    are numbered in its own ``words``, so the same records analyze to the same
    block wherever they stand in the corpus (``search/blockcache.py``).
    """

    keys: np.ndarray
    """The block's distinct term keys (bigrams and unigrams by code point, words ``_WORD_BASE`` + index in ``words``)."""
    words: list[str]
    local: np.ndarray
    """Per row (term, document, field): index into ``keys``."""
    doc_field: np.ndarray
    """Per row: document (from the block's first) << 2 | field."""
    tf: np.ndarray
    lengths: np.ndarray
    """Tokens per (document, field)."""


def analyze_block(texts: dict[str, list[str]]) -> AnalyzedBlock:
    """Count the tokens of a few documents (field → one text per document) per (term, document, field)."""
    doc_count = len(next(iter(texts.values()))) if texts else 0
    words: dict[str, int] = {}
    lengths = np.zeros((doc_count, len(texts)), dtype=np.int32)
    composites = []
    for fieldno, values in enumerate(texts.values()):
        key, doc = _field_keys(values, 0, words)
        composites.append(key << (_DOC_BITS + 2) | doc << 2 | fieldno)
        lengths[:, fieldno] = np.bincount(doc, minlength=doc_count)
    unique, tf = np.unique(np.concatenate(composites), return_counts=True)
    del composites
    keys, local = np.unique(unique >> (_DOC_BITS + 2), return_inverse=True)
    doc_field = unique & ((1 << (_DOC_BITS + 2)) - 1)
    return AnalyzedBlock(keys, list(words), _compact(local), _compact(doc_field), _compact(tf), lengths)


def join_blocks(parts: list[tuple[AnalyzedBlock, list[int]]]) -> AnalyzedBlock:
    """One block of the documents picked from each block (``(block, indices of its documents)``),
    in the order given (at least one block): the analysis kept for the records changed since the kept corpus."""
    words: dict[str, int] = {}
    row_keys, doc_fields, tfs, lengths = [], [], [], []
    taken = 0
    for block, picked in parts:
        keys = block.keys.astype(np.int64)
        if block.words:  # the block's word numbers → the joined block's
            word_numbers = np.asarray([words.setdefault(w, len(words)) for w in block.words], dtype=np.int64)
            is_word = keys >= _WORD_BASE
            keys[is_word] = word_numbers[keys[is_word] - _WORD_BASE] + _WORD_BASE
        place = np.full(len(block.lengths), -1, dtype=np.int64)  # the block's document → its place in the joined one
        place[picked] = np.arange(taken, taken + len(picked))
        doc_field = block.doc_field.astype(np.int64)
        rows = np.flatnonzero(place[doc_field >> 2] >= 0)
        row_keys.append(keys[block.local[rows]])
        doc_fields.append(place[doc_field[rows] >> 2] << 2 | doc_field[rows] & 3)
        tfs.append(block.tf[rows].astype(np.int32))
        lengths.append(block.lengths[picked])
        taken += len(picked)
    keys, local = np.unique(np.concatenate(row_keys), return_inverse=True)
    return AnalyzedBlock(keys, list(words), _compact(local), _compact(np.concatenate(doc_fields)), _compact(np.concatenate(tfs)),
                         np.concatenate(lengths).astype(np.int32))


PLACING_THREADS = 2
"""Threads that put the merged rows in place (``merge_blocks``): a clean build's merge has the cores to itself."""


def merge_blocks(blocks: Iterable[tuple[AnalyzedBlock, np.ndarray]], fields: tuple[str, ...], doc_count: int) -> Postings:
    """The postings of blocks given with their documents' numbers (ascending within and across blocks),
    sorted by term text, document, field.

    The terms of all blocks are numbered in text order, then every block's rows
    are placed at their term's place (a counting sort), documents ascending.
    """
    words: dict[str, int] = {}
    placed_lengths = []  # (numbers, the block's lengths)
    batches = []  # (the batch's distinct term keys, row → index into them, doc << 2 | field, tf)
    count = 0
    for block, numbers in blocks:
        numbers = np.asarray(numbers, dtype=np.int32)
        if len(numbers) and numbers[-1] >= _MAX_DOCS:
            raise ValueError(f"document numbers must stay below {_MAX_DOCS}")
        placed_lengths.append((numbers, block.lengths))
        count += len(numbers)
        keys = block.keys
        if block.words:  # the block's word numbers → the corpus's
            word_numbers = np.asarray([words.setdefault(w, len(words)) for w in block.words], dtype=np.int64)
            is_word = keys >= _WORD_BASE
            keys = keys.copy()
            keys[is_word] = word_numbers[keys[is_word] - _WORD_BASE] + _WORD_BASE
        doc_field = block.doc_field.astype(np.int32)
        batches.append((keys, block.local, numbers[doc_field >> 2] << 2 | doc_field & 3, block.tf))
    if count != doc_count:
        raise ValueError(f"blocks hold {count} documents, not {doc_count}")
    lengths = np.zeros((int(placed_lengths[-1][0][-1]) + 1 if count else 0, len(fields)), dtype=np.int32)
    for numbers, block_lengths in placed_lengths:
        lengths[numbers] = block_lengths
    keys = np.unique(np.concatenate([b[0] for b in batches])) if batches else np.zeros(0, dtype=np.int64)
    word_list = list(words)
    texts_of = [_term_text(k, word_list) for k in keys.tolist()]
    in_text_order = sorted(range(len(keys)), key=texts_of.__getitem__)
    rank = np.empty(len(keys), dtype=np.int32)
    rank[in_text_order] = np.arange(len(keys), dtype=np.int32)
    terms = [texts_of[i] for i in in_text_order]
    batch_terms = [rank[np.searchsorted(keys, b[0])] for b in batches]  # batch term index → term number

    counts = np.zeros(len(keys), dtype=np.int64)
    for (_, local, _, _), numbers in zip(batches, batch_terms):
        counts += np.bincount(numbers[local], minlength=len(keys))
    starts = np.zeros(len(keys) + 1, dtype=np.int64)
    np.cumsum(counts, out=starts[1:])
    cursor = starts[:-1].copy()
    tf_type = np.result_type(*[b[3].dtype for b in batches]) if batches else np.uint16
    doc, field, tf = (np.empty(int(starts[-1]), dtype=t) for t in (np.int32, np.int8, tf_type))

    def place(local: np.ndarray, doc_field: np.ndarray, frequency: np.ndarray, at: np.ndarray, sizes: np.ndarray) -> None:
        """Put one batch's rows in place: each of its terms' rows from ``at`` on."""
        if len(local) > 1 and not (local[1:] >= local[:-1]).all():
            order = np.argsort(local, kind="stable")  # by term; (document, field) order kept
            local, doc_field, frequency = local[order], doc_field[order], frequency[order]
        # The rows are grouped by term now (``analyze_block`` makes them so: no sort), each group in
        # (document, field) order: a group goes whole to its term's place, the batch's terms being distinct.
        where = (at - (np.cumsum(sizes) - sizes))[local] + np.arange(len(local))
        doc[where] = doc_field >> 2
        field[where] = doc_field & 3
        tf[where] = frequency

    # Where each batch's rows go is worked out in order here; the rows are put there by threads (numpy lets
    # go of the GIL while it scatters): the merge runs alone once the last block is in, on one core otherwise.
    with ThreadPoolExecutor(PLACING_THREADS) as threads:
        placing: deque[Future] = deque()
        for i, numbers in enumerate(batch_terms):
            _, local, doc_field, frequency = batches[i]
            batches[i] = None  # freed as soon as placed
            if len(placing) > 2 * PLACING_THREADS:  # (a few batches ahead: the rest are freed as they are placed)
                placing.popleft().result()
            sizes = np.bincount(local, minlength=len(numbers))
            placing.append(threads.submit(place, local, doc_field, frequency, cursor[numbers], sizes))
            cursor[numbers] += sizes
            del local, doc_field, frequency
        for placed in placing:
            placed.result()
    return Postings(doc_count=doc_count, fields=fields, terms=terms, starts=starts, lengths=lengths, columns=Columns([doc, field, tf]))


def _compact(values: np.ndarray) -> np.ndarray:
    """``values`` (not negative) as uint16 when they fit, else int32: postings are most of the memory."""
    return values.astype(np.uint16 if not len(values) or values.max() < 1 << 16 else np.int32)


def _term_text(key: int, words: list[str]) -> str:
    if key >= _WORD_BASE:
        return words[key - _WORD_BASE]
    if key >> _BIGRAM_SHIFT:
        return chr(key >> _BIGRAM_SHIFT) + chr(key & ((1 << _BIGRAM_SHIFT) - 1))
    return chr(key)


def replace_documents(postings: Postings, removed: list[int], block: AnalyzedBlock | None, numbers: list[int]
                      ) -> tuple[Postings, dict[str, bytes]]:
    """``postings`` without the documents numbered ``removed`` and with ``block``'s documents numbered
    ``numbers`` (each one new or removed), exactly as ``merge_blocks`` would make them from all
    documents; and the terms whose entries change (``shards.py``): those whose postings in these
    documents differ, by frequency or by the document's quantized field length, each with a digest
    of what differs (``_touched``).

    Costs a few passes over the rows and no sort of them: the kept rows are in order already, and
    the block's few rows are inserted where they belong.
    """
    size = max([len(postings.lengths), *(n + 1 for n in numbers)])
    lengths = np.zeros((size, len(postings.fields)), dtype=np.int32)
    lengths[:len(postings.lengths)] = postings.lengths
    dropping = np.zeros(size, dtype=bool)
    dropping[removed] = True
    gone = np.flatnonzero(dropping[postings.doc])
    gone_terms = np.searchsorted(postings.starts, gone, side="right") - 1
    old_rows = _described(postings.terms, gone_terms, postings.doc[gone], postings.field[gone], postings.tf[gone], lengths)
    lengths[removed] = 0
    doc_count = postings.doc_count - len(removed)
    if block is not None and len(numbers):
        if max(numbers) >= _MAX_DOCS:
            raise ValueError(f"document numbers must stay below {_MAX_DOCS}")
        block_terms = [_term_text(k, block.words) for k in block.keys.tolist()]
        terms = sorted(set(postings.terms).union(block_terms))
        lengths[numbers] = block.lengths
        doc_count += len(numbers)
    else:
        block_terms, terms = [], postings.terms
    number_of = {t: i for i, t in enumerate(terms)}
    old_number = np.asarray([number_of[t] for t in postings.terms], dtype=np.int64)
    kept_counts = np.zeros(len(terms), dtype=np.int64)
    kept_counts[old_number] = np.diff(postings.starts)
    kept_counts -= np.bincount(old_number[gone_terms], minlength=len(terms))
    counts = kept_counts
    new_rows: set[tuple] = set()
    where = np.zeros(0, dtype=np.int64)
    new_columns = [np.zeros(0, dtype=a.dtype) for a in (postings.doc, postings.field, postings.tf)]
    if block_terms:
        doc_field = block.doc_field.astype(np.int64)
        new_term = np.asarray([number_of[t] for t in block_terms], dtype=np.int64)[block.local]
        new_doc = np.asarray(numbers, dtype=np.int64)[doc_field >> 2]
        new_field = doc_field & 3
        order = np.lexsort((new_field, new_doc, new_term))
        new_term, new_doc, new_field, new_tf = new_term[order], new_doc[order], new_field[order], block.tf[order]
        new_rows = _described(terms, new_term, new_doc, new_field, new_tf, lengths)
        # where each new row goes among the old rows: within its term, before the first larger document
        # (an old row of the same document is one of the removed)
        old_starts = postings.starts[np.searchsorted(old_number, np.arange(len(terms)))]  # at its place among the old terms
        old_sizes = np.zeros(len(terms), dtype=np.int64)
        old_sizes[old_number] = np.diff(postings.starts)
        where = np.empty(len(new_term), dtype=np.int64)
        firsts = np.flatnonzero(np.r_[True, new_term[1:] != new_term[:-1]])
        for first, end in zip(firsts.tolist(), [*firsts[1:].tolist(), len(new_term)]):
            low = int(old_starts[new_term[first]])
            high = low + int(old_sizes[new_term[first]])
            where[first:end] = low + np.searchsorted(postings.doc[low:high], new_doc[first:end])
        tf_type = np.result_type(postings.tf.dtype, new_tf.dtype)
        new_columns = [new_doc.astype(postings.doc.dtype), new_field.astype(postings.field.dtype), new_tf.astype(tf_type)]
        counts = kept_counts + np.bincount(new_term, minlength=len(terms))
    splice = _Splice([postings.doc, postings.field, postings.tf], gone, where, new_columns)
    present = counts > 0  # a term only the removed documents had is gone
    starts = np.zeros(int(present.sum()) + 1, dtype=np.int64)
    np.cumsum(counts[present], out=starts[1:])
    return Postings(doc_count=doc_count, fields=postings.fields, terms=[t for t, p in zip(terms, present.tolist()) if p],
                    starts=starts, lengths=lengths, columns=Columns(splice=splice)), _touched(old_rows, new_rows)


def _touched(old_rows: set[tuple], new_rows: set[tuple]) -> dict[str, bytes]:
    """The terms whose rows differ, each with a digest of its rows taken out and put in: with the
    postings patched the same, that says what the term's postings are (``shards.encode_postings``
    takes an entry encoded earlier by it, where digesting the postings themselves would cost 0.1 s a
    million)."""
    rows: dict[str, tuple[list, list]] = {}
    for side, described in enumerate((old_rows, new_rows)):
        for text, *row in described:
            rows.setdefault(text, ([], []))[side].append(row)
    return {text: hashlib.blake2b(repr((sorted(out), sorted(into))).encode(), digest_size=16).digest()
            for text, (out, into) in rows.items() if sorted(out) != sorted(into)}


class _Splice:
    """``columns`` without the rows ``gone`` and with the rows of ``new``'s column put before their
    rows ``where`` (both ascending).

    The kept rows move by as many rows as were put in before them less those taken out; a stretch
    of rows moving alike is copied at once, the taken-out rows within it too (their places are the
    put-in rows', written last). An edit puts a record's rows where its old ones were, so most of
    the corpus is one stretch.
    """

    def __init__(self, columns: list[np.ndarray], gone: np.ndarray, where: np.ndarray, new: list[np.ndarray]):
        size = len(columns[0])
        bounds = np.unique(np.concatenate([[0, size], gone, gone + 1, where]))
        low, high = bounds[:-1], bounds[1:]
        is_gone = np.zeros(size + 1, dtype=bool)
        is_gone[gone] = True
        kept = ~is_gone[low]  # the pieces between bounds are single removed rows or runs of kept ones
        low, high = low[kept], high[kept]
        shift = np.searchsorted(where, low, side="right") - np.searchsorted(gone, low, side="left")
        first = np.flatnonzero(np.r_[True, shift[1:] != shift[:-1]])[:len(low)]  # (every row may be removed)
        last = np.r_[first[1:], len(low)][:len(first)] - 1
        self.start, self.end, self.by = low[first], high[last], shift[first]
        """Each stretch's first row, end and how many rows it moves by (none when every row is removed)."""
        self.new_at = where - np.searchsorted(gone, where, side="left") + np.arange(len(where))
        """Where each put-in row lands (ascending)."""
        self.columns, self.new = columns, new
        self.size = size - len(gone) + len(where)

    def make(self) -> list[np.ndarray]:
        """The spliced columns, in one copy of each."""
        out = []
        for column, inserted in zip(self.columns, self.new):
            spliced = np.empty(self.size, dtype=np.result_type(column.dtype, inserted.dtype))
            for start, end, by in zip(self.start.tolist(), self.end.tolist(), self.by.tolist()):
                spliced[start + by:end + by] = column[start:end]
            spliced[self.new_at] = inserted
            out.append(spliced)
        return out

    def take(self, rows: np.ndarray) -> list[np.ndarray]:
        """The spliced columns' ``rows`` (ascending), read from where they lie."""
        rows = np.asarray(rows, dtype=np.int64)
        put = np.searchsorted(self.new_at, rows)
        is_new = put < len(self.new_at)
        is_new[is_new] = self.new_at[put[is_new]] == rows[is_new]
        stretch = np.searchsorted(self.start + self.by, rows, side="right") - 1
        source = np.where(is_new, 0, rows - self.by[np.maximum(stretch, 0)] if len(self.by) else 0)
        out = []
        for column, inserted in zip(self.columns, self.new):
            taken = column[source].astype(np.result_type(column.dtype, inserted.dtype)) if len(column) else \
                np.zeros(len(rows), dtype=np.result_type(column.dtype, inserted.dtype))
            taken[is_new] = inserted[put[is_new]]
            out.append(taken)
        return out


def _described(terms: list[str], term: np.ndarray, doc: np.ndarray, field: np.ndarray, tf: np.ndarray,
               lengths: np.ndarray) -> set[tuple]:
    """A few rows as (term text, document, field, frequency, quantized field length): what a term's entry shows of them."""
    quantized = length_bytes(lengths[doc, field]) if len(doc) else []
    return {(terms[t], d, f, n, q) for t, d, f, n, q in zip(term.tolist(), doc.tolist(), field.tolist(), tf.tolist(),
                                                            np.asarray(quantized).tolist())}
