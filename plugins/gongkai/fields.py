"""Field types shared by records and vocabularies.

Each type says what a clerk may write and what the rest of the code gets.
Values arrive from ``yamlsource`` (numbers with their source text, real dates),
or from Python code and JSON (plain strings), and both must work.
"""

from __future__ import annotations

import functools
import re
from datetime import date, datetime, timedelta, timezone
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, Strict

CHINA_TIME = timezone(timedelta(hours=8), "Asia/Shanghai")
"""The default time zone of the spec. China has kept UTC+8 without DST since 1991."""

SLUG_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"


class SchemaModel(BaseModel):
    """Base of every schema object: unknown fields are errors, objects are immutable."""

    # defer_build: a model's validator is built when first used, not at import. Every command imports all
    # the models (≈60 ms of building), and a rebuild validates only the kinds of the records that changed.
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True, defer_build=True)


@functools.cache
def file_keys(model: type[BaseModel]) -> dict[str, str]:
    """Each field's name → the key a clerk writes for it in a file (its alias, if any: ``report_kind`` → ``kind``)."""
    return {name: info.alias or name for name, info in model.model_fields.items()}


def _scalar_as_text(value: Any) -> Any:
    """Let a bare number, date or boolean stand where text is wanted, as it was typed."""
    if type(value) is str:  # nearly always: answered before the slower checks
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    source = getattr(value, "source", None)
    if source is not None:
        return source
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


def _no_control_characters(value: str) -> str:
    # Control and bidi-override characters make text that reads one way and
    # says another; they have no place in a public record.
    if match := _CONTROL.search(value):
        raise ValueError(f"含有不可见的控制字符 U+{ord(match.group()):04X}")
    return value


def text(max_length: int | None = None, *, title: str = "", description: str = "") -> Any:
    """Non-empty text of at most ``max_length`` characters, stripped of outer spaces."""
    # The constraints before the validators: then pydantic-core checks them itself (after the
    # BeforeValidator), where after a validator they were a Python call per text (4 µs a record).
    return Annotated[
        str,
        Strict(),
        Field(min_length=1, max_length=max_length, title=title or None, description=description or None),
        BeforeValidator(_scalar_as_text),
        AfterValidator(_no_control_characters),
    ]


Text = text()
"""Any short text: a name, a position, a note."""

Markdown = Annotated[
    str,
    Strict(),
    Field(max_length=10_000_000),
    BeforeValidator(_scalar_as_text),
    AfterValidator(_no_control_characters),
]
"""A Markdown body; rendered and sanitized at build time, never trusted."""

Slug = Annotated[str, Strict(), Field(pattern=SLUG_PATTERN, max_length=64)]
"""An id: lowercase ASCII letters and digits joined by single hyphens, ≤ 64 characters."""


def _date(value: Any) -> Any:
    if isinstance(value, datetime):
        raise ValueError("此处应为日期（如 2024-03-05），不含时间")
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"无效的日期「{value}」，应写作 2024-03-05") from None
    return value


Date = Annotated[date, BeforeValidator(_date), Strict()]
"""A calendar date, written 2024-03-05."""


def _moment(value: Any) -> Any:
    """A date or datetime as an aware datetime; a date or a naive time means China time."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"无效的日期时间「{value}」，应写作 2024-03-05 或 2024-03-05T10:00:00+08:00") from None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=CHINA_TIME)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=CHINA_TIME)
    return value


Moment = Annotated[datetime, BeforeValidator(_moment), Strict()]
"""A point in time: a date (midnight China time) or a datetime (China time unless a zone is given)."""

Integer = Annotated[int, Strict()]
"""A whole number; booleans and quoted numbers are refused."""

Flag = Annotated[bool, Strict()]
"""``true`` or ``false`` only: YAML 1.1's ``yes``/``no``/``on``/``off`` are refused, not guessed."""


def _web_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in value):
        raise ValueError("应为以 http:// 或 https:// 开头的完整网址")
    return value


WebUrl = Annotated[str, Strict(), Field(max_length=2000), AfterValidator(_web_url)]
"""An http(s) address; any other scheme (``javascript:``, ``file:``) is refused."""
