"""The static index the browser searches: small files, so a query downloads only what it needs.

Layout under ``search/index/<version>/`` (``version`` is a hash of the
content, so a browser never mixes files of two builds and every file can be
cached for ever):

- ``meta.json``: number of documents and shards, the facet values (kinds,
  regions with their parents, years), the runs of document numbers that
  share a (year, kind, region) (see ``documents.py``), and the folding table
  for the characters of this index (``analysis.fold_table_for``);
- ``t/<shard>.bin``: the postings of the terms whose hash falls in that shard
  (``term_shard``); a query fetches one shard per distinct term;
- ``d/<n>.json``: one document's title, path, date and snippet text, fetched
  only for the results on screen.

A shard is a sequence of entries, every number an unsigned LEB128 varint::

    len(term) term-utf8  postings  values  value-deltas…  doc-deltas…  [value-index…]

A posting's score is ``value / SCALE`` (the BM25F score of ``postings.py``,
fixed-point); a term's distinct scores are listed once (ascending, as deltas)
and each posting names one by index (omitted when there is a single value),
so most postings take two or three bytes.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import numpy as np

from .analysis import fold_table_for
from .documents import KIND_ORDER, SearchDoc
from .postings import Postings

SCALE = 10_000
"""Scores are stored as integers: ``round(score * SCALE)``."""
SHARD_BYTES = 6_000
"""Aim for shards of about this size (the number of shards is a power of two)."""
FORMAT = 1


def term_hash(term: str) -> int:
    """FNV-1a over the term's code points, then mixed (``search.js`` has the same function)."""
    h = 0x811C9DC5
    for char in term:
        h = ((h ^ ord(char)) * 0x01000193) & 0xFFFFFFFF
    h ^= h >> 16
    h = (h * 0x7FEB352D) & 0xFFFFFFFF
    h ^= h >> 15
    return h


def term_shard(term: str, shards: int) -> int:
    return term_hash(term) % shards


def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def varints(values: np.ndarray) -> tuple[bytes, np.ndarray]:
    """All ``values`` as consecutive varints, and where each one starts (plus the total length)."""
    values = values.astype(np.uint64)
    size = np.ones(len(values), dtype=np.int64)
    largest = int(values.max()) if len(values) else 0
    width = 1
    while largest >= 1 << (7 * width):
        size += values >= np.uint64(1 << (7 * width))
        width += 1
    offsets = np.zeros(len(values) + 1, dtype=np.int64)
    np.cumsum(size, out=offsets[1:])
    out = np.zeros(int(offsets[-1]), dtype=np.uint8)
    where, rest, more = offsets[:-1], values, size > 1
    for _ in range(width):
        out[where] = ((rest & np.uint64(0x7F)) | (more.astype(np.uint64) << np.uint64(7))).astype(np.uint8)
        keep = np.flatnonzero(more)
        where, rest = where[keep] + 1, rest[keep] >> np.uint64(7)
        more = rest >= np.uint64(0x80)
    return out.tobytes(), offsets


def _deltas(values: np.ndarray, group_start: np.ndarray) -> np.ndarray:
    """Each value minus the previous one, except at the start of a group."""
    deltas = values.copy()
    deltas[1:] -= values[:-1]
    deltas[group_start] = values[group_start]
    return deltas


@dataclass
class StaticIndex:
    version: str
    files: dict[str, bytes]
    """Path inside ``search/index/<version>/`` → content."""
    shards: int
    terms: int

    @property
    def size(self) -> int:
        return sum(len(b) for b in self.files.values())


def encode_postings(postings: Postings, impacts: tuple[np.ndarray, np.ndarray, np.ndarray]) -> tuple[int, dict[str, bytes]]:
    """The term shards: (number of shards, file name → bytes)."""
    term, doc, score = impacts
    count = len(postings.terms)
    value = np.rint(score * SCALE).astype(np.int64)
    post_start = np.searchsorted(term, np.arange(count + 1))
    first_of_term = post_start[:-1]

    table = np.unique(term << 32 | value)  # each term's distinct values, ascending
    table_term, table_value = table >> 32, table & 0xFFFFFFFF
    table_start = np.searchsorted(table_term, np.arange(count + 1))
    index = np.searchsorted(table, term << 32 | value) - table_start[term]
    table_size = np.diff(table_start)
    has_index = table_size[term] > 1

    doc_bytes, doc_at = varints(_deltas(doc, first_of_term[np.diff(post_start) > 0]))
    value_bytes, value_at = varints(_deltas(table_value, table_start[:-1][table_size > 0]))
    index_bytes, index_at = varints(index[has_index])
    # where each posting's value index would start in index_bytes (postings without one take no room)
    index_pos = np.zeros(len(term) + 1, dtype=np.int64)
    np.cumsum(has_index, out=index_pos[1:])

    total = int(value_at[-1] + doc_at[-1] + index_at[-1]) + count * 8
    shards = 1
    while total / shards > SHARD_BYTES:
        shards *= 2
    entries: dict[int, list[bytes]] = {}
    ps, ts = post_start.tolist(), table_start.tolist()
    da, va = doc_at[post_start].tolist(), value_at[table_start].tolist()  # byte spans of each term
    ia = index_at[index_pos[post_start]].tolist()
    for t, text in enumerate(postings.terms):
        p0, p1, t0, t1 = ps[t], ps[t + 1], ts[t], ts[t + 1]
        encoded = text.encode("utf-8")
        parts = [
            varint(len(encoded)), encoded, varint(p1 - p0), varint(t1 - t0),
            value_bytes[va[t]:va[t + 1]], doc_bytes[da[t]:da[t + 1]],
        ]
        if t1 - t0 > 1:
            parts.append(index_bytes[ia[t]:ia[t + 1]])
        entries.setdefault(term_shard(text, shards), []).append(b"".join(parts))
    return shards, {f"t/{shard:x}.bin": b"".join(parts) for shard, parts in sorted(entries.items())}


def _meta(docs: list[SearchDoc], site_vocab, kind_labels: dict[str, str], postings: Postings, shards: int) -> dict:
    regions = [e for e in site_vocab.regions]
    region_no = {e.id: i for i, e in enumerate(regions)}
    years = sorted({d.year for d in docs}, reverse=True)
    year_no = {y: i for i, y in enumerate(years)}
    groups: list[list[int]] = []
    last = None
    for d in docs:
        key = (KIND_ORDER.index(d.kind), region_no[d.region], year_no[d.year])
        if key != last:
            groups.append([d.n, *key])
            last = key
    chars = {c for term in postings.terms for c in term}
    fold = fold_table_for(chars)
    return {
        "format": FORMAT,
        "count": len(docs),
        "shards": shards,
        "scale": SCALE,
        "kinds": [{"id": k, "name": kind_labels[k]} for k in KIND_ORDER],
        "regions": [{"id": e.id, "name": e.name, "parent": region_no.get(e.parent) if e.parent else None} for e in regions],
        "years": years,
        "groups": groups,
        "fold": "".join(t + s for t, s in fold.items()),
    }


def _doc_file(doc: SearchDoc) -> bytes:
    data = {"id": doc.id, "u": doc.url, "t": doc.title, "d": doc.date, "s": doc.snippet}
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def build_static_index(docs: list[SearchDoc], postings: Postings, impacts, vocab, kind_labels: dict[str, str]) -> StaticIndex:
    """Every file of the static index, in memory, named by content."""
    shards, files = encode_postings(postings, impacts)
    meta = _meta(docs, vocab, kind_labels, postings, shards)
    files["meta.json"] = json.dumps(meta, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    for doc in docs:
        files[f"d/{doc.n}.json"] = _doc_file(doc)
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    return StaticIndex(digest.hexdigest()[:12], files, shards, len(postings.terms))


def read_shard(data: bytes) -> dict[str, list[tuple[int, int]]]:
    """Decode a shard: term → [(document, value)] (what ``search.js`` reads; for tests and tools)."""
    position = 0

    def read() -> int:
        nonlocal position
        value = shift = 0
        while True:
            byte = data[position]
            position += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                return value

    found: dict[str, list[tuple[int, int]]] = {}
    while position < len(data):
        length = read()
        term = data[position:position + length].decode("utf-8")
        position += length
        count, distinct = read(), read()
        table, value = [], 0
        for _ in range(distinct):
            value += read()
            table.append(value)
        docs, doc = [], 0
        for _ in range(count):
            doc += read()
            docs.append(doc)
        values = [table[read()] for _ in range(count)] if distinct > 1 else table * count
        found[term] = list(zip(docs, values))
    return found
