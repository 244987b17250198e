"""Loading a data folder: every vocabulary and every record, validated, or every problem.

``load_catalog(data_dir)`` is the one way in for the rest of the code. It reads
``vocab/*.yaml`` first (records are checked against them), then every record
file under ``cases/``, ``disclosures/`` and ``reports/``, on all cores when
there are many, and finally the rules that span records (unique ids,
``formerly``). It returns a ``Catalog`` or raises ``ProblemsFound`` with all
problems of all files at once.
"""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .buildcache import PickleCache, code_fingerprint
from .problems import Problem, ProblemsFound, display_path, problem_at, problems_from_validation
from .records import KIND_OF_FOLDER, RECORD_TYPES, Record, validate_record
from .rules import check_record
from .vocabulary import VOCABULARY_FILES, Entry, Vocabularies, Vocabulary
from .yamlsource import Document, Mark, YamlLoadError, load_yaml

PARALLEL_THRESHOLD = 400
"""Below this many files, starting worker processes costs more than it saves."""


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


@dataclass
class Catalog:
    """Every valid record of a data folder, with the vocabularies they refer to."""

    data_dir: Path
    vocab: Vocabularies
    vocab_digest: str
    """SHA-256 over the vocabulary files: records' meaning depends on them."""
    loaded: list[LoadedRecord]
    """Sorted by id, so every later step is deterministic."""
    by_id: dict[str, LoadedRecord] = field(init=False)

    def __post_init__(self) -> None:
        self.by_id = {item.record.id: item for item in self.loaded}

    @property
    def records(self) -> list[Record]:
        return [item.record for item in self.loaded]


# --- vocabularies ---------------------------------------------------------------


def _read_yaml(path: Path) -> tuple[bytes, Document | None, list[Problem]]:
    file = display_path(path)
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
        raw, document, found = _read_yaml(path)
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


def _file_digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""


def _record_cache(data_dir: Path, cache_dir: Path | None, vocab_digest: str) -> PickleCache | None:
    if cache_dir is None:
        return None
    name = hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:16]
    return PickleCache(Path(cache_dir) / f"records-{name}.pickle", code_fingerprint() + vocab_digest)


# --- records --------------------------------------------------------------------

_worker_vocab: Vocabularies | None = None


def _init_worker(vocab: Vocabularies) -> None:
    global _worker_vocab
    _worker_vocab = vocab


def _load_in_worker(job: tuple[str, str]) -> tuple[LoadedRecord | None, list[Problem]]:
    assert _worker_vocab is not None
    return load_record_file(Path(job[0]), job[1], _worker_vocab)


def load_record_file(path: Path, kind: str, vocab: Vocabularies) -> tuple[LoadedRecord | None, list[Problem]]:
    """One record file: the valid record, or every problem in it."""
    raw, document, problems = _read_yaml(path)
    file = display_path(path)
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


def _yaml_files(data_dir: Path) -> list[Path]:
    """Every file ending in .yaml/.yml (any case) under ``data_dir``, sorted by path text.

    One ``os.walk`` and a sort of strings: ``rglob`` plus sorting ``Path``
    objects cost seconds at 20,000 files.
    """
    found = []
    for folder, _dirs, names in os.walk(data_dir):
        found += [os.path.join(folder, n) for n in names if n.lower().endswith((".yaml", ".yml"))]
    return [Path(p) for p in sorted(found)]


def record_files(data_dir: Path, yaml_files: list[Path] | None = None) -> list[tuple[Path, str]]:
    """Every record file under the data folder with its kind, in a stable order."""
    found = []
    for path in yaml_files if yaml_files is not None else _yaml_files(data_dir):
        relative = path.relative_to(data_dir).parts
        kind = KIND_OF_FOLDER.get(relative[0])
        if kind and len(relative) > 1 and path.suffix in (".yaml", ".yml"):
            found.append((path, kind))
    kind_order = list(KIND_OF_FOLDER.values())
    return sorted(found, key=lambda item: (kind_order.index(item[1]), str(item[0])))


def _misplaced_files(data_dir: Path, yaml_files: list[Path]) -> list[Problem]:
    """YAML files the build would silently skip: ``.yml``, ``.YAML`` or outside the three folders."""
    problems = []
    for path in yaml_files:
        relative = path.relative_to(data_dir)
        if relative.parts[0] == "vocab":
            continue
        if relative.parts[0] not in KIND_OF_FOLDER or len(relative.parts) < 2:
            problems.append(Problem(display_path(path), 1, 1, "记录文件必须放在 cases/、disclosures/ 或 reports/ 目录下"))
        elif path.suffix != ".yaml":
            problems.append(Problem(display_path(path), 1, 1, "记录文件的扩展名必须是 .yaml（小写）"))
    return problems


def load_catalog(data_dir: Path, workers: int | None = None, cache_dir: Path | None = None) -> Catalog:
    """Every record and vocabulary under ``data_dir``; raises ``ProblemsFound`` with all problems.

    With ``cache_dir``, a file whose bytes (and the vocabularies and code) are
    unchanged since the last load is not parsed or validated again.
    """
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise ProblemsFound([Problem(display_path(data_dir), 1, 1, "数据目录不存在")])
    vocab, vocab_digest = load_vocabularies(data_dir / "vocab")
    yaml_files = _yaml_files(data_dir)
    files = [(p, k) for p, k in record_files(data_dir, yaml_files) if p.suffix == ".yaml"]
    cache = _record_cache(data_dir, cache_dir, vocab_digest)
    known = cache.load() if cache else {}
    results: list[tuple[LoadedRecord | None, list[Problem]]] = []
    misses = []
    for path, kind in files:
        hit = known.get(str(path)) if known else None
        if hit is not None and hit.digest == _file_digest(path):
            results.append((hit, []))
        else:
            misses.append((path, kind))
    workers = workers or os.cpu_count() or 1
    if workers > 1 and len(misses) >= PARALLEL_THRESHOLD:
        jobs = [(str(p), k) for p, k in misses]
        with ProcessPoolExecutor(workers, initializer=_init_worker, initargs=(vocab,)) as pool:
            results += pool.map(_load_in_worker, jobs, chunksize=max(1, len(jobs) // (workers * 8)))
    else:
        results += [load_record_file(p, k, vocab) for p, k in misses]
    problems = _misplaced_files(data_dir, yaml_files)
    loaded = []
    for record, found in results:
        problems += found
        if record is not None:
            loaded.append(record)
    if cache is not None and misses:
        cache.save({item.path: item for item in loaded})
    problems += _identity_rules(loaded)
    if problems:
        raise ProblemsFound(problems)
    loaded.sort(key=lambda item: item.record.id)
    return Catalog(data_dir, vocab, vocab_digest, loaded)


def _identity_rules(loaded: list[LoadedRecord]) -> list[Problem]:
    """Ids are unique across kinds, and no ``formerly`` id names another record or is claimed twice."""
    problems = []
    owners: dict[str, LoadedRecord] = {}
    for item in loaded:
        first = owners.get(item.record.id)
        if first:
            mark = item.id_marks[0]
            problems.append(Problem(item.file, mark.line, mark.column, f"编号（id）「{item.record.id}」已被 {first.file} 使用：编号全站唯一"))
        else:
            owners[item.record.id] = item
    former_owners: dict[str, LoadedRecord] = {}
    for item in loaded:
        for old, mark in zip(item.record.formerly, item.id_marks[1]):
            if old in owners:
                message = f"曾用编号（formerly）「{old}」是 {owners[old].file} 的现行编号：编号不得重复使用"
            elif old in former_owners and former_owners[old] is not item:
                message = f"曾用编号（formerly）「{old}」已被 {former_owners[old].file} 声明：一个旧网址只能重定向到一条记录"
            else:
                former_owners[old] = item
                continue
            problems.append(Problem(item.file, mark.line, mark.column, message))
    return problems
