"""Search (issue 5): the analyzer, the static index against whoosh, the page in Chromium, and ``invoke search``.

The browser tests load ``/search/?q=…`` of the sample site (served under a
sub-path) and compare the JavaScript client's ranked results with whoosh's
(``gongkai.search.query``) for queries a citizen types: names, units, 文号,
years, Simplified queries over Traditional records and the reverse, and two
characters inside a longer word.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest

from conftest import ROOT, build, build_epoch, case_record, new_data_dir, write_record

from gongkai.build import build_site

from gongkai.output import MANIFEST
from gongkai.search.analysis import fold, query_terms, tokens, traditional_to_simplified
from gongkai.search.index import whoosh_dir
from gongkai.search.postings import analyze_block, merge_blocks, replace_documents
from gongkai.search.query import search
from gongkai.workers import available_cores

# --- the analyzer -------------------------------------------------------------------------------


def test_traditional_folds_to_simplified():
    assert fold("雲嶺市白水縣應急管理局") == "云岭市白水县应急管理局"
    assert tokens("陳某") == tokens("陈某") == ["陈某"]
    assert traditional_to_simplified()["號"] == "号"


def test_folding_keeps_length_and_is_idempotent():
    text = "述職人報告了2021年度履行“一崗雙責”ＡＢＣ１２３"
    assert len(fold(text)) == len(text)
    assert fold(fold(text)) == fold(text)


def test_cjk_runs_become_overlapping_bigrams_and_lone_characters_unigrams():
    assert tokens("江中市交通局") == ["江中", "中市", "市交", "交通", "通局"]
    assert tokens("2020年7月") == ["2020", "年", "7", "月"]
    assert "交通" in tokens("原交通局长")  # a two-character word inside a longer one


def test_latin_words_and_numbers_stay_whole_and_lowercase():
    assert tokens("江委发〔2024〕12号") == ["江委", "委发", "2024", "12", "号"]
    assert tokens("JZ-2024-00012") == ["jz", "2024", "00012"]
    assert tokens("ＪＺ－２０２４") == ["jz", "2024"]  # full-width typed on a Chinese keyboard
    assert query_terms("交通 交通局") == ["交通", "通局"]


def test_corpus_analysis_agrees_with_the_analyzer():
    """postings.py (numpy, a block of documents at once) splits exactly like analysis.tokens."""
    rng = random.Random(5)
    alphabet = list("江中市交通局雲嶺縣号號〔〕2024AbZ１２ｚ 〇\n-·，。") + ["\U00020000", "\U0002A6A5"]
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60))) for _ in range(200)]
    texts[3] = "x" * 100  # a long word is cut to 40 characters
    blocks = [(analyze_block({"body": texts[first:first + 64]}), range(first, min(first + 64, len(texts))))
              for first in range(0, len(texts), 64)]
    postings = merge_blocks(blocks, ("body",), len(texts))  # as the build merges its cached blocks
    for n, text in enumerate(texts):
        expected: dict[str, int] = {}
        for token in tokens(text):
            expected[token] = expected.get(token, 0) + 1
        mine = postings.doc == n
        found = {postings.terms[t]: int(f) for t, f in zip(postings.term_numbers()[mine], postings.tf[mine])}
        assert found == expected, text


def test_patched_postings_are_merged_postings():
    """A rebuild's postings (the kept ones with documents taken out and put in) are what merging every
    document gives, and every term whose rows in the changed documents differ is said to be touched."""
    import numpy as np

    rng = random.Random(7)
    alphabet = list("江中市交通局雲嶺縣号號〔〕2024AbZ１２ｚ 〇\n-·，。")
    text = lambda: "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
    docs = {n: {"title": text(), "body": text()} for n in rng.sample(range(300), 120)}

    def merged(documents: dict[int, dict[str, str]]):
        numbers = sorted(documents)
        blocks = [(analyze_block({f: [documents[n][f] for n in numbers[i:i + 32]] for f in ("title", "body")}), numbers[i:i + 32])
                  for i in range(0, len(numbers), 32)]
        return merge_blocks(blocks, ("title", "body"), len(numbers))

    before = merged(docs)
    after = dict(docs)
    removed = rng.sample(sorted(docs), 10)
    for n in removed[:5]:
        del after[n]
    for n in removed[5:]:  # edited: same number
        after[n] = {"title": docs[n]["title"] + text(), "body": docs[n]["body"]}
    for n in rng.sample(sorted(set(range(300)) - set(docs)), 5):  # added
        after[n] = {"title": text(), "body": text()}
    added = sorted(set(after) - set(docs) | set(removed[5:]))
    block = analyze_block({f: [after[n][f] for n in added] for f in ("title", "body")})
    patched, touched = replace_documents(before, removed, block, added)
    clean = merged(after)
    some = np.sort(np.asarray(rng.sample(range(len(clean.doc)), 200)))  # read where they lie, before the columns are made
    assert all(np.array_equal(a, b) for a, b in zip(patched.rows(some), (clean.doc[some], clean.field[some], clean.tf[some])))
    assert patched.terms == clean.terms and patched.doc_count == clean.doc_count
    for name in ("starts", "doc", "field", "tf"):
        assert np.array_equal(getattr(patched, name), getattr(clean, name)), name
    assert np.array_equal(patched.lengths[:len(clean.lengths)], clean.lengths) and not patched.lengths[len(clean.lengths):].any()
    unchanged = set(before.terms) - touched.keys()
    for t in unchanged & set(clean.terms):  # an untouched term's rows are as they were
        old, new = before.terms.index(t), clean.terms.index(t)
        rows = lambda p, i: [(int(d), int(f), int(n)) for d, f, n in zip(*(a[p.starts[i]:p.starts[i + 1]] for a in (p.doc, p.field, p.tf)))]
        assert rows(before, old) == rows(clean, new), t
    assert unchanged <= set(clean.terms)
    only = merged({7: docs[sorted(docs)[0]]})  # every row removed, others put in
    block = analyze_block({"title": ["江中市"], "body": ["交通局"]})
    patched, touched = replace_documents(only, [7], block, [7])
    clean = merged({7: {"title": "江中市", "body": "交通局"}})
    every = np.arange(len(clean.doc))
    assert all(np.array_equal(a, b) for a, b in zip(patched.rows(every), (clean.doc, clean.field, clean.tf)))
    assert patched.terms == clean.terms and all(np.array_equal(getattr(patched, n), getattr(clean, n)) for n in ("starts", "doc", "field", "tf"))


# --- the static index against whoosh --------------------------------------------------------------


@pytest.mark.parametrize("query", ["交通", "陈某", "2024", "号", "张某 交通局", "交通 xyzzy"])
def test_browser_scores_are_whoosh_scores(sample_site, page, query):
    """The scores ``search.js`` computes in Chromium from the shards and ``meta.json`` are whoosh's BM25F
    scores, for every result, in whoosh's order (ties by document number)."""
    page.goto(f"{sample_site.url}/search/")
    hits = page.evaluate(
        """async ([url, root, query]) => {
            const m = await import(url);
            const index = await new m.StaticIndex(root).load();
            return (await index.search(query)).hits;
        }""",
        [f"{sample_site.url}/theme/js/search.js", page.get_attribute("#search", "data-index"), query],
    )
    answer = search(sample_site.output, query, limit=None)
    assert answer.total and [n for n, _ in hits] == [h.n for h in answer.hits]
    assert [score for _, score in hits] == pytest.approx([h.score for h in answer.hits], rel=1e-9)


def _static_files(output: Path) -> dict[str, bytes]:
    """The static index's files (``index/<version>/…``, ``docs/<numbering>/…``) and their bytes."""
    root = output / "search"
    return {str(f.relative_to(root)): f.read_bytes() for f in root.glob("*/*/**/*") if f.is_file()}


def _unversioned(name: str) -> str:
    """``index/<version>/t/1f.bin`` → ``index/t/1f.bin``."""
    folder, _, rest = name.split("/", 2)
    return f"{folder}/{rest}"


def test_an_edit_rewrites_only_what_it_touches(tmp_path):
    """Scores are computed in the browser, so editing a title changes meta.json, the record's own file and
    the shards of its title's terms; every other file keeps its bytes and the version (the folder) stays.
    Adding a record numbers no other document anew (documents are numbered by a hash of their id), so
    it adds its own document's file in the same folders."""
    data = new_data_dir(tmp_path / "data")
    bodies = ["交通运输安全检查", "应急管理值班制度", "生态环境保护督察", "住房公积金管理", "教育经费使用审计", "水利工程建设质量"]
    for i, body in enumerate(bodies):
        write_record(data, "case", case_record(f"t-edit-{i}", title=f"{body}问题通报", body=f"{body}中发现问题，已责令整改。"))
    output = tmp_path / "site"
    build(data, output)
    before = _static_files(output)
    write_record(data, "case", case_record("t-edit-2", title="生态环境保护督察整改情况通报", body="生态环境保护督察中发现问题，已责令整改。"))
    build(data, output)
    after = _static_files(output)
    assert before.keys() == after.keys()  # same version, same files
    changed = {_unversioned(name) for name in after if after[name] != before[name]}
    shards = {name for name in changed if name.startswith("index/t/")}
    assert "index/meta.json" in changed and shards
    assert changed - shards - {"index/meta.json"} == {f"docs/{search(output, '整改情况').hits[0].n}.json"}
    assert len(shards) <= 2 * len(set(tokens("生态环境保护督察整改情况通报")))
    assert len(changed) < len(after) / 2
    write_record(data, "case", case_record("t-edit-9", title="新增记录"))
    build(data, output)
    added = _static_files(output)
    assert {_unversioned(name) for name in added.keys() - after.keys()} == {f"docs/{search(output, '新增记录').hits[0].n}.json"}
    assert after.keys() < added.keys()


def test_analysis_shared_with_forked_workers_makes_the_same_index(tmp_path, monkeypatch):
    """A clean build of many records analyzes blocks of them in forked workers beside its own
    (``workers.made_in_order``: each claims the next block when it is free); the static index, the document files and the whoosh index's
    hits are those of an analysis made in one process."""
    data = new_data_dir(tmp_path / "data")
    topics = ["交通運輸安全", "应急管理值班", "生态环境保护", "住房公积金", "教育经费使用", "水利工程建设", "Ｇ２０２４号"]
    for i in range(23):
        topic = topics[i % len(topics)]
        write_record(data, "case", case_record(f"t-par-{i:02d}", title=f"{topic}问题通报{i}", body=f"{topic}中发现问题 {i} 项。"))
    monkeypatch.setattr("gongkai.search.corpus.ANALYZE_DOCS", 2)  # twelve blocks
    monkeypatch.setattr("gongkai.search.corpus.PARALLEL_BLOCKS", 1 << 30)
    build(data, tmp_path / "one")
    monkeypatch.setattr("gongkai.search.corpus.PARALLEL_BLOCKS", 2)
    import gongkai.search.corpus as corpus_module

    analyzers = tmp_path / "analyzers"  # the process that analyzed each block, a line each
    analyze = corpus_module.analyze_block

    def noted(texts):
        with analyzers.open("a") as file:
            file.write(f"{os.getpid()}\n")
        time.sleep(0.02)  # (a block of two documents is made faster than a worker starts)
        return analyze(texts)

    monkeypatch.setattr(corpus_module, "analyze_block", noted)
    build(data, tmp_path / "shared")
    processes = analyzers.read_text().split()
    assert len(processes) == 12
    if available_cores() > 1:  # each process claims the next block when it is free: both made some
        assert str(os.getpid()) in processes and len(set(processes)) == 2
    assert _static_files(tmp_path / "shared") == _static_files(tmp_path / "one")
    # the workers also wrote their blocks' document files; the build took them over as its own
    keys = [json.loads((tmp_path / out / MANIFEST).read_text(encoding="utf-8"))["keys"] for out in ("shared", "one")]
    assert keys[0] == keys[1] and sum(name.startswith("search/docs/") for name in keys[0]) == 23
    for query in ("交通运输", "問題通報", "g2024", "整改"):
        ours, theirs = search(tmp_path / "shared", query, limit=None), search(tmp_path / "one", query, limit=None)
        assert [(h.n, h.score) for h in ours.hits] == [(h.n, h.score) for h in theirs.hits]


def test_search_document_files_are_compact_utf8_json_of_a_record_page(sample_site):
    """What the browser fetches for each hit (``search/docs/…/<n>.json``): one line of compact JSON in
    UTF-8, as json writes it (the Chinese text not escaped), naming a record page that is there."""
    files = sorted((sample_site.output / "search" / "docs").rglob("*.json"))
    assert files
    for path in files:
        text = path.read_text(encoding="utf-8")
        doc = json.loads(text)
        assert text == json.dumps(doc, ensure_ascii=False, separators=(",", ":")), path
        assert (sample_site.output / doc["u"] / "index.html").is_file(), doc["u"]


def test_a_build_process_starts_no_blas_threads():
    """The build makes no BLAS call, and OpenBLAS's threads (made when numpy is imported, woken around each
    of a build's forks) spun on the other core: importing the plugin first leaves numpy with none."""
    script = "import gongkai, numpy, os; print(len(os.listdir('/proc/self/task')))"
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    env["PYTHONPATH"] = str(ROOT / "plugins")
    threads = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    assert threads.stdout.strip() == "1"


def test_a_build_reuses_the_memory_it_frees_instead_of_faulting_fresh_pages_in(tmp_path):
    """glibc gave freed heap back to the system as soon as enough of its top was free, so a build's next
    lists and arrays faulted fresh pages in again (a clean build at 20,000 records: 790,000-860,000 page faults).
    A process that has built keeps its freed heap for reuse: of five rounds of 100 MB made and freed,
    only the first faults its pages in."""
    script = (
        "import resource, sys; from pathlib import Path; from gongkai.build import build_site\n"
        "build_site(Path(sys.argv[1]), Path(sys.argv[2]))\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt\n"
        "for round in range(5):\n"
        "    blocks = [bytearray(1 << 20) for _ in range(100)]\n"
        "    del blocks\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "plugins")}
    faulted = subprocess.run([sys.executable, "-c", script, str(ROOT / "data"), str(tmp_path / "out")], env=env,
                             capture_output=True, text=True, check=True, cwd=ROOT)
    round_pages = 100 * 256  # (4 KB pages)
    assert int(faulted.stdout.split()[-1]) < 2 * round_pages  # (103,288 without; 25,607 with)


@pytest.mark.parametrize("in_memory", [True, False])
def test_results_made_in_order_come_over_in_files_that_leave_nothing_behind(tmp_path, monkeypatch, in_memory):
    """``workers.made_in_order`` gives every result in order, whichever process made it. A worker hands
    each result over in a file without a name (in memory, or, on a system without files in memory, one
    unlinked at once in the scratch folder), so a build, even a killed one, leaves nothing there."""
    from gongkai import workers
    from gongkai.output import OutputTree

    if not in_memory:
        monkeypatch.delattr(workers.os, "memfd_create")
    scratch = tmp_path / "scratch"
    scratch.mkdir()

    def make(index):
        time.sleep(0.01)  # (so that both processes claim some)
        # what the scratch folder holds while results are made and handed over: what a kill would leave
        return {"index": index, "by": os.getpid(), "text": "块" * (index * 5000), "scratch": sorted(os.listdir(scratch))}

    results = list(workers.made_in_order(make, 12, OutputTree(tmp_path / "out"), workers=2, scratch=str(scratch)))
    assert [(r["index"], r["text"]) for r in results] == [(i, "块" * (i * 5000)) for i in range(12)]
    if available_cores() > 1:
        assert len({r["by"] for r in results}) == 2, "a forked worker made some of them"
    assert [r["scratch"] for r in results] == [[]] * 12 and list(scratch.iterdir()) == []


def test_a_forked_analysis_worker_failing_fails_the_build(tmp_path, monkeypatch):
    """A block that a forked worker fails to analyze stops the build with the worker's error, and the
    output that was there stays as it was."""
    data, output = new_data_dir(tmp_path / "data"), tmp_path / "out"
    for i in range(6):
        write_record(data, "case", case_record(f"t-fail-{i}", title=f"问题通报{i}"))
    build(data, output)
    before = {p.relative_to(output): p.read_bytes() for p in output.rglob("*") if p.is_file()}
    monkeypatch.setattr("gongkai.search.corpus.ANALYZE_DOCS", 1)
    monkeypatch.setattr("gongkai.search.corpus.PARALLEL_BLOCKS", 2)
    import gongkai.search.corpus as corpus_module

    analyze, parent = corpus_module.analyze_block, os.getpid()

    def failing_in_workers(texts):
        time.sleep(0.02)  # (so that the worker claims a block before this process has made them all)
        if os.getpid() != parent:
            raise ValueError("工作进程分析出错")
        return analyze(texts)

    monkeypatch.setattr(corpus_module, "analyze_block", failing_in_workers)
    write_record(data, "case", case_record("t-fail-0", title="改过的标题"))
    if available_cores() > 1:
        with pytest.raises(RuntimeError, match="工作进程分析出错"):
            build(data, output)
    assert {p.relative_to(output): p.read_bytes() for p in output.rglob("*") if p.is_file()} == before


@pytest.mark.parametrize("fold_documents", [64, 1])
def test_cached_rebuilds_equal_clean_builds(tmp_path, monkeypatch, fold_documents):
    """A rebuild takes the analysis of unchanged records and the encoded entries of unchanged terms from
    the build cache (the kept corpus and the changes since it, or, past ``FOLD_DOCUMENTS`` changed
    documents, the corpus written again); after edits, an addition and a removal its search files are
    a clean build's; a changes file that is torn or belongs to another corpus is ignored.
    whoosh's index is updated in place (edited, added and removed records' documents) while few
    documents are deleted, and its ranking is then a clean build's; past ``MAX_STALE_SHARE`` it is
    written whole and its scores are a clean build's too."""
    monkeypatch.setattr("gongkai.search.shards.ENCODE_ROWS", 16)  # several batches of terms to encode even for a few records
    monkeypatch.setattr("gongkai.search.index.MAX_STALE_SHARE", 0.2)  # two of twelve
    monkeypatch.setattr("gongkai.search.corpus.FOLD_DOCUMENTS", fold_documents)
    data = new_data_dir(tmp_path / "data")
    topics = ["交通运输安全", "应急管理值班", "生态环境保护", "住房公积金", "教育经费使用", "水利工程建设",
              "食品药品监管", "安全生产检查", "扶贫资金管理", "城市规划审批", "国有资产处置", "公共卫生防疫"]
    files = [write_record(data, "case", case_record(f"t-cache-{i}", title=f"{topic}问题通报", body=f"{topic}中发现问题，已责令整改。"))
             for i, topic in enumerate(topics)]
    cached, report = tmp_path / "cached", {}

    def rebuild() -> None:
        with build_epoch():
            build_site(data, cached, cache_dir=tmp_path / "cache", overrides={"SITEURL": "http://example.test/gongkai", "GONGKAI_REPORT": report})

    def edit(n: int, title: str):
        return lambda: write_record(data, "case", case_record(f"t-cache-{n}", title=title, body=f"{topics[n]}中发现问题，已整改。"))

    rebuild()
    # A clean build analyzes every record alone (memory); a rebuild patches the kept corpus beside the other steps.
    assert report["beside"] is None
    beside = ["search index", "sitemap"] if available_cores() > 1 else None
    changes = [  # (change, documents replaced in whoosh's index, or None: written whole)
        (lambda: None, 0),  # nothing changed: nothing analyzed, nothing replaced
        (edit(5, "水利工程建设整改情况通报"), 1),
        (edit(5, "水利工程建设整改情况再通报"), 1),
        (edit(3, "住房公积金整改通报"), None),  # a third stale document: past the share
        (edit(3, "住房公积金整改情况通报"), 1),
        (lambda: write_record(data, "case", case_record("t-cache-new", title="新增记录通报")), 1),  # added: nothing stale
        (lambda: files[8].unlink(), 1),  # the second stale document
        (edit(5, "水利工程建设整改情况三通报"), None),  # a third: past the share
        (lambda: (tmp_path / "cache" / "search-corpus-changes.pickle").write_bytes(b"torn"), 0),
        (edit(3, "住房公积金整改情况再通报"), 1),
    ]
    for step, (change, replaced) in enumerate(changes):
        held = tmp_path / f"held-{step}"  # the live index's files themselves (hard links): never written again
        held.mkdir()
        previous = {}
        for f in whoosh_dir(cached).iterdir():
            os.link(f, held / f.name)
            previous[f.name] = f.read_bytes()
        change()
        rebuild()
        # a removal analyzes nothing; without the changes file, every record changed since the corpus is analyzed again
        # (with fold_documents 1 the corpus was written again by the step before, so none)
        analyzed = {0: 0, 6: 0, 8: 0 if fold_documents == 1 else 3}
        assert report["search"]["documents_analyzed"] == analyzed.get(step, 1)
        assert report["beside"] == beside
        assert report["search"]["whoosh_replaced"] == replaced
        assert {f.name: f.read_bytes() for f in held.iterdir()} == previous
        clean = tmp_path / f"clean-{step}"
        build(data, clean)
        assert _static_files(cached) == _static_files(clean)
        for query in ("整改", "通报", "水利工程", "住房公积金"):
            ours, theirs = search(cached, query, limit=None), search(clean, query, limit=None)
            assert [h.n for h in ours.hits] == [h.n for h in theirs.hits]
            if replaced is None:
                assert [h.score for h in ours.hits] == [h.score for h in theirs.hits]


def test_many_updates_merge_their_segments_instead_of_writing_the_index_whole(tmp_path, monkeypatch):
    """Edit after edit, whoosh's index is updated in place: once it has ``MAX_SEGMENTS`` segments, the
    update segments are merged into the new one (the live files still untouched), it never grows past
    that many, and its ranking stays a clean build's."""
    from gongkai.search.index import open_index

    monkeypatch.setattr("gongkai.search.index.MAX_SEGMENTS", 3)
    monkeypatch.setattr("gongkai.search.index.MAX_STALE_SHARE", 1.0)  # never written whole for deletions here
    data = new_data_dir(tmp_path / "data")
    topics = ["交通运输安全", "应急管理值班", "生态环境保护", "住房公积金", "教育经费使用", "水利工程建设"]
    for i, topic in enumerate(topics):
        write_record(data, "case", case_record(f"t-merge-{i}", title=f"{topic}问题通报", body=f"{topic}中发现问题，已责令整改。"))
    cached, report = tmp_path / "cached", {}

    def rebuild() -> None:
        with build_epoch():
            build_site(data, cached, cache_dir=tmp_path / "cache", overrides={"GONGKAI_REPORT": report})

    rebuild()
    segment_counts = []
    for step in range(6):
        held = tmp_path / f"held-{step}"
        held.mkdir()
        previous = {}
        for f in whoosh_dir(cached).iterdir():
            os.link(f, held / f.name)
            previous[f.name] = f.read_bytes()
        n = step % len(topics)
        write_record(data, "case", case_record(f"t-merge-{n}", title=f"{topics[n]}整改通报第{step}次", body=f"{topics[n]}问题已整改。"))
        rebuild()
        assert report["search"]["whoosh_replaced"] == 1  # updated, never written whole
        assert {f.name: f.read_bytes() for f in held.iterdir()} == previous
        with open_index(cached).reader() as reader:
            segment_counts.append(len(reader.leaf_readers()))
        clean = tmp_path / f"clean-{step}"
        build(data, clean)
        for query in ("整改", "通报", topics[n], "问题"):
            assert [h.n for h in search(cached, query, limit=None).hits] == [h.n for h in search(clean, query, limit=None).hits]
    assert max(segment_counts) <= 3
    assert segment_counts[:3] == [2, 3, 2]  # the third update merged the two before it into its own


def test_kept_corpus_file_keeps_arrays_and_ignores_torn_or_foreign_files(tmp_path):
    """The kept corpus's file holds its arrays raw after the pickle; a file cut short, made under
    another salt or written otherwise holds nothing (the build then analyzes every record)."""
    import pickle

    import numpy as np

    from gongkai.search.kept import BuffersApart

    path = tmp_path / "corpus.pickle"
    value = {"doc": np.arange(100_000, dtype=np.int32), "lengths": np.ones((7, 3), dtype=np.int32), "terms": ["交通", "号"]}
    BuffersApart(path, "salt").save(value)
    back = BuffersApart(path, "salt").load()
    assert back["terms"] == value["terms"] and all(np.array_equal(back[k], value[k]) for k in ("doc", "lengths"))
    assert BuffersApart(path, "another salt").load() == {}
    whole = path.read_bytes()
    for size in (len(whole) - 1, len(whole) // 2, 40):
        path.write_bytes(whole[:size])
        assert BuffersApart(path, "salt").load() == {}
    path.write_bytes(pickle.dumps("salt") + pickle.dumps(value))  # a plain pickle under the same salt
    assert BuffersApart(path, "salt").load() == {}


# --- the page in Chromium ----------------------------------------------------------------------

QUERIES = [
    "张某",            # a name
    "陳某",            # a name typed in Traditional
    "交通局",          # a unit
    "应急管理局",      # a unit written in Traditional in some records
    "江委〔2024〕15号",  # a 文号
    "15号",
    "2023",            # a year
    "云岭市白水县",    # Simplified query over a Traditional record
    "東湖區",          # Traditional query over Simplified records
    "辞职",            # two characters inside 责令辞职 / 引咎辞职
    "述职",
    "张某 交通局",     # two words, both required
    "留黨察看",
    "交通 xyzzy",      # no record has both: records with either
]


def _open(page, base: str, **params) -> list[str]:
    query = params.get("q", "")
    page.goto(f"{base}/search/?{urlencode(params, quote_via=quote)}")
    page.wait_for_selector(f'#search-results[data-state="done"][data-query="{query}"]', state="attached", timeout=15000)
    return page.eval_on_selector_all("#search-results a", "links => links.map(a => a.href)")


def _whoosh_urls(sample_site, query: str, **filters) -> tuple[list[str], int]:
    answer = search(sample_site.output, query, limit=10, **filters)
    return [f"{sample_site.url}/{hit.url}" for hit in answer.hits], answer.total


@pytest.mark.parametrize("query", QUERIES)
def test_browser_ranks_like_whoosh(sample_site, page, query):
    expected, total = _whoosh_urls(sample_site, query)
    assert expected, f"whoosh finds nothing for {query!r}: pick a query the sample data answers"
    assert _open(page, sample_site.url, q=query) == expected
    status = page.inner_text("#search-status")
    assert str(total) in status


def test_simplified_and_traditional_queries_find_the_same_records(sample_site, page):
    simplified = _open(page, sample_site.url, q="云岭市白水县应急管理局")
    traditional = _open(page, sample_site.url, q="雲嶺市白水縣應急管理局")
    assert simplified == traditional
    assert f"{sample_site.url}/cases/yl-2020-0005/" in simplified  # written in Traditional


@pytest.mark.parametrize("filters", [{"kind": "case"}, {"region": "yunling"}, {"year": "2024"}, {"kind": "report", "region": "jiangzhong"}])
def test_filters_match_whoosh(sample_site, page, filters):
    expected, _ = _whoosh_urls(sample_site, "问题", **filters)
    assert expected
    found = _open(page, sample_site.url, q="问题", **filters)
    assert found == expected
    for name, value in filters.items():  # the form shows the filters of a shared URL
        assert page.input_value(f"#search-{name}") == value


def test_results_highlight_matches_and_announce_the_count(sample_site, page):
    _open(page, sample_site.url, q="交通局")
    marks = page.eval_on_selector_all("#search-results mark", "ms => ms.map(m => m.textContent)")
    assert marks and all("交通局" in m or m in ("交通", "通局") for m in marks)
    assert page.get_attribute("#search-status", "aria-live") == "polite"
    assert "找到" in page.inner_text("#search-status")
    assert page.is_hidden("#search-loading")


def test_typing_updates_results_and_the_shareable_url(sample_site, page):
    _open(page, sample_site.url)
    page.fill("#search-q", "辞职")
    page.wait_for_selector('#search-results[data-state="done"][data-query="辞职"]', state="attached")
    assert "q=%E8%BE%9E%E8%81%8C" in page.url
    page.select_option("#search-kind", "case")
    page.wait_for_function("document.location.search.includes('kind=case')")
    # (the URL changes as the filter's search starts: its results replace the list when it is done)
    page.wait_for_selector('#search-results[data-state="done"]', state="attached")
    page.keyboard.press("Tab")  # keyboard: arrow down from the box goes to the first result
    page.focus("#search-q")
    page.keyboard.press("ArrowDown")
    first = page.eval_on_selector("#search-results a", "a => a.href")
    assert page.evaluate("document.activeElement.href") == first
    page.keyboard.press("ArrowUp")
    assert page.evaluate("document.activeElement.id") == "search-q"


def test_without_javascript_the_page_points_to_the_listings(sample_site, browser):
    context = browser.new_context(java_script_enabled=False, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{sample_site.url}/search/?q=交通")
    assert page.is_visible("#search-loading")
    assert "JavaScript" in page.inner_text("#search-loading")
    links = page.eval_on_selector_all("#search-loading a", "links => links.map(a => a.href)")
    assert f"{sample_site.url}/cases/" in links
    context.close()


def test_page_has_no_inline_script(sample_site):
    import re

    html = sample_site.text("search/")
    assert re.findall(r"<script[^>]*>", html) == [f'<script type="module" src="{sample_site.url}/theme/js/search.js">']
    assert not re.search(r"\son[a-z]+=", html) and "style=" not in html


def test_javascript_analyzer_matches_python(sample_site, page):
    """The browser's folding and splitting give the same tokens as analysis.tokens for any text."""
    page.goto(f"{sample_site.url}/search/")
    texts = ["雲嶺市白水縣應急管理局原局長陳某", "江委发〔2024〕12号", "ＪＺ－２０２４ Hello", "二〇二四年 号 a", "\U00020000\U00020001x", "x" * 50]
    pairs = "".join(t + s for t, s in traditional_to_simplified().items())
    found = page.evaluate(
        """async ([url, pairs, texts]) => {
            const m = await import(url);
            const a = new m.Analyzer(pairs);
            return texts.map(t => a.tokens(t).map(x => x.text));
        }""",
        [f"{sample_site.url}/theme/js/search.js", pairs, texts],
    )
    assert found == [tokens(t) for t in texts]


# --- what never reaches the index ---------------------------------------------------------------


def test_non_public_records_are_not_findable(tmp_path, server, server_root):
    data = new_data_dir(tmp_path / "data")
    write_record(data, "case", case_record("t-public", title="公开记录甲乙", body="公开正文丙丁"))
    write_record(data, "case", case_record("t-draft", status="draft", title="草稿记录戊己", body="草稿正文庚辛"))
    write_record(data, "case", case_record("t-embargo", published="2099-01-01", title="预约记录壬癸", body="预约正文子丑"))
    withdrawn = case_record("t-gone", status="withdrawn", title="撤回记录寅卯", body="撤回正文辰巳")
    withdrawn["withdrawal"] = {"on": "2024-06-01", "reason": "信息有误"}
    write_record(data, "case", withdrawn)
    output = tmp_path / "site"
    build(data, output)
    assert [h.id for h in search(output, "甲乙 丙丁").hits] == ["t-public"]
    for secret in ("戊己", "庚辛", "壬癸", "子丑", "寅卯", "辰巳"):
        assert search(output, secret).total == 0
        needle = secret.encode("utf-8")
        for path in (output / "search").rglob("*"):
            if path.is_file():
                assert needle not in path.read_bytes(), path
        for path in whoosh_dir(output).rglob("*"):
            assert needle not in path.read_bytes(), path


# --- the terminal --------------------------------------------------------------------------------


def test_invoke_search_prints_ranked_results(sample_site):
    run = subprocess.run(
        [sys.executable, "-m", "invoke", "search", "云岭 应急管理局", "--output", str(sample_site.output)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert "找到" in run.stdout
    assert "陳某" in run.stdout and "/cases/yl-2020-0005/" in run.stdout
    first = run.stdout.splitlines()[1]
    assert first.strip().startswith("1.")


def test_invoke_search_without_an_index_says_how_to_build(tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "invoke", "search", "交通", "--output", str(tmp_path / "none")],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert run.returncode == 1
    assert "invoke build" in run.stderr


def test_a_lone_character_query_explains_itself(sample_site, page):
    assert _open(page, sample_site.url, q="镕") == []
    assert "两个或更多汉字" in page.inner_text("#search-status")
