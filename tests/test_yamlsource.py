"""The strict YAML loader: what PyYAML would get wrong, hostile input, and exact positions."""

from __future__ import annotations

import time
import tracemalloc
from datetime import date, datetime, timedelta, timezone

import pytest
import yaml

from conftest import case_record, new_data_dir, write_record
from gongkai.catalog import load_catalog
from gongkai.problems import ProblemsFound
from gongkai.records import Decision, validate_record
from gongkai.yamlsource import MAX_BYTES, MAX_DEPTH, Mark, YamlFloat, YamlInt, YamlLoadError, load_yaml


def problems(source: str | bytes) -> list[tuple[int, int, str]]:
    with pytest.raises(YamlLoadError) as error:
        load_yaml(source)
    found = [(p.mark.line, p.mark.column, p.message) for p in error.value.problems]
    assert found and all(line >= 1 and column >= 1 and message for line, column, message in found)
    return found


# --- duplicate keys -------------------------------------------------------------------


def test_duplicate_key_is_an_error_at_the_second_key():
    [(line, column, message)] = problems("id: a\ntitle: 一\nregion: x\ntitle: 二\n")
    assert (line, column) == (4, 1)
    assert "title" in message and "第 2 行" in message


def test_duplicate_key_in_nested_and_flow_mappings():
    found = problems("subject:\n  name: 张某\n  name: 李某\ndecision: {by: x, on: 2024-01-01, by: y}\n")
    assert [(l, c) for l, c, _ in found] == [(3, 3), (4, 35)]


def test_same_key_in_different_mappings_is_fine():
    data = load_yaml("a: {on: 1}\nb: {on: 2}\nc: [{on: 3}, {on: 4}]\n").data
    assert data == {"a": {"on": 1}, "b": {"on": 2}, "c": [{"on": 3}, {"on": 4}]}


# --- YAML 1.1 surprises -----------------------------------------------------------------


@pytest.mark.parametrize("text", ["no", "yes", "on", "off", "y", "n", "No", "YES", "Off"])
def test_yaml11_booleans_stay_text(text):
    assert load_yaml(f"flag: {text}\n").data == {"flag": text}


@pytest.mark.parametrize("text", ["0123", "0o17", "0x1F", "1_000", "12:30", "1:20:30", ".inf", "-.inf", ".nan", "1e5", "1.2.3", "+.5e"])
def test_yaml11_numbers_stay_text(text):
    value = load_yaml(f"v: {text}\n").data["v"]
    assert value == text and type(value) is str


def test_keys_are_always_the_text_typed():
    data = load_yaml("on: 1\nyes: 2\n1: 3\nnull: 4\n~: 5\ntrue: 6\n2024-01-01: 7\n").data
    assert list(data) == ["on", "yes", "1", "null", "~", "true", "2024-01-01"]


def test_core_scalars_still_resolve():
    data = load_yaml(
        "i: 42\nneg: -7\nf: 88.5\nt: true\nF: False\nz: ~\nempty:\nd: 2024-03-05\n"
        "dt: 2024-03-05T10:00:00+08:00\nnaive: 2024-03-05 10:00\nutc: 2024-03-05T02:00:00Z\n"
    ).data
    assert data["i"] == 42 and type(data["i"]) is YamlInt and data["neg"] == -7
    assert data["f"] == 88.5 and type(data["f"]) is YamlFloat
    assert data["t"] is True and data["F"] is False and data["z"] is None and data["empty"] is None
    assert data["d"] == date(2024, 3, 5)
    assert data["dt"] == datetime(2024, 3, 5, 10, tzinfo=timezone(timedelta(hours=8)))
    assert data["naive"] == datetime(2024, 3, 5, 10) and data["naive"].tzinfo is None
    assert data["utc"] == data["dt"]


def test_quoted_and_block_scalars_are_always_text():
    data = load_yaml("a: '0123'\nb: \"true\"\nc: |\n  2024-03-05\nd: >\n  12\n").data
    assert data == {"a": "0123", "b": "true", "c": "2024-03-05\n", "d": "12\n"}


@pytest.mark.parametrize("source", ["12.10", "0.50", "1.", "+3", "-0", "2024"])
def test_numbers_keep_their_source(source):
    value = load_yaml(f"v: {source}\n").data["v"]
    assert value.source == source


@pytest.mark.parametrize("source", ["12.10", "2024", "007", "12:30", "true"])
def test_numbers_as_text_keep_what_was_typed(source):
    """`doc_no: 12.10` is the text "12.10", not the float 12.1."""
    decision = Decision.model_validate(load_yaml(f"by: 中共江中市委\non: 2024-02-20\ndoc_no: {source}\n").data)
    assert decision.doc_no == source


def test_numbers_keep_source_across_processes():
    import pickle

    value = pickle.loads(pickle.dumps(load_yaml("v: 12.10\n").data["v"]))
    assert value.source == "12.10" and value == 12.1


def test_huge_integer_stays_text():
    digits = "9" * 5000  # beyond Python's int-from-text limit
    assert load_yaml(f"v: {digits}\n").data["v"] == digits


@pytest.mark.parametrize("text, word", [("2024-02-30", "无效的日期"), ("2024-13-01T10:00", "无效的日期时间"), ("2024-03-05T10:00+99:00", "无效的日期时间")])
def test_impossible_dates_are_errors_at_the_value(text, word):
    [(line, column, message)] = problems(f"title: 标题\npublished: {text}\n")
    assert (line, column) == (2, 12) and word in message and "published" in message


# --- anchors, aliases, tags ---------------------------------------------------------------------


def test_alias_is_an_error_at_the_alias():
    found = problems("approval: &a {by: x, on: 2024-01-01}\ndecision: *a\nother: [1, *a]\n")
    assert [(l, c) for l, c, _ in found] == [(2, 11), (3, 12)]
    assert all("别名" in m for _, _, m in found)


def test_anchor_alone_is_harmless():
    assert load_yaml("a: &x 1\nb: 2\n").data == {"a": 1, "b": 2}


def billion_laughs(levels: int = 9, width: int = 10) -> str:
    lines = ['l0: &l0 "哈哈哈哈哈哈哈哈哈哈"']
    for level in range(1, levels):
        lines.append(f"l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def test_billion_laughs_is_rejected_fast_with_bounded_memory():
    source = billion_laughs()  # 10^9 strings if expanded
    tracemalloc.start()
    started = time.perf_counter()
    try:
        found = problems(source)
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert time.perf_counter() - started < 2
    assert peak < 5_000_000
    assert len(found) == 8 * 10 and all("别名" in m for _, _, m in found)


def test_undefined_alias():
    [(line, column, message)] = problems("a: 1\nb: *nowhere\n")
    assert (line, column) == (2, 4) and "别名" in message


@pytest.mark.parametrize("source", ["a: !custom x\n", "a: !!python/object:os.system x\n", "a: !!set {x, y}\n", "a: !!omap [x: 1]\n"])
def test_custom_tags_are_refused(source):
    [(line, column, message)] = problems(source)
    assert (line, column) == (1, 4) and "标签" in message and "a" in message


def test_merge_key_is_just_an_unknown_key():
    """YAML 1.1 ``<<`` merges are not performed; the key stays and the schema reports it as undefined."""
    with pytest.raises(YamlLoadError):  # it needs an alias to merge anything
        load_yaml("a: &x {b: 1}\nc:\n  <<: *x\n")
    assert load_yaml("c:\n  <<: {b: 1}\n").data == {"c": {"<<": {"b": 1}}}


# --- hostile sizes and shapes ----------------------------------------------------------------------


def test_ten_megabyte_body_loads_and_validates_in_bounded_time(tmp_path):
    data = new_data_dir(tmp_path / "data")
    paragraph = "经查，张某在担任江中市交通局局长期间未经集体决策擅自批准道路改造项目，造成财政资金损失。" * 4
    body = "\n\n".join([paragraph] * (10_500_000 // len(paragraph.encode()) + 1))
    record = case_record(body="正文")
    head = yaml.safe_dump(record, allow_unicode=True, sort_keys=False).replace("body: 正文\n", "")
    text = head + "body: |\n" + "".join(f"  {line}\n" if line else "\n" for line in body.split("\n"))
    path = write_record(data, "case", record, text=text)
    assert path.stat().st_size > 10_000_000
    started = time.perf_counter()
    catalog = load_catalog(data)
    assert time.perf_counter() - started < 10
    assert catalog.by_id["t-case-1"].record.body.startswith("经查")


def test_file_larger_than_the_limit_is_refused_before_parsing():
    [(line, column, message)] = problems(b"a: " + b"x" * (MAX_BYTES + 1))
    assert (line, column) == (1, 1) and "过大" in message


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 200, 100_000])
def test_deep_flow_nesting_is_a_clean_error(depth):
    started = time.perf_counter()
    found = problems("a: " + "[" * depth + "]" * depth + "\n")
    assert time.perf_counter() - started < 5
    assert any("嵌套" in m for _, _, m in found)


def test_deep_block_nesting_is_a_clean_error():
    source = "".join("  " * i + f"k{i}:\n" for i in range(300)) + "  " * 300 + "v\n"
    found = problems(source)
    assert any("嵌套" in m for _, _, m in found)


def test_nesting_within_the_limit_loads():
    source = "a: " + "[" * (MAX_DEPTH - 1) + "1" + "]" * (MAX_DEPTH - 1) + "\n"
    value = load_yaml(source).data["a"]
    for _ in range(MAX_DEPTH - 2):
        value = value[0]
    assert value == [1]


def test_many_keys_load():
    source = "".join(f"k{i}: {i}\n" for i in range(20_000))
    assert len(load_yaml(source).data) == 20_000


# --- encodings and characters -------------------------------------------------------------------------


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\x7f", "\x9f", "\ufffe"])
def test_raw_control_characters_are_errors_at_their_position(char):
    source = f"title: 江中市交通局\nsummary: 摘要{char}内容\n"
    [(line, column, message)] = problems(source.encode("utf-8"))
    assert (line, column) == (2, 12)
    assert f"U+{ord(char):04X}" in message


def test_escaped_control_characters_pass_the_loader_but_not_the_schema(tmp_path):
    assert load_yaml('a: "x\\x07y"\n').data == {"a": "x\x07y"}
    data = new_data_dir(tmp_path / "data")
    text = "\n".join(
        line if not line.startswith("summary:") else 'summary: "在未经\\u202e集体决策"'
        for line in write_record(data, "case", case_record()).read_text(encoding="utf-8").split("\n")
    )
    write_record(data, "case", case_record(), text=text)
    with pytest.raises(ProblemsFound) as found:
        load_catalog(data)
    [problem] = found.value.problems
    assert "summary" in problem.message and "U+202E" in problem.message


def test_invalid_utf8_is_an_error_at_the_byte():
    raw = "title: 江中市\nsummary: 摘要".encode() + b"\xe4\xb8" + "\n".encode()
    [(line, column, message)] = problems(raw)
    assert (line, column) == (2, 12) and "UTF-8" in message


@pytest.mark.parametrize("raw", [b"\xff\xfe", b"a: \xc0\xaf\n", b"a: \xed\xa0\x80\n"])
def test_other_invalid_utf8(raw):
    assert "UTF-8" in problems(raw)[0][2]


def test_utf8_bom_is_ignored_and_marks_are_unchanged():
    document = load_yaml("\ufeffid: a\ntitle: 标题\n".encode("utf-8"))
    assert document.data == {"id": "a", "title": "标题"}
    assert document.mark_for(("id",)) == Mark(1, 5) and document.mark_for(("title",)) == Mark(2, 8)
    assert load_yaml("\ufeffid: a\n").data == {"id": "a"}  # str input too


def test_crlf_line_ends_keep_line_numbers():
    source = "id: a\r\ntitle: 标题\r\nbody: |\r\n  第一行\r\n  第二行\r\nsubject:\r\n  name: 张某\r\n  name: 李某\r\n"
    [(line, column, message)] = problems(source.encode())
    assert (line, column) == (8, 3)
    document = load_yaml(source.replace("  name: 李某\r\n", "").encode())
    assert document.data["body"] == "第一行\n第二行\n"
    assert document.mark_for(("subject", "name")) == Mark(7, 9)


@pytest.mark.parametrize("char", ["\x85", "\u2028", "\u2029"])
def test_invisible_line_breaks_are_refused_at_their_position(char):
    """YAML 1.1 counts NEL, LS and PS as line breaks, editors do not: every later line number would be off."""
    [(line, column, message)] = problems(f"id: a\r\ntitle: 标题\nsummary: 摘要{char}内容\nregion: x\n".encode())
    assert (line, column) == (3, 12) and f"U+{ord(char):04X}" in message


def test_lone_cr_line_ends():
    document = load_yaml(b"id: a\rtitle: b\r")
    assert document.data == {"id": "a", "title": "b"} and document.mark_for(("title",)) == Mark(2, 8)


# --- marks ---------------------------------------------------------------------------------------------------


def test_marks_are_one_based_and_exact():
    source = (
        "id: jz-1\n"                      # 1
        "标题: 中文标题\n"                 # 2
        "stages:\n"                       # 3
        "  - {stage: 启动, on: 2024-01-02}\n"  # 4
        "  - stage: 决定\n"               # 5
        "    on: 2024-02-03\n"            # 6
        "topics: [交通建设, 安全生产]\n"    # 7
        "body: |\n"                       # 8
        "  正文\n"                         # 9
    )
    document = load_yaml(source)
    assert document.mark_for(()) == Mark(1, 1)
    assert document.mark_for(("id",)) == Mark(1, 5)
    assert document.mark_for(("id",), key=True) == Mark(1, 1)
    assert document.mark_for(("标题",)) == Mark(2, 5)
    assert document.mark_for(("stages",)) == Mark(4, 3)
    assert document.mark_for(("stages", 0)) == Mark(4, 5)
    assert document.mark_for(("stages", 0, "stage")) == Mark(4, 13)
    assert document.mark_for(("stages", 0, "on")) == Mark(4, 21)
    assert document.mark_for(("stages", 0, "on"), key=True) == Mark(4, 17)
    assert document.mark_for(("stages", 1, "on")) == Mark(6, 9)
    assert document.mark_for(("topics", 1)) == Mark(7, 16)
    assert document.mark_for(("body",)) == Mark(8, 7)
    # A missing field is placed at its nearest ancestor that exists.
    assert document.mark_for(("stages", 1, "by")) == Mark(5, 5)
    assert document.mark_for(("nowhere",)) == Mark(1, 1)


@pytest.mark.parametrize("asterisk", ["", "note: '*不是别名*'\n"])
def test_a_problem_deep_inside_a_document_is_found_with_or_without_an_asterisk_in_it(asterisk):
    """A text with no ``*`` has no alias, and loads by a quicker walk than one that may (``*`` in a quoted
    text): both find the same data and the same marks, and a problem three levels down at its position."""
    source = asterisk + "id: a\nstages:\n  - stage: 决定\n    detail: {on: 2024-02-30}\n"
    [(line, column, message)] = problems(source)
    assert (line, column) == (4 + bool(asterisk), 18) and "2024-02-30" in message
    document = load_yaml(source.replace("2024-02-30", "2024-02-03"))
    assert document.data["stages"] == [{"stage": "决定", "detail": {"on": date(2024, 2, 3)}}]
    assert document.mark_for(("stages", 0, "detail", "on")) == Mark(4 + bool(asterisk), 18)
    assert document.mark_for(("stages", 0, "detail", "on"), key=True) == Mark(4 + bool(asterisk), 14)
    assert document.mark_within(("stages", 0, "stage"), "定") == Mark(3 + bool(asterisk), 13)


def test_syntax_error_marks_count_characters_not_bytes():
    [(line, column, message)] = problems("标题标题: 值: 错\n".encode())
    assert (line, column) == (1, 8) and "引号" in message


@pytest.mark.parametrize("source, where, words", [
    ("a:\n\tb: 1\n", (2, 1), "制表符"),
    ("a: [1, 2\nb: 1\n", (2, 2), "右括号"),
    ("a: {x: 1\nb: 1\n", (2, 2), "右括号"),
    ("a: 'x\n", (2, 1), "引号"),
    ("a: 1\n---\nb: 2\n", (2, 1), "一条记录"),
    ('a: "\\q"\n', (1, 5), "转义"),
    ("a: @x\n", (1, 4), "引号"),
    ("a:\n  - 1\n  b: 2\n", (3, 3), "缩进"),
])
def test_syntax_errors_in_chinese_at_the_position(source, where, words):
    [(line, column, message)] = problems(source)
    assert (line, column) == where and words in message and "YAML" in message


def test_empty_document_is_none():
    assert load_yaml("").data is None
    assert load_yaml("# 只有注释\n").data is None


def test_record_validation_through_the_loader():
    """A record in YAML text becomes a typed record, with names and ids resolved only when vocabularies are given."""
    source = "\n".join(f"{k}: {v}" for k, v in {
        "id": "t-1", "title": "标题", "status": "draft", "region": "江中市", "issuer": "中共江中市纪委",
        "regime": "2009-interim", "subject": "{name: 张某}", "circumstances": "[决策严重失误]", "forms": "[责令辞职]",
        "stages": "[{stage: 决定, on: 2024-01-02, by: x}, {stage: 执行, on: 2024-01-03, by: x}]",
        "decision": "{by: x, on: 2024-01-02, doc_no: 0012}",
    }.items())
    record = validate_record("case", load_yaml(source).data, None)
    assert record.decision.doc_no == "0012" and record.region == "江中市"
