"""The search analysis of unchanged records, kept in the build cache between builds.

Analyzing every record (plain text of the body, folding, bigrams, counting)
is most of the search step; a one-record edit should analyze one record's
worth. So the documents, in document order, are cut into *blocks*, and each
block's documents and analysis (``postings.AnalyzedBlock``) are kept in one
pickle in ``<cache>/search-blocks/``, named by a digest of the build's global
key (code, vocabularies, settings) and its records' ids and file digests. A
rebuild loads the blocks whose records did not change and analyzes the rest.

Where a block ends depends on its records only (a block ends after a record
whose id hashes to 0 modulo ``BLOCK_DOCS``, or at ``MAX_BLOCK_DOCS``:
``cuts.hash_cuts``), not on document numbers: adding or removing a record
changes the key of its own block, and the blocks before and after it are found
again. A block keeps its documents numbered 0… within it; the build gives them
their document numbers.
"""

from __future__ import annotations

import hashlib
import os
import zlib
from dataclasses import dataclass
from pathlib import Path

from ..buildcache import PickleCache
from .cuts import hash_cuts
from .documents import SearchDoc
from .postings import AnalyzedBlock

BLOCK_DOCS = 128
"""Documents per block on average: an edit analyzes about this many again; 20,000 records make ~160 files."""
MAX_BLOCK_DOCS = 1024
"""A block is cut here whatever the ids (bounds the memory of analyzing one block)."""
FOLDER = "search-blocks"


def block_bounds(ids: list[str]) -> list[tuple[int, int]]:
    """(first, end) ranges of the documents in each block, decided by the ids alone."""
    return hash_cuts((zlib.crc32(i.encode("utf-8")) for i in ids), BLOCK_DOCS, MAX_BLOCK_DOCS)


@dataclass
class Block:
    """A block's documents (numbered from 0 within it) and their analysis."""

    docs: list[SearchDoc]
    analysis: AnalyzedBlock

    def numbered(self, numbers: list[int]) -> list[SearchDoc]:
        """The block's documents with their document numbers in the corpus."""
        return [SearchDoc(n, d.id, d.kind, d.url, d.title, d.date, d.region, d.year, d.snippet) for n, d in zip(numbers, self.docs)]


class BlockCache:
    """The block files of one build cache; ``folder=None`` (no cache) keeps nothing."""

    def __init__(self, folder: Path | None, salt: str):
        self.folder = Path(folder) / FOLDER if folder and salt else None
        self.salt = salt
        self.used: set[str] = set()

    def key(self, ids: list[str], digests: list[str | None]) -> str | None:
        """The name of the block of these records, or None when a record has no file digest."""
        if self.folder is None or None in digests:
            return None
        digest = hashlib.sha256(self.salt.encode())
        for record_id, record_digest in zip(ids, digests):
            digest.update(f"\0{record_id}\0{record_digest}".encode())
        return digest.hexdigest()[:32]

    def _file(self, key: str) -> PickleCache:
        return PickleCache(self.folder / f"{key}.pickle", self.salt)  # written atomically: never a torn block

    def load(self, key: str | None) -> Block | None:
        if key is None:
            return None
        self.used.add(key)
        block = self._file(key).load()
        return block if isinstance(block, Block) else None

    def save(self, key: str | None, block: Block) -> None:
        if key is not None:
            self._file(key).save(block)

    def prune(self) -> None:
        """Remove the blocks this build did not use (edited, removed, or made under another salt)."""
        if self.folder is None or not self.folder.is_dir():
            return
        for entry in os.scandir(self.folder):
            if entry.name.endswith(".pickle") and entry.name.removesuffix(".pickle") not in self.used:
                try:
                    os.unlink(entry.path)
                except OSError:
                    pass
