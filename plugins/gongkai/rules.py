"""Rules that relate one field of a record to another (records.md).

Each rule reads a record that already passed the schema and yields
``(field path, message)`` pairs, so that the message lands on the line of the
field at fault. Rules across records (unique ids, ``formerly``) live in
``catalog.py``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Callable, Iterator

from .fields import CHINA_TIME
from .personal_data import personal_data_rule
from .records import STAGE_ORDER, Case, Disclosure, Record, Report
from .urls import RESERVED_IDS
from .vocabulary import Vocabularies
from .yamlsource import Path

Finding = tuple[Path, str] | tuple[Path, str, str, int]
"""``(field path, message)``, or with ``(text, occurrence)`` to point at that text inside the field's value."""


def _cn(d) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def _china_day(moment: datetime) -> date:
    """The calendar day of ``moment`` in China: record dates (approval, decision, …) are China dates."""
    return moment.astimezone(CHINA_TIME).date()


def _publication(record: Record, vocab: Vocabularies) -> Iterator[Finding]:
    public_states = ("approved", "withdrawn")
    if record.status in public_states:
        if record.approval is None:
            yield ("status",), f"状态为 {record.status} 的记录必须填写 approval（审批：by 审批机关，on 审批日期）"
        if record.published is None:
            yield ("status",), f"状态为 {record.status} 的记录必须填写 published（发布时间）"
    if record.status == "withdrawn" and record.withdrawal is None:
        yield ("status",), "已撤回（withdrawn）的记录必须填写 withdrawal（on 撤回日期，reason 撤回原因）"
    if record.status != "withdrawn" and record.withdrawal is not None:
        yield ("withdrawal",), "只有状态为 withdrawn 的记录才能填写 withdrawal；撤回记录请把 status 改为 withdrawn"
    published = record.published
    if published is None:
        return
    day = _china_day(published)
    if record.updated is not None and record.updated < published:
        yield ("updated",), f"更新时间（updated）不能早于发布时间（published，{_cn(day)}）"
    if record.approval is not None and record.approval.on > day:
        yield ("approval", "on"), f"审批日期不能晚于发布时间（published，{_cn(day)}）"
    if record.withdrawal is not None and record.withdrawal.on < day:
        yield ("withdrawal", "on"), f"撤回日期不能早于发布时间（published，{_cn(day)}）"
    for i, correction in enumerate(record.corrections):
        if correction.on < day:
            yield ("corrections", i, "on"), f"更正日期不能早于发布时间（published，{_cn(day)}）"


_RESERVED = "是网址中的保留名称（列表分页、问责案例的分类页面使用），不能用作记录编号：" + "、".join(sorted(RESERVED_IDS))


def _ids(record: Record, vocab: Vocabularies) -> Iterator[Finding]:
    if record.id in RESERVED_IDS:
        yield ("id",), f"编号「{record.id}」{_RESERVED}"
    for i, old in enumerate(record.formerly):
        if old == record.id:
            yield ("formerly", i), f"曾用编号「{old}」不能与本记录编号相同"
        if old in RESERVED_IDS:
            yield ("formerly", i), f"曾用编号「{old}」{_RESERVED}"
    seen: set[str] = set()
    for i, topic in enumerate(record.topics):
        if topic in seen:
            yield ("topics", i), f"主题「{vocab.topics[topic].name}」重复"
        seen.add(topic)


def _disclosure(record: Disclosure, vocab: Vocabularies) -> Iterator[Finding]:
    if record.disclosure_mode == "不予公开":
        yield ("disclosure_mode",), "不予公开的信息不得录入公开平台：公开方式只能是 主动公开 或 依申请公开"
    if record.domain == "政务公开" and not record.index_no:
        yield ("domain",), "政务公开信息必须填写 index_no（索引号）"
    category = vocab.categories[record.category]
    if category.domain != record.domain:
        yield ("category",), f"公开类别「{category.name}」属于{category.domain}，与本记录的公开领域（{record.domain}）不符"
    if record.written_on and record.published and record.written_on > _china_day(record.published):
        yield ("written_on",), f"成文日期不能晚于发布时间（published，{_cn(_china_day(record.published))}）"


def _case(record: Case, vocab: Vocabularies) -> Iterator[Finding]:
    present = [s.stage for s in record.stages]
    for required in ("决定", "执行"):
        if required not in present:
            yield ("stages",), f"问责程序（stages）必须包含「{required}」环节"
    seen: set[str] = set()
    latest = None
    for stage in sorted(enumerate(record.stages), key=lambda pair: STAGE_ORDER.index(pair[1].stage)):
        index, entry = stage
        if entry.stage in seen:
            yield ("stages", index, "stage"), f"问责程序环节「{entry.stage}」重复"
        seen.add(entry.stage)
        if latest is not None and entry.on < latest[1].on:
            yield ("stages", index, "on"), (
                f"「{entry.stage}」的日期（{_cn(entry.on)}）早于前一环节「{latest[1].stage}」（{_cn(latest[1].on)}）：程序日期不能倒退"
            )
        latest = stage
    for i, form in enumerate(record.forms):
        if record.forms.index(form) != i:
            yield ("forms", i), f"问责方式「{vocab.forms[form].name}」重复"
    for i, circumstance in enumerate(record.circumstances):
        if record.circumstances.index(circumstance) != i:
            yield ("circumstances", i), f"问责情形「{vocab.circumstances[circumstance].name}」重复"
    if record.published and record.decision.on > _china_day(record.published):
        yield ("decision", "on"), f"问责决定日期不能晚于发布时间（published，{_cn(_china_day(record.published))}）：只公开已办结的案例"


def _report(record: Report, vocab: Vocabularies) -> Iterator[Finding]:
    if record.published and record.year > _china_day(record.published).year:
        yield ("year",), f"述职年度（{record.year}）不能晚于发布年份（{_china_day(record.published).year}）"
    evaluation = record.evaluation
    if evaluation.score is None and not evaluation.grades:
        yield ("evaluation",), "评议测评（evaluation）至少要填写 score（得分）或 grades（等次票数）之一"
    if evaluation.grades:
        total = sum(evaluation.grades.values())
        if total > evaluation.participants:
            yield ("evaluation", "grades"), f"各等次票数之和（{total}）超过了参评人数（participants，{evaluation.participants}）"


RULES: dict[type[Record], tuple[Callable[..., Iterator[Finding]], ...]] = {
    Disclosure: (_publication, _ids, _disclosure, personal_data_rule),
    Case: (_publication, _ids, _case, personal_data_rule),
    Report: (_publication, _ids, _report, personal_data_rule),
}


def check_record(record: Record, vocab: Vocabularies) -> list[Finding]:
    """Every cross-field problem of one schema-valid record."""
    return [finding for rule in RULES[type(record)] for finding in rule(record, vocab)]
