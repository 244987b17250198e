"""Commands of the portal (site.md): ``invoke --list`` shows them all."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

from invoke import task

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "plugins"))
# invoke turns writing bytecode off (its --write-pyc flag) so that tasks.py leaves no .pyc; but every command
# imports the plugin, and compiling its 11,000 lines from source took ≈0.1 s of each. So the plugin's modules
# are cached as Python does by default, unless ``-B`` or PYTHONDONTWRITEBYTECODE says not to.
sys.dont_write_bytecode = bool(sys.flags.dont_write_bytecode)

from gongkai.catalog import count_valid_records  # noqa: E402
from gongkai.problems import ProblemsFound  # noqa: E402

KINDS = ("case", "disclosure", "report")


def _fail(message: str, code: int = 1) -> None:
    print(message, file=sys.stderr)
    sys.exit(code)


def _report_problems(error: ProblemsFound, output_format: str = "text", report: str | None = None) -> None:
    from gongkai.annotations import emit_problems

    emit_problems(error.problems, output_format, Path(report) if report else None)
    files = len({p.file for p in error.problems})
    _fail(f"校验未通过：{files} 个文件中共 {len(error.problems)} 个问题。")


@task(help={
    "data": "数据目录（默认 data/）",
    "format": "text（默认）、github（GitHub 注释）或 gitlab（另写 Code Quality 报告）",
    "report": "gitlab 格式的报告文件（默认 gl-code-quality-report.json）",
})
def validate(c, data="data", format="text", report="gl-code-quality-report.json"):  # noqa: A002
    """Check every record and vocabulary; print each problem as path:line:column: message."""
    from gongkai.annotations import FORMATS, emit_problems

    if format not in FORMATS:
        _fail(f"--format 应为 {'、'.join(FORMATS)} 之一，而不是「{format}」", 2)
    try:
        count = count_valid_records(Path(data))
    except ProblemsFound as error:
        _report_problems(error, format, report)
    emit_problems([], format, Path(report))
    print(f"校验通过：{count} 条记录。")


@task(help={"kind": "case、disclosure 或 report", "data": "数据目录（默认 data/）"})
def new(c, kind, data="data"):
    """Write a commented template for a new record with a fresh id."""
    from gongkai.templates_new import write_template

    if kind not in KINDS:
        _fail(f"记录类型应为 {'、'.join(KINDS)} 之一，而不是「{kind}」", 2)
    path = write_template(Path(data), kind, date.today())
    print(f"已创建 {path}：填写空白处后运行 invoke validate")


@task(help={"data": "数据目录（默认 data/，取其词表）", "output": "输出目录（默认 schema/）"})
def schema(c, data="data", output="schema"):
    """Write the JSON Schemas of record files (for editors, check-jsonschema) and of the open data."""
    from gongkai.catalog import load_vocabularies
    from gongkai.jsonschema import SCHEMA_FILES, dumps, editor_schemas

    try:
        vocab, _ = load_vocabularies(Path(data) / "vocab")
    except ProblemsFound as error:
        _report_problems(error)
    Path(output).mkdir(parents=True, exist_ok=True)
    for name, document in editor_schemas(vocab).items():
        (Path(output) / name).write_text(dumps(document), encoding="utf-8")
        print(f"{Path(output) / name}：{SCHEMA_FILES[name]}")


@task(help={
    "data": "数据目录（默认 data/）",
    "output": "输出目录（默认 output/）",
    "publish": "使用 publishconf.py（部署设置）",
    "siteurl": "覆盖 SITEURL（如 /gongkai 或 https://example.gov.cn/gongkai）",
})
def build(c, data="data", output="output", publish=False, siteurl=None):
    """Validate, then build the site; on any error the previous output stays as it was."""
    from gongkai.build import build_site
    from gongkai.buildcache import default_cache_dir
    from gongkai.progress import run_with_progress, summary_line

    def run(report: dict):
        overrides = {**_siteurl_override(siteurl), "GONGKAI_REPORT": report}
        return build_site(Path(data), Path(output), publish=publish, overrides=overrides, cache_dir=default_cache_dir())

    try:
        result, seconds = run_with_progress(run)
    except ProblemsFound as error:
        _report_problems(error)
    print(summary_line(result.output, result.report, seconds))
    _leave_at_once()


def _leave_at_once() -> None:
    """End the process without tearing a build's objects down one by one (about a second at 20,000
    records): everything is written, swapped in and closed by now, so only buffers need flushing."""
    import logging
    import os

    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _siteurl_override(siteurl: str | None) -> dict:
    return {"SITEURL": siteurl.rstrip("/")} if siteurl is not None else {}


@task(help={
    "data": "数据目录（默认 data/）",
    "output": "输出目录（默认 output/）",
    "siteurl": "覆盖 SITEURL（默认取环境变量 GONGKAI_SITEURL，见 publishconf.py）",
})
def publish(c, data="data", output="output", siteurl=None):
    """Build with publishconf.py, then check the output (nothing unpublished, no broken link) before any upload."""
    from gongkai.build import ROOT as SITE_ROOT, build_site, pelican_settings
    from gongkai.buildcache import default_cache_dir
    from gongkai.publish_check import check_output, summarize

    overrides = _siteurl_override(siteurl)
    try:
        result = build_site(Path(data), Path(output), publish=True, overrides=overrides, cache_dir=default_cache_dir())
    except ProblemsFound as error:
        _report_problems(error)
    settings = pelican_settings(SITE_ROOT / "publishconf.py", overrides)
    site_url = settings["SITEURL"]
    problems = check_output(result.output, result.catalog, site_url, theme=Path(settings["THEME"]))
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        _fail(summarize(problems))
    print(f"已生成并检查 {result.output}（SITEURL {site_url}）：可以上传。")


@task(help={
    "data": "数据目录（默认 data/）",
    "output": "输出目录（默认 output/）",
    "port": "端口（默认 8000）",
})
def serve(c, data="data", output="output", port=8000):
    """Build, serve on 127.0.0.1 and rebuild on every change (a failed rebuild keeps the last good site)."""
    from gongkai.serve import serve as serve_site

    serve_site(Path(data), Path(output), port=int(port))


@task(help={
    "query": "搜索词（简体或繁体，多个词用空格分开）",
    "output": "已生成站点的输出目录（默认 output/；索引在其旁的 output.whoosh/）",
    "limit": "显示的结果数（默认 10）",
    "kind": "只看一类：case、disclosure 或 report",
    "region": "只看某地区（地区标识，含下级地区）",
    "year": "只看某年发布的记录",
})
def search(c, query, output="output", limit=10, kind=None, region=None, year=None):
    """Answer QUERY from the build's whoosh index, best matches first."""
    from gongkai.search.query import format_answer
    from gongkai.search.query import search as run_search

    try:
        answer = run_search(Path(output), query, kind=kind, region=region, year=year, limit=int(limit))
    except FileNotFoundError as missing:
        _fail(f"找不到搜索索引 {missing}：请先运行 invoke build --output {output}")
    print(format_answer(answer))


def _ensure_browser(c) -> None:
    """Debian's Chromium and a CJK font for the browser tests (installed once, as root)."""
    if Path("/usr/bin/chromium").exists() and Path("/usr/share/fonts/truetype/wqy").exists():
        return
    print("正在安装 chromium 与中文字体（apt-get）……")
    c.run("apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-wqy-microhei")


@task(help={"k": "只运行名称匹配的测试（pytest -k）"})
def test(c, k=None):
    """The whole test suite (the command the README gives and .ci/run calls)."""
    _ensure_browser(c)
    selection = f" -k {k!r}" if k else ""
    c.run(f"{sys.executable} -m pytest -q{selection}", pty=False)


@task(auto_shortflags=False, help={
    "sizes": "记录数，逗号分隔（默认 1000,5000,20000）",
    "huge": "另加 50,000 条",
    "runs": "每项测量的次数，取中位数（默认 3）",
    "skip_anchors": "不测 Hugo 与 Pelican 对照站点",
    "seed": "合成数据的随机种子（默认 1）",
    "search": "另测搜索：本站索引与 Pagefind（gongkai.search.bench，需 Chromium）",
    "commit": "测量某次提交的快照（如 HEAD），而不是工作区",
})
def bench(c, sizes="1000,5000,20000", huge=False, runs=3, skip_anchors=False, seed=1, search=False, commit=None):
    """The benchmark: our build against Hugo and plain Pelican on synthetic data sets (docs/performance.md)."""
    sys.path.insert(0, str(ROOT))
    from bench.run import main as run_bench

    argv = ["--sizes", sizes, "--runs", str(runs), "--seed", str(seed)]
    argv += ["--huge"] * bool(huge) + ["--skip-anchors"] * bool(skip_anchors) + ["--search"] * bool(search)
    argv += ["--commit", commit] if commit else []
    shown = " ".join(a for a in sys.argv[1:]) or "bench"
    code = run_bench(argv, f"invoke {shown}")
    if code:
        sys.exit(code)
