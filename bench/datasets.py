"""Synthetic data sets for the benchmark, cached, and the one-record edits measured on them.

A data set is made by the seeded generator (``gongkai.synthetic.generate``)
and kept in ``.cache/bench/`` under a name built from the record count, the
seed and a hash of what determines its bytes (the generator's source and the
vocabularies it copies), so a rerun skips generation and a change to the
generator makes a new one. A data set is written to a temporary folder first
and renamed into place, so a killed run never leaves a half-made one behind.

The rebuild measurements work on a copy (``working_copy``), never on the
cached set: ``edit_title``, ``add_record`` and ``delete_record`` change one
record file each, the way a clerk's commit would.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".cache" / "bench"
GENERATOR = ROOT / "plugins" / "gongkai" / "synthetic.py"
VOCAB = ROOT / "data" / "vocab"
RECORD_FOLDERS = ("cases", "disclosures", "reports")


def plugins_importable() -> None:
    """Let this process import ``gongkai`` from the working tree's ``plugins/`` (once)."""
    if str(ROOT / "plugins") not in sys.path:
        sys.path.insert(0, str(ROOT / "plugins"))


def _digest(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def generator_hash() -> str:
    """What a data set's bytes depend on besides (count, seed)."""
    if not GENERATOR.is_file():
        raise SystemExit(f"没有找到合成数据生成器 {GENERATOR.relative_to(ROOT)}：基准测试需要它。")
    return _digest([GENERATOR, *sorted(VOCAB.glob("*.yaml"))])


@dataclass(frozen=True)
class DataSet:
    count: int
    seed: int
    key: str
    """``records-<count>-seed<seed>-<hash>``: also the folder name in the cache."""
    path: Path
    generated_s: float | None
    """Seconds it took to generate now, or ``None`` when it came from the cache."""


def dataset(count: int, seed: int) -> DataSet:
    """The cached data set of ``count`` records (generated first if missing)."""
    import time

    key = f"records-{count}-seed{seed}-{generator_hash()}"
    path = CACHE / key
    if path.is_dir():
        return DataSet(count, seed, key, path, None)
    plugins_importable()
    from gongkai.synthetic import generate

    partial = CACHE / f".{key}.partial"
    if partial.exists():
        shutil.rmtree(partial)
    partial.mkdir(parents=True)
    started = time.perf_counter()
    generate(partial, count, seed)
    elapsed = time.perf_counter() - started
    partial.rename(path)
    prune(f"records-{count}-seed{seed}-", keep=key)
    return DataSet(count, seed, key, path, elapsed)


def prune(prefix: str, keep: str) -> None:
    """Remove cached folders made by an older generator (or anchor writer): same prefix, other hash."""
    for stale in CACHE.glob(f"{prefix}*"):
        if stale.name != keep and stale.is_dir():
            shutil.rmtree(stale)
    for stale in CACHE.glob(f"anchors-{prefix}*"):
        if not stale.name.startswith(f"anchors-{keep}-") and stale.is_dir():
            shutil.rmtree(stale)


def working_copy(source: Path, target: Path) -> Path:
    """A private copy of a data set, which the rebuild measurements may change."""
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target)
    return target


def record_paths(data: Path) -> list[Path]:
    return sorted(p for folder in RECORD_FOLDERS for p in (data / folder).rglob("*.yaml"))


def _top_level_value(text: str, key: str) -> object:
    for line in text.splitlines():
        if line.startswith(f"{key}:"):
            return yaml.safe_load(line)[key]
    raise ValueError(f"no top-level {key!r}")


def _replace_top_level(text: str, key: str, value: str | None) -> str:
    """Replace (or with ``None`` remove) the top-level ``key:`` line and any block items under it."""
    lines, out, skipping = text.splitlines(keepends=True), [], False
    for line in lines:
        if skipping and (line.startswith((" ", "\t", "-")) or not line.strip()):
            continue
        skipping = False
        if line.startswith(f"{key}:"):
            skipping = True
            if value is not None:
                out.append(f"{key}: {value}\n")
            continue
        out.append(line)
    return "".join(out)


def edit_title(data: Path) -> Path:
    """Change the title of the record in the middle of the data set; returns its file."""
    path = record_paths(data)[len(record_paths(data)) // 2]
    text = path.read_text(encoding="utf-8")
    title = str(_top_level_value(text, "title"))
    new_title = (title + "（基准测试修改）")[-200:]
    path.write_text(_replace_top_level(text, "title", json.dumps(new_title, ensure_ascii=False)), encoding="utf-8")
    return path


def add_record(data: Path) -> Path:
    """A new record, copied from the first one with a fresh id (and no former ids); returns its file."""
    source = record_paths(data)[0]
    kind = source.parent.parent.name if source.parent.parent.name in RECORD_FOLDERS else source.parent.name
    new_id = f"bench-added-{kind}"
    text = _replace_top_level(source.read_text(encoding="utf-8"), "id", new_id)
    text = _replace_top_level(text, "formerly", None)
    target = source.with_name(f"{new_id}.yaml")
    target.write_text(text, encoding="utf-8")
    return target


def delete_record(data: Path) -> Path:
    """Remove the record a third of the way through the data set; returns the file removed."""
    paths = record_paths(data)
    path = paths[len(paths) // 3]
    path.unlink()
    return path
