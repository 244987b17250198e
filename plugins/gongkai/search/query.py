"""Queries against the whoosh index: ``invoke search`` and the reference the browser is tested against.

The rule is the browser's (``search.js``): the query is split like a text
(``analysis.query_terms``); a record matches when it contains *every* term in
any field; when none does (within the filters), records that contain *any*
term are shown instead. Each term is searched in every field with the field
boosts of ``documents.py`` and whoosh's BM25F scores them; ties go to the
lower document number (newer year first).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from whoosh import query as wq
from whoosh.scoring import BM25F

from .analysis import query_terms
from .documents import BOOSTS, FIELDS
from .index import open_index
from .postings import B, K1


@dataclass(frozen=True)
class Hit:
    n: int
    id: str
    title: str
    url: str
    kind: str
    date: str
    score: float


@dataclass
class Answer:
    query: str
    terms: list[str]
    total: int = 0
    matched_all: bool = True
    """False when no record has every term and these are records with some of them."""
    hits: list[Hit] = field(default_factory=list)


def _term_query(term: str) -> wq.Query:
    return wq.Or([wq.Term(name, term, boost=BOOSTS[name]) for name in FIELDS])


def _filter(kind: str | None, region: str | None, year: str | None) -> wq.Query | None:
    parts = [wq.Term(name, value) for name, value in (("kind", kind), ("regions", region), ("year", year)) if value]
    return wq.And(parts) if parts else None


def search(output: Path, text: str, *, kind: str | None = None, region: str | None = None,
           year: str | None = None, limit: int | None = 10) -> Answer:
    """Ranked records of the site built into ``output`` for the query ``text``."""
    terms = query_terms(text)
    answer = Answer(text, terms)
    if not terms:
        return answer
    ix = open_index(output)
    with ix.searcher(weighting=BM25F(B=B, K1=K1)) as searcher:
        subqueries = [_term_query(t) for t in terms]
        restrict = _filter(kind, region, str(year) if year else None)
        results = searcher.search(wq.And(subqueries), limit=None, filter=restrict)
        if results.is_empty() and len(terms) > 1:
            results = searcher.search(wq.Or(subqueries), limit=None, filter=restrict)
            answer.matched_all = False
        document_number = _document_numbers(searcher)
        ranked = sorted(((hit.score, hit.docnum) for hit in results), key=lambda pair: (-pair[0], document_number(pair[1])))
        answer.total = len(ranked)
        for score, docnum in ranked[:limit] if limit else ranked:
            stored = searcher.stored_fields(docnum)
            answer.hits.append(Hit(stored["n"], stored["id"], stored["title"], stored["url"], stored["kind"], stored["date"], score))
    return answer


def _document_numbers(searcher):
    """docnum → the document's number ``n`` (ties go to the lower): whoosh numbers documents densely,
    and an update adds documents in later segments."""
    return lambda docnum: searcher.stored_fields(docnum)["n"]


def format_answer(answer: Answer, siteurl: str = "") -> str:
    """What ``invoke search`` prints: one ranked line per record, then its address."""
    from ..records import RECORD_TYPES

    if not answer.terms:
        return "请输入关键词。"
    if not answer.total:
        return f"没有找到与“{answer.query}”相关的记录。"
    lines = [f"找到 {answer.total} 条与“{answer.query}”相关的记录" + ("" if answer.matched_all else "（无记录同时包含全部关键词，以下包含其中部分）") + "："]
    for rank, hit in enumerate(answer.hits, 1):
        lines.append(f"{rank:>3}. [{RECORD_TYPES[hit.kind].label}] {hit.title}  （{hit.date}，得分 {hit.score:.2f}）")
        lines.append(f"     {siteurl.rstrip('/')}/{hit.url}")
    if answer.total > len(answer.hits):
        lines.append(f"…… 另有 {answer.total - len(answer.hits)} 条，可用 --limit 查看更多。")
    return "\n".join(lines)
