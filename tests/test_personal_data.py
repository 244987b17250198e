"""The personal-data guard: what it finds, what it leaves alone, where it says so, and how a record allows it.

Every ID number here is made up and given its check character by the test
itself, with region codes of no province (99…, 98…, 29…), so it can be no
real person's; card numbers use the UnionPay test range 620000…, and the
mobile number is China Mobile's public service number 13800138000.
"""

from __future__ import annotations

import random
import subprocess
import sys
from datetime import date, timedelta

import pytest

from conftest import ROOT, SAMPLE_DATA, case_record, disclosure_record, new_data_dir, report_record, write_record
from gongkai.catalog import Catalog, load_catalog
from gongkai.personal_data import (
    BANK_CARD, EMAIL, ID_CARD, MOBILE, find_personal_data, id_check_character, is_resident_id, luhn_ok,
)
from gongkai.problems import ProblemsFound

RNG = random.Random(20261122)


def resident_id(region: str = "990105", born: date = date(1985, 6, 15), sequence: str = "123") -> str:
    """A made-up 18-character ID number with the right ISO 7064 MOD 11-2 check character (computed here)."""
    first17 = f"{region}{born:%Y%m%d}{sequence}"
    weights = [pow(2, 17 - i, 11) for i in range(17)]  # 2^(n-1) mod 11, the standard's definition
    remainder = sum(int(d) * w for d, w in zip(first17, weights)) % 11
    check = (12 - remainder) % 11
    return first17 + ("X" if check == 10 else str(check))


def with_wrong_check(number: str) -> str:
    wrong = next(c for c in "0123456789X" if c != number[-1])
    return number[:-1] + wrong


def card_number(prefix: str = "620000", length: int = 19) -> str:
    """A made-up card number of ``length`` digits with a right Luhn check digit."""
    body = prefix + "".join(RNG.choice("0123456789") for _ in range(length - len(prefix) - 1))
    for check in "0123456789":
        if luhn_ok(body + check):
            return body + check
    raise AssertionError


def kinds(text: str) -> list[tuple[str, str]]:
    return [(f.kind, f.text) for f in find_personal_data(text)]


# --- resident ID numbers --------------------------------------------------------------------


def test_check_character_agrees_with_the_standard():
    for _ in range(200):
        born = date(1950, 1, 1) + timedelta(days=RNG.randrange(18_000))
        number = resident_id(RNG.choice(["990105", "980305", "290104"]), born, f"{RNG.randrange(1000):03d}")
        assert id_check_character(number[:17]) == number[17]
        assert is_resident_id(number) and not is_resident_id(with_wrong_check(number))
    assert any(resident_id(sequence=f"{n:03d}").endswith("X") for n in range(100))  # the X case is covered


def test_valid_id_number_is_found_and_invalid_check_is_not():
    number = resident_id()
    assert kinds(f"当事人身份证号码{number}，住址略。") == [(ID_CARD, number)]
    assert kinds(f"当事人身份证号码{with_wrong_check(number)}。") == []


def test_id_with_lowercase_x():
    number = next(n for n in (resident_id(sequence=f"{s:03d}") for s in range(200)) if n.endswith("X"))
    assert kinds(number.lower()) == [(ID_CARD, number.lower())]


@pytest.mark.parametrize("born", ["19900230", "19901301", "18991231", "20991231"])
def test_id_needs_a_real_past_birth_date(born):
    first17 = f"990105{born}123"
    number = first17 + id_check_character(first17)
    assert kinds(number) == []


def test_old_fifteen_digit_id():
    assert kinds("身份证990105850615123。") == [(ID_CARD, "990105850615123")]
    assert kinds("编号990105851315123") == []  # month 13


def test_id_inside_a_longer_number_or_code_is_not_an_id():
    number = resident_id()
    assert kinds(f"9{number}") == [] and kinds(f"{number}7") == [] and kinds(f"A{number}B") == []


def test_full_width_digits_count():
    number = resident_id()
    full = number.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789X"})
    assert kinds(f"身份证：{full}") == [(ID_CARD, full)]


# --- mobile numbers ------------------------------------------------------------------------------


@pytest.mark.parametrize("written", [
    "13800138000", "138 0013 8000", "138-0013-8000", "+8613800138000", "+86 138 0013 8000",
    "+86-138-0013-8000", "008613800138000", "(+86)13800138000", "8613800138000", "19900138000", "１３８００１３８０００",
])
def test_mobile_numbers_in_common_writings(written):
    assert kinds(f"联系电话：{written}。") == [(MOBILE, written)]


@pytest.mark.parametrize("text", [
    "办公电话 0571-87654321", "12345678901", "10012345678", "138001380001", "2138001380001",
    "造成损失13800138000元", "138 0013-8000", "编号 13800138", "共计13800000000万元",
])
def test_not_mobile_numbers(text):
    assert [k for k, _ in kinds(text) if k == MOBILE] == []


# --- bank cards ------------------------------------------------------------------------------------


@pytest.mark.parametrize("length", [16, 17, 18, 19])
def test_card_numbers_passing_luhn(length):
    number = card_number(length=length)
    assert kinds(f"收款账号{number}。") == [(BANK_CARD, number)]
    broken = number[:-1] + str((int(number[-1]) + 1) % 10)
    assert kinds(f"收款账号{broken}。") == []


@pytest.mark.parametrize("separator", [" ", "-"])
def test_card_numbers_in_groups_of_four(separator):
    number = card_number(length=19)
    grouped = separator.join(number[i:i + 4] for i in range(0, 19, 4))
    assert kinds(f"卡号：{grouped}") == [(BANK_CARD, grouped)]
    mixed = number[:4] + " " + number[4:8] + "-" + number[8:]
    assert BANK_CARD not in [k for k, _ in kinds(mixed)]  # groups are separated alike


def test_luhn_known_values():
    assert luhn_ok("4111111111111111") and luhn_ok("6011000990139424") and not luhn_ok("4111111111111112")


def test_digit_runs_that_are_not_cards():
    assert kinds(card_number(prefix="0", length=16)) == []  # no card network issues from 0, 1, 7, 8, 9
    assert kinds(card_number(prefix="9", length=19)) == []
    assert kinds(card_number(prefix="37", length=15)) == []  # too short for this guard


def test_an_id_number_is_reported_as_an_id_not_as_a_card():
    candidates = (resident_id("290305", sequence=f"{s:03d}") for s in range(1000))
    number = next(n for n in candidates if n[-1] != "X" and luhn_ok(n))  # also a well-formed card number
    assert [k for k, _ in kinds(number)] == [ID_CARD]


# --- e-mail -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("address", [
    "zhangsan@qq.com", "li.si_2024@163.com", "w@126.com", "someone@gmail.com", "a.b@sub.example.org.cn",
    "x@gov.cn.evil.com", "x@evilgov.cn", "ZHANG@QQ.COM", "teacher@school.edu.cn",
])
def test_personal_email(address):
    assert kinds(f"请发送至{address}。") == [(EMAIL, address)]


@pytest.mark.parametrize("address", ["xinfang@jz.gov.cn", "jb@ccdi.gov.cn", "office@gov.cn", "dangjian@12371.cn", "a@b.www.12371.cn"])
def test_institutional_email_is_public_contact(address):
    assert kinds(f"举报邮箱：{address}") == []


def test_text_without_personal_data():
    text = "江中市交通局原局长张某因决策严重失误被责令辞职。江委〔2024〕15号。2024年3月5日。索引号JZ-2024-00012，金额1234.56万元，电话0571-87654321。"
    assert kinds(text) == []


# --- in records: exact positions, every text field, allowances -------------------------------------


def load(tmp_path, kind: str, record: dict, text: str | None = None) -> Catalog | list:
    data = new_data_dir(tmp_path / "data")
    write_record(data, kind, record, text=text)
    try:
        return load_catalog(data)
    except ProblemsFound as found:
        return found.problems


PHONE = "13800138000"


def test_exact_position_in_a_single_line_value(tmp_path):
    record = case_record(summary=f"举报人电话{PHONE}，已核实。")
    problems = load(tmp_path, "case", record)
    [problem] = problems
    text = (tmp_path / "data" / "cases" / "t-case-1.yaml").read_text(encoding="utf-8").split("\n")
    line = next(i for i, l in enumerate(text, 1) if l.startswith("summary:"))
    assert (problem.line, problem.column) == (line, text[line - 1].index(PHONE) + 1)
    assert "summary" in problem.message and MOBILE in problem.message
    assert PHONE not in problem.message and "138****8000" in problem.message  # masked: output may go to CI logs


def test_exact_position_in_a_block_body_and_every_occurrence(tmp_path):
    number = resident_id()
    yaml_text = "\n".join([
        "id: t-case-1",
        *[l for l in _dump(case_record(body=None)).split("\n") if l and not l.startswith("id:")],
        "body: |",
        "  第一段。",
        f"  当事人身份证号{number}，又写作 {number}。",
    ]) + "\n"
    problems = load(tmp_path, "case", case_record(), text=yaml_text)
    lines = yaml_text.split("\n")
    line = next(i for i, l in enumerate(lines, 1) if number in l)
    first = lines[line - 1].index(number) + 1
    second = lines[line - 1].index(number, first) + 1
    assert [(p.line, p.column) for p in problems] == [(line, first), (line, second)]
    assert all("body" in p.message and ID_CARD in p.message for p in problems)


def _dump(record: dict) -> str:
    import yaml

    return yaml.safe_dump(record, allow_unicode=True, sort_keys=False)


@pytest.mark.parametrize("kind, record, field", [
    ("case", case_record(title=f"张某（电话{PHONE}）被问责"), "title"),
    ("case", case_record(subject={"name": "张某", "position": f"局长 {PHONE}"}), "subject.position"),
    ("case", case_record(legal_basis=["第七条", f"联系{PHONE}"]), "legal_basis[1]"),
    ("case", case_record(decision={"by": "中共江中市委", "on": "2024-02-20", "doc_no": PHONE}), "decision.doc_no"),
    ("case", case_record(corrections=[{"on": "2024-03-06", "note": f"删除电话{PHONE}"}]), "corrections[0].note"),
    ("case", case_record(sources=[{"title": f"通报 {PHONE}", "url": "https://example.gov.cn/a"}]), "sources[0].title"),
    ("case", case_record(sources=[{"title": "通报", "url": "https://example.com/?mail=zhang@qq.com"}]), "sources[0].url"),
    ("report", report_record(official={"name": "王某", "position": "局长", "organization": "zhang@qq.com"}), "official.organization"),
    ("report", report_record(questions=[{"asked_by": "代表", "question": f"请回答 {PHONE}"}]), "questions[0].question"),
    ("disclosure", disclosure_record(index_no=PHONE), "index_no"),
])
def test_every_text_field_is_checked(tmp_path, kind, record, field):
    problems = load(tmp_path, kind, record)
    assert isinstance(problems, list) and len(problems) == 1, problems
    assert f"字段「{field}」" in problems[0].message


def test_a_bare_number_is_checked_as_typed(tmp_path):
    """``doc_no: 13800138000`` (a YAML integer) is text as typed, and found at its position."""
    text = _dump(case_record()).replace("doc_no: 江委〔2024〕15号", f"doc_no: {PHONE}")
    [problem] = load(tmp_path, "case", case_record(), text=text)
    line = next(i for i, l in enumerate(text.split("\n"), 1) if PHONE in l)
    assert problem.line == line and "decision.doc_no" in problem.message


def test_escaped_value_is_reported_at_the_value(tmp_path):
    text = _dump(case_record()).replace(
        "summary: 在未经集体决策的情况下擅自批准道路改造项目，造成财政资金损失。", 'summary: "电话\\u0031\\u0033' + PHONE[2:] + '"'
    )
    [problem] = load(tmp_path, "case", case_record(), text=text)
    line = next(i for i, l in enumerate(text.split("\n"), 1) if l.startswith("summary:"))
    assert (problem.line, problem.column) == (line, 10)


def test_allowance_with_reason(tmp_path):
    note = [{"kind": MOBILE, "reason": "举报专线，经市纪委批准公开"}]
    catalog = load(tmp_path, "case", case_record(summary=f"举报电话{PHONE}。", personal_data=note))
    assert isinstance(catalog, Catalog)
    assert catalog.by_id["t-case-1"].record.personal_data[0].reason.startswith("举报专线")


def test_allowance_is_per_kind(tmp_path):
    note = [{"kind": MOBILE, "reason": "举报专线"}]
    problems = load(tmp_path, "case", case_record(summary=f"举报电话{PHONE}，邮箱zhang@qq.com。", personal_data=note))
    assert [EMAIL in p.message for p in problems] == [True]


@pytest.mark.parametrize("note, words", [
    ({"kind": "电话", "reason": "x"}, "个人电子邮箱"),
    ({"kind": MOBILE}, "reason"),
    ({"kind": MOBILE, "reason": ""}, "不能为空"),
    ({"kind": MOBILE, "reason": "x", "by": "y"}, "by"),
])
def test_allowance_needs_a_known_kind_and_a_reason(tmp_path, note, words):
    problems = load(tmp_path, "case", case_record(personal_data=[note]))
    assert isinstance(problems, list) and any(words in p.message and "personal_data" in p.message for p in problems), problems


# --- shipped and generated data stay clean ---------------------------------------------------------


def test_sample_data_has_no_personal_data():
    load_catalog(SAMPLE_DATA)


def test_synthetic_records_have_no_personal_data(tmp_path):
    for seed in (1, 7):
        target = tmp_path / f"seed{seed}"
        done = subprocess.run(
            [sys.executable, "-m", "gongkai.synthetic", str(target), "600", "--seed", str(seed)],
            cwd=ROOT / "plugins", capture_output=True, text=True, timeout=300,
        )
        assert done.returncode == 0, done.stderr
        assert len(load_catalog(target).loaded) == 600
