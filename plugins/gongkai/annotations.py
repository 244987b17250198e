"""Validation problems in the formats CI hosts read, so a clerk sees each on the line they typed.

``invoke validate --format`` picks one of ``FORMATS``:

- ``text``: ``path:line:column: message`` on standard error (site.md's contract);
- ``github``: GitHub Actions workflow commands (``::error file=…,line=…,col=…,title=…::message``)
  on standard output, which GitHub turns into annotations on the pull request's diff, and the
  text lines on standard error (GitHub shows at most 10 error annotations per step, and its log
  shows a command without its location: the text lines keep every problem readable);
- ``gitlab``: the text lines, plus a GitLab Code Quality report (a JSON list) written to a
  file that the CI job declares as its ``codequality`` artifact; merge requests show it inline.

Only the presentation lives here; what a problem is comes from ``problems.py``.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Iterable, TextIO

from .problems import Problem

FORMATS = ("text", "github", "gitlab")
DEFAULT_REPORT = "gl-code-quality-report.json"
ANNOTATION_TITLE = "记录校验未通过"
CHECK_NAME = "gongkai-validate"
SEVERITY = "blocker"
"""A validation problem stops the build: GitLab's strongest severity."""


# --- GitHub workflow commands ------------------------------------------------


def escape_data(text: str) -> str:
    """A workflow command's message: ``%``, CR and LF are percent-encoded (``%`` first)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value: as the message, plus ``:`` and ``,``."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github_command(problem: Problem) -> str:
    """``::error file=…,line=…,col=…,title=…::message`` for one problem."""
    properties = {
        "file": problem.file.replace("\\", "/"),
        "line": str(problem.line),
        "col": str(problem.column),
        "title": ANNOTATION_TITLE,
    }
    joined = ",".join(f"{name}={escape_property(value)}" for name, value in properties.items())
    return f"::error {joined}::{escape_data(problem.message)}"


# --- GitLab Code Quality ------------------------------------------------------


def code_quality_report(problems: Iterable[Problem]) -> list[dict]:
    """GitLab Code Quality entries, one per problem.

    The fingerprint hashes the file, the message and how many identical
    (file, message) pairs came before, but not the line: a problem that only
    moved because lines were added above it keeps its fingerprint, so GitLab
    does not report it as new in the merge request.
    """
    seen: Counter[tuple[str, str]] = Counter()
    entries = []
    for problem in problems:
        path = problem.file.replace("\\", "/")
        occurrence = seen[(path, problem.message)]
        seen[(path, problem.message)] += 1
        fingerprint = hashlib.sha256(f"{CHECK_NAME}\0{path}\0{problem.message}\0{occurrence}".encode()).hexdigest()
        entries.append({
            "description": problem.message,
            "check_name": CHECK_NAME,
            "fingerprint": fingerprint,
            "severity": SEVERITY,
            "location": {"path": path, "lines": {"begin": problem.line}},
        })
    return entries


def write_code_quality_report(problems: Iterable[Problem], report: Path) -> None:
    """Write the report (an empty list when all is valid, so the CI artifact always exists)."""
    report = Path(report)
    report.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(code_quality_report(problems), ensure_ascii=False, indent=2)
    report.write_text(text + "\n", encoding="utf-8")


# --- one entry point for `invoke validate` --------------------------------------


def emit_problems(
    problems: list[Problem],
    output_format: str = "text",
    report: Path | None = None,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> None:
    """Show ``problems`` (possibly none) in ``output_format``; ``gitlab`` also writes ``report``."""
    if output_format not in FORMATS:
        raise ValueError(f"unknown format {output_format!r}")
    stdout, stderr = stdout or sys.stdout, stderr or sys.stderr
    if output_format == "github":
        for problem in problems:
            print(github_command(problem), file=stdout)
    for problem in problems:
        print(problem, file=stderr)
    if output_format == "gitlab":
        write_code_quality_report(problems, Path(report or DEFAULT_REPORT))
