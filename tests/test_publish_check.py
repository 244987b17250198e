"""`invoke publish` checks the finished output before any upload: nothing unpublished, no broken internal link."""

from __future__ import annotations

import gzip
import html
import json
import os
import re
import shutil
import subprocess
import sys
from datetime import datetime, timezone

import pytest

from conftest import BUILD_EPOCH, ROOT, build, case_record, disclosure_record, new_data_dir, report_record, write_record

from gongkai.publish_check import check_output

SITEURL = "https://example.test/gongkai"
NOW = datetime.fromtimestamp(BUILD_EPOCH, tz=timezone.utc)

DRAFT_TITLE = "江中市审计局副局长李某草稿案例尚未审批"
DRAFT_BODY = "草稿正文：李某在审计工作中存在失职行为，尚待核实。"
EMBARGO_TITLE = "江中市人民政府关于二〇三〇年预约发布事项的公告"
WITHDRAWN_TITLE = "江中市水务局局长赵某2023年度述职述廉报告"
WITHDRAWN_BODY = "赵某述职报告中关于水库整治的段落已被撤回。"
WITHDRAWN_REASON = "报告内容有误，重新核实后另行发布"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A small data set with one record in every state, built and passing the check."""
    root = tmp_path_factory.mktemp("publish")
    data = new_data_dir(root / "data")
    write_record(data, "case", case_record("t-public-1", formerly=["t-old-1"]))
    write_record(data, "case", case_record("t-draft-1", title=DRAFT_TITLE, status="draft", body=DRAFT_BODY, approval=None, published=None))
    write_record(data, "disclosure", disclosure_record("t-embargo-1", title=EMBARGO_TITLE, published="2030-01-01"))
    write_record(data, "report", report_record(
        "t-withdrawn-1", title=WITHDRAWN_TITLE, status="withdrawn", body=WITHDRAWN_BODY,
        withdrawal={"on": "2024-06-01", "reason": WITHDRAWN_REASON},
    ))
    output = root / "output"
    result = build(data, output, siteurl=SITEURL)
    return {"data": data, "output": output, "catalog": result.catalog}


@pytest.fixture
def output(site, tmp_path):
    """A private copy of the built output that a test may spoil."""
    copy = tmp_path / "output"
    shutil.copytree(site["output"], copy)
    return copy


def check(site, output):
    return check_output(output, site["catalog"], SITEURL, now=NOW, theme=ROOT / "theme")


def new_problems(site, output):
    """What the check finds in a spoilt copy beyond what it finds in the build itself."""
    def key(problem, root):
        return problem.file.replace(str(root), ""), problem.line, problem.column, re.sub(r"（共 \d+ 处，此为第一处）$", "", problem.message)

    baseline = {key(p, site["output"]) for p in check(site, site["output"])}
    return [p for p in check(site, output) if key(p, output) not in baseline]


def test_the_real_build_passes(site):
    assert check(site, site["output"]) == []


def test_a_page_for_a_draft_is_refused(site, output):
    (output / "cases" / "t-draft-1").mkdir(parents=True)
    (output / "cases" / "t-draft-1" / "index.html").write_text("<!doctype html><title>x</title>", encoding="utf-8")
    (output / "disclosures").mkdir(exist_ok=True)
    (output / "disclosures" / "t-embargo-1.json").write_text("{}", encoding="utf-8")
    (output / "reports").mkdir(exist_ok=True)
    (output / "reports" / "stale-1").mkdir()
    (output / "reports" / "stale-1" / "index.html").write_text("<!doctype html>", encoding="utf-8")
    messages = [p.message for p in new_problems(site, output)]
    assert any("未公开记录「t-draft-1」（草稿）的页面" in m for m in messages), messages
    assert any("未公开记录「t-embargo-1」（预约发布" in m for m in messages), messages
    assert any("reports/stale-1 不对应任何公开记录" in m for m in messages), messages
    assert len(messages) == 3


def test_draft_text_anywhere_is_refused(site, output):
    page = output / "planted" / "index.html"
    page.parent.mkdir()
    page.write_text(f"<!doctype html>\n<main>\n  <p>相关：{html.escape(DRAFT_TITLE)}</p>\n</main>\n", encoding="utf-8")
    problems = new_problems(site, output)
    assert [(p.file.replace(os.sep, "/").endswith("planted/index.html"), p.line, p.column) for p in problems] == [(True, 3, 9)]
    assert "未公开记录「t-draft-1」（草稿）" in problems[0].message and DRAFT_TITLE in problems[0].message


def test_withdrawn_and_embargoed_text_is_found_in_exports_and_compressed_index(site, output):
    (output / "data").mkdir(exist_ok=True)
    # JSON written with ensure_ascii: the text is only \u escapes.
    (output / "data" / "leak.json").write_text(json.dumps({"body": WITHDRAWN_BODY}), encoding="utf-8")
    (output / "search-fragment.pf").write_bytes(gzip.compress(EMBARGO_TITLE.encode("utf-8")))
    messages = sorted(p.message for p in new_problems(site, output))
    assert len(messages) == 2, messages
    assert "「t-embargo-1」（预约发布" in messages[0] or "「t-embargo-1」（预约发布" in messages[1]
    assert any("「t-withdrawn-1」（已撤回）" in m and WITHDRAWN_BODY[:10] in m for m in messages)


def test_a_tombstone_may_show_title_and_reason(site, output):
    page = output / "reports" / "t-withdrawn-1" / "index.html"
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(f"<!doctype html><h1>{WITHDRAWN_TITLE}</h1><p>{WITHDRAWN_REASON}</p>", encoding="utf-8")
    assert new_problems(site, output) == []


def test_broken_internal_links_are_refused_with_their_place(site, output):
    page = output / "planted-links" / "index.html"
    page.parent.mkdir()
    page.write_text(
        "<!doctype html>\n"
        '<a href="https://example.test/gongkai/">home</a> <a href="/gongkai/">home</a> <a href="../">up</a>\n'
        '<a href="https://elsewhere.example/x">external</a> <a href="/other-site/">same host, outside the site</a>\n'
        '<a href="mailto:a@example.test">mail</a> <a href="#top">top</a> <a href="?q=1">query</a>\n'
        '<a href="https://example.test/gongkai/cases/nope/">absolute</a>\n'
        '<img src="/gongkai/theme/missing.png" alt=""> <a href="../cases/t-draft-1/">relative</a>\n'
        '<meta http-equiv="refresh" content="0; url=https://example.test/gongkai/gone/">\n',
        encoding="utf-8",
    )
    problems = new_problems(site, output)
    assert [(p.line, p.column) for p in problems] == [(5, 1), (6, 1), (6, 47), (7, 1)]
    assert [p.message for p in problems] == [
        "站内链接「https://example.test/gongkai/cases/nope/」指向的文件不存在：cases/nope/",
        "站内链接「/gongkai/theme/missing.png」指向的文件不存在：theme/missing.png",
        "站内链接「../cases/t-draft-1/」指向的文件不存在：cases/t-draft-1/",
        "站内链接「https://example.test/gongkai/gone/」指向的文件不存在：gone/",
    ]


def _publish(data, output, cwd):
    env = {**os.environ, "SOURCE_DATE_EPOCH": str(BUILD_EPOCH)}
    return subprocess.run(
        [sys.executable, "-m", "invoke", "-r", str(ROOT), "publish", "--data", str(data), "--output", str(output), "--siteurl", SITEURL],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=180,
    )


def test_invoke_publish_builds_with_publishconf_and_checks(site, tmp_path):
    result = _publish(site["data"], tmp_path / "out", tmp_path)
    assert result.returncode == 0, result.stderr
    assert "可以上传" in result.stdout
    assert (tmp_path / "out" / "index.html").is_file()


def test_invoke_publish_refuses_a_link_to_an_unpublished_record(site, tmp_path):
    """A clerk links a public record to a draft: the link would be broken on the public site."""
    data = tmp_path / "data"
    shutil.copytree(site["data"], data)
    write_record(data, "case", case_record("t-public-1", formerly=["t-old-1"], body=f"详见[相关案例]({SITEURL}/cases/t-draft-1/)。"))
    result = _publish(data, tmp_path / "out", tmp_path)
    assert result.returncode == 1, result.stdout
    assert "站内链接「https://example.test/gongkai/cases/t-draft-1/」指向的文件不存在" in result.stderr
    assert "发布检查未通过" in result.stderr and "Traceback" not in result.stderr

