"""The faulty-record corpus, run through ``invoke validate`` exactly as a clerk runs it.

Each folder under ``tests/faulty/`` is laid over a fresh data folder holding the
shipped vocabularies (``cases/…``, ``reports/…``, ``vocab/…``, or a misplaced
file). Every file in it says, in comment lines at its top, what ``invoke
validate`` must report about it::

    # 故障：<what is wrong, in words>
    # expect: LINE:COLUMN FIELD [WORDS…]
    # expect-more: WORDS   (optional: further problems in this file are allowed if they contain WORDS)

``FIELD`` (the field's name) and each of ``WORDS`` must appear in the message
at exactly that line and column, and no other problem may be reported: each
file holds one fault. A file without ``# expect:`` must produce no problem.

Every run is a real subprocess (exit code, output format, no traceback); the
runs go in parallel so the corpus stays fast.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, SAMPLE_DATA, new_data_dir

CORPUS = Path(__file__).parent / "faulty"
CASES = sorted(p for p in CORPUS.iterdir() if p.is_dir())
PROBLEM_LINE = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<column>\d+): (?P<message>.+)$")
EXPECT = re.compile(r"^# expect: (?P<line>\d+):(?P<column>\d+) (?P<field>\S+)(?: (?P<words>.+))?$")
EXPECT_MORE = re.compile(r"^# expect-more: (?P<words>.+)$")
CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass
class Expected:
    file: str
    line: int
    column: int
    words: list[str]
    """The field name, then any further words the message must contain."""


@dataclass
class Outcome:
    code: int
    stdout: str
    stderr: str
    problems: list[tuple[str, int, int, str]] = field(default_factory=list)
    """(file relative to the data folder, line, column, message)."""
    stray_lines: list[str] = field(default_factory=list)
    """Output lines that are neither a problem nor the closing summary."""


def expectations(case_dir: Path) -> tuple[list[Expected], dict[str, str]]:
    """Every ``# expect:`` line of every file of a case, and each file's ``# expect-more:`` words."""
    expected, more = [], {}
    for path in sorted(p for p in case_dir.rglob("*") if p.is_file()):
        relative = path.relative_to(case_dir).as_posix()
        text = path.read_bytes().removeprefix(b"\xef\xbb\xbf").decode("utf-8", "replace")
        for line in text.splitlines()[:12]:
            if match := EXPECT.match(line):
                words = [match["field"]] + (match["words"] or "").split()
                expected.append(Expected(relative, int(match["line"]), int(match["column"]), words))
            elif match := EXPECT_MORE.match(line):
                more[relative] = match["words"]
    return expected, more


def run_validate(data_dir: Path) -> Outcome:
    env = {**os.environ, "PYTHONUTF8": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "invoke", "validate", "--data", str(data_dir)],
        cwd=ROOT, capture_output=True, text=True, env=env, timeout=120,
    )
    outcome = Outcome(done.returncode, done.stdout, done.stderr)
    lines = [l for l in (done.stdout + done.stderr).splitlines() if l.strip()]
    for line in lines:
        match = PROBLEM_LINE.match(line)
        if match and match["file"].startswith(str(data_dir)):
            relative = Path(match["file"]).relative_to(data_dir).as_posix()
            outcome.problems.append((relative, int(match["line"]), int(match["column"]), match["message"]))
        elif not line.startswith("校验未通过："):
            outcome.stray_lines.append(line)
    return outcome


def lay_out(case_dirs: list[Path], target: Path) -> Path:
    """A data folder with the shipped vocabularies and the given cases laid over it."""
    new_data_dir(target)
    for case_dir in case_dirs:
        shutil.copytree(case_dir, target, dirs_exist_ok=True)
    return target


def record_only_cases() -> list[Path]:
    """Cases that leave the vocabularies alone (a broken vocabulary stops before the records)."""
    return [c for c in CASES if not (c / "vocab").exists()]


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory) -> dict[str, Outcome]:
    """Every case, and all record cases together in one folder (key ``"*"``), validated in parallel."""
    root = tmp_path_factory.mktemp("faulty")
    jobs = {case.name: [case] for case in CASES}
    jobs["*"] = record_only_cases()
    folders = {name: lay_out(dirs, root / name.replace("*", "all")) for name, dirs in jobs.items()}
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        results = pool.map(run_validate, folders.values())
    return dict(zip(folders, results))


def check(outcome: Outcome, expected: list[Expected], more: dict[str, str]) -> None:
    output = outcome.stdout + outcome.stderr
    assert "Traceback" not in output, output
    assert outcome.code == 1, output
    assert not outcome.stray_lines, f"lines not of the form path:line:column: message: {outcome.stray_lines}"
    assert outcome.problems, output
    for file, line, column, message in outcome.problems:
        assert CJK.search(message), f"message not in Chinese: {message}"
    where = {(p[0], p[1], p[2]) for p in outcome.problems}
    wanted = {(e.file, e.line, e.column) for e in expected}
    missing = wanted - where
    assert not missing, f"expected problems not reported at {sorted(missing)}; got:\n{output}"
    for e in expected:
        messages = [p[3] for p in outcome.problems if (p[0], p[1], p[2]) == (e.file, e.line, e.column)]
        assert any(all(w in m for w in e.words) for m in messages), f"{e.file}:{e.line}:{e.column} should name {e.words}: {messages}"
    for file, line, column, message in outcome.problems:
        if (file, line, column) not in wanted:
            assert file in more and more[file] in message, f"unexpected problem {file}:{line}:{column}: {message}"


def test_corpus_is_large_and_distinct():
    assert len(CASES) >= 35
    for case in CASES:
        expected, _ = expectations(case)
        assert expected, f"{case.name} says nothing about what must be reported"
    bodies = [tuple(sorted(p.read_bytes() for p in case.rglob("*") if p.is_file())) for case in CASES]
    assert len(set(bodies)) == len(bodies)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_faulty_case(case, outcomes):
    expected, more = expectations(case)
    check(outcomes[case.name], expected, more)


def test_every_problem_of_every_file_in_one_run(outcomes):
    """All record cases together: one run reports every problem of every file, nothing more."""
    expected, more = [], {}
    for case in record_only_cases():
        found, extra = expectations(case)
        expected += found
        more.update(extra)
    outcome = outcomes["*"]
    check(outcome, expected, more)
    files = {p[0] for p in outcome.problems}
    assert len(files) >= 50
    assert f"{len(files)} 个文件中共 {len(outcome.problems)} 个问题" in outcome.stderr


def test_sample_data_validates():
    done = subprocess.run(
        [sys.executable, "-m", "invoke", "validate", "--data", str(SAMPLE_DATA)],
        cwd=ROOT, capture_output=True, text=True, env={**os.environ, "PYTHONUTF8": "1"}, timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "校验通过" in done.stdout


# --- `invoke new KIND`: a template that fails only for its blanks --------------------------

BLANKS = {
    "case": [
        (r"^title:", "title: 江中市交通局原局长张某因决策严重失误被责令辞职"),
        (r"^region:", "region: 江中市"),
        (r"^issuer:", "issuer: 中共江中市纪委"),
        (r"^regime:", "regime: 2009-interim"),
        (r"^  name:", "  name: 张某"),
        (r"^  position:", "  position: 江中市交通局局长"),
        (r"^  organization:", "  organization: 江中市交通局"),
        (r"^  level:", "  level: 县处级"),
        (r"^(circumstances:.*\n  -)", r"\1 决策严重失误"),
        (r"^(forms:.*\n  -)", r"\1 责令辞职"),
        (r"by: \}", "by: 中共江中市纪委}"),
        (r"^  by:", "  by: 中共江中市委"),
        (r"^  doc_no:", "  doc_no: 江委〔2024〕15号"),
    ],
    "disclosure": [
        (r"^title:", "title: 江中市人民政府关于重点民生实事项目的公告"),
        (r"^region:", "region: 江中市"),
        (r"^issuer:", "issuer: 江中市人民政府办公室"),
        (r"^domain:", "domain: 政务公开"),
        (r"^category:", "category: zw-minsheng"),
        (r"^index_no:", "index_no: JZ-2024-00012"),
    ],
    "report": [
        (r"^title:", "title: 江中市交通局局长王某年度述职述廉报告"),
        (r"^region:", "region: 江中市"),
        (r"^issuer:", "issuer: 中共江中市纪委"),
        (r"^  name:", "  name: 王某"),
        (r"^  position:", "  position: 江中市交通局局长"),
        (r"^  organization:", "  organization: 江中市交通局"),
        (r"^  body:", "  body: 市纪委全委会"),
        (r"^  participants:", "  participants: 40"),
        (r"^  score:", "  score: 88.5"),
    ],
}
"""What a clerk writes into each blank of a template (regex of the blank → filled text; comments stay)."""


def _fill(text: str, blanks: list[tuple[str, str]]) -> str:
    for blank, filled in blanks:
        text, count = re.subn(blank, filled, text, flags=re.M)
        assert count, f"template has no blank {blank!r}"
    return text


@pytest.mark.parametrize("kind", ["case", "disclosure", "report"])
def test_new_template_fails_only_for_blanks_then_validates(kind, tmp_path):
    data = new_data_dir(tmp_path / "data")
    env = {**os.environ, "PYTHONUTF8": "1"}
    made = subprocess.run([sys.executable, "-m", "invoke", "new", kind, "--data", str(data)],
                          cwd=ROOT, capture_output=True, text=True, env=env, timeout=120)
    assert made.returncode == 0, made.stderr
    [path] = list((data / f"{kind}s").rglob("*.yaml"))
    template = path.read_text(encoding="utf-8")
    assert f"id: {path.stem}" in template

    blank = run_validate(data)
    assert blank.code == 1 and "Traceback" not in blank.stderr and not blank.stray_lines, blank.stderr
    assert {file for file, *_ in blank.problems} == {path.relative_to(data).as_posix()}
    filled_text = _fill(template, BLANKS[kind])
    blanks = {i for i, (a, b) in enumerate(zip(template.split("\n"), filled_text.split("\n")), 1) if a != b}
    # Every problem is on a blank, and says that it is one.
    assert {line for _, line, _, _ in blank.problems} <= blanks, blank.stderr
    assert all("未填写" in message for *_, message in blank.problems), blank.stderr

    path.write_text(filled_text, encoding="utf-8")
    filled = run_validate(data)
    assert filled.code == 0, filled.stderr + "\n" + filled_text
    record = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert record["status"] == "draft"


def test_a_build_refuses_every_faulty_file_as_validate_does(tmp_path):
    """A build loads records its own way (``load_catalog``, through the record cache), not as ``invoke
    validate`` does: all record cases together must give it every expected problem and nothing more,
    on a first build and on a rebuild whose valid records all come from the cache."""
    sys.path.insert(0, str(ROOT / "plugins"))
    from gongkai.catalog import load_catalog
    from gongkai.problems import ProblemsFound

    expected, more = [], {}
    for case in record_only_cases():
        found, extra = expectations(case)
        expected += found
        more.update(extra)
    data = lay_out(record_only_cases(), tmp_path / "data")
    for _ in range(2):
        with pytest.raises(ProblemsFound) as raised:
            load_catalog(data, workers=1, cache_dir=tmp_path / "cache")
        problems = [(Path(p.file).relative_to(data).as_posix(), p.line, p.column, p.message) for p in raised.value.problems]
        check(Outcome(1, "", "", problems), expected, more)
