"""`invoke validate --format github|gitlab`: a faulty record's problems as CI annotations on its exact line."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
import yaml

from conftest import ROOT, case_record, new_data_dir, write_record

from gongkai.annotations import escape_data, escape_property

COMMAND = re.compile(r"^::error file=(?P<file>[^,]*),line=(?P<line>\d+),col=(?P<col>\d+),title=(?P<title>[^:]*)::(?P<message>.*)$")


def invoke(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "invoke", "-r", str(ROOT), *args],
        cwd=cwd, capture_output=True, text=True, timeout=120,
    )


@pytest.fixture
def faulty(tmp_path):
    """A data folder whose name needs escaping, with one case that has two faults on known lines."""
    data = new_data_dir(tmp_path / "数据,v1:2")
    text = yaml.safe_dump(case_record("t-bad-1"), allow_unicode=True, sort_keys=False)
    lines = text.splitlines()
    region = next(i for i, line in enumerate(lines) if line.startswith("region:"))
    lines[region] = 'region: "100%火\\n星"'          # unknown region; its message quotes % and a newline
    lines.append("summery: 拼错的字段")               # undefined field
    write_record(data, "case", {"id": "t-bad-1"}, text="\n".join(lines) + "\n")
    return {
        "cwd": tmp_path,
        "file": "数据,v1:2/cases/t-bad-1.yaml",
        "region_line": region + 1,
        "summery_line": len(lines),
    }


def test_github_annotations_point_at_the_exact_lines(faulty):
    result = invoke("validate", "--format", "github", "--data", "数据,v1:2", cwd=faulty["cwd"])
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    commands = result.stdout.splitlines()
    assert all(COMMAND.match(line) for line in commands), commands
    escaped_file = "数据%2Cv1%3A2/cases/t-bad-1.yaml"
    prefixes = [line.split("::", 2)[1] for line in commands]
    assert prefixes == [
        f"error file={escaped_file},line={faulty['region_line']},col=9,title=记录校验未通过",
        f"error file={escaped_file},line={faulty['summery_line']},col=1,title=记录校验未通过",
    ]
    region_message = COMMAND.match(commands[0])["message"]
    assert region_message.startswith("字段「region」（地区）：地区中没有「100%25火%0A星」"), region_message
    assert "\n" not in region_message and "江中市" in region_message
    assert COMMAND.match(commands[1])["message"].startswith("未定义的字段「summery」")
    # The plain lines too, for the job log (GitHub annotates at most 10 errors per step).
    assert f"{faulty['file']}:{faulty['summery_line']}:1: 未定义的字段「summery」" in result.stderr
    assert "校验未通过：1 个文件中共 2 个问题。" in result.stderr


def test_gitlab_code_quality_report(faulty):
    report = faulty["cwd"] / "reports" / "cq.json"
    result = invoke("validate", "--format", "gitlab", "--report", str(report), "--data", "数据,v1:2", cwd=faulty["cwd"])
    assert result.returncode == 1
    # The text lines are still printed for the job log.
    assert f"{faulty['file']}:{faulty['summery_line']}:1: 未定义的字段「summery」" in result.stderr
    entries = json.loads(report.read_text(encoding="utf-8"))
    assert [set(e) for e in entries] == [{"description", "check_name", "fingerprint", "severity", "location"}] * 2
    assert [e["location"] for e in entries] == [
        {"path": faulty["file"], "lines": {"begin": faulty["region_line"]}},
        {"path": faulty["file"], "lines": {"begin": faulty["summery_line"]}},
    ]
    assert entries[0]["description"].startswith("字段「region」（地区）：地区中没有「100%火\n星」")
    assert {e["severity"] for e in entries} == {"blocker"}
    assert all(re.fullmatch(r"[0-9a-f]{64}", e["fingerprint"]) for e in entries)
    assert len({e["fingerprint"] for e in entries}) == 2

    # A line added above the faults moves them, but GitLab must not see them as new problems.
    record = faulty["cwd"] / faulty["file"]
    record.write_text("# 新增的注释行\n" + record.read_text(encoding="utf-8"), encoding="utf-8")
    invoke("validate", "--format", "gitlab", "--report", str(report), "--data", "数据,v1:2", cwd=faulty["cwd"])
    moved = json.loads(report.read_text(encoding="utf-8"))
    assert [e["fingerprint"] for e in moved] == [e["fingerprint"] for e in entries]
    assert [e["location"]["lines"]["begin"] for e in moved] == [faulty["region_line"] + 1, faulty["summery_line"] + 1]


def test_valid_data_passes_in_every_format_and_writes_an_empty_report(tmp_path):
    data = new_data_dir(tmp_path / "data")
    write_record(data, "case", case_record("t-ok-1"))
    github = invoke("validate", "--format", "github", "--data", "data", cwd=tmp_path)
    assert github.returncode == 0 and github.stdout.strip() == "校验通过：1 条记录。"
    gitlab = invoke("validate", "--format", "gitlab", "--data", "data", cwd=tmp_path)
    assert gitlab.returncode == 0
    assert json.loads((tmp_path / "gl-code-quality-report.json").read_text(encoding="utf-8")) == []
    unknown = invoke("validate", "--format", "xml", "--data", "data", cwd=tmp_path)
    assert unknown.returncode == 2 and "--format" in unknown.stderr


def test_escaping_follows_githubs_rules():
    assert escape_data("100%\r\n: ,") == "100%25%0D%0A: ,"
    assert escape_property("a%b\r\nc:d,e") == "a%25b%0D%0Ac%3Ad%2Ce"
