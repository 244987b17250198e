"""Validation problems, as a clerk reads them: ``path:line:column: message`` in Chinese."""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from pydantic import BaseModel, ValidationError

from .fields import file_keys
from .yamlsource import Document, Mark, field_name  # noqa: F401 (field_name is used here and re-exported)
from .yamlsource import Path as DataPath


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong in one file, at one position."""

    file: str
    """The file as the clerk knows it (relative to the working directory where possible)."""
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.message}"


class ProblemsFound(Exception):
    """Validation failed; ``problems`` lists every problem, sorted by file and position."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = sorted(problems)
        super().__init__(f"{len(self.problems)} 个问题")


def display_path(path: Path) -> str:
    """``path`` relative to the working directory when it is inside it (cheap: no file system calls)."""
    text = str(path)
    if not os.path.isabs(text):
        return text
    cwd = os.getcwd() + os.sep
    return text[len(cwd):] if text.startswith(cwd) else text


def _field(model: Any, name: str | int) -> Any:
    """The pydantic ``FieldInfo`` that a document key (name or alias) names in ``model``, if any."""
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return None
    return next((model.model_fields[n] for n, key in file_keys(model).items() if key == name), None)


def _model_inside(annotation: Any) -> Any:
    """The pydantic model inside ``X``, ``X | None`` or ``list[X]``, if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_inside(arg)
        if found is not None:
            return found
    return None


def field_title(model: type[BaseModel], loc: DataPath) -> str:
    """The Chinese title of the field at ``loc`` in ``model``, if the schema gives one."""
    title = ""
    current: Any = model
    for part in loc:
        if isinstance(part, int) or not (isinstance(current, type) and issubclass(current, BaseModel)):
            continue
        info = _field(current, part)
        if info is None:
            return ""
        title = info.title or ""
        current = _model_inside(info.annotation)
    return title


def _allowed_fields(model: type[BaseModel], loc: DataPath) -> list[str]:
    """The keys a clerk may write in the object at ``loc`` (for "did you mean")."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        info = _field(current, part)
        current = _model_inside(info.annotation) if info else None
        if current is None:
            return []
    return list(file_keys(current).values())


def _message(error: dict[str, Any], model: type[BaseModel]) -> str:
    """Chinese for one pydantic error, naming the field and, where it helps, what is allowed."""
    loc: DataPath = tuple(error["loc"])
    kind, ctx = error["type"], error.get("ctx") or {}
    title = field_title(model, loc)
    where = f"字段「{field_name(loc)}」" + (f"（{title}）" if title else "")
    if kind == "missing":
        return f"缺少必填{where}"
    if error.get("input", "") is None:  # `title:` with nothing after it, as in a new template
        return f"{where}未填写"
    if kind == "extra_forbidden":
        allowed = _allowed_fields(model, loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=2, cutoff=0.7)
        hint = f"；是否想写「{'」或「'.join(close)}」？" if close else ("；可用字段：" + "、".join(allowed) if allowed else "")
        return f"未定义的{where}：规范中没有这个字段，其内容不会被发布{hint}"
    if kind in ("string_type",):
        return f"{where}应为文本"
    # Strict text types report their length limits as too_short/too_long (as for lists).
    is_text = isinstance(error.get("input"), str)
    if kind == "string_too_short" or (kind == "too_short" and is_text):
        return f"{where}不能为空"
    if kind == "string_too_long" or (kind == "too_long" and is_text):
        return f"{where}过长：最多 {ctx.get('max_length')} 个字符，现有 {len(str(error.get('input', '')))} 个"
    if kind == "string_pattern_mismatch":
        return f"{where}格式不对：只能用小写字母、数字和单个连字符（如 jz-2024-0007），不超过 64 个字符"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"{where}应为整数"
    if kind in ("float_type", "float_parsing"):
        return f"{where}应为数字"
    if kind == "bool_type":
        return f"{where}应为 true 或 false"
    if kind in ("date_type", "date_parsing", "datetime_type", "datetime_parsing", "date_from_datetime_inexact"):
        return f"{where}应为日期，如 2024-03-05"
    if kind == "literal_error":
        return f"{where}的值「{error.get('input')}」无效，应为以下之一：{ctx.get('expected', '').replace(' or ', ', ')}"
    if kind in ("list_type",):
        return f"{where}应为列表（每项一行，以「- 」开头）"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"{where}应为键值映射（如 {{by: …, on: …}}）"
    if kind == "too_short":
        return f"{where}至少需要 {ctx.get('min_length')} 项"
    if kind == "too_long":
        return f"{where}最多 {ctx.get('max_length')} 项"
    if kind in ("greater_than_equal", "greater_than"):
        return f"{where}不能小于 {ctx.get('ge', ctx.get('gt'))}"
    if kind in ("less_than_equal", "less_than"):
        return f"{where}不能大于 {ctx.get('le', ctx.get('lt'))}"
    if kind == "value_error":
        return f"{where}：{ctx.get('error')}"
    return f"{where}：{error.get('msg')}"


def problems_from_validation(
    error: ValidationError, model: type[BaseModel], document: Document, file: str, prefix: DataPath = ()
) -> list[Problem]:
    """One ``Problem`` per pydantic error, placed at the offending key or value.

    ``prefix`` is where the validated object sits in the document (a vocabulary
    entry's index in its list).
    """
    problems = []
    for item in error.errors(include_url=False):
        # An unknown field is best shown at its key; anything else at its value.
        on_key = item["type"] in ("extra_forbidden",)
        # A mapping key that is not allowed (grades: {优: …}) ends its loc with pydantic's "[key]"; a record
        # field a clerk named "[key]" is an unknown field like any other.
        if not on_key and item["loc"] and item["loc"][-1] == "[key]":
            item = {**item, "loc": item["loc"][:-1]}
            on_key = True
        loc = prefix + tuple(item["loc"])
        mark: Mark = document.mark_for(loc, key=on_key)
        problems.append(Problem(file, mark.line, mark.column, _message(item, model)))
    return problems


def problem_at(
    document: Document, file: str, loc: DataPath, message: str, *, key: bool = False, within: tuple = ()
) -> Problem:
    """A problem about the field at ``loc``, with the field named in the message.

    ``within`` (``(text, occurrence)``) places it on that text inside the value, where the source shows it.
    """
    mark = document.mark_within(loc, *within) if within else document.mark_for(loc, key=key)
    name = field_name(loc)
    if loc and name not in message:
        message = f"字段「{name}」：{message}"
    return Problem(file, mark.line, mark.column, message)
