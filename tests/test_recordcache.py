"""The record cache: a rebuild parses only changed files, and never trusts a stale entry.

Each test loads a small data folder twice through ``load_catalog`` with a
cache folder, counting the files parsed and validated, and checks that the
second catalog is the one a load without cache would give.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import case_record, disclosure_record, new_data_dir, report_record, write_record
from gongkai import catalog as catalog_module
from gongkai.catalog import Catalog, load_catalog
from gongkai.recordcache import RACY_NS, trusted_stat_key


@pytest.fixture
def parsed(monkeypatch) -> list[str]:
    """Names of the files parsed and validated (in this process: small folders load without workers)."""
    names: list[str] = []
    real = catalog_module.load_record_file

    def counting(path, kind, vocab):
        names.append(path.name)
        return real(path, kind, vocab)

    monkeypatch.setattr(catalog_module, "load_record_file", counting)
    return names


def _age(data: Path) -> None:
    """Every file as if written a minute ago: not "racily clean", so its stat is trusted."""
    past = time.time_ns() - 60 * 1_000_000_000
    for path in data.rglob("*.yaml"):
        os.utime(path, ns=(past, past))


def _folder(tmp_path: Path) -> Path:
    data = new_data_dir(tmp_path / "data")
    write_record(data, "case", case_record("t-case-1"))
    write_record(data, "case", case_record("t-case-2", title="江中市交通局原副局长李某被诫勉"))
    write_record(data, "disclosure", disclosure_record())
    write_record(data, "report", report_record())
    _age(data)
    return data


def _same(cached: Catalog, data: Path) -> None:
    fresh = load_catalog(data)
    # (by content: a cached record is a StoredRecord, which pydantic's own == does not know)
    assert [(i.record.__class__, i.record.model_dump(), i.digest, i.file, i.id_marks) for i in cached.loaded] == [
        (i.record.__class__, i.record.model_dump(), i.digest, i.file, i.id_marks) for i in fresh.loaded
    ]


def test_unchanged_files_are_not_parsed_again(tmp_path, parsed):
    data, cache = _folder(tmp_path), tmp_path / "cache"
    load_catalog(data, cache_dir=cache)
    assert len(parsed) == 4
    parsed.clear()
    again = load_catalog(data, cache_dir=cache)
    assert parsed == []
    _same(again, data)


def test_an_edit_keeping_size_and_mtime_is_still_seen(tmp_path, parsed):
    data, cache = _folder(tmp_path), tmp_path / "cache"
    load_catalog(data, cache_dir=cache)
    path = data / "cases" / "t-case-2.yaml"
    before = path.stat()
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("李某", "赵某"), encoding="utf-8")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size and path.stat().st_mtime_ns == before.st_mtime_ns
    parsed.clear()
    again = load_catalog(data, cache_dir=cache)
    assert parsed == ["t-case-2.yaml"]  # the ctime changed
    assert "赵某" in again.by_id["t-case-2"].record.title
    _same(again, data)


def test_a_touched_file_is_hashed_not_parsed(tmp_path, parsed):
    data, cache = _folder(tmp_path), tmp_path / "cache"
    load_catalog(data, cache_dir=cache)
    os.utime(data / "reports" / "t-rep-1.yaml")
    parsed.clear()
    again = load_catalog(data, cache_dir=cache)
    assert parsed == []
    _same(again, data)


def test_a_stat_taken_just_after_a_write_is_not_trusted(tmp_path):
    path = tmp_path / "f.yaml"
    path.write_text("a: 1\n")
    stat = path.stat()
    assert trusted_stat_key(stat, stat.st_mtime_ns + RACY_NS // 2) is None
    assert trusted_stat_key(stat, stat.st_mtime_ns + RACY_NS + 1) == (stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino)


def test_files_added_and_removed(tmp_path, parsed):
    data, cache = _folder(tmp_path), tmp_path / "cache"
    load_catalog(data, cache_dir=cache)
    (data / "cases" / "t-case-1.yaml").unlink()
    write_record(data, "case", case_record("t-case-3"))
    parsed.clear()
    again = load_catalog(data, cache_dir=cache)
    assert parsed == ["t-case-3.yaml"]
    assert sorted(again.by_id) == ["t-case-2", "t-case-3", "t-disc-1", "t-rep-1"]
    _same(again, data)


def test_a_vocabulary_change_parses_everything_again(tmp_path, parsed):
    data, cache = _folder(tmp_path), tmp_path / "cache"
    load_catalog(data, cache_dir=cache)
    with open(data / "vocab" / "topics.yaml", "a", encoding="utf-8") as vocabulary:
        vocabulary.write("# 注释也改变词表摘要\n")
    parsed.clear()
    load_catalog(data, cache_dir=cache)
    assert sorted(parsed) == ["t-case-1.yaml", "t-case-2.yaml", "t-disc-1.yaml", "t-rep-1.yaml"]


def test_a_cache_written_against_another_prelude_parses_everything_again(tmp_path, parsed, monkeypatch):
    """Whole records are pickled against ``recordpickle``'s prelude (its objects referred to by number):
    a cache written under another prelude (other code, another Python) must not be read with this one."""
    data, cache = _folder(tmp_path), tmp_path / "cache"
    load_catalog(data, cache_dir=cache)
    monkeypatch.setattr(catalog_module, "PRELUDE_DIGEST", "another prelude")
    parsed.clear()
    load_catalog(data, cache_dir=cache)
    assert sorted(parsed) == ["t-case-1.yaml", "t-case-2.yaml", "t-disc-1.yaml", "t-rep-1.yaml"]


def test_records_pickled_in_another_process_read_back_whole_in_any_order(tmp_path):
    """A load worker pickles, the build (or a later build, from the cache) unpickles: a fresh process
    makes the same prelude. Each record reads back on its own, as it was, and records of a class share
    their field names' strings (one copy of each, where a pickle of its own made every record its own)."""
    import pickle

    from gongkai import recordpickle

    data = _folder(tmp_path)
    script = (
        "import pickle, sys; from pathlib import Path; from gongkai.catalog import load_catalog; "
        "from gongkai.recordpickle import dumps; "
        f"records = [item.record for item in load_catalog(Path({str(data)!r})).loaded]; "
        "sys.stdout.buffer.write(pickle.dumps([dumps(r) for r in records]))"
    )
    plugins = str(Path(catalog_module.__file__).resolve().parents[1])
    pickled = pickle.loads(subprocess.run([sys.executable, "-c", script], check=True, capture_output=True,
                                          env={**os.environ, "PYTHONPATH": plugins}).stdout)
    records = [item.record for item in load_catalog(data).loaded]
    assert len(pickled) == len(records) == 4
    read = {n: recordpickle.loads(pickled[n]) for n in reversed(range(len(pickled)))}
    for n, record in enumerate(records):
        assert type(read[n]) is type(record) and read[n].model_dump() == record.model_dump()
        assert read[n].__pydantic_fields_set__ == record.__pydantic_fields_set__
        assert len(pickled[n]) < len(pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL))
    first, second = (next(r for r in read.values() if r.id == i) for i in ("t-case-1", "t-case-2"))
    assert all(a is b for a, b in zip(first.__dict__, second.__dict__))
    # A record's bytes cut short fail, and leave nothing behind for the next record to read.
    with pytest.raises(Exception):
        recordpickle.loads(pickled[0][:len(pickled[0]) // 2])
    assert recordpickle.loads(pickled[1]).model_dump() == records[1].model_dump()


def test_a_torn_cache_is_ignored(tmp_path, parsed):
    data, cache = _folder(tmp_path), tmp_path / "cache"
    load_catalog(data, cache_dir=cache)
    buckets = list(cache.rglob("*.pickle"))
    assert buckets
    for bucket in buckets:
        bucket.write_bytes(bucket.read_bytes()[:20])
    parsed.clear()
    again = load_catalog(data, cache_dir=cache)
    assert len(parsed) == 4
    _same(again, data)


def test_an_invalid_file_is_reported_on_every_load(tmp_path):
    data, cache = _folder(tmp_path), tmp_path / "cache"
    write_record(data, "case", case_record("t-case-9", status="published"))
    for _ in range(2):
        with pytest.raises(catalog_module.ProblemsFound) as found:
            load_catalog(data, cache_dir=cache)
        assert [p.file.rsplit("/", 1)[-1] for p in found.value.problems] == ["t-case-9.yaml"]


def test_workers_fill_the_same_cache(tmp_path, monkeypatch, parsed):
    data, cache = _folder(tmp_path), tmp_path / "cache"
    for number in range(10, 40):
        write_record(data, "case", case_record(f"t-case-{number}"))
    _age(data)
    monkeypatch.setattr(catalog_module, "PARALLEL_THRESHOLD", 1)
    cold = load_catalog(data, workers=2, cache_dir=cache)
    _same(cold, data)
    assert not list(cache.rglob("*.tmp")), "a bucket the workers staged was left beside the cache"
    write_record(data, "case", case_record("t-case-12", title="江中市交通局原局长张某被免职"))
    parsed.clear()  # (what the workers parsed was counted in their own processes)
    warm = load_catalog(data, workers=1, cache_dir=cache)
    assert parsed == ["t-case-12.yaml"], "the cache the workers wrote was not used"
    assert warm.by_id["t-case-12"].record.title == "江中市交通局原局长张某被免职"
    _same(warm, data)


def test_temporary_bucket_files_of_ended_processes_are_removed(tmp_path):
    """A build killed while it or its workers wrote buckets leaves their temporary files; the next
    load removes those of processes that have ended, not one that a running build is writing."""
    data, cache = _folder(tmp_path), tmp_path / "cache"
    write_record(data, "case", case_record("t-case-1"))
    load_catalog(data, cache_dir=cache)
    folder = next(cache.glob("records-*"))
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    left = folder / f"00.pickle.{ended.pid}.tmp"
    left.write_bytes(b"torn")
    being_written = folder / f"01.pickle.{os.getpid()}.tmp"
    being_written.write_bytes(b"half")
    _same(load_catalog(data, cache_dir=cache), data)
    assert not left.exists() and being_written.exists()


# --- records come back from the cache as StoredRecords --------------------------------


def test_a_cached_record_reads_as_its_record(tmp_path):
    """Whatever is read of a record from the cache (summary fields, nested parts, methods,
    isinstance, pickling) is what the record itself gives."""
    import pickle

    from gongkai.records import Case, Record
    from gongkai.storedrecord import StoredRecord

    data, cache = _folder(tmp_path), tmp_path / "cache"
    load_catalog(data, cache_dir=cache)
    cached = load_catalog(data, cache_dir=cache).by_id["t-case-1"].record
    fresh = load_catalog(data).by_id["t-case-1"].record
    assert type(cached) is StoredRecord and type(fresh) is Case
    assert isinstance(cached, Case) and isinstance(cached, Record)
    assert cached == fresh
    for name in ("id", "kind", "url_kind", "status", "published", "last_changed", "has_body", "title"):
        assert getattr(cached, name) == getattr(fresh, name), name
    assert cached.stages == fresh.stages and cached.subject.name == fresh.subject.name  # outside the summary
    assert cached.model_dump(mode="json") == fresh.model_dump(mode="json")
    again = pickle.loads(pickle.dumps(cached))
    assert type(again) is StoredRecord and again.model_dump() == fresh.model_dump()


def test_records_sharing_a_bucket_each_read_as_their_own(tmp_path):
    """Many records to a cache bucket: each record a later load takes from the cache files reads
    back as its own file says, in whatever order they are read. (Loaded in this process: 200 files
    are below the workers' threshold; ``test_workers_fill_the_same_cache`` covers the workers' bytes.)"""
    from collections import Counter

    from gongkai.recordcache import bucket_of
    from gongkai.storedrecord import StoredRecord

    data = new_data_dir(tmp_path / "data")
    for n in range(200):  # ≈3 a bucket: some buckets hold several records
        write_record(data, "case", case_record(f"t-case-{n}", title=f"江中市第{n}号案例：局长张某被免职",
                                               decision={"by": "中共江中市委", "on": "2024-02-20", "doc_no": f"江委〔2024〕{n}号"}))
    _age(data)
    shared = Counter(bucket_of(str(path)) for path in data.rglob("*.yaml"))
    assert max(shared.values()) >= 3
    cache = tmp_path / "cache"
    load_catalog(data, cache_dir=cache)
    stored = load_catalog(data, cache_dir=cache)
    assert all(type(item.record) is StoredRecord for item in stored.loaded)
    fresh = {item.record.id: item.record.model_dump() for item in load_catalog(data).loaded}
    for item in reversed(stored.loaded):  # (not in the order they were pickled)
        assert item.record.model_dump() == fresh[item.record.id]
        assert item.record.decision.doc_no == f"江委〔2024〕{item.record.id.removeprefix('t-case-')}号"


def test_an_unchanged_rebuild_reads_no_whole_record(tmp_path, monkeypatch):
    """Issue 8: a rebuild unpickles whole only the records whose outputs it makes again (none here),
    because unpickling 20,000 whole records was most of a rebuild's loading time."""
    from conftest import build_epoch
    from gongkai.build import build_site
    from gongkai.storedrecord import StoredRecord

    def build():
        with build_epoch():
            return build_site(data, tmp_path / "out", cache_dir=tmp_path / "cache")

    data = _folder(tmp_path)
    build()
    read_whole: list[str] = []
    whole = StoredRecord.record

    def counting(self):
        if self._record is None:
            read_whole.append(self.id)
        return whole.fget(self)

    monkeypatch.setattr(StoredRecord, "record", property(counting))
    result = build()
    assert result.report["records"] == 4 and result.report["reused"] > 0
    assert read_whole == []
    write_record(data, "case", case_record("t-case-2", title="江中市交通局原副局长李某被免职"))
    build()
    assert set(read_whole) <= {"t-case-1", "t-disc-1", "t-rep-1"}, "only feed entries beside the edited record are read"


def test_a_stored_record_reads_the_cache_as_it_was_loaded(tmp_path):
    """Loading reads only the records' summaries; the whole record is read from the cache file later.
    A later load that rewrites that file (an edit beside it) must not change what the first reads."""
    from gongkai.storedrecord import StoredRecord

    data, cache = _folder(tmp_path), tmp_path / "cache"
    load_catalog(data, cache_dir=cache)
    first = load_catalog(data, cache_dir=cache)
    stored = {item.record.id: item.record for item in first.loaded}
    assert all(type(record) is StoredRecord and record._record is None for record in stored.values())
    for path in data.rglob("*.yaml"):  # every bucket file is written again, with other records
        path.write_text(path.read_text(encoding="utf-8").replace("江中市", "河西市"), encoding="utf-8")
    second = load_catalog(data, cache_dir=cache)
    assert {item.record.title for item in second.loaded} != {record.title for record in stored.values()}
    fresh = {item.record.id: item.record for item in load_catalog(_folder(tmp_path / "again")).loaded}
    for record_id, record in stored.items():
        assert record.model_dump() == fresh[record_id].model_dump()  # read whole now, from the file as loaded
