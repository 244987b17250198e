"""The Chinese analyzer shared by the whoosh index, the static index and the browser.

A citizen may type Simplified or Traditional characters, full-width or
half-width digits, upper or lower case, and a word of two characters that
sits inside a longer one (交通 in 交通局长). So text is *folded* one code
point at a time — Traditional to Simplified with OpenCC's character table,
full-width ASCII to ASCII, A–Z to a–z — and then *split*:

- a run of CJK characters becomes its overlapping bigrams (江中市 → 江中, 中市),
  as Lucene's CJK analyzer does; a run of one character stays a unigram (号);
- a run of ASCII letters and digits stays whole (2024, 12, jz);
- everything else separates tokens.

Folding is per code point and maps one character to one character, so a
folded string has the same length as the original: the browser highlights
matches in the original text at the folded positions. The browser must fold
and split *exactly* like this module; ``fold_table_for`` makes the compact
table it downloads, and ``tests/test_search.py`` checks both agree.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from typing import Iterable

CJK_RANGES: tuple[tuple[int, int], ...] = (
    (0x3007, 0x3007),    # 〇, as in 二〇二四
    (0x3400, 0x4DBF),    # extension A
    (0x4E00, 0x9FFF),    # unified ideographs
    (0xF900, 0xFAFF),    # compatibility ideographs
    (0x20000, 0x3134F),  # extensions B–G
)
"""Code points that form CJK runs (the JS client has the same list)."""

MAX_WORD = 40
"""Longer runs of letters and digits are cut to this many characters (both sides)."""

_CJK_CLASS = "".join(f"\\U{a:08x}-\\U{b:08x}" for a, b in CJK_RANGES)
_TOKEN_RUNS = re.compile(f"([{_CJK_CLASS}]+)|([0-9a-z]+)")


def _is_cjk(code: int) -> bool:
    return any(a <= code <= b for a, b in CJK_RANGES)


_traditional_to_simplified: dict[str, str] | None = None


def traditional_to_simplified() -> dict[str, str]:
    """Every CJK character OpenCC's ``t2s`` changes, mapped to its final Simplified form.

    Converted one character at a time (never as phrases), and followed to a fixed
    point (薴 → 苧 → 苎 becomes 薴 → 苎) so folding twice changes nothing. Made once per
    process (0.08 s), unless a kept search corpus brought it (``reuse_folding``).
    """
    global _traditional_to_simplified
    if _traditional_to_simplified is None:
        _traditional_to_simplified = _opencc_table()
    return _traditional_to_simplified


def _opencc_table() -> dict[str, str]:
    import opencc

    chars = [chr(code) for a, b in CJK_RANGES for code in range(a, b + 1)]
    converted = opencc.OpenCC("t2s").convert("\n".join(chars)).split("\n")
    table = {c: s for c, s in zip(chars, converted) if s != c and len(s) == 1}
    for char, target in table.items():
        while target in table and table[target] != target:
            target = table[target]
        table[char] = target
    return table


def folding_table() -> tuple[str, dict[str, str]]:
    """OpenCC's version and the table this process folds with: what a kept corpus keeps of it."""
    import opencc

    return opencc.__version__, traditional_to_simplified()


def reuse_folding(kept: tuple[str, dict[str, str]]) -> None:
    """Fold with the table a kept corpus was folded with, if the same OpenCC made it and this process
    has not folded anything yet (so all of one build folds alike)."""
    global _traditional_to_simplified
    import opencc

    version, table = kept
    if _traditional_to_simplified is None and version == opencc.__version__:
        _traditional_to_simplified = table


@lru_cache(maxsize=1)
def _translation() -> dict[int, str]:
    table: dict[int, str] = {ord(t): s for t, s in traditional_to_simplified().items()}
    for code in range(0xFF01, 0xFF5F):  # full-width ASCII
        table[code] = chr(code - 0xFEE0).lower()
    table[0x3000] = " "  # ideographic space
    for code in range(ord("A"), ord("Z") + 1):
        table[code] = chr(code + 32)
    return table


def fold(text: str) -> str:
    """Fold ``text`` one code point at a time; the result has the same length."""
    return text.translate(_translation())


def _split(folded: str) -> list[str]:
    tokens: list[str] = []
    for cjk, word in _TOKEN_RUNS.findall(folded):
        if cjk:
            if len(cjk) == 1:
                tokens.append(cjk)
            else:
                tokens.extend([cjk[i:i + 2] for i in range(len(cjk) - 1)])
        else:
            tokens.append(word[:MAX_WORD])
    return tokens


def tokens(text: str) -> list[str]:
    """The tokens of ``text``, in order, with repeats (what is indexed)."""
    return _split(fold(text))


def term_counts(values: Iterable[str]) -> Counter[str]:
    """How often each token occurs in the given texts (one field of a document)."""
    counts: Counter[str] = Counter()
    for value in values:
        if value:
            counts.update(tokens(value))
    return counts


def query_terms(query: str) -> list[str]:
    """The distinct tokens of a query, in the order typed (a query is split like a text)."""
    return list(dict.fromkeys(tokens(query)))


def fold_table_for(folded_chars: set[str]) -> dict[str, str]:
    """The part of the folding table the browser needs for an index holding ``folded_chars``.

    A character whose Simplified form never occurs in the index can match nothing
    whether folded or not, so the browser does not need its entry; this keeps the
    table to the characters of this site (about a fifth of the full table).
    """
    return {t: s for t, s in sorted(traditional_to_simplified().items()) if s in folded_chars}
