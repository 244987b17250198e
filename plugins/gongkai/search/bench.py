"""Benchmark of search on a built site, side by side with Pagefind (issue 5's note).

    PYTHONPATH=plugins python -m gongkai.search.bench OUTPUT [--data DATA] [--json FILE]

With ``--data`` the site is first built from DATA into OUTPUT (and the search
step's own timings are reported); then it measures

- index build time (ours: the "search index" step of the build; Pagefind:
  ``pagefind_extended --site OUTPUT`` over the record pages);
- total index size (our static index, the whoosh index beside the output,
  Pagefind's bundle);
- per query, in Debian's Chromium driven by Playwright: the bytes the browser
  downloads to answer it with its first ten results (cold: a fresh browser
  context, engine code included; warm: a second query on the same page) and
  the time from submitting the query to the results being on the page;
- whether a query typed in Simplified finds records written in Traditional
  (each such record's own title, folded to Simplified, as the query).

``bench_search(output, report=None)`` returns all of it as a dict, for
``invoke bench``; ``format_table`` prints it.
"""

from __future__ import annotations

import argparse
import functools
import gzip
import http.server
import json
import socketserver
import subprocess
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from statistics import median
from typing import Any, Iterator

from .analysis import fold
from .index import open_index, whoosh_dir

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
QUERIES: tuple[str, ...] = (
    "赵某某", "商务局", "城关区", "应急管理局", "不作为", "引咎辞职", "2019", "45号", "云纪〔2015〕45号",
    "乡村振兴", "應急管理局", "違規",
)
"""Names, units, places, kinds of failure, years, 文号, and Traditional input."""
AGREEMENT_QUERIES: tuple[str, ...] = (
    "陈某", "交通", "留党察看二年", "东湖区 2021", "乡镇 扶贫 资金", "江中市交通运输局", "问责", "2016 公告",
)
RECORD_GLOB = "{cases,disclosures,reports}/*/index.html"
"""Pagefind indexes the record pages (what our index holds), not listings or facet pages."""

PAGEFIND_PAGE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>pagefind bench</title>
<script type="module" src="pagefind-bench.js"></script></head><body></body></html>
"""
PAGEFIND_SCRIPT = """
window.pagefindQuery = async (query) => {
  const started = performance.now();
  const pagefind = await import("../pagefind/pagefind.js");
  const search = await pagefind.search(query);
  const top = await Promise.all(search.results.slice(0, 10).map((r) => r.data()));
  return { ms: performance.now() - started, total: search.results.length, urls: top.map((d) => d.url) };
};
"""
OUR_QUERY = """async (query) => {
  const results = document.getElementById("search-results");
  const input = document.getElementById("search-q");
  const started = performance.now();
  input.value = query;
  document.getElementById("search-form").requestSubmit();
  await new Promise((resolve) => {
    const done = () => results.dataset.state === "done" && results.dataset.query === query.trim();
    if (done()) return resolve();
    new MutationObserver((_, observer) => { if (done()) { observer.disconnect(); resolve(); } })
      .observe(results, { attributes: true });
  });
  const status = document.getElementById("search-status").textContent;
  const links = [...results.querySelectorAll("a")].map((a) => new URL(a.href).pathname);
  return { ms: performance.now() - started, status, urls: links };
}"""


def folder_size(root: Path) -> tuple[int, int]:
    """Bytes and number of files under ``root``."""
    files = [p for p in root.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files), len(files)


def run_pagefind(output: Path) -> dict[str, Any]:
    """Index the record pages of ``output`` with Pagefind (bundle in ``output/pagefind``)."""
    from pagefind_bin_extended import get_executable

    started = time.perf_counter()
    subprocess.run(
        [str(get_executable()), "--site", str(output), "--glob", RECORD_GLOB, "--root-selector", "main", "--quiet"],
        check=True,
    )
    seconds = time.perf_counter() - started
    size, files = folder_size(output / "pagefind")
    bench_dir = output / "_bench"
    bench_dir.mkdir(exist_ok=True)
    (bench_dir / "pagefind.html").write_text(PAGEFIND_PAGE, encoding="utf-8")
    (bench_dir / "pagefind-bench.js").write_text(PAGEFIND_SCRIPT, encoding="utf-8")
    return {"seconds": seconds, "bytes": size, "files": files}


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextmanager
def serve(root: Path) -> Iterator[str]:
    handler = functools.partial(_Quiet, directory=str(root))
    httpd = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()


class _Traffic:
    """What a browser context downloaded from URLs containing one of ``parts`` (its pages and workers).

    ``bytes`` is the encoded body size Chromium reports (the test server does not
    compress); ``gzip_bytes`` is what a host that gzips would send, from the same
    files on disk (Pagefind's are compressed already, so gzip barely changes them).
    """

    def __init__(self, context, page, parts: tuple[str, ...], root: Path):
        self.page, self.parts, self.root = page, parts, root
        self.pending, self.seen = 0, []
        context.on("request", self._started)
        context.on("requestfinished", self._finished)
        context.on("requestfailed", self._failed)

    def _mine(self, request) -> bool:
        return any(p in request.url for p in self.parts)

    def _started(self, request) -> None:
        self.pending += self._mine(request)

    def _failed(self, request) -> None:
        self.pending -= self._mine(request)

    def _finished(self, request) -> None:
        if self._mine(request):
            self.pending -= 1
            self.seen.append((request.url, request.sizes()["responseBodySize"]))

    def _gzip_size(self, url: str) -> int:
        from urllib.parse import unquote, urlparse

        path = self.root / unquote(urlparse(url).path).lstrip("/")
        if not path.is_file():
            return 0
        data = path.read_bytes()
        return min(len(data), len(gzip.compress(data, 6)))

    def take(self) -> dict[str, int]:
        self.page.wait_for_timeout(100)  # let the driver deliver the last requests' events
        for _ in range(500):
            if self.pending <= 0:
                break
            self.page.wait_for_timeout(10)
        seen, self.seen = self.seen, []
        return {
            "bytes": sum(size for _, size in seen),
            "gzip_bytes": sum(self._gzip_size(url) for url, size in seen if size),
            "requests": len(seen),
        }


def _engine_page(browser, base: str, engine: str, root: Path):
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    if engine == "ours":
        traffic = _Traffic(context, page, ("/search/index/", "/search/docs/", "/theme/js/search.js"), root)
        page.goto(f"{base}/search/")
        page.wait_for_selector('#search-results[data-state="done"]', state="attached")
        ask = lambda q: page.evaluate(OUR_QUERY, q)  # noqa: E731
    else:
        traffic = _Traffic(context, page, ("/pagefind/",), root)
        page.goto(f"{base}/_bench/pagefind.html")
        page.wait_for_function("typeof window.pagefindQuery === 'function'")
        ask = lambda q: page.evaluate("q => window.pagefindQuery(q)", q)  # noqa: E731
    return context, traffic, ask


def _measure(browser, base: str, root: Path, engine: str, query: str, warm_with: str) -> dict[str, Any]:
    """Cold: the first query of a fresh browser. Warm: the query after another one on the same page."""
    context, traffic, ask = _engine_page(browser, base, engine, root)
    cold = ask(query)
    cold.update(traffic.take())
    context.close()
    context, traffic, ask = _engine_page(browser, base, engine, root)
    ask(warm_with)
    traffic.take()
    warm = ask(query)
    warm.update(traffic.take())
    context.close()
    return {"cold": cold, "warm": warm}


def traditional_records(output: Path, count: int) -> list[tuple[str, str]]:
    """(path, title) of up to ``count`` records whose title is written in Traditional characters."""
    ix = open_index(output)
    found = []
    with ix.searcher() as searcher:
        for fields in searcher.all_stored_fields():
            if fold(fields["title"]) != fields["title"].lower() and len(found) < count:
                found.append((fields["url"], fields["title"]))
    return sorted(found)


def bench_search(output: Path, report: dict | None = None, queries: tuple[str, ...] = QUERIES,
                 pagefind: bool = True, traditional: int = 20) -> dict[str, Any]:
    """Measure search on the site built in ``output`` (``report``: the build's report, for its timings)."""
    from playwright.sync_api import sync_playwright

    output = Path(output).resolve()
    index_root = output / "search" / "index"
    result: dict[str, Any] = {"ours": {}, "pagefind": {}}
    ours = result["ours"]
    if report and "search" in report:
        ours["build_seconds"] = report["search"]["seconds"]
        ours["documents"] = report["search"]["documents"]
    index_size, docs_size = folder_size(index_root), folder_size(output / "search" / "docs")
    ours["static_bytes"], ours["static_files"] = index_size[0] + docs_size[0], index_size[1] + docs_size[1]
    ours["whoosh_bytes"], ours["whoosh_files"] = folder_size(whoosh_dir(output))
    if pagefind:
        result["pagefind"].update(run_pagefind(output))
    probes = traditional_records(output, traditional)
    with serve(output) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        result["queries"] = {}
        for i, query in enumerate(queries):
            warm_with = queries[(i + 1) % len(queries)]
            row = {"ours": _measure(browser, base, output, "ours", query, warm_with)}
            if pagefind:
                row["pagefind"] = _measure(browser, base, output, "pagefind", query, warm_with)
            result["queries"][query] = row
        result["simplified_finds_traditional"] = _probe(browser, base, output, probes, pagefind)
        result["agrees_with_whoosh"] = _agreement(browser, base, output, queries + AGREEMENT_QUERIES)
        browser.close()
    return result


def _probe(browser, base: str, root: Path, probes: list[tuple[str, str]], pagefind: bool) -> dict[str, Any]:
    """For each Traditional record: is it in the top ten for its title folded to Simplified?"""
    found = {"records": len(probes), "ours": 0, "pagefind": 0}
    for engine in ("ours", "pagefind") if pagefind else ("ours",):
        context, _, ask = _engine_page(browser, base, engine, root)
        for path, title in probes:
            urls = ask(fold(title))["urls"]
            found[engine] += any(url.rstrip("/").endswith("/" + path.rstrip("/")) for url in urls)
        context.close()
    return found


def _agreement(browser, base: str, output: Path, queries: tuple[str, ...]) -> dict[str, Any]:
    """How many queries give the same top ten in the browser as in whoosh (``invoke search``)."""
    from .query import search

    context, _, ask = _engine_page(browser, base, "ours", output)
    differ = []
    for query in queries:
        if ask(query)["urls"] != ["/" + hit.url for hit in search(output, query, limit=10).hits]:
            differ.append(query)
    context.close()
    return {"queries": len(queries), "same": len(queries) - len(differ), "differ": differ}


def _median(rows: list[dict], engine: str, temperature: str, key: str) -> float:
    values = [r[engine][temperature][key] for r in rows if engine in r]
    return median(values) if values else float("nan")


def format_table(result: dict[str, Any]) -> str:
    ours, pf = result["ours"], result.get("pagefind", {})
    rows = list(result["queries"].values())
    lines = []
    seconds = ours.get("build_seconds", {})
    if seconds:
        parts = ", ".join(f"{name} {value:.1f} s" for name, value in seconds.items() if name != "total")
        lines.append(f"our index build: {seconds.get('total', 0):.1f} s for {ours.get('documents')} records ({parts})")
    if pf:
        lines.append(f"Pagefind build (record pages): {pf['seconds']:.1f} s")
    lines.append(f"static index: {ours['static_bytes'] / 1e6:.1f} MB in {ours['static_files']} files; "
                 f"whoosh index: {ours['whoosh_bytes'] / 1e6:.1f} MB" + (f"; Pagefind: {pf['bytes'] / 1e6:.1f} MB in {pf['files']} files" if pf else ""))
    lines.append("")
    header = f"{'query':<18}{'ours cold KB':>13}{'PF cold KB':>11}{'ours warm KB':>13}{'PF warm KB':>11}{'ours ms':>9}{'PF ms':>8}{'ours hits':>10}{'PF hits':>9}"
    lines.append(header)
    for query, row in result["queries"].items():
        o, p = row["ours"], row.get("pagefind")
        hits = o["cold"]["status"].split(" ")[1] if o["cold"]["status"].startswith("找到") else "0"
        lines.append(
            f"{query:<18}{o['cold']['bytes'] / 1024:>13.1f}{(p['cold']['bytes'] / 1024 if p else float('nan')):>11.1f}"
            f"{o['warm']['bytes'] / 1024:>13.1f}{(p['warm']['bytes'] / 1024 if p else float('nan')):>11.1f}"
            f"{o['cold']['ms']:>9.0f}{(p['cold']['ms'] if p else float('nan')):>8.0f}{hits:>10}{(p['cold']['total'] if p else ''):>9}"
        )
    lines.append("")
    for temperature in ("cold", "warm"):
        lines.append(
            f"median {temperature}: ours {_median(rows, 'ours', temperature, 'bytes') / 1024:.1f} KB "
            f"(gzip {_median(rows, 'ours', temperature, 'gzip_bytes') / 1024:.1f} KB), {_median(rows, 'ours', temperature, 'ms'):.0f} ms; "
            f"Pagefind {_median(rows, 'pagefind', temperature, 'bytes') / 1024:.1f} KB "
            f"(gzip {_median(rows, 'pagefind', temperature, 'gzip_bytes') / 1024:.1f} KB), {_median(rows, 'pagefind', temperature, 'ms'):.0f} ms"
        )
    probe = result["simplified_finds_traditional"]
    lines.append(
        f"Simplified query → Traditional record in the top 10: ours {probe['ours']}/{probe['records']}, "
        f"Pagefind {probe['pagefind']}/{probe['records']}"
    )
    agreement = result.get("agrees_with_whoosh")
    if agreement:
        lines.append(f"same top 10 in Chromium as in whoosh: {agreement['same']}/{agreement['queries']} queries")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("output", type=Path)
    parser.add_argument("--data", type=Path, help="build DATA into OUTPUT first")
    parser.add_argument("--json", type=Path, help="also write the numbers as JSON")
    parser.add_argument("--no-pagefind", action="store_true")
    args = parser.parse_args(argv)
    report = None
    if args.data:
        from ..build import build_site

        report = build_site(args.data, args.output, overrides={"SITEURL": ""}).report
    result = bench_search(args.output, report, pagefind=not args.no_pagefind)
    print(format_table(result))
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
