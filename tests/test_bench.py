"""The benchmark's own pieces (no timing): its edits keep a data set valid, its anchor pages
carry each record, a measured process reports time and memory, and the build's summary counts."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from rich.console import Console

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import anchors  # noqa: E402
from bench.datasets import add_record, delete_record, edit_title, record_paths  # noqa: E402
from bench.measure import CommandFailed, measure  # noqa: E402
from conftest import SAMPLE_DATA, build  # noqa: E402
from gongkai.catalog import load_catalog  # noqa: E402
from gongkai.progress import count_outputs, files_under, run_with_progress, summary_line  # noqa: E402
from gongkai.synthetic import generate  # noqa: E402


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("bench") / "data"
    generate(data, 30, seed=7)
    return data


def test_edits_keep_the_data_valid_and_change_one_record_each(synthetic, tmp_path):
    import shutil

    data = tmp_path / "data"
    shutil.copytree(synthetic, data)
    before = {item.record.id: item.record.title for item in load_catalog(data, workers=1).loaded}
    edited = edit_title(data)
    added = add_record(data)
    deleted = delete_record(data)
    after = {item.record.id: item.record.title for item in load_catalog(data, workers=1).loaded}
    assert after[edited.stem] == before[edited.stem] + "（基准测试修改）"
    assert added.stem in after and added.stem not in before
    assert deleted.stem in before and deleted.stem not in after
    assert len(after) == len(before)
    assert len(record_paths(data)) == len(before)


def test_anchor_pages_carry_title_date_terms_and_body(synthetic):
    record, facts = next(iter(anchors._public_records(synthetic)))
    hugo = anchors._hugo_page(record, facts)
    pelican = anchors._pelican_page(record, facts)
    assert hugo.startswith("---\n{") and f'"title": "{record.title}"' in hugo
    assert facts["regions"][0] in hugo and facts["years"][0] in hugo
    assert pelican.startswith(f"Title: {record.title}\n") and f"Slug: {record.id}\n" in pelican
    assert f"Category: {facts['kind_title']}" in pelican and facts["organizations"][0] in pelican
    assert (record.body or "").splitlines()[0] in hugo and (record.body or "").splitlines()[0] in pelican


def test_measure_reports_wall_time_memory_and_failure(tmp_path):
    sample = measure([sys.executable, "-c", "x = bytearray(60_000_000)"], cwd=tmp_path)
    assert sample.wall_s > 0
    assert sample.peak_kb > 50_000
    with pytest.raises(CommandFailed):
        measure([sys.executable, "-c", "raise SystemExit(3)"], cwd=tmp_path)


def test_build_summary_counts_pages_and_feeds(tmp_path):
    names = ["cases/a/index.html", "index.html", "feeds/all.atom.xml", "sitemap.xml"]
    assert count_outputs(names) == {"pages": 2, "feeds": 1, "files": 4}
    result, seconds = run_with_progress(lambda report: report.update(records=2) or "done", Console(file=None, force_terminal=False))
    assert result == "done" and seconds >= 0
    report = {"records": 2, "tombstones": 1, "reused": 3, **count_outputs(names)}
    line = summary_line(tmp_path, report, 1.25)
    assert line == f"已生成 {tmp_path}：2 条记录（另有 1 条已撤回），2 个页面，1 个订阅源（共 4 个文件，3 个沿用上次构建），用时 1.2 秒"


def test_progress_names_the_step_that_is_running():
    """A clean build makes the search index first (``BACKGROUND_STEPS`` in this process): the display
    names the step running, not the first of ``OUTPUT_STEPS`` not yet done."""
    from gongkai.progress import _current_step
    from gongkai.workers import run_steps

    report: dict = {"steps": {"bodies": 0.1}}
    seen = []
    steps = [(name, lambda site: seen.append(_current_step(report))) for name in ("search index", "sitemap", "pages", "feeds")]
    run_steps(None, steps, report["steps"])
    assert seen == ["生成搜索索引", "生成站点地图", "生成页面", "生成订阅源"]
    assert all(isinstance(seconds, float) for seconds in report["steps"].values())


def test_a_real_build_reports_what_is_in_its_output(tmp_path):
    """The summary's counts come from what the build wrote, not a walk; they must agree with the folder."""
    result = build(SAMPLE_DATA, tmp_path / "out", siteurl="")
    walked = count_outputs(files_under(tmp_path / "out"))
    assert {k: result.report[k] for k in walked} == walked


def test_paired_ratios_divide_each_of_our_runs_by_the_anchor_run_of_its_round():
    from bench.measure import Sample, Series
    from bench.run import paired_ratios

    ours = Series([Sample(25.0, 0, 0, None), Sample(30.0, 0, 0, None), Sample(24.0, 0, 0, None)])
    hugo = Series([Sample(12.5, 0, 0, None), Sample(20.0, 0, 0, None), Sample(16.0, 0, 0, None)])
    assert paired_ratios(ours, hugo) == [2.0, 1.5, 1.5]
    assert paired_ratios(ours, Series(hugo.samples[:2])) == []  # rounds that do not pair up give none


def test_paired_builds_alternate_their_order_and_compare_round_by_round(synthetic, tmp_path, monkeypatch):
    """``bench.paired``: each round builds the same records from clean with both trees, the order
    alternating, each build's time on its own side of the round; the change is the median of the
    rounds' differences. A side swapped would turn a saving into a loss."""
    from bench import paired
    from bench.measure import Sample

    sample = paired.build_once(ROOT, synthetic, tmp_path / "real")  # one real build, timed, its folders removed
    assert sample.wall_s > 0 and not (tmp_path / "real").exists()

    built: list[str] = []
    times = iter([24.0, 22.0, 24.0, 23.0, 26.0, 30.0])  # (before, after), (after, before), (before, after)

    def fake_build(tree, data, folder, aside=False):
        assert not aside
        built.append(tree.name)
        wall = next(times)
        return Sample(wall, 0, 0, wall * 1.5)  # (CPU: one and a half cores)

    monkeypatch.setattr(paired, "build_once", fake_build)
    rounds = paired.compare(tmp_path / "before", tmp_path / "after", synthetic, 3, tmp_path / "work")
    assert built == ["before", "after", "after", "before", "before", "after"]
    assert [(r.before.wall_s, r.after.wall_s, r.after_first) for r in rounds] == [
        (24.0, 22.0, False), (23.0, 24.0, True), (26.0, 30.0, False)]
    assert paired.summary(rounds) == {"before_wall_s": 24.0, "after_wall_s": 24.0, "wall_difference_s": 1.0,
                                      "cpu_difference_s": 1.5, "after_faster": 1, "rounds": 3}


def test_old_runs_are_moved_aside_and_deleted_at_the_end_and_only_a_deletion_makes_the_next_run_wait(tmp_path, monkeypatch):
    """A run's folders are renamed (no inode freed, so no later build is timed on ext4's penalty for
    files made after a deletion), deleted by ``empty_trash``; ``settle`` waits only after a real deletion."""
    from bench import measure as bench_measure

    waits: list[float] = []
    monkeypatch.setattr(bench_measure.time, "sleep", waits.append)
    monkeypatch.setattr(bench_measure.os, "sync", lambda: None)
    monkeypatch.setattr(bench_measure, "_last_deleted", 0.0)
    monkeypatch.setattr(bench_measure, "DELETION_MARK", tmp_path / "marks" / "last-deletion")
    output = tmp_path / "output"
    (output / "cases").mkdir(parents=True)
    (output / "cases" / "index.html").write_text("旧", encoding="utf-8")

    fresh = bench_measure.fresh_dir(output)
    assert fresh.is_dir() and not any(fresh.iterdir())
    aside = [p for p in tmp_path.iterdir() if p.name.startswith(bench_measure.TRASH_PREFIX)]
    assert len(aside) == 1 and (aside[0] / "cases" / "index.html").read_text(encoding="utf-8") == "旧"
    bench_measure.settle()
    assert waits == []  # nothing was deleted: no wait

    bench_measure.empty_trash()
    assert not aside[0].exists() and sorted(p.name for p in tmp_path.iterdir()) == ["marks", "output"]
    bench_measure.settle()
    assert len(waits) == 1 and bench_measure.RECENT_S - 5 < waits[0] <= bench_measure.RECENT_S

    # The next run (a new process) waits too: the last run emptied its trash as it ended.
    monkeypatch.setattr(bench_measure, "_last_deleted", 0.0)
    bench_measure.settle()
    assert len(waits) == 2 and bench_measure.RECENT_S - 5 < waits[1] <= bench_measure.RECENT_S
    bench_measure.DELETION_MARK.write_text(f"{bench_measure.time.time() - bench_measure.RECENT_S - 1}\n", encoding="utf-8")
    bench_measure.settle()
    assert len(waits) == 2  # long enough ago


def test_a_clean_build_of_the_benchmark_finds_nothing_of_the_last_build_beside_its_output(tmp_path, monkeypatch):
    """Before each clean build the benchmark moves the last build's output aside, with its staging and
    spare trees and its whoosh index (``<output>.whoosh``): a whoosh index left there is updated in
    place by the next build, not written whole, which made "clean" builds cheaper than clean."""
    from bench import measure as bench_measure
    from bench import run
    from gongkai.search.folders import whoosh_dir

    monkeypatch.setattr(bench_measure, "_trash", [])
    monkeypatch.setattr(bench_measure, "_last_deleted", 0.0)
    monkeypatch.setattr(bench_measure, "DELETION_MARK", tmp_path.parent / f"{tmp_path.name}-last-deletion")
    output = tmp_path / "output"
    build(SAMPLE_DATA, output)
    assert whoosh_dir(output).is_dir()
    run._clean(output)
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith(bench_measure.TRASH_PREFIX)] == []
    bench_measure.empty_trash()
    assert list(tmp_path.iterdir()) == []
