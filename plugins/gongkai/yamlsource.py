"""Strict YAML loading that keeps where every value came from.

PyYAML follows YAML 1.1 and is lenient in ways that lose a clerk's data:
duplicate keys silently keep the last value, ``no``/``on`` become booleans,
``0123`` becomes octal 83 and ``12:30`` becomes 750. This loader composes the
document with libyaml (fast, and composing never expands aliases) and then
builds Python values itself with a small, predictable set of rules:

* keys are always the text the clerk typed (``on:`` stays ``"on"``);
* plain scalars resolve only to ``null``, ``true``/``false``, decimal
  integers without leading zeros, decimal floats, ISO dates and datetimes;
  anything else stays text, so ``no`` and ``0123`` are harmless strings;
* numbers remember their source text (``YamlInt.source``) so a field that
  wants text can take ``12.10`` as ``"12.10"`` rather than ``12.1``;
* duplicate keys, aliases (``*ref``), custom tags and absurd nesting are
  problems, not surprises;
* every value and every key keeps its 1-based line and column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any, Iterator

import yaml

try:  # libyaml is ~10x faster; pure Python is the fallback, not a different behaviour.
    # libyaml's parser alone, as CSafeLoader composes with it: its constructor and resolver
    # serve only `yaml.load` (setting them up took 10 µs of the 160 µs a record file takes here).
    from yaml._yaml import CParser as _BaseLoader
except ImportError:  # pragma: no cover - depends on the PyYAML build
    from yaml import SafeLoader as _BaseLoader


class _Loader(_BaseLoader):
    """Composes without YAML 1.1 implicit typing: scalars are resolved by ``_resolve_plain``."""

    _DEFAULT_TAGS = {
        yaml.ScalarNode: "tag:yaml.org,2002:str",
        yaml.SequenceNode: "tag:yaml.org,2002:seq",
        yaml.MappingNode: "tag:yaml.org,2002:map",
    }

    def resolve(self, kind, value, implicit):
        return self._DEFAULT_TAGS[kind]

    def descend_resolver(self, current_node, current_index):  # (no path resolvers: nothing to track)
        pass

    def ascend_resolver(self):
        pass

Path = tuple[str | int, ...]
"""Where a value sits in a document: mapping keys and list indexes, as pydantic's ``loc``."""
_SCALAR, _MAPPING, _SEQUENCE = yaml.ScalarNode, yaml.MappingNode, yaml.SequenceNode

MAX_DEPTH = 32
"""Records nest three levels at most; anything far deeper is hostile or broken."""

MAX_BYTES = 16 * 1024 * 1024
"""A record file larger than this is refused before parsing (bodies of 10 MB still load)."""

_CORE_TAGS = frozenset(
    "tag:yaml.org,2002:" + t
    for t in ("str", "int", "float", "bool", "null", "timestamp", "map", "seq", "binary", "merge", "value")
)
_NULL = frozenset({"", "~", "null", "Null", "NULL"})
_TRUE = frozenset({"true", "True", "TRUE"})
_FALSE = frozenset({"false", "False", "FALSE"})
_INT = re.compile(r"[-+]?(0|[1-9][0-9]*)")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+\.[0-9]*)([eE][-+]?[0-9]+)?")
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_DATETIME = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]{1,6}))?)?"
    r"[ \t]*(Z|z|[-+][0-9]{2}(?::?[0-9]{2})?)?"
)


class YamlInt(int):
    """An integer read from a plain scalar, with the text it was written as."""

    source: str

    def __new__(cls, text: str) -> "YamlInt":
        value = super().__new__(cls, int(text))
        value.source = text
        return value

    def __reduce__(self):  # keep the source text across process pools
        return (YamlInt, (self.source,))


class YamlFloat(float):
    """A float read from a plain scalar, with the text it was written as."""

    source: str

    def __new__(cls, text: str) -> "YamlFloat":
        value = super().__new__(cls, float(text))
        value.source = text
        return value

    def __reduce__(self):
        return (YamlFloat, (self.source,))


@dataclass(frozen=True)
class Mark:
    """A position in a source file, 1-based as editors show it."""

    line: int
    column: int


@dataclass
class YamlProblem:
    """Something wrong with the YAML itself, found while loading."""

    mark: Mark
    message: str


@dataclass
class Document:
    """A loaded YAML document: its data and where each part of it was written."""

    data: Any
    root: yaml.Node | None = None
    """The composed document (libyaml marks, 0-based), walked only when a position is asked for:
    recording every value's position as the data was made took half of making it."""
    text: str = ""
    """The source text, for positions inside a value (``mark_within``)."""

    def mark_within(self, path: Path, needle: str, occurrence: int = 0) -> Mark:
        """Where the ``occurrence``-th ``needle`` stands inside the scalar at ``path``.

        Exact when the source shows the text as it is (a plain or quoted
        scalar without escapes there, a line of a block scalar); otherwise the
        scalar's own position. The scalar ends where the next key or value begins.
        """
        along = self._along(path)
        node = self.root if not path else along[-1][1] if len(along) == len(path) else None
        if node is None or not needle:
            return self.mark_for(path)
        start = node.start_mark.index
        end = min((i for i in _starts(self.root) if i > start), default=len(self.text))
        found = start - 1
        for _ in range(occurrence + 1):
            found = self.text.find(needle, found + 1, end)
            if found < 0:
                return self.mark_for(path)
        return _text_mark(self.text, found)

    def mark_for(self, path: Path, *, key: bool = False) -> Mark:
        """The best position for ``path``: its key or value, else its nearest ancestor's."""
        along = self._along(path)
        if along:
            key_node, node = along[-1]
            return _mark(key_node if key and key_node is not None else node)
        return _mark(self.root) if self.root is not None else Mark(1, 1)

    def _along(self, path: Path) -> list[tuple[yaml.Node | None, yaml.Node]]:
        """The nodes of ``path``'s parts, as far as the document has them: each part's key (None for a
        list item) and value. (A loaded document has no duplicate key and no alias: each path is one node.)"""
        along: list[tuple[yaml.Node | None, yaml.Node]] = []
        node = self.root
        for part in path:
            if node.__class__ is _MAPPING:
                found = next(((k, v) for k, v in node.value if k.value == part), None)
            elif node.__class__ is _SEQUENCE and isinstance(part, int) and 0 <= part < len(node.value):
                found = (None, node.value[part])
            else:
                found = None
            if found is None:
                break
            along.append(found)
            node = found[1]
        return along


def _starts(node: yaml.Node) -> Iterator[int]:
    """Where every value and key under ``node`` (and itself) starts, as offsets into the text."""
    yield node.start_mark.index
    if node.__class__ is _MAPPING:
        for key_node, value_node in node.value:
            yield key_node.start_mark.index
            yield from _starts(value_node)
    elif node.__class__ is _SEQUENCE:
        for item in node.value:
            yield from _starts(item)


class YamlLoadError(Exception):
    """The file could not be turned into data; ``problems`` says every reason found."""

    def __init__(self, problems: list[YamlProblem]):
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems


def field_name(loc: Path) -> str:
    """A dotted field path as the clerk wrote it: ``stages[2].on``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "（整个文件）"


def _mark(node: yaml.Node) -> Mark:
    return _as_mark(node.start_mark)


def _as_mark(mark: Any) -> Mark:
    """libyaml's 0-based mark as a 1-based ``Mark`` (made only when a position is asked for)."""
    return mark if isinstance(mark, Mark) else Mark(mark.line + 1, mark.column + 1)


def _decode(raw: bytes) -> str:
    """UTF-8 text without a BOM; invalid bytes are reported with their position."""
    if len(raw) > MAX_BYTES:
        raise YamlLoadError([YamlProblem(Mark(1, 1), f"文件过大（{len(raw)} 字节，上限 {MAX_BYTES} 字节）")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        before = raw[: error.start]
        line = before.count(b"\n") + 1
        column = len(before.rsplit(b"\n", 1)[-1].decode("utf-8", "replace")) + 1
        raise YamlLoadError(
            [YamlProblem(Mark(line, column), f"文件不是有效的 UTF-8 编码（第 {error.start} 字节：{raw[error.start:error.start + 1]!r}）")]
        ) from None
    return text.removeprefix("\ufeff")


def _resolve_plain(text: str, node: yaml.Node) -> Any:
    """Resolve a plain (unquoted) scalar by the rules in the module docstring."""
    if text in _NULL:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    first = text[0]
    if not (first.isdigit() or first in "+-."):
        return text
    if _INT.fullmatch(text):
        try:
            return YamlInt(text)
        except ValueError:  # beyond Python's integer-string limit: keep it as typed
            return text
    if _FLOAT.fullmatch(text):
        return YamlFloat(text)
    if match := _DATE.fullmatch(text):
        try:
            return date(*map(int, match.groups()))
        except ValueError:
            raise _NodeError(node, f"无效的日期：{text}") from None
    if match := _DATETIME.fullmatch(text):
        year, month, day, hour, minute, second, fraction, zone = match.groups()
        tzinfo = None
        try:
            if zone:
                if zone in "Zz":
                    tzinfo = timezone.utc
                else:
                    sign = -1 if zone[0] == "-" else 1
                    digits = zone[1:].replace(":", "")
                    tzinfo = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0)))
            return datetime(
                int(year), int(month), int(day), int(hour), int(minute), int(second or 0),
                int((fraction or "0").ljust(6, "0")), tzinfo=tzinfo,
            )
        except ValueError:
            raise _NodeError(node, f"无效的日期时间：{text}") from None
    return text


class _NodeError(Exception):
    def __init__(self, node: yaml.Node, message: str):
        self.node, self.message = node, message


class _Builder:
    """Turns a composed node graph into Python values, reporting every problem in it with its position
    (``load_yaml`` takes a document here when ``_plain_value`` finds something it does not make)."""

    def __init__(self) -> None:
        self.problems: list[YamlProblem] = []
        self.aliased = False
        self._seen: set[int] = set()

    def problem(self, node: yaml.Node, message: str, path: Path = ()) -> None:
        if path:  # a value's problem names its field, as validation problems do
            message = f"字段「{field_name(path)}」：{message}"
        self.problems.append(YamlProblem(_mark(node), message))

    def build(self, node: yaml.Node, path: Path, depth: int) -> Any:
        # An alias yields the very same node object again; refusing the second
        # visit makes "billion laughs" documents cost nothing.
        seen = id(node)
        if seen in self._seen:
            self.aliased = True  # reported at each ``*ref`` by ``load_yaml``
            return None
        self._seen.add(seen)
        if depth > MAX_DEPTH:
            self.problem(node, f"嵌套层次过深（超过 {MAX_DEPTH} 层）")
            return None
        if node.tag not in _CORE_TAGS:
            self.problem(node, f"不支持自定义标签 {node.tag}", path)
            return None
        kind = node.__class__  # scalars first: most nodes are
        if kind is yaml.ScalarNode:
            if node.style:  # quoted or block scalar: always text
                return node.value
            try:
                return _resolve_plain(node.value, node)
            except _NodeError as error:
                self.problem(error.node, error.message, path)
                return None
        if kind is yaml.MappingNode:
            return self._mapping(node, path, depth)
        return [self.build(item, path + (i,), depth + 1) for i, item in enumerate(node.value)]

    def _mapping(self, node: yaml.MappingNode, path: Path, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        key_nodes: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            # ``<<`` is plain text here (no YAML 1.1 resolver), so a merge key is just an unknown field.
            if not isinstance(key_node, yaml.ScalarNode):
                self.problem(key_node, "字段名必须是简单文本（不支持复杂键）")
                continue
            key = key_node.value
            key_path = path + (key,)
            if key in result:
                first = _mark(key_nodes[key])
                self.problem(key_node, f"字段「{key}」重复出现（第一次在第 {first.line} 行）；重复的键会丢失数据")
                continue
            key_nodes[key] = key_node
            result[key] = self.build(value_node, key_path, depth + 1)
        return result


_ODD_LINE_BREAKS = re.compile("[\x85\u2028\u2029]")
"""YAML 1.1 line breaks that editors do not show as such: they would shift every line number after them."""


def _text_mark(text: str, index: int) -> Mark:
    """The 1-based line and column of ``text[index]``, counting ``\r\n``, ``\r`` and ``\n`` as editors do."""
    before = text[:index]
    line = before.count("\n") + before.count("\r") - before.count("\r\n") + 1
    return Mark(line, index - max(before.rfind("\n"), before.rfind("\r")))


_NESTING_INDICATORS = ("[", "{", "- ", "-\t", "? ", "?\t")
"""What opens a level without indenting further; indentation alone cannot nest deeply within ``MAX_BYTES``."""


def _too_deep(text: str) -> Mark | None:
    """Where nesting first goes past ``MAX_DEPTH``, for a text that could nest deeply.

    libyaml composes recursively in C: some 30,000 levels (60 KB of ``[``)
    overflow the C stack and kill the process. Such texts are first walked with
    the parser, which keeps its own stack; ordinary records skip this cheaply.
    """
    # Each indicator holds one of four characters, which str.count finds fast (3 µs against 10 a file).
    if text.count("[") + text.count("{") + text.count("-") + text.count("?") < 1000:
        return None
    if sum(text.count(indicator) for indicator in _NESTING_INDICATORS) < 1000:
        return None
    depth = 0
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH + 1:
                return _as_mark(event.start_mark)
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
    return None


def load_yaml(raw: bytes | str) -> Document:
    """Load one YAML document strictly; raise ``YamlLoadError`` with every problem found."""
    text = _decode(raw) if isinstance(raw, bytes) else raw.removeprefix("\ufeff")
    # Three substring tests are faster than the regular expression on the common text without them.
    if ("\x85" in text or "\u2028" in text or "\u2029" in text) and (odd := _ODD_LINE_BREAKS.search(text)):
        name = {"\x85": "下一行符 NEL", "\u2028": "行分隔符", "\u2029": "段落分隔符"}[odd.group()]
        raise YamlLoadError([YamlProblem(
            _text_mark(text, odd.start()), f"含有不可见的换行字符 U+{ord(odd.group()):04X}（{name}）：请删除或改用普通换行"
        )])
    try:
        if too_deep := _too_deep(text):
            raise YamlLoadError([YamlProblem(too_deep, f"嵌套层次过深（超过 {MAX_DEPTH} 层）")])
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = Mark(mark.line + 1, mark.column + 1) if mark else Mark(1, 1)
        raise YamlLoadError([YamlProblem(where, f"YAML 语法错误：{_describe(error)}")]) from None
    except yaml.reader.ReaderError as error:
        # libyaml gives a byte offset, the pure-Python reader a character offset;
        # the reader stops at the first bad character, so find that instead.
        found = text.find(chr(error.character)) if isinstance(error.character, int) else -1
        where = _text_mark(text, found if found >= 0 else error.position)
        raise YamlLoadError([YamlProblem(where, f"含有不允许的控制字符 U+{error.character:04X}")]) from None
    except yaml.YAMLError as error:
        raise YamlLoadError([YamlProblem(Mark(1, 1), f"YAML 语法错误：{error}")]) from None
    except RecursionError:
        raise YamlLoadError([YamlProblem(Mark(1, 1), "嵌套层次过深")]) from None
    if node is None:
        return Document(None)
    if "*" not in text:  # (no alias then: the careful walk below is for documents with something to report)
        try:
            return Document(_plain_value(node, 0), node, text)
        except _Unusual:
            pass
    builder = _Builder()
    data = builder.build(node, (), 0)
    if builder.aliased:  # the node graph knows only the anchor; the tokens know each alias
        builder.problems += [
            YamlProblem(Mark(t.start_mark.line + 1, t.start_mark.column + 1), "不支持 YAML 锚点与别名（&/*）：请直接写出内容")
            for t in yaml.scan(text, Loader=_Loader) if isinstance(t, yaml.AliasToken)
        ]
        builder.problems.sort(key=lambda p: (p.mark.line, p.mark.column))
    if builder.problems:
        raise YamlLoadError(builder.problems)
    return Document(data, node, text)


class _Unusual(Exception):
    """Something ``_plain_value`` leaves to ``_Builder``, which says what and where."""


def _plain_value(node: yaml.Node, depth: int) -> Any:
    """The value of ``node`` when nothing in it is a problem, as ``_Builder`` makes it (without an alias,
    which the caller rules out); raises ``_Unusual`` at anything ``_Builder`` would report."""
    if depth > MAX_DEPTH or node.tag not in _CORE_TAGS:
        raise _Unusual
    kind = node.__class__
    if kind is _SCALAR:
        if node.style:
            return node.value
        try:
            return _resolve_plain(node.value, node)
        except _NodeError:
            raise _Unusual from None
    if kind is _MAPPING:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.__class__ is not _SCALAR or key_node.value in result:
                raise _Unusual
            result[key_node.value] = _plain_value(value_node, depth + 1)
        return result
    return [_plain_value(item, depth + 1) for item in node.value]


_YAML_PHRASES = {
    "found character that cannot start any token": "此处的字符不能作为内容开头（是否缺少引号？制表符不能用于缩进）",
    "mapping values are not allowed": "此处不能出现冒号映射（文本中含「: 」时请加引号）",
    "found a tab character": "制表符不能用于缩进，请改用空格",
    "did not find expected ',' or ']'": "方括号列表缺少逗号或右括号「]」（文本中含「, 」「: 」时请加引号）",
    "did not find expected ',' or '}'": "花括号映射缺少逗号或右括号「}」（文本中含「, 」「: 」时请加引号）",
    "did not find expected node content": "此处缺少内容",
    "block sequence entries are not allowed": "此处不能出现列表项「- 」（缩进不一致？）",
    "found unknown escape character": "双引号文本中有无效的转义（「\\」后的字符）；不需要转义时请用单引号",
    "found invalid Unicode character escape code": "双引号文本中有无效的 Unicode 转义",
    "did not find expected <document start>": "多余的内容（括号不配对？）",
    "undefined tag handle": "不支持自定义标签",
    "directive": "不支持 YAML 指令（以 % 开头的行）",
    "could not find expected ':'": "缺少冒号「:」",
    "found undefined alias": "使用了未定义的别名",
    "special characters are not allowed": "含有不允许的控制字符",
    "found unacceptable character": "含有不允许的控制字符",
    "found duplicate anchor": "锚点重复",
    "did not find expected key": "缩进不一致或缺少字段名",
    "did not find expected '-' indicator": "列表缩进不一致",
    "found unexpected end of stream": "文件意外结束（引号或括号未闭合？）",
    "expected a single document": "一个文件只能包含一条记录（不要使用 ---）",
    "but found another document": "一个文件只能包含一条记录（不要使用 ---）",
}


def _describe(error: yaml.MarkedYAMLError) -> str:
    """A Chinese phrase for libyaml's English problem, keeping the original for searchability."""
    original = " ".join(filter(None, [error.context, error.problem])) or str(error)
    for english, chinese in _YAML_PHRASES.items():
        if english in original:
            return f"{chinese}（{original}）"
    return original
