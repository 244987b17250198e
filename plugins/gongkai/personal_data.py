"""The personal-data guard: ID numbers, mobile numbers, bank cards and personal e-mail never slip out.

A transparency portal publishes what officials did, not how to reach or
impersonate a person. This rule looks at every text value of a record (title,
summary, body, names, notes, sources, …) and reports, at the exact position
in the file, each

* 身份证号码 — an 18-character mainland resident ID number whose birth date is a
  real date (1900 to this year) and whose ISO 7064 MOD 11-2 check character is
  right, or a 15-digit first-generation number with a real 19xx birth date;
* 手机号码 — a mainland mobile number ``1[3-9]xxxxxxxxx``, also written
  ``138 1234 5678``/``138-1234-5678`` or with ``+86``/``0086``/``(+86)``;
* 银行卡号 — 16 to 19 digits (in one run, or in groups of four separated by
  spaces or hyphens) starting with 2–6 (the ranges card networks issue from)
  and passing the Luhn check;
* 个人电子邮箱 — any e-mail address outside the government and Party domains
  (``*.gov.cn``, ``*.12371.cn``). Free-mail addresses (qq.com, 163.com, …) are
  the common case; addresses of companies, schools or ``.org.cn`` bodies are
  flagged too, because they usually name a person.

Full-width digits and letters (``１３８…``) count as their ASCII forms. A
record that must publish such a value (a hotline that happens to be a mobile
number, a signed notice that must carry an ID number) says so:
``personal_data: [{kind: 手机号码, reason: 举报电话，经批准公开}]``; the kind is
then allowed in that record, and only that kind. The value itself is never
echoed in full in a message: validation output may end up in CI logs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any, Iterable, Iterator, get_args

from pydantic import BaseModel

from .fields import file_keys
from .records import PersonalDataKind, Record
from .yamlsource import field_name

KINDS = get_args(PersonalDataKind)
ID_CARD, MOBILE, BANK_CARD, EMAIL = KINDS

INSTITUTIONAL_DOMAINS = ("gov.cn", "12371.cn")
"""E-mail domains (and their subdomains) of government and Party bodies: their addresses are public contacts."""

_FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
"""Full-width ASCII (U+FF01–U+FF5E) to ASCII, one character for one, so positions stay the same."""

_ID_CARD = re.compile(
    r"(?<![0-9A-Za-z])[1-9][0-9]{5}(?:(?P<y18>(?:18|19|20)[0-9]{2})(?P<m18>[0-9]{2})(?P<d18>[0-9]{2})[0-9]{3}[0-9Xx]"
    r"|(?P<y15>[0-9]{2})(?P<m15>[0-9]{2})(?P<d15>[0-9]{2})[0-9]{3})(?![0-9A-Za-z])"
)
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"

_MOBILE = re.compile(
    r"(?<![0-9A-Za-z+¥￥])(?:(?:\(\+?86\)|(?:\+|00)?86)[ -]?)?"
    r"1[3-9][0-9](?P<sep>[ -]?)[0-9]{4}(?P=sep)[0-9]{4}(?![0-9元万亿%])"
)
_BANK_CARD = re.compile(r"(?<![0-9])[2-6][0-9]{3}(?P<sep>[ -]?)[0-9]{4}(?:(?P=sep)[0-9]{4}){2}(?:(?P=sep)[0-9]{1,3})?(?![0-9])")
_NUMBER_LIKE = re.compile(r"[0-9０-９][0-9０-９ \-－]{6}")
"""Every number looked for has seven digits or separators in a row: most texts are cleared by this one pass."""
_EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@(?P<domain>[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})")


@dataclass(frozen=True)
class Finding:
    """One piece of personal data in one text."""

    kind: str
    start: int
    end: int
    text: str
    """Exactly as written (full-width characters included)."""


def id_check_character(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character of the first 17 digits of a resident ID number."""
    return _ID_CHECK[sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS)) % 11]


def is_resident_id(number: str) -> bool:
    """An 18-character resident ID number with a real birth date and the right check character."""
    match = _ID_CARD.fullmatch(number)
    return bool(match and match["y18"] and _real_birth_date(match["y18"], match["m18"], match["d18"])
                and id_check_character(number[:17]) == number[17].upper())


def luhn_ok(digits: str) -> bool:
    """The Luhn (mod 10) check of a card number."""
    total = 0
    for position, digit in enumerate(reversed(digits)):
        value = int(digit) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def _real_birth_date(year: str, month: str, day: str) -> bool:
    try:
        born = date(int(year), int(month), int(day))
    except ValueError:
        return False
    return date(1900, 1, 1) <= born <= date.today()


def find_personal_data(text: str) -> list[Finding]:
    """Every piece of personal data in ``text``, in order; overlapping finds keep the most specific kind."""
    if not text or not ("@" in text or "＠" in text or _NUMBER_LIKE.search(text)):
        return []
    plain = text.translate(_FULL_WIDTH) if re.search("[\uff01-\uff5e]", text) else text
    found: list[Finding] = []

    def add(kind: str, start: int, end: int) -> None:
        if not any(f.start < end and start < f.end for f in found):
            found.append(Finding(kind, start, end, text[start:end]))

    for match in _ID_CARD.finditer(plain):
        number = match.group()
        if match["y18"]:
            ok = _real_birth_date(match["y18"], match["m18"], match["d18"]) and id_check_character(number[:17]) == number[17].upper()
        else:
            ok = _real_birth_date("19" + match["y15"], match["m15"], match["d15"])
        if ok:
            add(ID_CARD, match.start(), match.end())
    for match in _BANK_CARD.finditer(plain):
        if luhn_ok(re.sub(r"[ -]", "", match.group())):
            add(BANK_CARD, match.start(), match.end())
    for match in _MOBILE.finditer(plain):
        add(MOBILE, match.start(), match.end())
    for match in _EMAIL.finditer(plain):
        domain = match["domain"].lower()
        if not any(domain == d or domain.endswith("." + d) for d in INSTITUTIONAL_DOMAINS):
            add(EMAIL, match.start(), match.end())
    return sorted(found, key=lambda f: f.start)


def masked(finding: Finding) -> str:
    """Enough of the value to recognise it, not enough to use it: 138****5678, z***@qq.com."""
    text = finding.text.translate(_FULL_WIDTH)
    if finding.kind == EMAIL:
        local, _, domain = text.partition("@")
        return f"{local[:1]}***@{domain}"
    digits = re.sub(r"[^0-9Xx]", "", text)
    if finding.kind == MOBILE:
        digits = digits[-11:]  # without the country code
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def _suspect_texts(value: Any, path: tuple, out: list[tuple[tuple, str]]) -> list[tuple[tuple, str]]:
    """Every text in ``value`` that could hold personal data, with its path.

    Walks the models themselves, as ``model_dump(by_alias=True)`` would lay
    them out but without building that copy (this runs on every record).
    Fields left at their default are walked too: no default text holds digits or ``@``.
    """
    if isinstance(value, BaseModel):
        keys = file_keys(type(value))  # messages name fields as the file does
        items: Iterable[tuple[Any, Any]] = value.__dict__.items()
    else:
        keys = None
        items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, inner in items:
        if inner is None:
            continue
        if isinstance(inner, str):
            if "@" in inner or "＠" in inner or _NUMBER_LIKE.search(inner):
                out.append((path + (keys[key] if keys else key,), inner))
        elif isinstance(inner, (BaseModel, dict, list)):
            _suspect_texts(inner, path + (keys[key] if keys else key,), out)
    return out


def personal_data_rule(record: Record, vocab: Any = None) -> Iterator[tuple[tuple, str, str, int]]:
    """Findings for ``rules.RULES``: ``(field path, message, text at fault, its occurrence in the field)``."""
    allowed = {note.kind for note in record.personal_data}
    for path, text in _suspect_texts(record, (), []):
        seen: dict[str, int] = {}
        for finding in find_personal_data(text):
            occurrence = seen.get(finding.text, 0)
            seen[finding.text] = occurrence + 1
            if finding.kind in allowed:
                continue
            yield path, (
                f"字段「{field_name(path)}」含有{finding.kind}（{masked(finding)}）：个人信息不得公开。"
                f"请删除或改写；确需公开时，在 personal_data 中注明 {{kind: {finding.kind}, reason: 公开理由}}"
            ), finding.text, occurrence
