"""The kept search corpus's file (``corpus.Corpus``): which build it belongs to, and whether there is one.

Light on purpose (no numpy): the build's main process asks ``only_patches``
before it starts the search step, to know whether the step may run beside
the other output steps.
"""

from __future__ import annotations

import mmap
import pickle
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from ..buildcache import PickleCache
from ..site import Site
from .numbering import numbering

if TYPE_CHECKING:
    from .corpus import Corpus, CorpusChanges


class BuffersApart(PickleCache):
    """A ``PickleCache`` whose value's large buffers (the postings' numpy arrays, ≈95 MB at 20,000
    records) are written raw after its pickle rather than copied into it, and read back by mapping
    the file (a build reads only the pages it needs, and copies none).

    After the salt: the pickle's size and each buffer's, the pickle (protocol 5, buffers out of
    band), the buffers, each at a multiple of ``ALIGN``. A short file reads as no value
    (``EOFError``), like a torn pickle. The file is never written in place (``PickleCache.save``
    renames a new one over it), so a mapping of it never changes.
    """

    ALIGN = 64

    def _write_value(self, out: BinaryIO, value: Any) -> None:
        buffers: list[pickle.PickleBuffer] = []
        data = pickle.dumps(value, protocol=5, buffer_callback=buffers.append)
        raw = [b.raw() for b in buffers]
        pickle.dump((len(data), [r.nbytes for r in raw]), out, protocol=5)
        out.write(data)
        for r in raw:
            out.write(bytes(-out.tell() % self.ALIGN))
            out.write(r)

    def _read_value(self, source: BinaryIO) -> Any:
        size, sizes = pickle.load(source)
        data = source.read(size)
        if len(data) != size:
            raise EOFError(f"{self.path} is shorter than it says")
        if not sizes:
            return pickle.loads(data)
        mapped = memoryview(mmap.mmap(source.fileno(), 0, access=mmap.ACCESS_READ))
        buffers, at = [], source.tell()
        for n in sizes:
            at += -at % self.ALIGN
            if at + n > len(mapped):  # (reading past the end of a mapped file kills the process)
                raise EOFError(f"{self.path} is shorter than it says")
            buffers.append(mapped[at:at + n])
            at += n
        return pickle.loads(data, buffers=buffers)


class CorpusCache:
    """The kept corpus of one build cache; ``folder=None`` (no cache) keeps nothing.

    Valid only under the same salt and the same numbering (``numbering.numbering``): a corpus whose
    documents are numbered otherwise cannot be patched, and a build that will analyze every record
    must know it before it starts (``only_patches``).
    """

    def __init__(self, folder: Path | None, salt: str, numbering: str):
        self.file = BuffersApart(Path(folder) / "search-corpus.pickle", f"{salt}\0{numbering}") if folder and salt else None
        self.changes_file = Path(folder) / "search-corpus-changes.pickle" if self.file else None

    def load(self) -> tuple[Corpus | None, CorpusChanges | None]:
        """The corpus kept under this salt and numbering, and what changed since it (``corpus.py``)."""
        from .corpus import Corpus, CorpusChanges  # (numpy: only where the step runs)

        corpus = self.file.load() if self.file else None
        if not isinstance(corpus, Corpus):
            return None, None
        changes = self._changes(corpus.token).load()
        return corpus, changes if isinstance(changes, CorpusChanges) else None

    def _changes(self, token: str) -> PickleCache:
        """The changes file, valid only for the corpus named ``token`` (a corpus written again voids it)."""
        assert self.file is not None and self.changes_file is not None
        return PickleCache(self.changes_file, f"{self.file.salt}\0{token}")

    def save_changes(self, token: str, changes: CorpusChanges) -> None:
        """Keep what changed since the kept corpus, named ``token``."""
        if self.file:
            self._changes(token).save(changes)

    def holds_corpus(self) -> bool:
        """Whether a corpus was kept under this salt (without loading it)."""
        return self.file is not None and self.file.holds_value()

    def save(self, corpus: Corpus) -> None:
        """Keep ``corpus`` whole (what changes file there is belongs to the one it replaces)."""
        if self.file:
            self.file.save(corpus)


def corpus_cache(site: Site) -> CorpusCache:
    cache_dir = site.setting("GONGKAI_CACHE_PATH")
    return CorpusCache(Path(cache_dir) if cache_dir else None, site.global_key, numbering(len(site.publication.records)))


def only_patches(site: Site) -> bool:
    """Whether this build's search step will patch a kept corpus rather than analyze every record:
    then it needs little memory and may run beside the other output steps (``generator.py``)."""
    return corpus_cache(site).holds_corpus()
