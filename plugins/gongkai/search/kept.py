"""The kept search corpus's file (``corpus.Corpus``): which build it belongs to, and whether there is one.

Light on purpose (no numpy): the build's main process asks ``only_patches``
before it starts the search step, to know whether the step may run beside
the other output steps.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..buildcache import PickleCache
from ..site import Site
from .numbering import numbering

if TYPE_CHECKING:
    from .corpus import Corpus


class CorpusCache:
    """The kept corpus of one build cache; ``folder=None`` (no cache) keeps nothing.

    Valid only under the same salt and the same numbering (``numbering.numbering``): a corpus whose
    documents are numbered otherwise cannot be patched, and a build that will analyze every record
    must know it before it starts (``only_patches``).
    """

    def __init__(self, folder: Path | None, salt: str, numbering: str):
        self.file = PickleCache(Path(folder) / "search-corpus.pickle", f"{salt}\0{numbering}") if folder and salt else None

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
