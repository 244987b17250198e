"""``invoke new KIND``: a commented template for a new record, with a fresh id.

The template is a draft with every required field present but blank, so that
``invoke validate`` lists exactly what the clerk still has to fill in; each
field carries a Chinese comment saying what goes there.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from .catalog import record_files
from .yamlsource import YamlLoadError, load_yaml

_COMMON_HEAD = """\
# 新建{label}记录。填写空白处后运行 `invoke validate` 检查；
# 所有字段的含义见网站「数据说明」页面。以 # 开头的行是注释，可以删除。
id: {id}                 # 编号：与文件名一致，发布后永不更改
title:                   # 标题（不超过 200 字）
status: draft            # draft 草稿 → 审批后改为 approved；撤回改为 withdrawn
# approval: {{by: 审批机关, on: {today}}}   # 审批（status 为 approved 时必填）
# published: {today}     # 发布时间；晚于当前时间即为预约发布
region:                  # 地区：词表 data/vocab/regions.yaml 中的标识或名称
issuer:                  # 发布机构：data/vocab/organizations.yaml 中的标识或名称
topics: []               # 主题（可选）：如 [交通建设, 安全生产]
summary:                 # 摘要（可选，纯文本，不超过 300 字）
body: |                  # 正文（可选，Markdown 格式）
  正文第一段……
# sources:               # 来源（可选）
#   - {{title: 来源名称, url: "https://…"}}
"""

_KIND_FIELDS = {
    "disclosure": """\
domain:                  # 公开领域：党务公开 或 政务公开
category:                # 公开类别：data/vocab/categories.yaml 中的标识或名称
index_no:                # 索引号（政务公开必填）
doc_no:                  # 文号（可选），如 江委发〔2024〕12号
written_on:              # 成文日期（可选），不得晚于发布时间
validity: 有效           # 有效性：有效、已修订、失效
disclosure_mode: 主动公开  # 公开方式：主动公开 或 依申请公开
""",
    "case": """\
regime:                  # 问责依据：如 2019-regulation（中国共产党问责条例）
subject_kind: 领导干部    # 问责对象类型：领导干部 或 党组织
subject:                 # 被问责对象（姓名可匿名化，如 张某）
  name:
  position:
  organization:
  level:                 # 职级，如 县处级
circumstances:           # 问责情形（至少一项，须属于所选问责规定）
  -
forms:                   # 问责方式（至少一项），可写具体处分，如 留党察看二年
  -
referred_for_prosecution: false   # 是否移送检察机关审查起诉
initiated_by:            # 问责启动主体（可选）：如 纪委监委、群众举报
stages:                  # 问责程序：须包含 决定 和 执行，日期不得倒退
  - {{stage: 启动, on: {today}, by: }}
  - {{stage: 决定, on: {today}, by: }}
  - {{stage: 执行, on: {today}, by: }}
decision:                # 问责决定
  by:
  on: {today}
  doc_no:
""",
    "report": """\
official:                # 述职人
  name:
  position:
  organization:
year: {year}               # 述职年度
kind: 述职述廉           # 述职述廉、述责述廉 或 四述
session:                 # 述职会议
  body:                  # 如 市纪委全委会
  on: {today}
evaluation:              # 评议测评：至少填写 score 或 grades 之一
  method: 民主测评
  participants:          # 参评人数
  score:                 # 得分 0–100
  # grades: {{好: 0, 较好: 0, 一般: 0, 差: 0}}
""",
}

PREFIX = {"disclosure": "gk", "case": "wz", "report": "sz"}
"""Id prefixes: 公开 (gk), 问责 (wz), 述职 (sz)."""


def _taken_ids(data_dir: Path) -> set[str]:
    """Every id and former id in use, read leniently (a broken file must not block a new one)."""
    taken = set()
    for path, _ in record_files(data_dir):
        taken.add(path.stem)
        try:
            data = load_yaml(path.read_bytes()).data
        except (YamlLoadError, OSError):
            continue
        if isinstance(data, dict) and isinstance(data.get("formerly"), list):
            taken.update(str(old) for old in data["formerly"])
    return taken


def fresh_id(data_dir: Path, kind: str, today: date) -> str:
    """The next unused id of the form ``wz-2026-0001`` for this kind and year."""
    taken = _taken_ids(data_dir)
    prefix = f"{PREFIX[kind]}-{today.year}-"
    numbers = [int(m.group(1)) for t in taken if (m := re.fullmatch(re.escape(prefix) + r"(\d+)", t))]
    number = max(numbers, default=0) + 1
    while f"{prefix}{number:04d}" in taken:
        number += 1
    return f"{prefix}{number:04d}"


def write_template(data_dir: Path, kind: str, today: date) -> Path:
    """Write a new record template under ``data_dir`` and return its path."""
    from .records import RECORD_TYPES

    record_id = fresh_id(data_dir, kind, today)
    text = _COMMON_HEAD.format(label=RECORD_TYPES[kind].label, id=record_id, today=today.isoformat())
    text += _KIND_FIELDS[kind].format(today=today.isoformat(), year=today.year)
    path = data_dir / f"{kind}s" / str(today.year) / f"{record_id}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "x", encoding="utf-8") as out:  # never overwrite a clerk's file
        out.write(text)
    return path
