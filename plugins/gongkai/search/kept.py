"""The kept search corpus's file (``corpus.Corpus``): which build it belongs to, and whether there is one.

Light on purpose (no numpy): the build's main process asks ``only_patches``
before it starts the search step, to know whether the step may run beside
the other output steps.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from ..buildcache import PickleCache
from ..site import Site
from .numbering import numbering

if TYPE_CHECKING:
    from .corpus import Corpus


class BuffersApart(PickleCache):
    """A ``PickleCache`` whose value's large buffers (the postings' numpy arrays, ≈95 MB at 20,000
    records) are written raw after its pickle rather than copied into it and out again (0.15 s).

    After the salt: the pickle's size and each buffer's, the pickle (protocol 5, buffers out of
    band), the buffers. A short file reads as no value (``EOFError``), like a torn pickle.
    """

    def _write_value(self, out: BinaryIO, value: Any) -> None:
        buffers: list[pickle.PickleBuffer] = []
        data = pickle.dumps(value, protocol=5, buffer_callback=buffers.append)
        raw = [b.raw() for b in buffers]
        pickle.dump((len(data), [r.nbytes for r in raw]), out, protocol=5)
        out.write(data)
        for r in raw:
            out.write(r)

    def _read_value(self, source: BinaryIO) -> Any:
        size, sizes = pickle.load(source)
        data = source.read(size)
        buffers = [bytearray(n) for n in sizes]
        if len(data) != size or any(source.readinto(b) != len(b) for b in buffers):
            raise EOFError(f"{self.path} is shorter than it says")
        return pickle.loads(data, buffers=buffers)


class CorpusCache:
    """The kept corpus of one build cache; ``folder=None`` (no cache) keeps nothing.

    Valid only under the same salt and the same numbering (``numbering.numbering``): a corpus whose
    documents are numbered otherwise cannot be patched, and a build that will analyze every record
    must know it before it starts (``only_patches``).
    """

    def __init__(self, folder: Path | None, salt: str, numbering: str):
        self.file = BuffersApart(Path(folder) / "search-corpus.pickle", f"{salt}\0{numbering}") if folder and salt else None

    def load(self) -> Corpus | None:
        """The corpus kept under this salt and numbering."""
        from .corpus import Corpus  # (numpy: only where the step runs)

        corpus = self.file.load() if self.file else None
        return corpus if isinstance(corpus, Corpus) else None

    def holds_corpus(self) -> bool:
        """Whether a corpus was kept under this salt (without loading it)."""
        return self.file is not None and self.file.holds_value()

    def save(self, corpus: Corpus) -> None:
        if self.file:
            self.file.save(corpus)


def corpus_cache(site: Site) -> CorpusCache:
    cache_dir = site.setting("GONGKAI_CACHE_PATH")
    return CorpusCache(Path(cache_dir) if cache_dir else None, site.global_key, numbering(len(site.publication.records)))


def only_patches(site: Site) -> bool:
    """Whether this build's search step will patch a kept corpus rather than analyze every record:
    then it needs little memory and may run beside the other output steps (``generator.py``)."""
    return corpus_cache(site).holds_corpus()
