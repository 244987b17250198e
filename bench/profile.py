"""A profile of our build on a synthetic data set (default 20,000 records).

    python -m bench.profile [--records 20000] [--seed 1] [--edit] [--cprofile | --memory]

Builds the cached data set (``bench/datasets.py``) in this process under
pyinstrument (a sampling profiler: little overhead, so the proportions are
those of a real build), from an empty output folder and an empty build cache.
With ``--edit`` it first builds twice (clean, then unchanged, which brings the
output to its steady state), changes one record's title and profiles the
rebuild instead. It prints the build's own step timings (the generator's
report) and the profile, and writes both to ``bench-results/``
(``profile-<records>[-edit].html`` and ``.txt``). ``--cprofile`` uses the
standard library's deterministic profiler instead (exact call counts, but it
slows Python code down unevenly), sorted by own time. ``--memory`` runs no
profiler but samples the memory (PSS) of the build and its worker processes,
and prints the peak of each step.

Worker processes (the catalog's parallel loading) are not sampled: their part
shows as time spent waiting in the main process.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import shutil
import sys
import time
from pathlib import Path

from .datasets import CACHE, ROOT, dataset, edit_title, plugins_importable, working_copy
from .run import SOURCE_DATE_EPOCH

RESULTS = ROOT / "bench-results"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--edit", action="store_true", help="profile the rebuild after one record's title changes")
    parser.add_argument("--cprofile", action="store_true", help="cProfile instead of pyinstrument")
    parser.add_argument("--memory", action="store_true", help="no profiler: the memory of the build (PSS of this process and its workers) per step")
    args = parser.parse_args(argv)

    os.environ["SOURCE_DATE_EPOCH"] = SOURCE_DATE_EPOCH
    work = CACHE / f"profile-{os.getpid()}"  # several developers may profile at once
    if work.exists():
        shutil.rmtree(work)
    os.environ["GONGKAI_CACHE"] = str(work / "build-cache")
    plugins_importable()
    from gongkai.build import build_site as build
    from gongkai.buildcache import default_cache_dir

    def build_site(data: Path, output: Path, report: dict | None = None):
        overrides = {"GONGKAI_REPORT": report} if report is not None else {}
        return build(data, output, cache_dir=default_cache_dir(), overrides=overrides)

    data = working_copy(dataset(args.records, args.seed).path, work / "data")
    output = work / "output"
    if args.edit:  # the steady state: the second rebuild recycles the tree the first one retired
        build_site(data, output)
        build_site(data, output)
        edit_title(data)

    name = f"{'memory' if args.memory else 'profile'}-{args.records}{'-edit' if args.edit else ''}"
    RESULTS.mkdir(exist_ok=True)
    started = time.perf_counter()
    if args.memory:
        result, profile_text = memory_by_step(build_site, data, output)
        elapsed = time.perf_counter() - started
    elif args.cprofile:
        profiler = cProfile.Profile()
        result = profiler.runcall(build_site, data, output)
        elapsed = time.perf_counter() - started
        text = io.StringIO()
        stats = pstats.Stats(profiler, stream=text)
        stats.sort_stats("tottime").print_stats(40)
        stats.sort_stats("cumulative").print_stats(40)
        profile_text = text.getvalue()
        stats.dump_stats(RESULTS / f"{name}.pstats")
    else:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.005)
        profiler.start()
        result = build_site(data, output)
        profiler.stop()
        elapsed = time.perf_counter() - started
        profile_text = profiler.output_text(unicode=True, color=False, show_all=False)
        (RESULTS / f"{name}.html").write_text(profiler.output_html(), encoding="utf-8")
    report = json.dumps(result.report, ensure_ascii=False, indent=1, default=str)
    summary = f"{name}: build_site {elapsed:.1f} s{'' if args.memory else ' (under the profiler)'}\nreport: {report}\n\n"
    (RESULTS / f"{name}.txt").write_text(summary + profile_text, encoding="utf-8")
    print(summary + profile_text)
    shutil.rmtree(work, ignore_errors=True)
    return 0


def memory_by_step(build_site, data: Path, output: Path):
    """Build while sampling the memory of this process and its children; the peak of each step."""
    import threading

    from gongkai.progress import _current_step

    from .measure import SAMPLE_EVERY, _descendants, _pss_kb

    report: dict = {}
    peaks: dict[str, tuple[int, int]] = {}
    done = threading.Event()

    def sample() -> None:
        while not done.wait(SAMPLE_EVERY):
            pids = _descendants(os.getpid())
            step = _current_step(report)
            total = sum(_pss_kb(pid) for pid in pids)
            peak, processes = peaks.get(step, (0, 0))
            peaks[step] = (max(peak, total), max(processes, len(pids)))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        result = build_site(data, output, report)
    finally:
        done.set()
        sampler.join()
    lines = ["step                 peak PSS (MB)  processes"]
    lines += [f"{step:<20} {kb / 1024:>13.0f}  {n:>9}" for step, (kb, n) in peaks.items()]
    return result, "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
