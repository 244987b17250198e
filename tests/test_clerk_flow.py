"""A clerk's whole path, as commands: `invoke new` → fill the blanks → `invoke validate` → `invoke build` → the page."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

from conftest import ROOT, new_data_dir

TITLE = "江中市某局副局长王某因落实作风建设责任不力被诫勉"
SUMMARY = "王某在担任副局长期间，对分管领域作风问题失察失管。"


def invoke(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}  # today's record is public now
    return subprocess.run(
        [sys.executable, "-m", "invoke", "-r", str(ROOT), *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=180,
    )


def fill(text: str, blanks: dict[str, str]) -> str:
    """Replace each pattern once, as a clerk types over a blank; fail loudly if the template changed."""
    for pattern, replacement in blanks.items():
        text, count = re.subn(pattern, replacement, text, count=1, flags=re.M)
        assert count == 1, f"the template has no blank matching {pattern!r}:\n{text}"
    return text


def test_new_fill_validate_build_finds_the_page(tmp_path):
    data = new_data_dir(tmp_path / "data")
    today = date.today().isoformat()

    created = invoke("new", "case", "--data", "data", cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    path = tmp_path / re.search(r"已创建 (\S+?)：", created.stdout)[1]
    record_id = path.stem
    assert path.is_file() and path.is_relative_to(data / "cases")

    # The untouched template is a draft with blanks: validation lists what is missing, in Chinese.
    blank = invoke("validate", "--data", "data", cwd=tmp_path)
    assert blank.returncode == 1 and f"{record_id}.yaml:" in blank.stderr and "title" in blank.stderr

    text = fill(path.read_text(encoding="utf-8"), {
        r"^title:": f"title: {TITLE}",
        r"^status: draft": "status: approved",
        r"^# approval: \{by: [^,]+,": "approval: {by: 中共江中市纪委,",
        r"^# published:": "published:",
        r"^region:": "region: 江中市",
        r"^issuer:": "issuer: 中共江中市纪委",
        r"^summary:": f"summary: {SUMMARY}",
        r"^regime:": "regime: 2019-regulation",
        r"^  name:": "  name: 王某",
        r"^  position:": "  position: 江中市某局副局长",
        r"^  organization:": "  organization: 江中市某局",
        r"^  level:": "  level: 副县处级",
        r"^circumstances:(.*)\n  -": r"circumstances:\1\n  - 2019-zuofeng-jianshe",
        r"^forms:(.*)\n  -": r"forms:\1\n  - 诫勉",
        r"^(  - \{stage: 启动, on: [0-9-]+, by:) \}": r"\1 中共江中市纪委}",
        r"^(  - \{stage: 决定, on: [0-9-]+, by:) \}": r"\1 中共江中市纪委}",
        r"^(  - \{stage: 执行, on: [0-9-]+, by:) \}": r"\1 中共江中市纪委}",
        r"^(decision:.*\n  by:)": r"\1 中共江中市纪委",
        r"^  doc_no:": "  doc_no: 江纪〔2026〕3号",
    })
    path.write_text(text, encoding="utf-8")
    assert f"published: {today}" in text

    valid = invoke("validate", "--data", "data", cwd=tmp_path)
    assert valid.returncode == 0, valid.stderr
    assert "校验通过：1 条记录" in valid.stdout

    built = invoke("build", "--data", "data", "--output", "output", cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    page = tmp_path / "output" / "cases" / record_id / "index.html"
    assert page.is_file(), f"no page for {record_id}: {sorted(p.name for p in (tmp_path / 'output').iterdir())}"
    html = page.read_text(encoding="utf-8")
    assert TITLE in html and SUMMARY in html

