"""JSON Schemas generated from the record models in ``records.py`` (the single source of truth).

Two schemas, because two different things are described:

* **record files** (``record_file_schema``): the YAML a clerk writes under
  ``data/``. A vocabulary reference is a string (the entry's id or its exact
  name), ``published`` may be a date or a datetime, a report's 述职类型 is
  written ``kind``, and ``status``/``withdrawal`` exist. ``invoke schema``
  writes these to ``schema/`` for editors and ``check-jsonschema``.
* **published data** (``published_schema``): what ``/data/records.json`` and
  ``/<kind>s/<id>.json`` hold. Every record carries ``kind`` (``case``,
  ``disclosure``, ``report``) and its permanent ``url``; a vocabulary
  reference is an object ``{id, name}``; a report's 述职类型 is
  ``report_kind`` (``kind`` is taken); ``status`` and ``withdrawal`` are
  absent (only public records are published); every property is present
  (``null`` when empty). The build writes it to ``/data/schema.json``.

Both are pydantic's schema of the models, post-processed: Chinese titles for
every definition, the three kinds as ``$defs`` ``case``/``disclosure``/
``report``, and, when vocabularies are given, ``enum``/``examples`` of the
valid ids and names wherever a field refers to a vocabulary. Which fields do
is read off the models themselves (``vocab_fields``), so a new reference in
``records.py`` shows up here without a second list to keep.
"""

from __future__ import annotations

import copy
import inspect
import typing
from datetime import datetime
from typing import Any, Iterator

from pydantic import AfterValidator, BaseModel
from pydantic.json_schema import models_json_schema

from . import records
from .fields import file_keys
from .records import RECORD_TYPES, Record
from .vocabulary import Vocabularies

DIALECT = "https://json-schema.org/draft/2020-12/schema"
KINDS: tuple[str, ...] = ("case", "disclosure", "report")
"""The kinds in the order every schema and export lists them."""

VOCABULARY_LABELS = {
    "regions": "地区",
    "organizations": "机构",
    "topics": "主题",
    "categories": "公开类别",
    "regimes": "问责规定",
    "circumstances": "问责情形",
    "forms": "问责方式",
    "initiators": "问责启动主体",
}

PUBLISHED_ONLY_FIELDS = ("status", "withdrawal")
"""Fields of a record file that published data leaves out: every published record is approved."""

MOMENT_PATTERN = r"^\d{4}-\d{2}-\d{2}([Tt ]\d{2}(:\d{2}(:\d{2}(\.\d+)?)?)?([Zz]|[+-]\d{2}(:?\d{2})?)?)?$"
"""What a record file may write for a date or datetime (``datetime.fromisoformat``'s usual forms)."""


# --- what the models say ----------------------------------------------------------


def _annotation_parts(annotation: Any) -> Iterator[Any]:
    """Every type and metadata object inside an annotation (through Annotated, Optional, list)."""
    yield annotation
    for meta in getattr(annotation, "__metadata__", ()):
        yield meta
    origin_args = typing.get_args(annotation)
    for arg in origin_args:
        if arg is not annotation:
            yield from _annotation_parts(arg)


def _vocabulary_of_validator(validator: AfterValidator) -> str | None:
    func = validator.func
    if func is records._circumstance_of_regime:
        return "circumstances"
    if func is records._form_of_regime:
        return "forms"
    if getattr(func, "__qualname__", "").startswith("vocab_ref."):
        return inspect.getclosurevars(func).nonlocals.get("vocabulary")
    return None


def vocab_fields(model: type[BaseModel]) -> dict[str, str]:
    """``{field name: vocabulary}`` for every field of ``model`` that refers to a vocabulary."""
    found: dict[str, str] = {}
    for name, info in model.model_fields.items():
        parts = list(info.metadata) + list(_annotation_parts(info.annotation))
        for part in parts:
            if isinstance(part, AfterValidator) and (vocabulary := _vocabulary_of_validator(part)):
                found[name] = vocabulary
                break
    return found


def _is_moment(annotation: Any) -> bool:
    return any(part is datetime for part in _annotation_parts(annotation))


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    return [p for p in _annotation_parts(annotation) if isinstance(p, type) and issubclass(p, BaseModel)]


def part_models(kinds: tuple[type[Record], ...]) -> dict[type[BaseModel], str]:
    """Every model nested in the kinds, with the Chinese title of the first field that holds it."""
    titles: dict[type[BaseModel], str] = {}

    def visit(model: type[BaseModel]) -> None:
        for info in model.model_fields.values():
            for nested in _models_in(info.annotation):
                if nested not in titles:
                    titles[nested] = info.title or nested.__name__
                    visit(nested)

    for kind in kinds:
        visit(kind)
    return titles


def record_types() -> tuple[type[Record], ...]:
    return tuple(RECORD_TYPES[k] for k in KINDS)


# --- schema surgery ------------------------------------------------------------------


def _leaf_holder(prop: dict) -> dict:
    """The schema of the single value inside ``prop`` (through ``anyOf [x, null]`` and ``items``)."""
    if "anyOf" in prop:
        non_null = [s for s in prop["anyOf"] if s.get("type") != "null"]
        if len(non_null) == 1:
            return _leaf_holder(non_null[0])
    if prop.get("type") == "array" and isinstance(prop.get("items"), dict):
        return _leaf_holder(prop["items"])
    return prop


def _replace_leaf(prop: dict, leaf: dict) -> None:
    target = _leaf_holder(prop)
    keep = {k: v for k, v in target.items() if k in ("title", "description", "default")} if target is prop else {}
    target.clear()
    target.update(leaf)
    target.update(keep)


def _rename_refs(node: Any, names: dict[str, str]) -> Any:
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            ref = node["$ref"].rsplit("/", 1)[-1]
            node["$ref"] = f"#/$defs/{names.get(ref, ref)}"
        for value in node.values():
            _rename_refs(value, names)
    elif isinstance(node, list):
        for value in node:
            _rename_refs(value, names)
    return node


def _vocab_names(vocab: Vocabularies, vocabulary: str) -> tuple[list[str], list[str]]:
    entries = list(getattr(vocab, vocabulary))
    return [e.id for e in entries], list(dict.fromkeys(e.name for e in entries))


def _file_vocab_leaf(vocabulary: str, vocab: Vocabularies | None) -> dict:
    label = VOCABULARY_LABELS.get(vocabulary, vocabulary)
    leaf: dict[str, Any] = {
        "type": "string",
        "minLength": 1,
        "description": f"词表「{label}」（data/vocab/{vocabulary}.yaml）中条目的标识或准确名称",
    }
    if vocab is not None:
        ids, names = _vocab_names(vocab, vocabulary)
        leaf["enum"] = list(dict.fromkeys(ids + names))
        leaf["examples"] = names[:5]
    return leaf


def _base_schema(by_alias: bool, mode: str) -> dict:
    kinds = record_types()
    _, schema = models_json_schema([(k, mode) for k in kinds], by_alias=by_alias)
    defs: dict[str, dict] = schema["$defs"]
    for model, title in part_models(kinds).items():
        part = defs[model.__name__]
        part["title"] = title
        part.pop("description", None)
    for kind in kinds:
        definition = defs[kind.__name__]
        definition["title"] = kind.label
        definition.pop("description", None)
    return defs


def _apply_to_fields(defs: dict, by_alias: bool, each) -> None:
    """Call ``each(model, field name, field info, property schema)`` for every field of every model."""
    kinds = record_types()
    for model in list(kinds) + list(part_models(kinds)):
        properties = defs[model.__name__]["properties"]
        for name, info in model.model_fields.items():
            key = file_keys(model)[name] if by_alias else name
            if key in properties:
                each(model, name, info, properties[key])


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"].rsplit("/", 1)[-1]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _finish(defs: dict, root: dict) -> dict:
    """Name the kinds' definitions after the kinds and keep only what the root reaches."""
    names = {RECORD_TYPES[k].__name__: k for k in KINDS}
    defs = _rename_refs({names.get(k, k): v for k, v in defs.items()}, names)
    root = _rename_refs(root, names)
    reached: set[str] = set()
    pending = list(_refs(root))
    while pending:
        name = pending.pop()
        if name not in reached:
            reached.add(name)
            pending.extend(_refs(defs[name]))
    kept = {name: defs[name] for name in sorted(reached)}
    return {"$schema": DIALECT, **root, "$defs": kept}


# --- record files -------------------------------------------------------------------


def _record_file_defs(vocab: Vocabularies | None) -> dict:
    defs = _base_schema(by_alias=True, mode="validation")

    def adjust(model, name, info, prop):
        if (vocabulary := vocab_fields(model).get(name)) is not None:
            _replace_leaf(prop, _file_vocab_leaf(vocabulary, vocab))
        elif _is_moment(info.annotation):
            _replace_leaf(prop, {
                "type": "string",
                "pattern": MOMENT_PATTERN,
                "description": "日期（2024-03-05）或日期时间（2024-03-05T10:00:00+08:00）；未写时区的按北京时间",
            })

    _apply_to_fields(defs, True, adjust)
    for kind in KINDS:
        defs[RECORD_TYPES[kind].__name__]["description"] = (
            f"{RECORD_TYPES[kind].label}记录文件（data/{kind}s/…/<id>.yaml）"
        )
    return defs


def record_file_schema(kind: str | None = None, vocab: Vocabularies | None = None) -> dict:
    """The schema of a record file of ``kind`` (or of any kind: one of the three), for editors."""
    defs = _record_file_defs(vocab)
    if kind is not None:
        label = RECORD_TYPES[kind].label
        root = {"title": f"{label}记录文件", "$ref": f"#/$defs/{kind}"}
    else:
        root = {
            "title": "记录文件（任一类）",
            "description": "data/ 下的一个记录文件：问责案例、党务政务公开或述职述廉之一。按类别校验请用 case/disclosure/report.schema.json。",
            "anyOf": [{"$ref": f"#/$defs/{k}"} for k in KINDS],
        }
    return _finish(defs, root)


# --- published data -------------------------------------------------------------------


def _published_vocab_def(vocabulary: str, vocab: Vocabularies | None) -> dict:
    label = VOCABULARY_LABELS.get(vocabulary, vocabulary)
    id_schema: dict[str, Any] = {"type": "string", "title": "标识", "description": "词表条目的永久标识（用于网址）"}
    name_schema: dict[str, Any] = {"type": "string", "title": "名称"}
    if vocab is not None:
        ids, names = _vocab_names(vocab, vocabulary)
        id_schema["enum"], name_schema["enum"] = ids, names
        id_schema["examples"], name_schema["examples"] = ids[:3], names[:3]
    return {
        "type": "object",
        "title": f"{label}（词表条目）",
        "description": f"词表「{label}」中的一个条目：标识与名称",
        "properties": {"id": id_schema, "name": name_schema},
        "required": ["id", "name"],
        "additionalProperties": False,
    }


EXTRA_PUBLISHED_FIELDS: dict[str, dict] = {
    "kind": {"title": "记录类别", "description": "case 问责案例；disclosure 党务政务公开；report 述职述廉"},
    "url": {"type": "string", "format": "uri", "title": "永久网址", "description": "记录页面的完整网址，发布后不变"},
    "body_html": {
        "type": "string",
        "title": "正文（HTML）",
        "description": "正文按 Markdown 渲染并经白名单清理后的 HTML；没有正文时为空字符串",
    },
}


ALWAYS_PUBLISHED = {
    "approval": "批准公开的机关（by）和日期（on）",
    "published": "在本站公开的时间（北京时间）",
}
"""Fields a record file may leave empty but every public record has."""


def published_field_order(kind: str) -> list[str]:
    """The keys of a published record of ``kind``, in the order they are written."""
    model = RECORD_TYPES[kind]
    keys = ["kind", "id", "url"]
    for name in model.model_fields:
        if name in PUBLISHED_ONLY_FIELDS or name == "id":
            continue
        keys.append(name)
        if name == "body":
            keys.append("body_html")
    return keys


def _published_defs(vocab: Vocabularies | None) -> dict:
    defs = _base_schema(by_alias=False, mode="serialization")
    used: set[str] = set()

    def adjust(model, name, info, prop):
        if (vocabulary := vocab_fields(model).get(name)) is not None:
            used.add(vocabulary)
            _replace_leaf(prop, {"$ref": f"#/$defs/vocab.{vocabulary}"})

    _apply_to_fields(defs, False, adjust)
    for vocabulary in sorted(used):
        defs[f"vocab.{vocabulary}"] = _published_vocab_def(vocabulary, vocab)
    for definition in defs.values():
        if definition.get("type") == "object" and "properties" in definition:
            for prop in definition["properties"].values():
                prop.pop("default", None)
            definition["required"] = list(definition["properties"])
    for kind in KINDS:
        model = RECORD_TYPES[kind]
        definition = defs[model.__name__]
        source = definition["properties"]
        properties: dict[str, dict] = {}
        for key in published_field_order(kind):
            if key == "kind":
                properties[key] = {**EXTRA_PUBLISHED_FIELDS["kind"], "const": kind}
            elif key in EXTRA_PUBLISHED_FIELDS:
                properties[key] = copy.deepcopy(EXTRA_PUBLISHED_FIELDS[key])
            else:
                properties[key] = source[key]
        for key, description in ALWAYS_PUBLISHED.items():  # always present on a public record
            prop = properties[key]
            if "anyOf" in prop:
                non_null = [s for s in prop.pop("anyOf") if s.get("type") != "null"]
                prop.update(non_null[0])
            prop["description"] = description
        definition["properties"] = properties
        definition["required"] = list(properties)
        definition["description"] = f"一条公开的{model.label}记录（/{kind}s/<id>.json，或 records.json 中的一项）"
    return defs


def published_schema(vocab: Vocabularies | None = None) -> dict:
    """The schema of the open data: ``records.json`` or one record's JSON (``/<kind>s/<id>.json``)."""
    defs = _published_defs(vocab)
    defs["record"] = {
        "title": "公开记录",
        "description": "任一类公开记录，按 kind 区分",
        "oneOf": [{"$ref": f"#/$defs/{k}"} for k in KINDS],
    }
    defs["records_file"] = {
        "title": "全部公开记录（records.json）",
        "type": "object",
        "properties": {
            "license": {"type": "string", "title": "许可协议"},
            "schema": {"type": "string", "format": "uri", "title": "本文件所依据的 JSON Schema 的网址"},
            "count": {"type": "integer", "minimum": 0, "title": "记录条数"},
            "records": {
                "type": "array",
                "title": "记录",
                "description": "按发布时间从新到旧，发布时间相同的按编号",
                "items": {"$ref": "#/$defs/record"},
            },
        },
        "required": ["license", "schema", "count", "records"],
        "additionalProperties": False,
    }
    root = {
        "title": "公开数据",
        "description": (
            "本站开放数据的结构：/data/records.json（全部公开记录）或 /<kind>s/<id>.json（一条记录）。"
            "词表引用写作 {id, name}；述职类型为 report_kind；没有值的字段为 null 或空列表。"
        ),
        "oneOf": [{"$ref": "#/$defs/records_file"}, {"$ref": "#/$defs/record"}],
    }
    return _finish(defs, root)


SCHEMA_FILES: dict[str, str] = {
    "record.schema.json": "任一类记录文件",
    "case.schema.json": "问责案例记录文件",
    "disclosure.schema.json": "党务政务公开记录文件",
    "report.schema.json": "述职述廉记录文件",
    "published.schema.json": "公开数据（与网站 /data/schema.json 相同）",
}


def editor_schemas(vocab: Vocabularies | None) -> dict[str, dict]:
    """What ``invoke schema`` writes to ``schema/``: file name → schema."""
    return {
        "record.schema.json": record_file_schema(None, vocab),
        **{f"{k}.schema.json": record_file_schema(k, vocab) for k in KINDS},
        "published.schema.json": published_schema(vocab),
    }


def dumps(schema: dict) -> str:
    """A schema as the text every writer uses (stable, readable, UTF-8 Chinese)."""
    import json

    return json.dumps(schema, ensure_ascii=False, indent=2) + "\n"

