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

from dataclasses import dataclass
from functools import lru_cache

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
    """Every (term, document) with its frequency in each field, and its score."""

    doc_count: int
    fields: tuple[str, ...]
    terms: list[str]
    """Distinct terms; a term's number is its place here (not in text order: see ``in_text_order``)."""
    term: np.ndarray
    doc: np.ndarray
    field: np.ndarray
    tf: np.ndarray
    """Per (term, document, field), sorted by term, then document, then field."""
    lengths: np.ndarray
    """Tokens per (document, field): shape (doc_count, len(fields))."""

    def in_text_order(self) -> list[int]:
        """Term numbers in code point (= UTF-8 byte) order of their text, as whoosh stores terms."""
        return sorted(range(len(self.terms)), key=self.terms.__getitem__)

    def length_bytes(self) -> np.ndarray:
        """Per (document, field): the one-byte length whoosh stores (``length_to_byte``), uint8."""
        from whoosh.util.numeric import _length_byte_cache

        cache = np.asarray(_length_byte_cache, dtype=np.int64)
        return np.minimum(np.searchsorted(cache, self.lengths, side="left"), 255).astype(np.uint8)


def quantized_length(length_byte: np.ndarray) -> np.ndarray:
    """The field length whoosh's BM25F uses for a stored length byte (``byte_to_length``)."""
    from whoosh.util.numeric import _length_byte_cache

    return np.asarray(_length_byte_cache, dtype=np.int64)[length_byte]


def build_postings(texts: dict[str, list[str]], doc_count: int) -> Postings:
    """Analyze ``texts`` (field → one text per document) into sorted postings."""
    if doc_count >= _MAX_DOCS:
        raise ValueError(f"at most {_MAX_DOCS - 1} documents can be indexed")
    fields = tuple(texts)
    composites = []
    words: dict[str, int] = {}
    lengths = np.zeros((doc_count, len(fields)), dtype=np.int64)
    fold, class_of = _tables()
    for fieldno, name in enumerate(fields):
        values = texts[name]
        joined = "\n".join(values)  # a newline separates tokens, so documents never run together
        raw = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)
        codes, classes = fold[raw], class_of[raw]
        doc_of = np.repeat(np.arange(doc_count, dtype=np.int64), [len(v) + 1 for v in values])[: len(codes)]
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
        doc = np.concatenate([doc_of[pairs], doc_of[singles], doc_of[starts]])
        composites.append(key << (_DOC_BITS + 2) | doc << 2 | fieldno)
        lengths[:, fieldno] = np.bincount(doc, minlength=doc_count)
    unique, tf = np.unique(np.concatenate(composites), return_counts=True)
    key = unique >> (_DOC_BITS + 2)
    first = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if len(key) else np.zeros(0, dtype=np.int64)
    word_list = list(words)
    terms = [_term_text(k, word_list) for k in key[first].tolist()]
    return Postings(
        doc_count=doc_count,
        fields=fields,
        terms=terms,
        term=np.cumsum(np.r_[False, key[1:] != key[:-1]]).astype(np.int32) if len(key) else key.astype(np.int32),
        doc=((unique >> 2) & (_MAX_DOCS - 1)).astype(np.int32),
        field=(unique & 3).astype(np.int8),
        tf=tf.astype(np.int32),
        lengths=lengths,
    )


def _term_text(key: int, words: list[str]) -> str:
    if key >= _WORD_BASE:
        return words[key - _WORD_BASE]
    if key >> _BIGRAM_SHIFT:
        return chr(key >> _BIGRAM_SHIFT) + chr(key & ((1 << _BIGRAM_SHIFT) - 1))
    return chr(key)
