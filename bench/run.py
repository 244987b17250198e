"""``invoke bench``: our build against Hugo and plain Pelican on the same synthetic records.

For each size (1,000, 5,000 and 20,000 records by default; 50,000 with
``--huge``) it measures, each as a whole process:

- our full build from clean (empty output folder, empty build cache);
- our rebuild with nothing changed (the hourly embargo run of a quiet
  day; it also brings the output to its steady state: a first rebuild
  hard-links every unchanged file, later ones recycle the retired tree),
  then after editing one record's title, then after adding one record,
  then after deleting one (each on top of the previous output and build
  cache, as a clerk's successive commits would be);
- ``invoke validate`` alone (empty build cache);
- Hugo and plain Pelican building the same records as Markdown pages
  (``bench/anchors.py``), each from an empty output folder.

Every build starts with its input in the page cache, as on CI after a
checkout: ours reads a fresh copy of the data set, and the anchors' cached
sites and ``invoke validate``'s data set are read through first (``warm``:
this machine evicts page cache left unread).

Every measurement runs ``--runs`` times (default 3) and the table shows the
median. Our build's peak memory (a process tree, sampled: see
``measure.py``) comes from one more round of its own, untimed, because
sampling slows the build down. Hugo runs once after each of our timed
rounds (``INTERLEAVED``): the target is a ratio to Hugo, and this machine's
speed drifts within a run (the same clean build took 53.5, then 48.0, then
40.4 CPU s in one run, with Hugo's three runs after them all), so the two are
measured side by side in time. Plain Pelican is slow (over a minute at
20,000), so it runs once per size, and further runs are made (smallest size
first) only while the anchors' own time stays within ``ANCHOR_BUDGET_S``
(15 minutes); the ``runs`` column says how many were made. ``--commit REV``
measures a snapshot of one commit (``git archive`` into ``.cache/bench/``)
instead of the working tree, where other developers' half-made edits may be. Results are printed as one table and written as JSON
(default ``bench-results/bench.json``). With ``--search`` it also runs the
search benchmark (``gongkai.search.bench``: our index against Pagefind, in
Chromium) on a fresh build of each size and keeps its figures in the JSON.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from rich.cells import cell_len
from rich.console import Console
from rich.table import Table

from . import anchors
from .datasets import CACHE, ROOT, DataSet, add_record, dataset, delete_record, edit_title, plugins_importable, working_copy
from .measure import (TRASH_PREFIX, CommandFailed, Sample, Series, empty_trash, fresh_dir, gnu_time_available,
                      measure, remove_now, set_aside, settle, warm)

DEFAULT_SIZES = (1000, 5000, 20000)
HUGE_SIZE = 50000
ANCHOR_BUDGET_S = 15 * 60
INTERLEAVED = ("hugo",)
"""The anchors measured once after each of our timed rounds, not after all of them."""
SOURCE_DATE_EPOCH = "1767225600"  # 2026-01-01T00:00:00Z: every synthetic record (2015–2025) is public

OURS = ("build_clean", "rebuild_unchanged", "rebuild_edit", "rebuild_add", "rebuild_delete", "build_fresh_output", "validate")
ANCHORS = ("hugo", "pelican")
LABELS = {
    "build_clean": "本站 全量构建（空输出、空缓存）",
    "rebuild_unchanged": "本站 无改动重建",
    "rebuild_edit": "本站 改一条标题后重建",
    "rebuild_add": "本站 新增一条后重建",
    "rebuild_delete": "本站 删除一条后重建",
    "build_fresh_output": "本站 空输出、保留缓存",
    "validate": "本站 invoke validate",
    "hugo": "Hugo 全量构建",
    "pelican": "Pelican 全量构建",
}

console = Console(highlight=False, width=None if sys.stdout.isatty() else 160)
tree = ROOT
"""The code being measured: this checkout, or a snapshot of one commit (``--commit``)."""


def source_tree(revision: str) -> Path:
    """A snapshot of ``revision`` (``git archive``) in the cache, so others' unsaved edits are not measured."""
    return source_trees([revision])[0]


def source_trees(revisions: list[str]) -> list[Path]:
    """``source_tree`` of each of ``revisions`` (``bench.paired`` compares two); older snapshots are removed."""
    made = [_snapshot(revision) for revision in revisions]
    for stale in CACHE.glob("tree-*"):
        if stale not in made:
            shutil.rmtree(stale)
    return made


def _snapshot(revision: str) -> Path:
    import tarfile

    sha = subprocess.run(["git", "-C", str(ROOT), "rev-parse", f"{revision}^{{commit}}"],
                         capture_output=True, text=True, check=True).stdout.strip()
    target = CACHE / f"tree-{sha[:12]}"
    if not target.is_dir():
        partial = fresh_dir(CACHE / f".tree-{sha[:12]}.partial")
        archive = subprocess.Popen(["git", "-C", str(ROOT), "archive", "--format=tar", sha], stdout=subprocess.PIPE)
        with tarfile.open(fileobj=archive.stdout, mode="r|") as tar:
            # (extraction filters came in Python 3.11.4; our own commit's archive is trusted before it)
            tar.extractall(partial, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
        if archive.wait() != 0:
            raise SystemExit(f"git archive {sha} failed")
        partial.rename(target)
    return target


@dataclass
class SizeResult:
    data: DataSet
    series: dict[str, Series] = field(default_factory=dict)
    search: dict | None = None

    def series_for(self, name: str) -> Series:
        return self.series.setdefault(name, Series())


def _env(cache: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["SOURCE_DATE_EPOCH"] = SOURCE_DATE_EPOCH
    env["GONGKAI_CACHE"] = str(cache)
    env.pop("PYTHONPATH", None)
    # Python's default, as a server runs it: this machine sets PYTHONDONTWRITEBYTECODE for every process,
    # with which each measured command compiled the plugin from source (≈0.1 s; tasks.py lets it be cached).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _invoke(*args: str) -> list[str]:
    return [sys.executable, "-m", "invoke", *args]


def _clean(*paths: Path) -> None:
    """Move aside each path and what a build leaves beside it (``build.beside_output``: a whoosh index
    left there, say, is updated in place by the next build, not written whole)."""
    plugins_importable()
    from gongkai.build import beside_output

    for path in paths:
        for candidate in (path, *beside_output(path)):
            set_aside(candidate)


def _record(result: SizeResult, name: str, sample: Sample, memory_only: bool = False) -> None:
    series = result.series_for(name)
    (series.memory_samples if memory_only else series.samples).append(sample)
    label = LABELS[name] + ("（只测内存）" if memory_only else "")
    label += " " * max(0, 34 - cell_len(label))
    cpu = f"CPU {sample.cpu_s:7.1f} s" if sample.cpu_s is not None else ""
    console.print(f"  {result.data.count:>6,} 条  {label} {sample.wall_s:8.2f} s  {cpu}  {sample.peak_kb / 1024:6.0f} MB  负载 {os.getloadavg()[0]:.1f}")


def _measure_ours(result: SizeResult, name: str, command: list[str], env: dict[str, str], memory_round: bool) -> None:
    """One run of our command: timed, or, in the memory round, only for its peak memory (our build is
    several processes, and sampling their PSS slows it down: ``measure``)."""
    _record(result, name, measure(command, cwd=tree, env=env, sample_tree=memory_round), memory_only=memory_round)


def measure_ours(result: SizeResult, runs: int, work: Path, after_round: Callable[[], None] = lambda: None) -> None:
    """``invoke validate`` alone, then a clean build, edit / add / delete rebuilds on top of it and a build
    into a fresh output folder beside that build cache: one memory round, then ``runs`` timed ones, each
    followed by ``after_round()``."""
    for number in range(runs + 1):
        cache = work / "validate-cache"
        _clean(cache)
        warm(result.data.path)
        _measure_ours(result, "validate", _invoke("validate", "--data", str(result.data.path)), _env(cache), number == 0)
    _clean(work / "validate-cache")
    for number in range(runs + 1):
        output, cache = work / "output", work / "build-cache"
        _clean(work / "data", output, cache)
        settle()
        data = working_copy(result.data.path, work / "data")
        env = _env(cache)
        build = _invoke("build", "--data", str(data), "--output", str(output))
        _measure_ours(result, "build_clean", build, env, number == 0)
        rebuilds = (("rebuild_unchanged", lambda data: None), ("rebuild_edit", edit_title),
                    ("rebuild_add", add_record), ("rebuild_delete", delete_record))
        for name, change in rebuilds:
            change(data)
            _measure_ours(result, name, build, env, number == 0)
        # A CI job that keeps the build cache but not the output: every file made again, from the cache.
        fresh = work / "fresh-output"
        _clean(fresh)
        _measure_ours(result, "build_fresh_output", _invoke("build", "--data", str(data), "--output", str(fresh)), env,
                      number == 0)
        _clean(fresh)
        if number:
            after_round()
    _clean(work / "data", work / "output", work / "build-cache")


def measure_anchor(result: SizeResult, name: str, work: Path) -> None:
    hugo_site, pelican_site = anchors.anchor_sites(result.data)
    output = fresh_dir(work / f"{name}-output")
    if name == "hugo":
        command, cwd = anchors.hugo_command(hugo_site, output), hugo_site
    else:
        command, cwd = anchors.pelican_command(pelican_site, output), pelican_site
    env = _env(work / "anchor-cache")
    env["HUGO_CACHEDIR"] = str(fresh_dir(work / "hugo-cache"))
    settle()
    warm(cwd)
    _record(result, name, measure(command, cwd=cwd, env=env))
    _clean(output, work / "hugo-cache")


def search_numbers(data: DataSet, work: Path) -> dict | None:
    """The search developer's benchmark (``gongkai.search.bench``: our index against Pagefind), when present.

    Run as its own process on a fresh build of the data set; its JSON is kept
    in ours and its table printed after ours.
    """
    if not (tree / "plugins" / "gongkai" / "search" / "bench.py").is_file():
        return None
    output, result_file = work / "search-output", work / "search.json"
    _clean(output)
    env = _env(work / "search-cache")
    env["PYTHONPATH"] = str(tree / "plugins")
    command = [sys.executable, "-m", "gongkai.search.bench", str(output), "--data", str(data.path), "--json", str(result_file)]
    finished = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True)
    _clean(output, work / "search-cache")
    if finished.returncode != 0 or not result_file.is_file():
        return {"error": (finished.stdout + finished.stderr).strip().splitlines()[-5:]}
    result = json.loads(result_file.read_text(encoding="utf-8"))
    result["table"] = finished.stdout.strip()
    return result


def ratio(ours: Series | None, anchor: Series | None) -> float | None:
    if not ours or not anchor or not ours.runs or not anchor.runs:
        return None
    return ours.median_s / anchor.median_s


def paired_ratios(ours: Series | None, anchor: Series | None) -> list[float]:
    """Each of our runs over the anchor's run of the same round (``INTERLEAVED``): the machine's
    drift within a run falls on both sides of each ratio alike."""
    if not ours or not anchor or ours.runs != anchor.runs:
        return []
    return [mine.wall_s / theirs.wall_s for mine, theirs in zip(ours.samples, anchor.samples)]


@functools.cache
def _versions() -> dict[str, str]:
    def run(command: list[str]) -> str:
        try:
            return subprocess.run(command, capture_output=True, text=True, timeout=60).stdout.strip().splitlines()[0]
        except (OSError, IndexError, subprocess.SubprocessError):
            return "?"

    import pelican

    return {
        "python": platform.python_version(),
        "pelican": pelican.__version__,
        "hugo": run([anchors.hugo_binary(), "version"]),
        "commit": run(["git", "-C", str(tree), "describe", "--always", "--dirty"]) if tree == ROOT else tree.name.removeprefix("tree-"),
        "cpus": str(os.cpu_count()),
        "machine": f"{platform.system()} {platform.machine()}",
    }


def as_json(results: list[SizeResult], args: argparse.Namespace, command: str, elapsed: float) -> dict:
    sizes = []
    for result in results:
        count = result.data.count
        measured = {name: result.series[name].as_dict(count) for name in (*OURS, *ANCHORS) if name in result.series}
        for name in OURS:
            if name in measured and name != "validate":
                for anchor in ANCHORS:
                    value = ratio(result.series.get(name), result.series.get(anchor))
                    measured[name][f"ratio_to_{anchor}"] = round(value, 3) if value is not None else None
        for anchor in INTERLEAVED:
            if "build_clean" in measured:
                pairs = paired_ratios(result.series.get("build_clean"), result.series.get(anchor))
                measured["build_clean"][f"paired_ratios_to_{anchor}"] = [round(r, 3) for r in pairs]
        sizes.append({
            "records": count,
            "seed": result.data.seed,
            "dataset": result.data.key,
            "generated_s": round(result.data.generated_s, 2) if result.data.generated_s is not None else None,
            "measurements": measured,
            "search": result.search,
        })
    return {
        "command": command,
        "runs_requested": args.runs,
        "source_date_epoch": SOURCE_DATE_EPOCH,
        "memory": "peak_mb = max(GNU time %M of the largest process, sampled PSS sum of the process tree); our"
        " builds' trees are sampled in a round of their own (memory_samples), not in the timed runs"
        + ("" if gnu_time_available() else " — /usr/bin/time missing: sampled only"),
        "versions": _versions(),
        "elapsed_s": round(elapsed, 1),
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "note": "wall times on a shared machine: compare rows of one run, and watch the load average",
        "sizes": sizes,
    }


def table(results: list[SizeResult], title: str) -> Table:
    grid = Table(title=title, title_justify="left")
    for heading, justify in (
        ("记录数", "right"), ("测量", "left"), ("次数", "right"), ("中位数 s", "right"), ("最小–最大 s", "right"),
        ("ms/条", "right"), ("CPU s", "right"), ("峰值内存 MB", "right"), ("÷ Hugo", "right"), ("÷ Pelican", "right"),
    ):
        grid.add_column(heading, justify=justify)  # type: ignore[arg-type]
    for result in results:
        for index, name in enumerate(n for n in (*OURS, *ANCHORS) if n in result.series):
            series = result.series[name]
            ratios = ["", ""]
            if name in OURS and name != "validate":
                ratios = [f"{r:.2f}×" if (r := ratio(series, result.series.get(a))) is not None else "—" for a in ANCHORS]
            grid.add_row(
                f"{result.data.count:,}" if index == 0 else "",
                LABELS[name],
                str(series.runs),
                f"{series.median_s:.2f}",
                f"{series.min_s:.2f}–{series.max_s:.2f}",
                f"{series.median_s * 1000 / result.data.count:.2f}",
                f"{series.median_cpu_s:.1f}" if series.median_cpu_s is not None else "—",
                f"{series.peak_mb:.0f}",
                *ratios,
            )
        grid.add_section()
    return grid


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="invoke bench", description="本站构建与 Hugo、Pelican 的对照基准测试")
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)), help="记录数，逗号分隔（默认 1000,5000,20000）")
    parser.add_argument("--huge", action="store_true", help=f"另加 {HUGE_SIZE:,} 条")
    parser.add_argument("--runs", type=int, default=3, help="每项测量的次数（取中位数；默认 3）")
    parser.add_argument("--seed", type=int, default=1, help="合成数据的随机种子（默认 1）")
    parser.add_argument("--skip-anchors", action="store_true", help="不测 Hugo 与 Pelican")
    parser.add_argument("--search", action="store_true", help="另测搜索（gongkai.search.bench：本站索引与 Pagefind，需 Chromium）")
    parser.add_argument("--commit", help="测量某次提交的快照（如 HEAD），而不是工作区（他人未提交的修改不计入）")
    parser.add_argument("--json", type=Path, default=ROOT / "bench-results" / "bench.json", help="JSON 结果文件")
    args = parser.parse_args(argv)
    args.size_list = sorted({int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()} | ({HUGE_SIZE} if args.huge else set()))
    if args.runs < 1 or not args.size_list or min(args.size_list) < 1:
        parser.error("--runs 与 --sizes 须为正整数")
    return args


def main(argv: list[str] | None = None, command: str | None = None) -> int:
    global tree
    args = parse_args(argv)
    command = command or "invoke bench " + " ".join(argv or [])
    tree = source_tree(args.commit) if args.commit else ROOT
    if args.commit:
        console.print(f"测量提交 {args.commit} 的快照：{tree.relative_to(ROOT)}")
    started = time.perf_counter()
    work = CACHE / "work"
    for leftover in (work, *CACHE.glob(f"{TRASH_PREFIX}*")):  # of a stopped run (its trash in `work` goes with it)
        remove_now(leftover)
    work.mkdir(parents=True)
    if not gnu_time_available():
        console.print("[yellow]没有 /usr/bin/time（apt-get install time）：峰值内存仅为 /proc 采样值。[/]")
    results: list[SizeResult] = []

    def save(complete: bool) -> dict:
        """Write what has been measured so far (after each size, so a long run that is stopped keeps its numbers)."""
        report = as_json(results, args, command, time.perf_counter() - started)
        report["complete"] = complete
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        return report

    try:
        for count in args.size_list:
            console.print(f"[bold]{count:,} 条记录[/]")
            data = dataset(count, args.seed)
            console.print(f"  数据：{data.path.relative_to(ROOT)}" + (f"（生成用时 {data.generated_s:.1f} s）" if data.generated_s else "（缓存）"))
            result = SizeResult(data)
            results.append(result)
            interleaved = () if args.skip_anchors else INTERLEAVED

            def after_round(result: SizeResult = result) -> None:
                for name in interleaved:
                    measure_anchor(result, name, work)

            measure_ours(result, args.runs, work, after_round)
            if args.search:
                result.search = search_numbers(data, work)
            if not args.skip_anchors:
                for name in ANCHORS:
                    if name not in interleaved:
                        measure_anchor(result, name, work)
            save(complete=False)
        if not args.skip_anchors and args.runs > 1:
            # Extra anchor runs, smallest size first, while the anchors' own time stays within budget.
            spent = sum(s.wall_s for r in results for a in ANCHORS for s in r.series[a].samples)
            for result in results:
                for name in ANCHORS:
                    one_run = result.series[name].samples[0].wall_s
                    while result.series[name].runs < args.runs and spent + one_run <= ANCHOR_BUDGET_S:
                        measure_anchor(result, name, work)
                        spent += result.series[name].samples[-1].wall_s
            save(complete=False)
    except CommandFailed as error:
        console.print(f"[red]测量失败：[/]{error}")
        save(complete=False)
        return 1
    finally:
        remove_now(work)
        empty_trash()
    report = save(complete=True)
    console.print()
    console.print(table(results, f"{command}（中位数；{report['versions']['cpus']} 核；用时 {report['elapsed_s'] / 60:.1f} 分钟）"))
    for result in results:
        for anchor in INTERLEAVED:
            if pairs := paired_ratios(result.series.get("build_clean"), result.series.get(anchor)):
                shown = "、".join(f"{r:.2f}×" for r in pairs)
                console.print(f"{result.data.count:,} 条：本站全量构建 ÷ 同一轮的 {LABELS[anchor]}：{shown}（中位数 {statistics.median(pairs):.2f}×）")
    if any(r.series[a].runs < args.runs for r in results for a in ANCHORS if a in r.series):
        console.print(f"对照站点的测量总时长以约 {ANCHOR_BUDGET_S // 60} 分钟为限，部分只测了较少次数：见「次数」列。")
    for result in results:
        if result.search:
            console.print(f"\n[bold]搜索（{result.data.count:,} 条，gongkai.search.bench）[/]")
            console.print(result.search.get("table") or json.dumps(result.search, ensure_ascii=False), markup=False)
    console.print(f"结果已写入 {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
