"""What ``invoke build`` shows while it runs, and the one line it prints at the end.

A build of tens of thousands of records takes a while, so when the terminal
is interactive and the build has run for ``SHOW_AFTER_S`` seconds, a spinner
(``rich``) names the step under way and the time so far; it disappears when
the build ends. The step comes from the generator's report
(``GONGKAI_REPORT``: each output step is entered there when it finishes), so
nothing in the build itself knows about the display. Builds that finish
sooner, and builds in CI or tests (no terminal), show nothing but the summary.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterable

from rich.console import Console

SHOW_AFTER_S = 2.0

STEP_LABELS = {
    "pages": "页面",
    "feeds": "订阅源",
    "open data": "开放数据",
    "search index": "搜索索引",
    "sitemap": "站点地图",
}


def _current_step(report: dict[str, Any]) -> str:
    from .generator import OUTPUT_STEPS

    done = report.get("steps")
    if done is None:
        return "读取并校验记录"
    # (a snapshot, taken in one C call: the build's thread enters steps while this one reads)
    running = [name for name, seconds in list(done.items()) if seconds is None]  # (``workers.run_steps``)
    if running:  # the search index first on a clean build: not in OUTPUT_STEPS's order
        return f"生成{STEP_LABELS.get(running[0], running[0])}"
    for name, _ in OUTPUT_STEPS:
        if name not in done:
            return f"生成{STEP_LABELS.get(name, name)}"
    return "收尾"


def run_with_progress(build: Callable[[dict[str, Any]], Any], console: Console | None = None) -> tuple[Any, float]:
    """Call ``build(report)`` (which passes ``report`` to the build as ``GONGKAI_REPORT``); its result and seconds."""
    console = console or Console(stderr=True)
    report: dict[str, Any] = {}
    finished = threading.Event()
    started = time.perf_counter()

    def show() -> None:
        if finished.wait(SHOW_AFTER_S):
            return
        with console.status("", spinner="dots") as status:
            while not finished.wait(0.2):
                status.update(f"正在构建：{_current_step(report)}……（{time.perf_counter() - started:.0f} 秒）")

    display = threading.Thread(target=show, daemon=True) if console.is_terminal else None
    if display:
        display.start()
    try:
        result = build(report)
    finally:
        finished.set()
        if display:
            display.join()
    return result, time.perf_counter() - started


def count_outputs(names: Iterable[str]) -> dict[str, int]:
    """HTML pages, Atom/RSS feeds and all files among output file names (``cases/x/index.html``)."""
    pages = feeds = files = 0
    for name in names:
        files += 1
        if name.endswith(".html"):
            pages += 1
        elif name.startswith("feeds/") and name.endswith(".xml"):
            feeds += 1
    return {"pages": pages, "feeds": feeds, "files": files}


def files_under(folder: Path) -> list[str]:
    """Every file under ``folder``, as names relative to it (``a/b.html``)."""
    return [
        os.path.relpath(os.path.join(root, name), folder).replace(os.sep, "/")
        for root, _, names in os.walk(folder) for name in names
    ]


def summary_line(output: Path, report: dict[str, Any], seconds: float) -> str:
    """``已生成 output/：20,000 条记录，21,340 个页面，1,206 个订阅源（共 72,035 个文件），用时 41.2 秒``.

    The counts are the build's report of what it wrote (``count_outputs``): walking 70,000 files
    to count them would take longer than a whole rebuild.
    """
    pages, feeds, files = report["pages"], report["feeds"], report["files"]
    records = report.get("records")
    parts = [f"{records:,} 条记录" if records is not None else None, f"{pages:,} 个页面", f"{feeds:,} 个订阅源"]
    tombstones = report.get("tombstones")
    if tombstones:
        parts[0] = f"{parts[0]}（另有 {tombstones:,} 条已撤回）"
    line = f"已生成 {output}：" + "，".join(p for p in parts if p) + f"（共 {files:,} 个文件"
    reused = report.get("reused")
    if isinstance(reused, int) and reused:
        line += f"，{reused:,} 个沿用上次构建"
    return line + f"），用时 {seconds:.1f} 秒"
