"""Every rule of rules.py and of catalog.py (across records and vocabularies), both ways.

Each test writes records with the conftest helpers into a fresh data folder
holding the shipped vocabularies and loads it with ``load_catalog``, exactly
as ``invoke validate`` does; a broken case must give exactly the expected
problem, on the line of the field at fault and naming it, and the valid
variant right next to it must load.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from conftest import case_record, disclosure_record, new_data_dir, report_record, write_record
from gongkai.catalog import Catalog, load_catalog
from gongkai.facets import FACETS
from gongkai.problems import Problem, ProblemsFound
from gongkai.urls import RESERVED_IDS, Urls
from gongkai.vocabulary import Vocabulary, VocabularyMiss, Topic
from gongkai.yamlsource import load_yaml

KIND_OF = {"t-case": "case", "t-disc": "disclosure", "t-rep": "report"}


def kind_of(record: dict) -> str:
    return next(kind for prefix, kind in KIND_OF.items() if record["id"].startswith(prefix))


def load(tmp_path: Path, *records: dict) -> Catalog | list[Problem]:
    """The catalog of a data folder holding ``records``, or its problems."""
    data = new_data_dir(tmp_path / "data")
    for record in records:
        write_record(data, kind_of(record), record)
    try:
        return load_catalog(data)
    except ProblemsFound as found:
        return found.problems


def valid(tmp_path: Path, *records: dict) -> Catalog:
    outcome = load(tmp_path, *records)
    assert isinstance(outcome, Catalog), "\n".join(map(str, outcome))
    return outcome


def one_problem(tmp_path: Path, record: dict, loc: tuple, *words: str, key: bool = False) -> Problem:
    """Exactly one problem, placed at ``loc`` of the record's file and naming the field and ``words``."""
    outcome = load(tmp_path, record)
    assert isinstance(outcome, list), f"{record['id']} should not validate"
    assert len(outcome) == 1, "\n".join(map(str, outcome))
    [problem] = outcome
    path = tmp_path / "data" / f"{kind_of(record)}s" / f"{record['id']}.yaml"
    mark = load_yaml(path.read_bytes()).mark_for(loc, key=key)
    assert (problem.line, problem.column) == (mark.line, mark.column), f"{problem} not at {loc} ({mark})"
    field = ".".join(str(p) for p in loc if isinstance(p, str)) if loc else ""
    for word in (loc[0] if loc else "", *words):
        assert str(word) in problem.message, f"{word!r} not in {problem.message!r}"
    assert field.split(".")[0] in problem.message
    return problem


# --- publication state (rules._publication) --------------------------------------------


def test_valid_records_of_every_kind_load(tmp_path):
    catalog = valid(tmp_path, case_record(), disclosure_record(), report_record())
    assert sorted(catalog.by_id) == ["t-case-1", "t-disc-1", "t-rep-1"]


@pytest.mark.parametrize("status", ["approved", "withdrawn"])
def test_public_states_need_approval(tmp_path, status):
    extra = {"withdrawal": {"on": "2024-05-01", "reason": "误发"}} if status == "withdrawn" else {}
    one_problem(tmp_path, case_record(status=status, approval=None, **extra), ("status",), "approval")


@pytest.mark.parametrize("status", ["approved", "withdrawn"])
def test_public_states_need_published(tmp_path, status):
    extra = {"withdrawal": {"on": "2024-05-01", "reason": "误发"}} if status == "withdrawn" else {}
    one_problem(tmp_path, report_record(status=status, published=None, **extra), ("status",), "published")


def test_draft_needs_neither_approval_nor_published(tmp_path):
    valid(tmp_path, case_record(status="draft", approval=None, published=None))


def test_withdrawn_needs_withdrawal(tmp_path):
    one_problem(tmp_path, disclosure_record(status="withdrawn"), ("status",), "withdrawal")
    valid(tmp_path / "ok", disclosure_record(status="withdrawn", withdrawal={"on": "2024-05-01", "reason": "误发"}))


def test_withdrawal_only_on_withdrawn(tmp_path):
    one_problem(tmp_path, disclosure_record(withdrawal={"on": "2024-05-01", "reason": "误发"}), ("withdrawal",), "withdrawn")


def test_withdrawal_not_before_published(tmp_path):
    record = disclosure_record(status="withdrawn", withdrawal={"on": "2024-04-01", "reason": "误发"})
    one_problem(tmp_path, record, ("withdrawal", "on"), "撤回日期")


@pytest.mark.parametrize("updated, ok", [
    ("2024-03-05T09:59:59+08:00", False),
    ("2024-03-04", False),
    ("2024-03-05T02:00:00Z", True),  # 10:00 in Beijing: the same moment
    ("2024-03-05T10:00:00+08:00", True),
    ("2024-06-01", True),
])
def test_updated_not_before_published(tmp_path, updated, ok):
    record = case_record(updated=updated)
    if ok:
        valid(tmp_path, record)
    else:
        one_problem(tmp_path, record, ("updated",), "published")


def test_approval_not_after_published(tmp_path):
    one_problem(tmp_path, case_record(approval={"by": "中共江中市纪委", "on": "2024-03-06"}), ("approval", "on"), "审批日期")
    valid(tmp_path / "ok", case_record(approval={"by": "中共江中市纪委", "on": "2024-03-05"}))


def test_corrections_not_before_published(tmp_path):
    record = case_record(corrections=[{"on": "2024-03-06", "note": "更正职务"}, {"on": "2024-03-01", "note": "更正日期"}])
    one_problem(tmp_path, record, ("corrections", 1, "on"), "更正日期")


def test_dates_compare_with_published_in_china_time(tmp_path):
    """2024-03-04T20:00Z is 2024-03-05 04:00 in Beijing: approval and decision on 3月5日 are not "after" it."""
    valid(tmp_path, case_record(
        published="2024-03-04T20:00:00Z", approval={"by": "中共江中市纪委", "on": "2024-03-05"},
        decision={"by": "中共江中市委", "on": "2024-03-05", "doc_no": "江委〔2024〕15号"},
        stages=[dict(s, on="2024-03-05") for s in STAGES],
    ))
    valid(tmp_path / "report", report_record(published="2024-12-31T18:00:00Z", year=2025, approval={"by": "中共江中市纪委", "on": "2025-01-01"}))
    valid(tmp_path / "disclosure", disclosure_record(published="2024-04-01T16:30:00Z", written_on="2024-04-02"))
    problem = one_problem(tmp_path / "late", case_record(published="2024-03-04T15:00:00Z", approval={"by": "中共江中市纪委", "on": "2024-03-05"}), ("approval", "on"))
    assert "2024年3月4日" in problem.message  # 23:00 in Beijing, still the 4th


def test_published_date_means_midnight_china_time(tmp_path):
    catalog = valid(tmp_path, disclosure_record(published="2024-04-02"))
    published = catalog.by_id["t-disc-1"].record.published
    assert (published.isoformat()) == "2024-04-02T00:00:00+08:00"


# --- ids (rules._ids, catalog identity rules) ------------------------------------------------


def test_formerly_not_own_id(tmp_path):
    one_problem(tmp_path, case_record(formerly=["t-case-1"]), ("formerly", 0), "formerly")
    valid(tmp_path / "ok", case_record(formerly=["old-case-1"]))


@pytest.mark.parametrize("reserved", sorted(RESERVED_IDS))
def test_ids_naming_a_folder_of_the_site_are_refused(tmp_path, reserved):
    """``cases/forms/`` is the index of a case facet: a record named ``forms`` would silently lose its page."""
    data = new_data_dir(tmp_path / "data")
    write_record(data, "case", case_record(reserved))
    with pytest.raises(ProblemsFound) as found:
        load_catalog(data)
    [problem] = found.value.problems
    assert (problem.line, problem.column) == (1, 5) and f"编号「{reserved}」" in problem.message and "保留" in problem.message
    one_problem(tmp_path / "formerly", case_record(formerly=[reserved]), ("formerly", 0), reserved, "保留")


def test_reserved_ids_are_the_folders_inside_a_kinds_folder():
    listing_pages = Urls.listing("cases", 2).split("/")[1]
    assert RESERVED_IDS == {listing_pages} | {f.url_prefix.split("/")[1] for f in FACETS if "/" in f.url_prefix}


def test_duplicate_topics_by_id_and_name(tmp_path):
    one_problem(tmp_path, case_record(topics=["交通建设", "jiaotong-jianshe"]), ("topics", 1), "交通建设", "重复")


def test_file_name_must_equal_id(tmp_path):
    data = new_data_dir(tmp_path / "data")
    path = write_record(data, "case", case_record("t-case-1"))
    path.rename(path.with_name("t-case-2.yaml"))
    with pytest.raises(ProblemsFound) as found:
        load_catalog(data)
    [problem] = found.value.problems
    assert (problem.line, problem.column) == (1, 5) and "t-case-2.yaml" in problem.message and "id" in problem.message


def test_file_name_may_sit_in_year_folders(tmp_path):
    data = new_data_dir(tmp_path / "data")
    path = write_record(data, "case", case_record("t-case-1"))
    (data / "cases" / "2024").mkdir()
    path.rename(data / "cases" / "2024" / path.name)
    assert list(load_catalog(data).by_id) == ["t-case-1"]


def test_ids_unique_across_kinds(tmp_path):
    data = new_data_dir(tmp_path / "data")
    write_record(data, "case", case_record("same-id"))
    write_record(data, "report", report_record("same-id"))
    with pytest.raises(ProblemsFound) as found:
        load_catalog(data)
    [problem] = found.value.problems
    assert problem.file.endswith("reports/same-id.yaml") and (problem.line, problem.column) == (1, 5)
    assert "cases/same-id.yaml" in problem.message and "id" in problem.message


def test_formerly_never_names_a_current_id(tmp_path):
    data = new_data_dir(tmp_path / "data")
    write_record(data, "case", case_record("t-case-1"))
    write_record(data, "report", report_record("t-rep-1", formerly=["t-case-1"]))
    with pytest.raises(ProblemsFound) as found:
        load_catalog(data)
    [problem] = found.value.problems
    assert problem.file.endswith("reports/t-rep-1.yaml") and "formerly" in problem.message and "现行编号" in problem.message


def test_formerly_claimed_once(tmp_path):
    data = new_data_dir(tmp_path / "data")
    write_record(data, "case", case_record("t-case-1", formerly=["old-1"]))
    write_record(data, "report", report_record("t-rep-1", formerly=["old-1"]))
    with pytest.raises(ProblemsFound) as found:
        load_catalog(data)
    [problem] = found.value.problems
    assert problem.file.endswith("reports/t-rep-1.yaml") and "old-1" in problem.message


def test_formerly_ids_of_different_records_may_differ(tmp_path):
    catalog = valid(tmp_path, case_record(formerly=["old-1", "old-2"]), report_record(formerly=["old-3"]))
    assert catalog.by_id["t-case-1"].record.formerly == ["old-1", "old-2"]


@pytest.mark.parametrize("relative, words", [
    ("cases/t-case-9.yml", ".yaml"),
    ("reports/2024/t-case-9.YAML", ".yaml"),
    ("t-case-9.yaml", "cases/"),
    ("misc/t-case-9.yaml", "cases/"),
])
def test_misplaced_files_are_reported(tmp_path, relative, words):
    data = new_data_dir(tmp_path / "data")
    path = data / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(case_record("t-case-9"), allow_unicode=True), encoding="utf-8")
    with pytest.raises(ProblemsFound) as found:
        load_catalog(data)
    [problem] = found.value.problems
    assert problem.file.endswith(relative) and words in problem.message


# --- disclosures (rules._disclosure) -----------------------------------------------------------


def test_not_for_disclosure_is_rejected(tmp_path):
    one_problem(tmp_path, disclosure_record(disclosure_mode="不予公开"), ("disclosure_mode",), "不予公开")
    valid(tmp_path / "ok", disclosure_record(disclosure_mode="依申请公开"))


def test_government_disclosure_needs_index_no(tmp_path):
    one_problem(tmp_path, disclosure_record(index_no=None), ("domain",), "index_no")


def test_party_disclosure_needs_no_index_no(tmp_path):
    valid(tmp_path, disclosure_record(domain="党务公开", category="dw-dang-jianshe", index_no=None))


@pytest.mark.parametrize("domain, category", [("政务公开", "dw-dang-jianshe"), ("党务公开", "zw-minsheng")])
def test_category_belongs_to_domain(tmp_path, domain, category):
    one_problem(tmp_path, disclosure_record(domain=domain, category=category), ("category",), domain)


def test_category_by_exact_name(tmp_path):
    catalog = valid(tmp_path, disclosure_record(category="扶贫、教育、医疗、社会保障、促进就业等方面的政策、措施及其实施情况"))
    assert catalog.by_id["t-disc-1"].record.category == "zw-minsheng"


@pytest.mark.parametrize("written_on, ok", [("2024-04-03", False), ("2024-04-02", True), ("2024-03-01", True)])
def test_written_on_not_after_published(tmp_path, written_on, ok):
    record = disclosure_record(written_on=written_on)
    if ok:
        valid(tmp_path, record)
    else:
        one_problem(tmp_path, record, ("written_on",), "成文日期")


def test_disclosure_defaults(tmp_path):
    record = valid(tmp_path, disclosure_record()).by_id["t-disc-1"].record
    assert (record.validity, record.disclosure_mode) == ("有效", "主动公开")


# --- cases (rules._case, regime-scoped references in records.py) ----------------------------------

STAGES = [
    {"stage": "启动", "on": "2023-11-20", "by": "中共江中市纪委"},
    {"stage": "调查", "on": "2023-12-01", "by": "中共江中市纪委"},
    {"stage": "决定", "on": "2024-02-20", "by": "中共江中市委"},
    {"stage": "审查", "on": "2024-02-22", "by": "中共江中市委"},
    {"stage": "执行", "on": "2024-02-28", "by": "中共江中市委组织部"},
]


@pytest.mark.parametrize("missing", ["决定", "执行"])
def test_stages_must_include_decision_and_execution(tmp_path, missing):
    stages = [s for s in STAGES if s["stage"] != missing]
    one_problem(tmp_path, case_record(stages=stages), ("stages",), missing)


def test_optional_stages_may_be_left_out(tmp_path):
    valid(tmp_path, case_record(stages=[s for s in STAGES if s["stage"] in ("决定", "执行")]))


def test_stage_dates_must_not_go_backwards(tmp_path):
    stages = [dict(s) for s in STAGES]
    stages[3]["on"] = "2024-02-19"  # 审查 before 决定
    one_problem(tmp_path, case_record(stages=stages), ("stages", 3, "on"), "审查", "决定", "倒退")


def test_stage_dates_may_repeat_and_list_order_is_free(tmp_path):
    stages = [dict(s, on="2024-02-20") for s in STAGES]
    valid(tmp_path, case_record(stages=list(reversed(stages))))


def test_stage_order_uses_the_canonical_order_not_the_list_order(tmp_path):
    stages = [dict(STAGES[4]), dict(STAGES[0])]  # 执行 listed first, 启动 dated after it
    stages[1]["on"] = "2024-03-01"
    stages.append(dict(STAGES[2]))
    outcome = load(tmp_path, case_record(stages=stages))
    assert isinstance(outcome, list)
    assert any("倒退" in p.message for p in outcome)


def test_duplicate_stage(tmp_path):
    stages = STAGES + [dict(STAGES[4], on="2024-03-01")]
    one_problem(tmp_path, case_record(stages=stages), ("stages", 5, "stage"), "执行", "重复")


def test_decision_not_after_published(tmp_path):
    record = case_record(decision={"by": "中共江中市委", "on": "2024-03-06", "doc_no": "江委〔2024〕15号"})
    one_problem(tmp_path, record, ("decision", "on"), "决定日期")


def test_duplicate_forms_and_circumstances(tmp_path):
    one_problem(tmp_path, case_record(forms=["责令辞职", "2009-zeling-cizhi"]), ("forms", 1), "重复")
    one_problem(tmp_path / "2", case_record(circumstances=["决策严重失误", "2009-juece-shiwu"]), ("circumstances", 1), "重复")


def test_circumstance_of_another_regime(tmp_path):
    problem = one_problem(tmp_path, case_record(circumstances=["党的领导弱化"]), ("circumstances", 0), "不适用于", "暂行规定")
    assert "决策严重失误" in problem.message  # the valid values of this regime are offered


def test_circumstance_suggestions_are_the_closest(tmp_path):
    problem = one_problem(tmp_path, case_record(circumstances=["决策失误"]), ("circumstances", 0), "最接近")
    assert "「决策严重失误」" in problem.message


def test_circumstance_by_id_and_by_name(tmp_path):
    catalog = valid(tmp_path, case_record(circumstances=["决策严重失误", "2009-guanli-jiandu"]))
    assert catalog.by_id["t-case-1"].record.circumstances == ["2009-juece-shiwu", "2009-guanli-jiandu"]


@pytest.mark.parametrize("regime, expected", [
    ("2009-interim", "2009-zeling-cizhi"),
    ("关于实行党政领导干部问责的暂行规定", "2009-zeling-cizhi"),
    ("2019-regulation", "2019-zeling-cizhi"),
])
def test_form_names_resolve_per_regime(tmp_path, regime, expected):
    """责令辞职 is a 2009 form and a 2019 sanction (under 组织调整或者组织处理): the regime decides which."""
    circumstance = "决策严重失误" if "2009" in regime or "暂行" in regime else "党的领导弱化"
    record = case_record(regime=regime, circumstances=[circumstance], forms=["责令辞职", "停职检查"])
    case = valid(tmp_path, record).by_id["t-case-1"].record
    prefix = expected[:4]
    assert case.forms == [expected, f"{prefix}-tingzhi-jiancha"]
    assert case.regime in ("2009-interim", "2019-regulation")


def test_specific_sanctions_and_government_sanctions(tmp_path):
    record = case_record(regime="2019-regulation", circumstances=["党的领导弱化"], forms=["留党察看二年", "政务记过", "诫勉"])
    case = valid(tmp_path, record).by_id["t-case-1"].record
    assert case.forms == ["2019-liudang-chakan-2", "zhengwu-jiguo", "2019-jiemian"]
    # 政务处分 goes with either regime
    valid(tmp_path / "2009", case_record(forms=["责令辞职", "政务撤职"]))


def test_form_not_allowed_for_regime(tmp_path):
    problem = one_problem(tmp_path, case_record(forms=["诫勉"]), ("forms", 0), "不适用于", "领导干部")
    assert "责令辞职" in problem.message


@pytest.mark.parametrize("form, ok", [("检查", True), ("通报", True), ("改组", True), ("诫勉", False), ("留党察看二年", False), ("政务记过", False)])
def test_forms_for_party_organizations(tmp_path, form, ok):
    record = case_record(
        regime="2019-regulation", subject_kind="党组织", subject={"name": "中共江中市交通局党组"},
        circumstances=["党的领导弱化"], forms=[form],
    )
    if ok:
        valid(tmp_path, record)
    else:
        one_problem(tmp_path, record, ("forms", 0), "党组织")


def test_organization_forms_not_for_leaders(tmp_path):
    record = case_record(regime="2019-regulation", circumstances=["党的领导弱化"], forms=["改组"])
    one_problem(tmp_path, record, ("forms", 0), "领导干部")


def test_unknown_form_suggests(tmp_path):
    problem = one_problem(tmp_path, case_record(forms=["责令辞去职务"]), ("forms", 0), "最接近")
    assert "责令辞职" in problem.message


@pytest.mark.parametrize("field, value, expected", [
    ("region", "jiangzhong", "jiangzhong"),
    ("region", "江中市东湖区", "jiangzhong-donghu"),
    ("issuer", "jz-jiwei", "jz-jiwei"),
    ("initiated_by", "群众举报", "qunzhong-jubao"),
])
def test_vocabulary_refs_by_id_or_exact_name(tmp_path, field, value, expected):
    case = valid(tmp_path, case_record(**{field: value})).by_id["t-case-1"].record
    assert getattr(case, field) == expected


@pytest.mark.parametrize("field, value, words", [
    ("region", "江中", "「江中市」"),
    ("issuer", "江中市纪委", "「中共江中市纪委」"),
    ("topics", ["交通"], "「交通建设」"),
    ("initiated_by", "人民群众举报", "「群众举报」"),
    ("regime", "问责条例", "「中国共产党问责条例」"),
])
def test_vocabulary_miss_suggests_closest(tmp_path, field, value, words):
    loc = (field, 0) if isinstance(value, list) else (field,)
    one_problem(tmp_path, case_record(**{field: value}), loc, "最接近", words)


def test_names_are_exact_not_fuzzy(tmp_path):
    one_problem(tmp_path, case_record(region="江中市东湖"), ("region",), "地区", "「江中市东湖区」")


def test_referred_for_prosecution_is_a_strict_flag(tmp_path):
    assert valid(tmp_path, case_record(referred_for_prosecution=True)).by_id["t-case-1"].record.referred_for_prosecution is True
    one_problem(tmp_path / "no", case_record(referred_for_prosecution="no"), ("referred_for_prosecution",), "true")


# --- reports (rules._report) -----------------------------------------------------------------


@pytest.mark.parametrize("year, ok", [(2025, False), (2024, True), (2023, True)])
def test_year_not_after_published_year(tmp_path, year, ok):
    record = report_record(year=year)
    if ok:
        valid(tmp_path, record)
    else:
        one_problem(tmp_path, record, ("year",), "2025", "2024")


def test_evaluation_needs_score_or_grades(tmp_path):
    one_problem(tmp_path, report_record(evaluation={"method": "民主测评", "participants": 40}), ("evaluation",), "score", "grades")
    valid(tmp_path / "score", report_record(evaluation={"method": "民主测评", "participants": 40, "score": 90}))
    valid(tmp_path / "grades", report_record(evaluation={"method": "民主测评", "participants": 40, "grades": {"好": 40}}))


@pytest.mark.parametrize("grades, ok", [
    ({"好": 30, "较好": 8, "一般": 2, "差": 1}, False),
    ({"好": 30, "较好": 8, "一般": 2, "差": 0}, True),  # exactly the participants
    ({"好": 10}, True),  # some abstained
])
def test_grade_counts_within_participants(tmp_path, grades, ok):
    record = report_record(evaluation={"method": "民主测评", "participants": 40, "grades": grades})
    if ok:
        valid(tmp_path, record)
    else:
        one_problem(tmp_path, record, ("evaluation", "grades"), "41", "participants")


@pytest.mark.parametrize("score", [True, "88"])
def test_score_is_a_number_not_a_flag_or_text(tmp_path, score):
    one_problem(tmp_path, report_record(evaluation={"method": "民主测评", "participants": 4, "score": score}), ("evaluation", "score"), "数字")


def test_score_bounds(tmp_path):
    one_problem(tmp_path, report_record(evaluation={"method": "民主测评", "participants": 4, "score": -1}), ("evaluation", "score"), "0")
    valid(tmp_path / "ok", report_record(evaluation={"method": "民主测评", "participants": 4, "score": 100}))


# --- vocabularies (catalog._vocabulary_rules) ---------------------------------------------------


def vocabulary_problems(tmp_path: Path, name: str, text: str) -> list[Problem]:
    data = new_data_dir(tmp_path / "data")
    (data / "vocab" / f"{name}.yaml").write_text(text, encoding="utf-8")
    try:
        load_catalog(data)
    except ProblemsFound as found:
        return found.problems
    return []


@pytest.mark.parametrize("name, text, line, words", [
    ("topics", "- {id: a, name: 甲}\n- {id: a, name: 乙}\n", 2, ("id", "重复")),
    ("topics", "- {id: a, name: 甲}\n- {id: b, name: 甲}\n", 2, ("name", "重复")),
    ("regions", "- {id: jiangzhong, name: 江中市}\n- {id: x, name: 某区, parent: nowhere}\n", 2, ("parent", "nowhere")),
    ("regions", "- {id: jiangzhong, name: 江中市, parent: x}\n- {id: x, name: 某区, parent: jiangzhong}\n", 1, ("parent", "循环")),
    ("regions", "- {id: jiangzhong, name: 江中市, parent: jiangzhong}\n", 1, ("parent", "循环")),
    ("topics", "- {id: Bad_Id, name: 甲}\n", 1, ("id", "格式")),
    ("topics", "- {id: a}\n", 1, ("name", "缺少")),
    ("topics", "{id: a, name: 甲}\n", 1, ("列表",)),
    ("initiators", "- {id: a, name: 甲, type: 内部}\n", 1, ("type", "异体")),
])
def test_vocabulary_rules(tmp_path, name, text, line, words):
    problems = vocabulary_problems(tmp_path, name, text)
    assert problems, "should not load"
    hits = [p for p in problems if p.file.endswith(f"vocab/{name}.yaml") and p.line == line and all(w in p.message for w in words)]
    assert hits, "\n".join(map(str, problems))


def test_vocabulary_references_across_files(tmp_path):
    data = new_data_dir(tmp_path / "data")
    orgs = data / "vocab" / "organizations.yaml"
    orgs.write_text(orgs.read_text(encoding="utf-8") + "- {id: x-org, name: 某机构, region: nowhere}\n", encoding="utf-8")
    forms = data / "vocab" / "forms.yaml"
    forms.write_text(forms.read_text(encoding="utf-8") + "- {id: x-form, name: 某方式, regimes: [no-regime], subject_kinds: [领导干部]}\n", encoding="utf-8")
    with pytest.raises(ProblemsFound) as found:
        load_catalog(data)
    messages = [(Path(p.file).name, p.message) for p in found.value.problems]
    assert any(f == "organizations.yaml" and "nowhere" in m for f, m in messages), messages
    assert any(f == "forms.yaml" and "no-regime" in m for f, m in messages), messages


def test_form_names_may_repeat_but_circumstance_ids_may_not(tmp_path):
    data = new_data_dir(tmp_path / "data")
    regimes = data / "vocab" / "regimes.yaml"
    regimes.write_text(
        regimes.read_text(encoding="utf-8")
        + "- id: another\n  name: 另一规定\n  circumstances:\n    - {id: 2009-juece-shiwu, name: 决策严重失误}\n",
        encoding="utf-8",
    )
    with pytest.raises(ProblemsFound) as found:
        load_catalog(data)
    [problem] = found.value.problems
    assert "2009-juece-shiwu" in problem.message and "全局唯一" in problem.message


def test_missing_vocabulary_file(tmp_path):
    data = new_data_dir(tmp_path / "data")
    (data / "vocab" / "initiators.yaml").unlink()
    with pytest.raises(ProblemsFound) as found:
        load_catalog(data)
    assert any("initiators.yaml" in p.message for p in found.value.problems)


def test_vocabulary_resolve_unit():
    vocabulary = Vocabulary("主题", [Topic(id="jiaotong", name="交通建设"), Topic(id="jiaoyu", name="教育")])
    assert vocabulary.resolve("jiaotong").id == "jiaotong"
    assert vocabulary.resolve("教育").id == "jiaoyu"
    with pytest.raises(VocabularyMiss, match="最接近.*交通建设"):
        vocabulary.resolve("交通")
    with pytest.raises(VocabularyMiss, match="不适用于某范围"):
        vocabulary.resolve("教育", allowed=[vocabulary["jiaotong"]], scope="某范围")
    with pytest.raises(VocabularyMiss, match="可用的值例如"):
        vocabulary.resolve("完全无关的词语", allowed=[vocabulary["jiaoyu"]])
