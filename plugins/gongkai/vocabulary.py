"""Controlled vocabularies: regions, organizations, topics, categories, regimes, forms, initiators.

They are data an operator edits (``data/vocab/*.yaml``, format in
``docs/vocabularies.md``). A record refers to an entry by its ``id`` or its
exact ``name``; ``Vocabulary.resolve`` turns either into the entry, and a miss
into an error that names the closest valid values.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Generic, Iterable, Literal, TypeVar

from pydantic import Field

from .fields import Integer, SchemaModel, Slug, Text

SubjectKind = Literal["领导干部", "党组织"]
Domain = Literal["党务公开", "政务公开"]


class Entry(SchemaModel):
    """One value of a vocabulary."""

    id: Slug = Field(title="标识", description="用于网址的永久标识，小写字母、数字和连字符")
    name: Text = Field(title="名称", description="读者看到的名称；记录中可写标识或名称")


class Region(Entry):
    parent: Slug | None = Field(None, title="上级地区")


class Organization(Entry):
    parent: Slug | None = Field(None, title="上级机构")
    region: Slug | None = Field(None, title="所在地区")


class Topic(Entry):
    pass


class Category(Entry):
    domain: Domain = Field(title="公开领域")


class Circumstance(Entry):
    pass


class Regime(Entry):
    year: Integer | None = Field(None, title="年份")
    circumstances: list[Circumstance] = Field(min_length=1, title="问责情形")


class Form(Entry):
    regimes: list[Slug] = Field(min_length=1, title="适用的问责规定")
    subject_kinds: list[SubjectKind] = Field(min_length=1, title="适用的问责对象类型")
    parent: Slug | None = Field(None, title="所属问责方式", description="具体处分所属的问责方式，如 留党察看二年 属于 纪律处分")


class Initiator(Entry):
    type: Literal["同体", "异体"] = Field(title="同体/异体")


E = TypeVar("E", bound=Entry)


class VocabularyMiss(ValueError):
    """A reference that names no entry; the message lists the closest valid values."""


@dataclass
class Vocabulary(Generic[E]):
    """The entries of one vocabulary, found by id or by exact name."""

    label: str
    """What the vocabulary is called in messages (地区, 机构, …)."""
    entries: list[E]
    by_id: dict[str, E] = field(init=False)
    by_name: dict[str, list[E]] = field(init=False)

    def __post_init__(self) -> None:
        self.by_id = {entry.id: entry for entry in self.entries}
        self.by_name = {}
        for entry in self.entries:
            self.by_name.setdefault(entry.name, []).append(entry)

    def __iter__(self):
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def __getitem__(self, entry_id: str) -> E:
        return self.by_id[entry_id]

    def get(self, entry_id: str | None) -> E | None:
        return self.by_id.get(entry_id) if entry_id else None

    def resolve(self, ref: str, allowed: Iterable[E] | None = None, scope: str = "") -> E:
        """The entry ``ref`` names (id first, then exact name), among ``allowed`` if given.

        ``scope`` says in a miss what ``allowed`` is (e.g. "问责规定 2019-regulation").
        """
        pool = self.entries if allowed is None else list(allowed)
        # (Without ``allowed``, the common case on every reference, the id index itself is the pool.)
        pool_ids = self.by_id if allowed is None else {e.id for e in pool}
        if ref in pool_ids:
            return self.by_id[ref]
        named = [e for e in self.by_name.get(ref, ()) if e.id in pool_ids]
        if named:
            return named[0]
        known_elsewhere = ref in self.by_id or ref in self.by_name
        candidates = [e.name for e in pool] + [e.id for e in pool]
        close = difflib.get_close_matches(ref, candidates, n=3, cutoff=0.4)
        if known_elsewhere and scope:
            message = f"「{ref}」不适用于{scope}"
        else:
            message = f"{self.label}中没有「{ref}」"
        if close:
            message += "；最接近的有效值：" + "、".join(f"「{c}」" for c in close)
        elif pool:
            message += "；可用的值例如：" + "、".join(f"「{e.name}」" for e in pool[:5])
        raise VocabularyMiss(message)

    def ancestors(self, entry_id: str) -> list[E]:
        """The entry's parents, nearest first (for regions and organizations)."""
        chain: list[E] = []
        entry = self.by_id.get(entry_id)
        while entry is not None and getattr(entry, "parent", None) and len(chain) < 32:
            entry = self.by_id.get(entry.parent)
            if entry is None or entry in chain:
                break
            chain.append(entry)
        return chain

    def children(self, entry_id: str) -> list[E]:
        return [e for e in self.entries if getattr(e, "parent", None) == entry_id]


VOCABULARY_FILES: dict[str, tuple[type[Entry], str]] = {
    "regions": (Region, "地区"),
    "organizations": (Organization, "机构"),
    "topics": (Topic, "主题"),
    "categories": (Category, "公开类别"),
    "regimes": (Regime, "问责规定"),
    "forms": (Form, "问责方式"),
    "initiators": (Initiator, "问责启动主体"),
}
"""Each vocabulary file (``data/vocab/<name>.yaml``), its entry type and its Chinese label."""


@dataclass
class Vocabularies:
    """Every vocabulary a record may refer to."""

    regions: Vocabulary[Region]
    organizations: Vocabulary[Organization]
    topics: Vocabulary[Topic]
    categories: Vocabulary[Category]
    regimes: Vocabulary[Regime]
    forms: Vocabulary[Form]
    initiators: Vocabulary[Initiator]
    circumstances: Vocabulary[Circumstance] = field(init=False)
    """All regimes' circumstances in one vocabulary (their ids are unique across regimes)."""
    regime_of_circumstance: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        self.circumstances = Vocabulary("问责情形", [c for r in self.regimes for c in r.circumstances])
        self.regime_of_circumstance = {c.id: r.id for r in self.regimes for c in r.circumstances}

    def forms_allowed(self, regime_id: str, subject_kind: str) -> list[Form]:
        return [f for f in self.forms if regime_id in f.regimes and subject_kind in f.subject_kinds]

    def top_form(self, form_id: str) -> Form:
        """The form a specific sanction belongs to (itself for a form)."""
        form = self.forms[form_id]
        return self.forms.get(form.parent) or form
