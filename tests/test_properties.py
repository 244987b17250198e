"""Property-based tests: whatever a clerk (or an attacker) commits, validation answers cleanly.

Generated YAML text, mangled copies of valid records and mutated record
dicts go through the real path of ``invoke validate`` (``load_record_file``:
strict loader, schema, rules, personal-data guard). The only outcomes allowed
are a valid record, or problems that each have a line and column inside the
file and a non-empty Chinese message. Any other exception fails the test.
"""

from __future__ import annotations

import copy
import re
import tempfile
from datetime import timezone
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import SAMPLE_DATA, case_record, disclosure_record, report_record
from gongkai.catalog import load_record_file, load_vocabularies
from gongkai.problems import Problem
from gongkai.yamlsource import YamlLoadError, load_yaml

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CJK = re.compile(r"[\u4e00-\u9fff]")
VOCAB, _ = load_vocabularies(SAMPLE_DATA / "vocab")
# A TemporaryDirectory is removed when the test process exits (weakref.finalize), so runs leave nothing in /tmp.
_WORKDIR = tempfile.TemporaryDirectory(prefix="gongkai-properties-")
WORKDIR = Path(_WORKDIR.name)
VALID = {"case": case_record, "disclosure": disclosure_record, "report": report_record}


def assert_clean(problems: list[Problem], text_lines: int) -> None:
    assert problems
    for problem in problems:
        assert problem.line >= 1 and problem.column >= 1, problem
        assert problem.line <= text_lines + 1, f"{problem} is past the end of the file ({text_lines} lines)"
        assert problem.message.strip() and CJK.search(problem.message), problem


def validate_file(raw: bytes, kind: str = "case") -> None:
    """Run one file through the validator; assert the outcome is a record or clean problems."""
    path = WORKDIR / f"{kind}s" / "t-prop-1.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(raw)
    record, problems = load_record_file(path, kind, VOCAB)
    lines = raw.count(b"\n") + raw.count(b"\r") + 1
    if record is None:
        assert_clean(problems, lines)
    else:
        assert not problems and record.record.id == "t-prop-1"


# --- generated YAML text ------------------------------------------------------------------

FRAGMENTS = [
    "id: ", "title: ", "status: ", "summary: ", "published: ", "stages:", "subject:", "evaluation:",
    "t-prop-1", "approved", "draft", "江中市", "决策严重失误", "责令辞职", "中共江中市纪委",
    "\n", "\n  ", "\n- ", "  ", "- ", ": ", ", ", "[", "]", "{", "}", "? ", "<<: ", "#", " # 注释",
    "&a ", "*a", "&b ", "*b", "!tag ", "!!str ", "!!python/object ", "'", '"', "|", ">-", "\\", "\\x07", "\\u202e",
    "---\n", "...\n", "%YAML 1.1\n", "\t", "\r\n", "\r", "\x00", "\x07", "\x85", "\u2028", "\u202e", "\ufeff", "\ufffe",
    "no", "on", "yes", "0123", "0x1F", "12:30", "12.10", "1e5", ".inf", "~", "null", "true", "2024-02-30",
    "2024-03-05", "2024-03-05T10:00:00+08:00", "2024-03-05T10:00+99:00", "9" * 40, "@", "`", "%", "javascript:alert(1)",
    "990105199001011236", "13800138000", "zhang@example.com", "6200 0000 0000 0005",
]
yaml_text = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=6)), max_size=40).map("".join)


@SETTINGS
@given(yaml_text)
def test_generated_yaml_text(text):
    try:
        load_yaml(text)
    except YamlLoadError as error:
        for problem in error.problems:
            assert problem.mark.line >= 1 and problem.mark.column >= 1 and CJK.search(problem.message)
    validate_file(text.encode("utf-8"))  # st.text() makes no lone surrogates


@SETTINGS
@given(st.binary(max_size=300))
def test_generated_bytes(raw):
    validate_file(raw)


def dump(value: Any) -> str:
    return yaml.dump(value, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper), allow_unicode=True, sort_keys=False)


def _valid_text(kind: str) -> str:
    return dump(VALID[kind]("t-prop-1"))


@SETTINGS
@given(
    st.sampled_from(sorted(VALID)),
    st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 8), st.sampled_from(FRAGMENTS + ["", "x", "  ", "\n"])), min_size=1, max_size=4),
)
def test_mangled_valid_files(kind, edits):
    """A valid file with a few characters replaced here and there: never a crash, positions inside the file."""
    text = _valid_text(kind)
    for position, length, insert in edits:
        position %= len(text) + 1
        text = text[:position] + insert + text[position + length:]
    validate_file(text.encode("utf-8"), kind)


# --- mutated record dicts ------------------------------------------------------------------------

leaf = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**12), 10**12), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20), st.dates(), st.datetimes(timezones=st.sampled_from([None, timezone.utc])),
    st.sampled_from(["no", "0123", "12:30", "", " ", "江中市", "决策严重失误", "2024-02-30", "javascript:alert(1)", "x" * 400]),
)
any_value = st.recursive(leaf, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=8)


def paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every place inside a record: keys of mappings and indexes of lists."""
    found = []
    if isinstance(value, dict):
        for key, inner in value.items():
            found.append(prefix + (key,))
            found += paths(inner, prefix + (key,))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found.append(prefix + (index,))
            found += paths(inner, prefix + (index,))
    return found


def parent_of(record: dict, path: tuple) -> Any:
    for part in path[:-1]:
        record = record[part]
    return record


@st.composite
def mutated_records(draw) -> tuple[str, dict]:
    kind = draw(st.sampled_from(sorted(VALID)))
    record = copy.deepcopy(VALID[kind]("t-prop-1"))
    for _ in range(draw(st.integers(1, 3))):
        places = [p for p in paths(record) if p != ("id",)]
        if not places:
            break
        path = draw(st.sampled_from(places))
        parent, last = parent_of(record, path), path[-1]
        operation = draw(st.sampled_from(["drop", "rename", "retype", "add"]))
        if operation == "drop":
            del parent[last]
        elif operation == "rename" and isinstance(parent, dict):
            parent[draw(st.sampled_from([last + "s", last[:-1] or "x", last.upper(), "summery", "on", "<<"]))] = parent.pop(last)
        elif operation == "add" and isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=8))] = draw(any_value)
        else:
            parent[last] = draw(any_value)
    return kind, record


@SETTINGS
@given(mutated_records())
def test_mutated_records_through_yaml(mutation):
    kind, record = mutation
    try:
        text = dump(record)
    except yaml.YAMLError:
        pytest.skip("PyYAML cannot write this value")
    validate_file(text.encode("utf-8"), kind)


@SETTINGS
@given(st.sampled_from(sorted(VALID)), st.dictionaries(st.text(max_size=12), any_value, max_size=8))
def test_arbitrary_mappings_as_records(kind, mapping):
    text = dump({"id": "t-prop-1", **mapping})
    validate_file(text.encode("utf-8"), kind)
