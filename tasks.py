"""Commands of the portal (site.md): ``invoke --list`` shows them all."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

from invoke import task

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "plugins"))

from gongkai.catalog import load_catalog  # noqa: E402
from gongkai.problems import ProblemsFound  # noqa: E402

KINDS = ("case", "disclosure", "report")


def _fail(message: str, code: int = 1) -> None:
    print(message, file=sys.stderr)
    sys.exit(code)


def _report_problems(error: ProblemsFound) -> None:
    for problem in error.problems:
        print(problem, file=sys.stderr)
    files = len({p.file for p in error.problems})
    _fail(f"校验未通过：{files} 个文件中共 {len(error.problems)} 个问题。")


@task(help={"data": "数据目录（默认 data/）"})
def validate(c, data="data"):
    """Check every record and vocabulary; print each problem as path:line:column: message."""
    try:
        catalog = load_catalog(Path(data))
    except ProblemsFound as error:
        _report_problems(error)
    print(f"校验通过：{len(catalog.loaded)} 条记录。")


@task(help={"kind": "case、disclosure 或 report", "data": "数据目录（默认 data/）"})
def new(c, kind, data="data"):
    """Write a commented template for a new record with a fresh id."""
    from gongkai.templates_new import write_template

    if kind not in KINDS:
        _fail(f"记录类型应为 {'、'.join(KINDS)} 之一，而不是「{kind}」", 2)
    path = write_template(Path(data), kind, date.today())
    print(f"已创建 {path}：填写空白处后运行 invoke validate")
