"""Loading a data folder: every vocabulary and every record, validated, or every problem.

``load_catalog(data_dir)`` is the one way in for the rest of the code. It reads
``vocab/*.yaml`` first (records are checked against them), then every record
file under ``cases/``, ``disclosures/`` and ``reports/``, on all cores when
there are many, and finally the rules that span records (unique ids,
``formerly``). It returns a ``Catalog`` or raises ``ProblemsFound`` with all
problems of all files at once.
"""

from __future__ import annotations

import gc
import hashlib
import io
import os
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, NamedTuple

from pydantic import ValidationError

from .buildcache import code_fingerprint
from .problems import Problem, ProblemsFound, display_path, problem_at, problems_from_validation
from .records import KIND_OF_FOLDER, RECORD_TYPES, Record, build_models, validate_record
from .rules import check_record
from .vocabulary import VOCABULARY_FILES, Entry, Vocabularies, Vocabulary
from .recordpickle import PRELUDE_DIGEST
from .storedrecord import StoredRecord
from .recordcache import Entries, RecordCache, bucket_of, decode, encode, stat_key, trusted_stat_key
from .yamlsource import Document, Mark, YamlLoadError, load_yaml

if TYPE_CHECKING:
    from .fragments import FragmentStore

PARALLEL_THRESHOLD = 400
"""Below this many files, starting worker processes costs more than it saves."""


class RecordIdentity(NamedTuple):
    """What the rules across records need of one valid record: all ``invoke validate`` brings back from a worker."""

    file: str
    id: str
    formerly: tuple[str, ...]
    marks: tuple[Mark, tuple[Mark, ...]]
    """Where ``id`` and each ``formerly`` entry were written."""


@dataclass(frozen=True)
class LoadedRecord:
    """A valid record and where it came from."""

    record: Record
    file: str
    """The file as shown in messages."""
    path: str
    """The file's path as it was found (the key of the record cache)."""
    digest: str
    """SHA-256 of the file's bytes: what caches key on."""
    id_marks: tuple[Mark, tuple[Mark, ...]]
    """Where ``id`` and each ``formerly`` entry were written, for problems across records."""
    facet_keys: tuple[str, ...] | None = None
    """The record's facet keys (``facets.facet_keys``) as the load workers worked them out for the record
    cache, when the record was then taken whole (a clean build): not worked out again (0.25 s at 20,000)."""

    @property
    def identity(self) -> RecordIdentity:
        return RecordIdentity(self.file, self.record.id, tuple(self.record.formerly), self.id_marks)


@dataclass
class Catalog:
    """Every valid record of a data folder, with the vocabularies they refer to."""

    data_dir: Path
    vocab: Vocabularies
    vocab_digest: str
    """SHA-256 over the vocabulary files: records' meaning depends on them."""
    loaded: list[LoadedRecord]
    """Sorted by id, so every later step is deterministic."""
    rendered_bodies: dict[str, bytes] = field(default_factory=dict)
    """Bodies the load workers rendered while they held the record (file digest → HTML), until the
    build's body store takes them over (``bodies.render_bodies``); without a cache folder only."""
    body_store: FragmentStore | None = None
    """With a cache folder, load workers add the bodies they render to its body store themselves
    (``bodies.body_store``, handed to ``bodies.render_bodies``): not sent back here, not written again
    (60 MB at 20,000 records). None when no worker loaded anything."""

    def take_body_store(self) -> FragmentStore | None:
        """``body_store``, handed over once: whoever takes it saves or closes it."""
        store, self.body_store = self.body_store, None
        return store

    @cached_property
    def by_id(self) -> dict[str, LoadedRecord]:
        """Record id → the loaded record; made when first asked (a build does not ask: 25 ms at 20,000)."""
        return {item.record.id: item for item in self.loaded}

    @property
    def records(self) -> list[Record]:
        return [item.record for item in self.loaded]


# --- vocabularies ---------------------------------------------------------------


def _read_yaml(path: Path, file: str) -> tuple[bytes, Document | None, list[Problem]]:
    try:
        raw = path.read_bytes()
    except OSError as error:
        return b"", None, [Problem(file, 1, 1, f"无法读取文件：{error.strerror}")]
    try:
        return raw, load_yaml(raw), []
    except YamlLoadError as error:
        return raw, None, [Problem(file, p.mark.line, p.mark.column, p.message) for p in error.problems]


def load_vocabularies(vocab_dir: Path) -> tuple[Vocabularies, str]:
    """Every vocabulary in ``vocab_dir`` and a digest of them; raises ``ProblemsFound``."""
    problems: list[Problem] = []
    vocabularies: dict[str, Vocabulary] = {}
    documents: dict[str, tuple[str, Document]] = {}
    digest = hashlib.sha256()
    for name, (entry_type, label) in VOCABULARY_FILES.items():
        path = vocab_dir / f"{name}.yaml"
        file = display_path(path)
        if not path.is_file():
            problems.append(Problem(file, 1, 1, f"缺少词表文件 {name}.yaml（{label}）"))
            continue
        raw, document, found = _read_yaml(path, file)
        digest.update(name.encode() + b"\0" + raw + b"\0")
        problems += found
        if document is None:
            continue
        if not isinstance(document.data, list):
            problems.append(Problem(file, 1, 1, "词表文件应为条目列表（每项以「- id: …」开头）"))
            continue
        entries: list[Entry] = []
        for index, item in enumerate(document.data):
            try:
                entries.append(entry_type.model_validate(item))
            except ValidationError as error:
                problems += problems_from_validation(error, entry_type, document, file, prefix=(index,))
        vocabularies[name] = Vocabulary(label, entries)
        documents[name] = (file, document)
    if problems:
        raise ProblemsFound(problems)
    vocab = Vocabularies(**vocabularies)
    problems += _vocabulary_rules(vocab, documents)
    if problems:
        raise ProblemsFound(problems)
    return vocab, digest.hexdigest()


def _vocabulary_rules(vocab: Vocabularies, documents: dict[str, tuple[str, Document]]) -> list[Problem]:
    problems: list[Problem] = []

    def report(name: str, index: int, field_: str, message: str) -> None:
        file, document = documents[name]
        problems.append(problem_at(document, file, (index, field_), message))

    for name in VOCABULARY_FILES:
        vocabulary: Vocabulary = getattr(vocab, name)
        seen_ids: dict[str, int] = {}
        seen_names: dict[str, int] = {}
        for index, entry in enumerate(vocabulary):
            if entry.id in seen_ids:
                report(name, index, "id", f"{vocabulary.label}标识「{entry.id}」重复（第 {seen_ids[entry.id] + 1} 项已使用）")
            seen_ids.setdefault(entry.id, index)
            # Form names repeat across regimes by design; records resolve them per regime.
            if name != "forms" and entry.name in seen_names:
                report(name, index, "name", f"{vocabulary.label}名称「{entry.name}」重复：记录按名称引用时将无法区分")
            seen_names.setdefault(entry.name, index)
            parent = getattr(entry, "parent", None)
            if parent and parent not in vocabulary.by_id:
                report(name, index, "parent", f"上级「{parent}」不是{vocabulary.label}中的标识")
            elif parent and entry in vocabulary.ancestors(entry.id) or parent == entry.id:
                report(name, index, "parent", "上级关系形成循环")
    for index, organization in enumerate(vocab.organizations):
        if organization.region and organization.region not in vocab.regions.by_id:
            report("organizations", index, "region", f"地区「{organization.region}」不是地区词表中的标识")
    for index, form in enumerate(vocab.forms):
        for j, regime in enumerate(form.regimes):
            if regime not in vocab.regimes.by_id:
                file, document = documents["forms"]
                problems.append(problem_at(document, file, (index, "regimes", j), f"问责规定「{regime}」不在 regimes.yaml 中"))
    circumstance_ids: dict[str, str] = {}
    for index, regime in enumerate(vocab.regimes):
        for j, circumstance in enumerate(regime.circumstances):
            if circumstance.id in circumstance_ids:
                file, document = documents["regimes"]
                problems.append(problem_at(
                    document, file, (index, "circumstances", j, "id"),
                    f"问责情形标识「{circumstance.id}」已用于问责规定「{circumstance_ids[circumstance.id]}」；情形标识须全局唯一",
                ))
            circumstance_ids.setdefault(circumstance.id, regime.id)
    return problems


def _file_digest(path: str) -> str:
    try:
        with open(path, "rb") as source:
            return hashlib.sha256(source.read()).hexdigest()
    except OSError:
        return ""


# --- records --------------------------------------------------------------------

_worker_vocab: Vocabularies | None = None
_worker_salt = ""
_worker_bodies: FragmentStore | None = None
"""The body store the load workers add to (inherited when they are forked; spawned, they send bodies back)."""
_worker_cache: RecordCache | None = None
"""The record cache the load workers stage their buckets in (inherited when forked; spawned, they send them)."""


def _init_worker(vocab: Vocabularies, salt: str) -> None:
    global _worker_vocab, _worker_salt
    _worker_vocab, _worker_salt = vocab, salt
    gc.disable()  # a worker's garbage is acyclic and it lives for one load


def load_record_file(path: Path, kind: str, vocab: Vocabularies) -> tuple[LoadedRecord | None, list[Problem]]:
    """One record file: the valid record, or every problem in it."""
    file = display_path(path)
    raw, document, problems = _read_yaml(path, file)
    if document is None:
        return None, problems
    if not isinstance(document.data, dict):
        return None, [Problem(file, 1, 1, "记录文件应为键值映射（每行「字段: 值」）")]
    data: dict[str, Any] = document.data
    if "id" in data and data["id"] != path.stem:
        problems.append(problem_at(document, file, ("id",), f"编号「{data['id']}」与文件名「{path.name}」不一致：文件名（去掉 .yaml）必须等于 id"))
    model = RECORD_TYPES[kind]
    try:
        record = validate_record(kind, data, vocab)
    except ValidationError as error:
        return None, problems + problems_from_validation(error, model, document, file)
    for loc, message, *within in check_record(record, vocab):
        problems.append(problem_at(document, file, loc, message, within=tuple(within)))
    if problems:
        return None, problems
    marks = (document.mark_for(("id",)), tuple(document.mark_for(("formerly", i)) for i in range(len(record.formerly))))
    return LoadedRecord(record, file, str(path), hashlib.sha256(raw).hexdigest(), marks), []


def _load_files(files: list[tuple[str, str]], vocab: Vocabularies) -> tuple[Entries, list[Problem]]:
    """Load and validate ``files``: cache entries of the valid ones, problems of the others."""
    entries: Entries = {}
    problems: list[Problem] = []
    for path, kind in files:
        try:
            stat = os.stat(path)  # before reading: a write after it shows as a changed stat
        except OSError:
            stat = None
        loaded, found = load_record_file(Path(path), kind, vocab)
        problems += found
        if loaded is not None:
            entries[path] = (trusted_stat_key(stat, time.time_ns()), loaded)
    return entries, problems


def _derived(vocab: Vocabularies) -> Callable[[Record], dict[str, Any]]:
    """What the record cache keeps in a record's summary besides its own values: its facet values
    (valid as long as the vocabularies, which salt the cache)."""
    from .facets import FACET_KEYS, facet_keys, region_chains  # (facets imports publication, which imports this)

    regions = region_chains(vocab)
    # (a record without a publication time, a draft, is never public: it has no year to facet by)
    return lambda record: {FACET_KEYS: facet_keys(record, vocab, regions)} if record.published is not None else {}


def _entries_in_worker(files: list[tuple[str, str]]) -> tuple[bytes | str, list[Problem], dict[str, bytes], dict[str, Any]]:
    """A bucket's entries, pickled here once (the bytes the cache keeps: staged in ``_worker_cache``,
    and then their file's path given instead, see ``RecordCache.stage``), and their records' bodies
    rendered by file digest (a build needs them next, and the records are at hand): as HTML, or added
    to ``_worker_bodies`` and given as where they are there (``made_here``)."""
    from .bodies import body_bytes  # here: every `invoke` command imports this module, and only builds need Markdown

    assert _worker_vocab is not None
    entries, problems = _load_files(files, _worker_vocab)
    bodies = {loaded.digest: body_bytes(loaded.record.body) for _, loaded in entries.values() if loaded.record.body}
    kept = {}
    if _worker_bodies is not None:  # written to this worker's own segment of the store, not sent back
        for digest, html in bodies.items():
            _worker_bodies.add(digest, [html])
        bodies, kept = {}, _worker_bodies.made_here(bodies)
    data = encode(_worker_salt, entries, _derived(_worker_vocab))
    if _worker_cache is not None and files:  # (a job is one bucket's files)
        return _worker_cache.stage(bucket_of(files[0][0]), data), problems, bodies, kept
    return data, problems, bodies, kept


def _identities_in_worker(files: list[tuple[str, str]]) -> tuple[dict[str, RecordIdentity], list[Problem]]:
    """Only what the rules across records need: records are not worth sending back to ``invoke validate``."""
    assert _worker_vocab is not None
    entries, problems = _load_files(files, _worker_vocab)
    return {path: loaded.identity for path, (_, loaded) in entries.items()}, problems


def _in_workers(job: Callable[[list[tuple[str, str]]], Any], batches: list[list[tuple[str, str]]],
                vocab: Vocabularies, salt: str, workers: int, bodies: FragmentStore | None = None,
                cache: RecordCache | None = None, meanwhile: Callable[[], None] | None = None) -> Iterator[Any]:
    """``job`` over each batch on ``workers`` processes, results in the batches' order; ``meanwhile()``
    is called here once the workers are forked, before the first result is waited for."""
    global _worker_bodies, _worker_cache
    build_models()  # once here, not in each worker; the build's later workers inherit them too
    # (globals: the workers inherit them when forked, and a store is not for pickling)
    _worker_bodies, _worker_cache = bodies, cache
    try:
        with ProcessPoolExecutor(workers, initializer=_init_worker, initargs=(vocab, salt)) as pool:
            results = pool.map(job, batches)  # (every batch submitted: the workers are forked by now)
            if meanwhile is not None:
                meanwhile()
            yield from results
    finally:
        _worker_bodies = _worker_cache = None


def _parallel(files_count: int, workers: int | None) -> int:
    """How many worker processes to use for ``files_count`` files (0: load in this process)."""
    workers = workers or os.cpu_count() or 1
    return workers if workers > 1 and files_count >= PARALLEL_THRESHOLD else 0


def _yaml_files(data_dir: Path) -> list[str]:
    """Every file ending in .yaml/.yml (any case) under ``data_dir``, sorted by path text.

    One ``os.walk`` and plain strings: ``rglob``, ``Path`` objects and their
    sorting cost seconds at 20,000 files.
    """
    found = []
    for folder, _dirs, names in os.walk(data_dir):
        found += [f"{folder}{os.sep}{n}" for n in names if n.lower().endswith((".yaml", ".yml"))]
    found.sort()
    return found


def _sort_out(data_dir: Path, yaml_files: list[str]) -> tuple[list[tuple[str, str]], list[Problem]]:
    """Record files with their kind (by kind, then path), and the YAML files a build would silently skip.

    Skipped: ``.yml``, ``.YAML`` or outside the three folders.
    """
    records: list[tuple[str, str]] = []
    problems = []
    prefix = len(f"{data_dir}{os.sep}")
    for path in yaml_files:
        top, _, rest = path[prefix:].partition(os.sep)
        kind = KIND_OF_FOLDER.get(top)
        if top == "vocab":
            continue
        name = rest.rpartition(os.sep)[2]
        if kind is None or not rest:
            problems.append(Problem(display_path(path), 1, 1, "记录文件必须放在 cases/、disclosures/ 或 reports/ 目录下"))
        elif not name.endswith(".yaml") or name == ".yaml":  # as Path.suffix: a name ".yaml" has none
            problems.append(Problem(display_path(path), 1, 1, "记录文件的扩展名必须是 .yaml（小写）"))
        else:
            records.append((path, kind))
    kind_order = {kind: index for index, kind in enumerate(KIND_OF_FOLDER.values())}
    records.sort(key=lambda item: kind_order[item[1]])  # stable: paths stay sorted within a kind
    return records, problems


def record_files(data_dir: Path) -> list[tuple[Path, str]]:
    """Every record file under the data folder with its kind, in a stable order."""
    records, _ = _sort_out(Path(data_dir), _yaml_files(Path(data_dir)))
    return [(Path(path), kind) for path, kind in records]


@contextmanager
def _collector_paused() -> Iterator[None]:
    """No garbage collection while loading, and what was loaded kept out of later collections.

    Loading makes millions of objects that live for the whole build: each
    collection during loading would traverse all made so far, and the first
    one after it all of them again (0.1 s per 5,000 records). ``gc.freeze``
    moves them out of the collector's sight; they are freed as usual when no
    longer referenced (records hold no reference cycles). What an earlier load
    froze is handed back first, so a process that loads many times (the
    tests) does not keep its cyclic garbage for ever.
    """
    gc.unfreeze()
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def _survey(data_dir: Path) -> tuple[Vocabularies, str, list[tuple[str, str]], list[Problem]]:
    """The vocabularies (or ``ProblemsFound``), the record files, and problems with misplaced files."""
    if not data_dir.is_dir():
        raise ProblemsFound([Problem(display_path(data_dir), 1, 1, "数据目录不存在")])
    vocab, vocab_digest = load_vocabularies(data_dir / "vocab")
    files, problems = _sort_out(data_dir, _yaml_files(data_dir))
    return vocab, vocab_digest, files, problems


def load_catalog(data_dir: Path, workers: int | None = None, cache_dir: Path | None = None,
                 meanwhile: Callable[[], None] | None = None) -> Catalog:
    """Every record and vocabulary under ``data_dir``; raises ``ProblemsFound`` with all problems.

    With ``cache_dir``, a file whose stat or bytes (and the vocabularies, code
    and working directory) are unchanged since the last load is not parsed or
    validated again (``recordcache``). ``meanwhile()`` is called while worker
    processes load the files, if they do (so not at all on a small or cached load).
    """
    data_dir = Path(data_dir)
    with _collector_paused():
        vocab, vocab_digest, files, problems = _survey(data_dir)
        salt = "\0".join((code_fingerprint(), PRELUDE_DIGEST, vocab_digest, os.getcwd()))  # (recordpickle)
        cache = RecordCache.for_data(cache_dir, data_dir, salt) if cache_dir is not None else None
        entries, found, bodies, body_store = _load_entries(files, vocab, salt, cache, workers, cache_dir, meanwhile)
        try:
            loaded = [entries[path][1] for path, _ in files if path in entries]
            ids = [item.record.id for item in loaded]
            problems += found
            if _ids_may_clash(ids, [old for item in loaded for old in item.record.formerly]):
                problems += _identity_rules([item.identity for item in loaded])
            if problems:
                raise ProblemsFound(problems)
        except BaseException:
            if body_store is not None:
                body_store.close()
            raise
        by_id_order = sorted(range(len(ids)), key=ids.__getitem__)  # (the ids read once, above)
        return Catalog(data_dir, vocab, vocab_digest, [loaded[k] for k in by_id_order], bodies, body_store)


def count_valid_records(data_dir: Path, workers: int | None = None) -> int:
    """What ``invoke validate`` checks, without keeping records: their number, or ``ProblemsFound``."""
    data_dir = Path(data_dir)
    with _collector_paused():
        vocab, _, files, problems = _survey(data_dir)
        parallel = _parallel(len(files), workers)
        if parallel:
            identities: dict[str, RecordIdentity] = {}
            for found_identities, found in _in_workers(_identities_in_worker, list(_batches(files).values()), vocab, "", parallel):
                identities.update(found_identities)
                problems += found
        else:
            entries, found = _load_files(files, vocab)
            identities = {path: loaded.identity for path, (_, loaded) in entries.items()}
            problems += found
        problems += _identity_rules([identities[path] for path, _ in files if path in identities])
        if problems:
            raise ProblemsFound(problems)
        return len(identities)


def _batches(files: list[tuple[str, str]]) -> dict[int, list[tuple[str, str]]]:
    """``files`` by cache bucket, in bucket order: one bucket is one job for a worker."""
    buckets: dict[int, list[tuple[str, str]]] = {}
    for path, kind in files:
        buckets.setdefault(bucket_of(path), []).append((path, kind))
    return {bucket: buckets[bucket] for bucket in sorted(buckets)}


def _reuse(cached: Entries, files: list[tuple[str, str]]) -> tuple[Entries, list[tuple[str, str]], bool]:
    """The cached entries still valid for ``files``, the files to load again, and whether the bucket changed.

    A file whose stat is as remembered is taken as is; any other is hashed,
    and only a different digest means loading it again.
    """
    fresh: Entries = {}
    stale = []
    changed = len(cached) != len(files)
    for path, kind in files:
        entry = cached.get(path)
        if entry is None:
            stale.append((path, kind))
            continue
        try:
            stat = os.stat(path)
        except OSError:
            stale.append((path, kind))  # loading reports it
            continue
        remembered, loaded = entry
        if remembered is not None and remembered == stat_key(stat):
            fresh[path] = entry
        elif _file_digest(path) == loaded.digest:
            fresh[path] = (trusted_stat_key(stat, time.time_ns()), loaded)
            changed = True
        else:
            stale.append((path, kind))
    return fresh, stale, changed or bool(stale)


def _load_entries(files: list[tuple[str, str]], vocab: Vocabularies, salt: str, cache: RecordCache | None,
                  workers: int | None, cache_dir: Path | None = None, meanwhile: Callable[[], None] | None = None
                  ) -> tuple[Entries, list[Problem], dict[str, bytes], FragmentStore | None]:
    """Cache entries for every valid file in ``files`` (reused or loaded), the problems of the others,
    and the bodies that worker processes rendered (see ``_entries_in_worker``): with ``cache_dir``, in
    the body store of that folder they added them to (returned), else as HTML."""
    entries: Entries = {}
    problems: list[Problem] = []
    bodies: dict[str, bytes] = {}
    bucketed = _batches(files)
    to_load: dict[int, list[tuple[str, str]]] = {}
    derived = _derived(vocab)
    for bucket, batch in bucketed.items():
        fresh, stale, changed = _reuse(cache.load(bucket), batch) if cache else ({}, batch, True)
        entries.update(fresh)
        if stale:
            to_load[bucket] = stale
        elif changed and cache:
            cache.save(bucket, encode(salt, {path: fresh[path] for path, _ in batch if path in fresh}, derived))
    from .facets import FACET_KEYS  # (facets imports publication, which imports this)

    parallel = _parallel(sum(map(len, to_load.values())), workers)
    body_store = None
    if parallel and cache_dir is not None:
        from .bodies import body_store as store_in  # (as in _entries_in_worker: builds only need it)

        body_store = store_in(cache_dir)
    if cache is not None:
        cache.remove_stale_staged()
    if parallel:
        def from_workers() -> Iterator[tuple[bytes, str | None, Entries, list[Problem]]]:
            for data, found, rendered, kept in _in_workers(_entries_in_worker, list(to_load.values()), vocab, salt, parallel,
                                                           body_store, cache, meanwhile):
                staged = None
                if isinstance(data, str):  # (staged in the cache by the worker: ``RecordCache.stage``)
                    staged = data
                    with open(staged, "rb") as file:
                        data = file.read()
                bodies.update(rendered)
                if kept:
                    assert body_store is not None
                    body_store.adopt(kept)
                # The records come back as the cache keeps them; this build makes pages of them, so it
                # takes them whole (stand-ins beside their unpickled records took a clean build past 1 GB).
                # (Set in place: each item was just unpickled here; ``dataclasses.replace`` took 10 µs a record.)
                whole = decode(io.BytesIO(data), salt)
                for _stat, item in whole.values():
                    stored = item.record
                    object.__setattr__(item, "record", StoredRecord.whole(stored))
                    object.__setattr__(item, "facet_keys", stored.__dict__.get(FACET_KEYS))
                yield data, staged, whole, found

        loaded = from_workers()
    else:
        loaded = ((None, None, *_load_files(stale, vocab)) for stale in to_load.values())
    try:
        for (bucket, stale), (data, staged, new, found) in zip(to_load.items(), loaded):
            problems += found
            entries.update(new)
            if cache is None:
                continue
            if data is None or len(stale) < len(bucketed[bucket]):  # merged with reused entries
                if staged is not None:
                    os.unlink(staged)
                cache.save(bucket, encode(salt, {path: entries[path] for path, _ in bucketed[bucket] if path in entries}, derived))
            elif staged is not None:
                cache.put_in_place(bucket, staged)
            else:
                cache.save(bucket, data)
    except BaseException:
        if body_store is not None:
            body_store.close()
        raise
    return entries, problems, bodies, body_store


def _ids_may_clash(ids: list[str], former_ids: list[str]) -> bool:
    """Whether ``_identity_rules`` could find anything: an id or a former id given twice, or a former id
    that is an id. Three sets, against a named tuple per record for the rules: an edit's load at
    20,000 records spent 50 ms to find, as nearly always, nothing."""
    taken = set(ids)
    return len(taken) < len(ids) or len(set(former_ids)) < len(former_ids) or not taken.isdisjoint(former_ids)


def _identity_rules(identities: list[RecordIdentity]) -> list[Problem]:
    """Ids are unique across kinds, and no ``formerly`` id names another record or is claimed twice."""
    problems = []
    owners: dict[str, RecordIdentity] = {}
    for item in identities:
        first = owners.get(item.id)
        if first:
            mark = item.marks[0]
            problems.append(Problem(item.file, mark.line, mark.column, f"编号（id）「{item.id}」已被 {first.file} 使用：编号全站唯一"))
        else:
            owners[item.id] = item
    former_owners: dict[str, RecordIdentity] = {}
    for item in identities:
        for old, mark in zip(item.formerly, item.marks[1]):
            if old in owners:
                message = f"曾用编号（formerly）「{old}」是 {owners[old].file} 的现行编号：编号不得重复使用"
            elif old in former_owners and former_owners[old] is not item:
                message = f"曾用编号（formerly）「{old}」已被 {former_owners[old].file} 声明：一个旧网址只能重定向到一条记录"
            else:
                former_owners[old] = item
                continue
            problems.append(Problem(item.file, mark.line, mark.column, message))
    return problems
