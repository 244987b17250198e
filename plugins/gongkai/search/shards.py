"""The static index the browser searches: small files, so a query downloads only what it needs.

Layout under ``search/index/<version>/``:

- ``meta.json``: number of documents and shards, the collection statistics
  BM25F needs (total tokens per field), the facet values (kinds, regions with
  their parents, years) and the (kind, region, year) combinations that
  documents have, and the folding table for the characters of this index
  (``analysis.fold_table_for``);
- ``facets.bin``: which documents have each combination (``_facets``),
  fetched only when a query is filtered;
- ``t/<shard>.bin``: the postings of the terms whose hash falls in that shard
  (``term_shard``); a query fetches one shard per distinct term;
- ``search/docs/<numbering>/<n>.json`` (``meta.json`` gives the folder):
  one document's title, path, date, kind, region and snippet text, fetched
  only for the results on screen. Apart from the index so that a new shard count leaves them
  where they are.

Document numbers are hashes of record ids (``documents.document_numbers``).
``<numbering>`` is a hash of the format and of the table they are hashed into;
``<version>`` is a hash of the numbering and the number of shards. Within them
a file changes only when what it holds changes: a record's edit rewrites its
own ``<n>.json``, ``meta.json``, ``facets.bin`` and the shards of the terms it
gained, lost or whose frequencies or field lengths changed, and every other
file stays as it was (``write_keyed``, keyed by content). Adding or removing a
record does the same for it (and for the document or two beside it in the
table that move by one); only a count crossing a power of two (the table
doubles or halves) renumbers every document and so starts new folders.

A shard is a sequence of entries, every number an unsigned LEB128 varint::

    len(term) term-utf8  postings  combos  combo…  doc-deltas…  [combo-index…]

A *combo* is what a posting scores from: a field mask (bit 0 title, 1
subject, 2 body), then for each field in the mask the term's frequency there
and the document's field length as whoosh stores it (one byte, quantized).
Each term lists its distinct combos once (sorted), and each posting names
one by index (omitted when the term has a single combo). The browser scores a
combo with BM25F (``search.js``): idf from the document frequency per field
(the postings whose combo has that field), average field length from
``meta.json``; so no score depends on another document, and an edit leaves
the shards of the terms it does not touch byte for byte as they were.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

import numpy as np

from ..compactjson import compact_json, json_text
from .analysis import fold_table_for
from .documents import BOOSTS, FIELDS, KIND_ORDER, SearchDoc
from .numbering import FORMAT
from .postings import B, K1, Postings, quantized_length

SHARD_BYTES = 6_000
"""Aim for shards of about this size (the number of shards is a power of two)."""


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


def _gather(data: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> tuple[bytes, np.ndarray]:
    """The byte spans ``data[starts[i]:starts[i] + lengths[i]]`` one after another, and where each starts."""
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    picks = np.repeat(starts - offsets[:-1], lengths) + np.arange(int(offsets[-1]))
    return data[picks].tobytes(), offsets


DENSE_RANGE = 1 << 22
"""Values within a range this wide are deduplicated and placed by a table over the range, not sorted."""


def _distinct(values: np.ndarray) -> np.ndarray:
    """The distinct ``values`` (integers), ascending: by marking them in a table over their range when
    it is narrow (linear), else by sorting (``np.unique``'s argsort was most of encoding a common term)."""
    if not len(values):
        return values[:0]
    low, high = int(values.min()), int(values.max())
    if high - low >= DENSE_RANGE:
        return np.unique(values)
    seen = np.zeros(high - low + 1, dtype=bool)
    seen[values - low] = True
    return np.flatnonzero(seen) + low


def _places(values: np.ndarray, distinct: np.ndarray) -> np.ndarray:
    """Where each of ``values`` is in ``distinct`` (ascending, holding every one of them)."""
    if not len(distinct) or int(distinct[-1]) - int(distinct[0]) >= DENSE_RANGE:
        return np.searchsorted(distinct, values)
    place = np.zeros(int(distinct[-1]) - int(distinct[0]) + 1, dtype=np.int64)
    place[distinct - distinct[0]] = np.arange(len(distinct))
    return place[values - distinct[0]]


def _combos(term: np.ndarray, doc: np.ndarray, field: np.ndarray, tf: np.ndarray,
            length_bytes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per (term, document): term, document and combo number; and the combos' encoded bytes and offsets.

    A field's part of a combo is ``tf * 256 + length byte`` (0 when the term is
    not in the field); the combos are the distinct (parts of the last field,
    …, of the first) in ascending order, found as the places of each field's
    part among that field's distinct parts, in mixed radix (a narrow range).
    """
    pair = term.astype(np.int64) << 20 | doc
    first = np.r_[True, pair[1:] != pair[:-1]] if len(pair) else np.zeros(0, dtype=bool)
    del pair
    pair_of = np.cumsum(first) - 1
    starts = np.flatnonzero(first)
    values, ranks = [], []  # per field: the distinct parts, and each pair's part's place among them
    for fieldno in range(len(FIELDS)):
        rows = np.flatnonzero(field == fieldno)
        part = np.zeros(len(starts), dtype=np.int64)
        part[pair_of[rows]] = tf[rows].astype(np.int64) * 256 + length_bytes[doc[rows], fieldno]
        values.append(_distinct(part))
        ranks.append(_places(part, values[-1]))
    del pair_of
    # the places, in mixed radix, order the pairs as their parts would (and span a narrow range)
    code = np.zeros(len(starts), dtype=np.int64)
    for rank, scale in zip(ranks, np.cumprod([1, *map(len, values[:-1])]).tolist()):
        code += rank * scale
    if math.prod(map(len, values)) >= 1 << 63:
        raise ValueError("too many distinct term frequencies to encode")
    del ranks
    distinct = _distinct(code)
    combo = _places(code, distinct)
    del code
    # each combo as varints: the field mask, then (tf, quantized length) for each field present
    rest, parts = distinct, []
    for field_values in values:
        parts.append(field_values[rest % len(field_values)])
        rest = rest // len(field_values)
    columns = [sum((p > 0).astype(np.int64) << i for i, p in enumerate(parts))]
    present = [np.ones(len(distinct), dtype=bool)]
    for part in parts:
        columns += [part >> 8, quantized_length(part & 0xFF)]
        present += [part > 0, part > 0]
    present_rows = np.stack(present, axis=1)
    data, at = varints(np.stack(columns, axis=1)[present_rows])
    value_start = np.zeros(len(distinct) + 1, dtype=np.int64)
    np.cumsum(present_rows.sum(axis=1), out=value_start[1:])
    return term[starts], doc[starts], combo, np.frombuffer(data, dtype=np.uint8), at[value_start]


ENCODE_ROWS = 1 << 18
"""Terms are encoded together up to about this many postings at a time (memory stays bounded)."""


@dataclass
class EncodedTerms:
    """Every term's encoded entry and the shard it went into, and each shard file's key: what the
    next build takes again, so an edit encodes, joins and hashes only the shards of its terms."""

    entries: dict[str, bytes]
    """Term → its shard entry."""
    shard_of: dict[str, int]
    """Term → its shard (``term_shard``) under ``shards``."""
    shards: int
    keys: dict[str, str]
    """Shard file name (``t/<shard>.bin``) → sha256 of its bytes, for every shard with a term."""
    size: int
    """Bytes of all entries together (the shard count is chosen by it)."""

    def entries_by_shard(self, terms: list[str], shards: Iterable[int] | None = None) -> dict[int, list[bytes]]:
        """The entries of each shard in term order (``terms``: every term, in order), joined they are its
        file: of each of ``shards`` (listed even when none of its terms is left), or of every shard
        with a term. One pass over the terms, however many shards."""
        by_shard: dict[int, list[bytes]] = {shard: [] for shard in shards} if shards is not None else {}
        entries, shard_of = self.entries, self.shard_of
        for text in terms:
            parts = by_shard.get(shard_of[text])
            if parts is None:
                if shards is not None:
                    continue
                parts = by_shard[shard_of[text]] = []
            parts.append(entries[text])
        return by_shard


def _shard_name(shard: int) -> str:
    return f"t/{shard:x}.bin"


def encode_postings(postings: Postings, kept: EncodedTerms | None = None, touched: dict[str, bytes] | None = None,
                    known: dict[str, tuple[bytes, bytes]] | None = None
                    ) -> tuple[EncodedTerms, dict[str, bytes], dict[str, tuple[bytes, bytes]] | None, int]:
    """Every term's entry and shard, the bytes of the shard files that changed (every one without
    ``kept``), with ``known`` each ``touched`` term's (digest, entry), and how many postings the
    touched terms have.

    ``kept`` is what an earlier build encoded (taken over and changed in place), and ``touched`` the
    terms whose postings changed since, each with a digest of how (``postings.replace_documents``):
    only those are encoded again, unless ``known`` holds an entry encoded under the same digest, and
    only their shards joined and hashed again, unless the shard count changes. Without them every
    term is.
    """
    if kept is None or touched is None:
        kept, touched, known = EncodedTerms({}, {}, 0, {}, 0), dict.fromkeys(postings.terms, b""), None
    entries = kept.entries
    changed_shards = set()
    for text in touched:  # a touched term may be gone (only removed documents had it)
        if text in entries:
            kept.size -= len(entries.pop(text))
            changed_shards.add(kept.shard_of.pop(text))
    encode = [t for t, text in enumerate(postings.terms) if text in touched]
    length_bytes = postings.length_bytes()
    sizes = np.diff(postings.starts)[encode] if encode else np.zeros(0, dtype=np.int64)
    cut = np.searchsorted(np.cumsum(sizes), np.arange(ENCODE_ROWS, int(sizes.sum()) + ENCODE_ROWS, ENCODE_ROWS))
    digested: dict[str, tuple[bytes, bytes]] | None = None if known is None else {}
    for low, high in zip([0, *cut.tolist()], [*cut.tolist(), len(encode)]):
        part = np.asarray(encode[low:high], dtype=np.int64)
        if not len(part):
            continue
        counts = sizes[low:high]
        texts = [postings.terms[t] for t in part.tolist()]
        again = [known is not None and known.get(text, (None,))[0] == touched[text] for text in texts]
        fresh = ~np.asarray(again, dtype=bool)
        made = iter(_encode_part(postings, part[fresh], counts[fresh], length_bytes))
        for k, text in enumerate(texts):
            entries[text] = entry = known[text][1] if again[k] else next(made)
            kept.size += len(entry)
            if digested is not None:
                digested[text] = (touched[text], entry)
    shards = 1
    while kept.size / shards > SHARD_BYTES:
        shards *= 2
    if shards != kept.shards:  # every term moves: every shard is made again
        kept.shards, kept.keys = shards, {}
        kept.shard_of = {text: term_shard(text, shards) for text in postings.terms}
        changed_shards = set(kept.shard_of.values())
    else:
        for t in encode:
            text = postings.terms[t]
            changed_shards.add(kept.shard_of.setdefault(text, term_shard(text, shards)))
    files = {}
    for shard, parts in sorted(kept.entries_by_shard(postings.terms, changed_shards).items()):
        name = _shard_name(shard)
        kept.keys.pop(name, None)
        if parts:  # a shard whose terms are all gone is no file
            files[name] = b"".join(parts)
            kept.keys[name] = hashlib.sha256(files[name]).hexdigest()
    return kept, files, digested, int(sizes.sum())


def _rows_of(postings: Postings, terms: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The rows of ``terms`` (numbers, ascending), which have ``counts`` postings, one after another."""
    first = postings.starts[terms]
    return np.repeat(first - np.cumsum(counts) + counts, counts) + np.arange(int(counts.sum()))


def _encode_part(postings: Postings, terms: np.ndarray, counts: np.ndarray, length_bytes: np.ndarray) -> list[bytes]:
    """The entries of ``terms`` (numbers, ascending), which have ``counts`` postings."""
    if not len(terms):
        return []
    doc, field, tf = postings.rows(_rows_of(postings, terms, counts))
    return _encode_terms([postings.terms[t] for t in terms.tolist()], np.repeat(np.arange(len(terms)), counts),
                         doc, field, tf, length_bytes)


def _encode_terms(texts: list[str], term: np.ndarray, doc: np.ndarray, field: np.ndarray, tf: np.ndarray,
                  length_bytes: np.ndarray) -> list[bytes]:
    """The shard entry of each of ``texts`` from its postings (``term`` numbers count from 0 here)."""
    term, doc, combo, combo_bytes, combo_at = _combos(term, doc, field, tf, length_bytes)
    count = len(texts)
    post_start = np.searchsorted(term, np.arange(count + 1))
    first_of_term = post_start[:-1]

    combos = int(combo.max()) + 1 if len(combo) else 1
    pair = term.astype(np.int64) * combos + combo
    table = _distinct(pair)  # each term's distinct combos, ascending
    table_term, table_combo = table // combos, table % combos
    table_start = np.searchsorted(table_term, np.arange(count + 1))
    index = _places(pair, table) - table_start[term]
    table_size = np.diff(table_start)
    has_index = table_size[term] > 1

    doc_bytes, doc_at = varints(_deltas(doc.astype(np.int64), first_of_term[np.diff(post_start) > 0]))
    combo_lengths = np.diff(combo_at)
    table_bytes, table_at = _gather(combo_bytes, combo_at[table_combo], combo_lengths[table_combo])
    index_bytes, index_at = varints(index[has_index])
    # where each posting's combo index would start in index_bytes (postings without one take no room)
    index_pos = np.zeros(len(term) + 1, dtype=np.int64)
    np.cumsum(has_index, out=index_pos[1:])

    entries = []
    ps, ts = post_start.tolist(), table_start.tolist()
    da, ta = doc_at[post_start].tolist(), table_at[table_start].tolist()  # byte spans of each term
    ia = index_at[index_pos[post_start]].tolist()
    for t, text in enumerate(texts):
        p0, p1, t0, t1 = ps[t], ps[t + 1], ts[t], ts[t + 1]
        encoded = text.encode("utf-8")
        parts = [
            varint(len(encoded)), encoded, varint(p1 - p0), varint(t1 - t0),
            table_bytes[ta[t]:ta[t + 1]], doc_bytes[da[t]:da[t + 1]],
        ]
        if t1 - t0 > 1:
            parts.append(index_bytes[ia[t]:ia[t + 1]])
        entries.append(b"".join(parts))
    return entries


@dataclass
class StaticIndex:
    version: str
    made: dict[str, bytes]
    """Path inside ``search/index/<version>/`` → content, of what this build made: ``meta.json``,
    ``facets.bin`` and the shards that changed (every shard on a build without a kept one)."""
    encoded: EncodedTerms
    """Every term's entry and shard, every shard's key: what the next build may take again."""
    term_list: list[str]
    """Every term, in order (an unchanged shard is joined from it only if its file must be made again)."""
    digested: dict[str, tuple[bytes, bytes]] | None
    """With ``known`` entries: each touched term's (digest, entry) (``encode_postings``)."""
    touched_rows: int
    """How many postings the touched terms have."""

    @property
    def shards(self) -> int:
        return self.encoded.shards

    @property
    def terms(self) -> int:
        return len(self.term_list)

    def files(self) -> Iterator[tuple[str, str, Callable[[], bytes]]]:
        """Every file of the index: (path inside ``search/index/<version>/``, what its bytes are keyed by
        (sha256), how to make them), by path; an unchanged shard keeps the key it had."""
        keys = {name: hashlib.sha256(data).hexdigest() for name, data in self.made.items() if not name.startswith("t/")}
        grouped: dict[int, list[bytes]] = {}

        def unchanged_shard(shard: int) -> bytes:
            # grouped on the first one asked for: an output folder that lost its files (a fresh one
            # beside a kept build cache) asks for thousands, and a pass over every term for each was quadratic
            if not grouped:
                grouped.update(self.encoded.entries_by_shard(self.term_list))
            return b"".join(grouped[shard])

        for name, key in sorted((keys | self.encoded.keys).items()):
            data = self.made.get(name)
            if data is not None:
                yield name, key, lambda data=data: data
            else:
                shard = int(name.removeprefix("t/").removesuffix(".bin"), 16)
                yield name, key, lambda shard=shard: unchanged_shard(shard)


def _facets(docs: list[SearchDoc], vocab) -> tuple[list[list[int]], bytes]:
    """The (kind, region, year) combinations of the documents (numbers into ``meta.json``'s kinds,
    regions and years), ascending, and ``facets.bin``: for each combination, how many documents have
    it, then their numbers, each as its difference from the previous one (from 0), all varints.

    By columns of the documents (named tuples) and numpy, not document by document (0.1 s at 20,000)."""
    if not docs:
        return [], b""
    region_no = {e.id: i for i, e in enumerate(vocab.regions)}
    year_no = {y: i for i, y in enumerate(_years(docs))}
    kind_no = {k: i for i, k in enumerate(KIND_ORDER)}
    column = dict(zip(SearchDoc._fields, zip(*docs)))
    parts = [np.fromiter(map(numbered.__getitem__, column[name]), dtype=np.int64, count=len(docs))
             for name, numbered in (("kind", kind_no), ("region", region_no), ("year", year_no))]
    sizes = [len(kind_no), len(region_no), len(year_no)]
    code = (parts[0] * sizes[1] + parts[1]) * sizes[2] + parts[2]
    order = np.argsort(code, kind="stable")  # documents are in number order: each combination's numbers ascend
    code, numbers = code[order], np.asarray(column["n"], dtype=np.int64)[order]
    starts = np.flatnonzero(np.r_[True, code[1:] != code[:-1]])
    counts = np.diff(np.r_[starts, len(code)])
    deltas = numbers - np.r_[0, numbers[:-1]]
    deltas[starts] = numbers[starts]
    values = np.insert(deltas, starts, counts)  # each combination's count before its numbers
    distinct = code[starts]
    combinations = np.stack([distinct // (sizes[1] * sizes[2]), distinct // sizes[2] % sizes[1], distinct % sizes[2]], axis=1)
    return combinations.tolist(), varints(values)[0]


def _meta(docs: list[SearchDoc], site_vocab, kind_labels: dict[str, str], postings: Postings, shards: int,
          groups: list[list[int]]) -> dict:
    regions = [e for e in site_vocab.regions]
    region_no = {e.id: i for i, e in enumerate(regions)}
    chars = {c for term in postings.terms for c in term}
    fold = fold_table_for(chars)
    totals = postings.lengths.sum(axis=0).tolist() if len(docs) else [0] * len(FIELDS)
    return {
        "format": FORMAT,
        "count": len(docs),
        "shards": shards,
        "k1": K1,
        "b": B,
        "fields": [{"name": f, "boost": BOOSTS[f], "length": int(t)} for f, t in zip(FIELDS, totals)],
        "kinds": [{"id": k, "name": kind_labels[k]} for k in KIND_ORDER],
        "regions": [{"id": e.id, "name": e.name, "parent": region_no.get(e.parent) if e.parent else None} for e in regions],
        "years": _years(docs),
        "groups": groups,
        "fold": "".join(t + s for t, s in fold.items()),
    }


def _years(docs: list[SearchDoc]) -> list[str]:
    return sorted({d.year for d in docs}, reverse=True)


def doc_file(doc: SearchDoc) -> bytes:
    """``<n>.json``: what the browser shows of a result (made from the record alone, with the site's settings)."""
    data = {"id": doc.id, "u": doc.url, "t": doc.title, "d": doc.date, "k": doc.kind, "r": doc.region, "s": doc.snippet}
    return compact_json(data)


def _version(numbered: str, shards: int) -> str:
    """What gives the index's files their meaning: the numbering and the shard count."""
    return hashlib.sha256(f"{numbered}\0{shards}".encode()).hexdigest()[:12]


def build_static_index(docs: list[SearchDoc], postings: Postings, vocab, kind_labels: dict[str, str],
                       numbered: str, docs_folder: str, kept: EncodedTerms | None = None,
                       touched: dict[str, bytes] | None = None, known: dict[str, tuple[bytes, bytes]] | None = None
                       ) -> StaticIndex:
    """The term shards and ``meta.json`` of the static index, in memory (what an earlier build ``kept``
    is taken for the terms not ``touched`` since, and ``known`` entries of the same postings:
    ``encode_postings``); a ``doc_file`` per document
    (written into the site folder ``docs_folder``, beside ``search/index/``) is the rest."""
    encoded, made, digested, touched_rows = encode_postings(postings, kept, touched, known)
    groups, made["facets.bin"] = _facets(docs, vocab)
    meta = _meta(docs, vocab, kind_labels, postings, encoded.shards, groups)
    meta["docs"] = "../../" + docs_folder.removeprefix("search/")  # relative to search/index/<version>/
    made["meta.json"] = json_text(meta).encode("utf-8")
    return StaticIndex(_version(numbered, encoded.shards), made, encoded, postings.terms, digested, touched_rows)


Combo = tuple[tuple[int, int, int], ...]
"""Per field present: (field number, term frequency, quantized field length)."""


def read_shard(data: bytes) -> dict[str, list[tuple[int, Combo]]]:
    """Decode a shard: term → [(document, combo)] (what ``search.js`` reads; for tests and tools)."""
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

    found: dict[str, list[tuple[int, Combo]]] = {}
    while position < len(data):
        length = read()
        term = data[position:position + length].decode("utf-8")
        position += length
        count, distinct = read(), read()
        table = []
        for _ in range(distinct):
            mask = read()
            table.append(tuple((f, read(), read()) for f in range(len(FIELDS)) if mask >> f & 1))
        docs, doc = [], 0
        for _ in range(count):
            doc += read()
            docs.append(doc)
        combos = [table[read()] for _ in range(count)] if distinct > 1 else table * count
        found[term] = list(zip(docs, combos))
    return found
