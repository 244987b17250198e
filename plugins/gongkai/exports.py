"""Open data: every public record as JSON and CSV, one JSON per record, and the schema.

What researchers and other sites download (site.md "URLs"):

* ``/data/records.json``: ``{license, schema, count, records}``; the records
  newest first (ties by id), the same order as the site's listings.
* ``/data/<kind>s.csv``: one row per record, UTF-8 with a BOM (so that Excel
  opens Chinese correctly), nested objects flattened to dotted columns
  (``subject.name``), lists joined with ``|`` (``LIST_SEPARATOR``; a ``|`` or
  ``\\`` inside an item is written ``\\|`` or ``\\\\``), the item values of a
  list of objects in parallel columns (``stages.stage``, ``stages.on``); a
  text cell that a spreadsheet would run as a formula starts with ``'`` (``guarded``).
* ``/<kind>s/<id>.json``: one record, the same object (and the same line) as in records.json.
* ``/data/schema.json``: the JSON Schema all of these follow (``jsonschema.py``).

The published form of a record (``published_record``) is the record's own
fields in the schema's order, without ``status`` and ``withdrawal``, plus its
``kind``, permanent ``url`` and sanitized ``body_html``; a vocabulary reference
becomes ``{id, name}``. Only ``site.publication`` is read, so nothing that is
not public can get in; every file is written in a stable order with
``ensure_ascii=False``, so two builds of the same data are byte-identical.

Speed (issue 8): a record's JSON line and CSV row are serialised once and kept
in the build cache by the record's file digest (``fragments.py``); the big
files are joined from those bytes, so an edit serialises one record, and a
rebuild copies the unchanged runs of lines from the live site's copy
(``FragmentStore.splice``). A clean build serialises on every core
(forked workers, each a contiguous run of records), and the joined files are
copied from the runs the workers kept (``Runs``); those
joined files then are the cache's fragments too, hard-linked into it
(``FragmentStore.adopt_joined``), so a clean build writes each line once.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from .buildcache import PickleCache
from .compactjson import json_text
from .fragments import FragmentStore
from .output import CopiedRange
from .piecewise import open_to_write
from .jsonschema import KINDS, PUBLISHED_ONLY_FIELDS, dumps, published_field_order, published_schema, vocab_fields
from .records import RECORD_TYPES, Record
from .site import Site
from .vocabulary import Vocabularies
from .workers import ForkedWork, Unfinished, share_count

LIST_SEPARATOR = "|"
ESCAPE = "\\"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "'")
"""How a CSV cell that a spreadsheet would run as a formula starts (and the guard itself): see ``guarded``."""
CSV_EXCLUDED = frozenset({"body_html"})
"""Columns the CSV leaves out: the HTML is in the JSON; the CSV keeps the Markdown ``body``."""


# --- a record as published -------------------------------------------------------------


class Publisher:
    """Turns public records into their published JSON objects (vocabulary names looked up once)."""

    def __init__(self, site: Site):
        self.site = site
        self.vocab = site.publication.vocab
        self.refs = {kind: vocab_fields(model) for kind, model in RECORD_TYPES.items()}
        self.order = {kind: published_field_order(kind) for kind in KINDS}

    def ref(self, vocabulary: str, value_id: str) -> dict[str, str]:
        entry = getattr(self.vocab, vocabulary).get(value_id)
        return {"id": value_id, "name": entry.name if entry else value_id}

    def record(self, record: Record) -> dict[str, Any]:
        data = record.model_dump(mode="json", by_alias=False, exclude=set(PUBLISHED_ONLY_FIELDS))
        for name, vocabulary in self.refs[record.kind].items():
            value = data.get(name)
            if isinstance(value, list):
                data[name] = [self.ref(vocabulary, v) for v in value]
            elif value is not None:
                data[name] = self.ref(vocabulary, value)
        urls = self.site.urls
        data["kind"] = record.kind
        data["url"] = urls.absolute(urls.record(record.url_kind, record.id))
        data["body_html"] = self.site.body_html(record)
        return {key: data[key] for key in self.order[record.kind]}


# --- CSV -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One CSV column: a dotted path into the published record."""

    name: str
    """``subject.name``, ``stages.on``, ``evaluation.grades.好``."""
    title: str
    """Its Chinese title, from the schema (``被问责对象 · 姓名或名称``)."""
    many: bool
    """The path passes through a list: the cell holds the items joined with ``LIST_SEPARATOR``."""
    as_json: bool = False
    """A value too deep to flatten (a list inside a list item), written as JSON."""
    description: str = ""
    path: tuple[str, ...] = field(init=False, repr=False, compare=False)
    """``name`` split at its dots, once."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", tuple(self.name.split(".")))


def _resolve(node: dict, defs: dict) -> dict:
    """A property's schema with ``$ref`` followed and ``anyOf [x, null]`` unwrapped."""
    while True:
        if "$ref" in node:
            node = {**defs[node["$ref"].rsplit("/", 1)[-1]], **{k: v for k, v in node.items() if k != "$ref"}}
        elif "anyOf" in node:
            non_null = [s for s in node["anyOf"] if s.get("type") != "null"]
            if len(non_null) != 1:
                return node
            node = {**non_null[0], **{k: v for k, v in node.items() if k != "anyOf"}}
        else:
            return node


def _columns(node: dict, defs: dict, name: str, title: str, many: bool) -> Iterable[Column]:
    node = _resolve(node, defs)
    description = node.get("description", "")
    if node.get("type") == "object" and "properties" in node:
        for key, child in node["properties"].items():
            child_title = _resolve(child, defs).get("title") or child.get("title") or key
            yield from _columns(child, defs, f"{name}.{key}" if name else key, f"{title} · {child_title}" if title else child_title, many)
    elif node.get("type") == "object" and "enum" in node.get("propertyNames", {}):
        for key in node["propertyNames"]["enum"]:
            yield Column(f"{name}.{key}", f"{title} · {key}", many, description=description)
    elif node.get("type") == "array":
        if many:
            yield Column(name, title, True, as_json=True, description=description)
        else:
            yield from _columns(node["items"], defs, name, title, True)
    else:
        yield Column(name, title, many, description=description)


_schema_made: tuple[object, dict] | None = None


def schema_of(vocab: Vocabularies, kept: PickleCache | None = None) -> dict:
    """The published schema (``published_schema``), made once per vocabularies: a build reads it three
    times (the 数据下载 page, serialising, the files) and each making costs a tenth of a second. With
    ``kept`` (salted by the code and the vocabularies), the one a build made before is taken."""
    global _schema_made
    if _schema_made is None or _schema_made[0] is not vocab:
        schema = kept.load() if kept is not None else None
        if not schema:
            schema = published_schema(vocab)
            if kept is not None:
                kept.save(schema)
        _schema_made = (vocab, schema)
    return _schema_made[1]


def csv_columns(kind: str, schema: dict | None = None) -> list[Column]:
    """The columns of ``/data/<kind>s.csv``, in the schema's field order."""
    schema = schema or published_schema()
    defs = schema["$defs"]
    return [c for c in _columns(defs[kind], defs, "", "", False) if c.name.split(".")[0] not in CSV_EXCLUDED]


def _values(node: Any, path: tuple[str, ...]) -> Any:
    """The value at ``path`` in a published record; where the path passes through a list, one per item."""
    for depth, key in enumerate(path):
        if node is None:
            return None
        if isinstance(node, list):
            return [_values(item, path[depth:]) for item in node]
        node = node.get(key)
    return node


def cell_text(value: Any) -> str:
    """One value as CSV text: ``""`` for null, ``true``/``false``, numbers as in JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)  # what json.dumps writes for a finite number
    return json_text(value)


def escape_item(text: str) -> str:
    return text.replace(ESCAPE, ESCAPE + ESCAPE).replace(LIST_SEPARATOR, ESCAPE + LIST_SEPARATOR)


def join_items(values: list[Any]) -> str:
    """``a|b|c``, each item escaped (``\\|``, ``\\\\``); an empty list is an empty cell."""
    return LIST_SEPARATOR.join(escape_item(cell_text(v)) for v in values)


def split_items(cell: str) -> list[str]:
    """The inverse of ``join_items`` (an empty cell is an empty list)."""
    if cell == "":
        return []
    items, current, chars = [], [], iter(cell)
    for char in chars:
        if char == ESCAPE:
            current.append(next(chars, ""))
        elif char == LIST_SEPARATOR:
            items.append("".join(current))
            current = []
        else:
            current.append(char)
    items.append("".join(current))
    return items


def guarded(cell: str) -> str:
    """A text cell a spreadsheet will not run: ``'`` in front when it starts like a formula.

    Excel and LibreOffice take a cell starting with ``=``, ``+``, ``-``, ``@``,
    a tab or a carriage return as a formula (OWASP "CSV injection"); a leading
    ``'`` makes it text and is not shown. A cell already starting with ``'``
    gets one more, so a program gets every value back by dropping one leading
    ``'`` (the 数据下载 page says so). records.json is exact and never guarded.
    """
    return "'" + cell if cell.startswith(FORMULA_START) else cell


def csv_row(record: dict, columns: list[Column]) -> list[str]:
    row = []
    for column in columns:
        path = column.path
        value = record.get(path[0]) if len(path) == 1 else _values(record, path)  # (most columns: a field)
        if value.__class__ is str and not column.many:  # most cells: text, checked first
            row.append(guarded(value))
        elif column.as_json:
            row.append(guarded(join_items([json.dumps(v, ensure_ascii=False) for v in (value or [])])))
        elif column.many:
            row.append(guarded(join_items(value or [])))
        elif isinstance(value, (int, float)):
            row.append(cell_text(value))  # a number (-3) is a number to a spreadsheet too, never a formula
        else:
            row.append(guarded(cell_text(value)))
    return row


def csv_line(cells: list[str]) -> bytes:
    """One CSV line (CRLF, UTF-8), as Python's ``csv.writer`` writes it by default (``QUOTE_MINIMAL``):
    a cell holding ``"``, ``,``, CR or LF is quoted, its ``"`` doubled; a row of one empty cell is ``""``.
    Joined here: through ``csv.writer`` and a ``StringIO`` a line took three times as long
    (``tests/test_exports.py`` checks both give the same bytes)."""
    if len(cells) == 1 and not cells[0]:
        return b'""\r\n'
    return (",".join(map(_csv_cell, cells)) + "\r\n").encode("utf-8")


def _csv_cell(cell: str) -> str:
    if '"' in cell:
        return '"' + cell.replace('"', '""') + '"'
    if "," in cell or "\n" in cell or "\r" in cell:
        return '"' + cell + '"'
    return cell


# --- files ------------------------------------------------------------------------------------


JSON_LINE, CSV_LINE = 0, 1
"""The parts of a record's open-data fragment: its records.json line (also its own file) and its CSV row."""
PARALLEL_THRESHOLD = 1000
"""From this many records to serialise (a clean build), forked workers share the work."""
SHARES_PER_WORKER = 4
SERIALISE_BATCH = 500
"""Records serialised before their own JSON files are written."""


class Runs:
    """What one forked worker serialised of a contiguous run of the records, as the files it will be in:
    the run's records.json lines joined, and each kind's CSV lines, each in a file of its own (in
    ``folder``), for the parent to copy into the joined files a block at a time (``_write_runs_joined``) instead
    of reading 20,000 fragments back one by one (0.6-0.9 s in which the workers' cores sat idle). The
    joined files then become the fragment store's (``FragmentStore.adopt_joined``): the lines are not
    written to the store as well. Made by the parent before forking; ``close`` removes the files.

    (Files, not files in memory: 231 MB at 20,000 records, which a file in memory would add to the
    build's memory at its peak; a file on disk is page cache the system can reclaim.)"""

    def __init__(self, share: int, folder: str):
        self.paths = {part: os.path.join(folder, f"open-data-{share}-{part}") for part in ("json", *KINDS)}
        self.lengths = dict.fromkeys(self.paths, 0)
        self.fragments: dict[str, tuple[int, int]] = {}
        """Each record's fragment (by key): the lengths of its records.json line and its CSV row."""

    def append(self, json_lines: list[bytes], csv_lines: dict[str, list[bytes]]) -> None:
        """Add a batch's lines (in the records' order) to the run's files."""
        json_chunk = b",\n".join(json_lines)
        if json_chunk and self.lengths["json"]:  # after the run's earlier lines
            json_chunk = b",\n" + json_chunk
        chunks = {"json": json_chunk, **{kind: b"".join(lines) for kind, lines in csv_lines.items()}}
        for part, chunk in chunks.items():
            if chunk:
                with open_to_write(self.paths[part], "ab") as out:
                    out.write(chunk)
                self.lengths[part] += len(chunk)

    def ranges(self, part: str) -> list[CopiedRange]:
        """The run's bytes of ``part`` ("json" or a kind), as a range of its file (none when empty)."""
        return [CopiedRange(self.paths[part], 0, self.lengths[part])] if self.lengths[part] else []

    def close(self) -> None:
        for path in self.paths.values():
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)


def _serialise(site: Site, store: FragmentStore, records: list[Record], keys: list[str], runs: Runs | None = None) -> None:
    """Add each record's records.json line and CSV row to ``store`` under its key; write its own JSON file;
    with ``runs``, append the lines to its files instead, in the records' order (the store takes over
    the files they are joined into)."""
    schema = schema_of(site.publication.vocab)
    columns = {kind: csv_columns(kind, schema) for kind in KINDS}
    publisher = Publisher(site)
    for start in range(0, len(records), SERIALISE_BATCH):  # (the lines of a batch only: 150 MB in all)
        batch, json_lines = records[start:start + SERIALISE_BATCH], {}
        csv_lines: dict[str, list[bytes]] = {kind: [] for kind in KINDS}
        for record, key in zip(batch, keys[start:start + SERIALISE_BATCH]):
            data = publisher.record(record)
            # (json, not orjson's ``compact_json``: the same bytes in half the time, but no faster a build,
            # paired, and the workers' heaps grew with it: 15-30 MB more at the build's peak.)
            json_line = json_lines[record.id] = json_text(data).encode("utf-8")
            row_line = csv_line(csv_row(data, columns[record.kind]))
            csv_lines[record.kind].append(row_line)
            if runs is None:
                store.add(key, (json_line, row_line))
            else:
                runs.fragments[key] = (len(json_line), len(row_line))
        _write_record_files(site, batch, lambda record: json_lines[record.id])
        if runs is not None:
            runs.append(list(json_lines.values()), csv_lines)


def _write_record_files(site: Site, records: list[Record], json_line: Callable[[Record], bytes]) -> None:
    """Each record's own JSON file: its records.json line."""
    urls = site.urls
    site.write_per_record("record json", records, lambda record: urls.record_json(record.url_kind, record.id),
                          lambda record: json_line(record) + b"\n")


def _serialise_all(site: Site, store: FragmentStore, records: list[Record], keys: list[str],
                   whole: bool = False) -> tuple[list[Runs] | None, ForkedWork | None]:
    """``_serialise`` on every core when there are many records; what the workers made is taken over here.

    Each worker share is a contiguous run of ``records``. When these are all the joined files'
    records (``whole``), each worker also keeps its run's lines (``Runs``): those are returned in
    order, with the work still running (``ForkedWork.finished_shares`` gives each run as it is
    done: joined, they are the joined files' bytes; ``close_runs`` them after)."""
    shares = share_count(SHARES_PER_WORKER)
    if len(records) < PARALLEL_THRESHOLD or shares < 2:
        _serialise(site, store, records, keys)
        return None, None
    scratch = site.setting("GONGKAI_SCRATCH_PATH")
    runs: list[Runs] = []
    forked = None
    try:
        if whole and scratch:  # (made here, for the workers to fill)
            runs = [Runs(share, scratch) for share in range(shares)]

        def share_work(share: int, shares: int) -> tuple[int, tuple[dict, dict] | None, dict]:
            run = slice(share * len(records) // shares, (share + 1) * len(records) // shares)
            mine = runs[share] if runs else None
            _serialise(site, store, records[run], keys[run], mine)
            return share, (mine.lengths, mine.fragments) if mine else None, {} if mine else store.made_here(keys[run])

        def adopt(result: tuple[int, tuple[dict, dict] | None, dict]) -> None:
            share, lengths, entries = result
            if lengths is not None:
                runs[share].lengths, runs[share].fragments = lengths
            store.adopt(entries)

        forked = ForkedWork(site, share_work, shares_per_worker=SHARES_PER_WORKER, adopt=adopt)
        if not runs:
            forked.finish()
            return None, None
    except BaseException:
        if forked is not None:
            forked.cancel()
        close_runs(runs)
        raise
    return runs, forked


def close_runs(runs: list[Runs] | None) -> None:
    for run in runs or ():
        run.close()


def write_exports(site: Site) -> Unfinished | None:
    """Write records.json, the three CSVs, every record's JSON and schema.json.

    Each record's published JSON line and CSV row are made once and cached
    (``FragmentStore``) under its file digest and the build's global key, which
    cover everything they are made of; the files are joined from those bytes,
    so a one-record edit serialises one record. Files are keyed the same way,
    so one whose records did not change is not written again.

    When workers are still making the lines (a clean build), the joined files are left to do
    (``Unfinished``): the build's next step, the sitemap, runs meanwhile, where it ran at the end of
    the build with a core idle.
    """
    cache_dir = site.setting("GONGKAI_CACHE_PATH")
    # Without a global key (a Site made by hand) nothing says when cached bytes are stale: use none.
    store = FragmentStore(Path(cache_dir) if cache_dir and site.global_key else None, "open-data", site.global_key,
                          scratch=site.setting("GONGKAI_SCRATCH_PATH"))
    runs: list[Runs] | None = None
    forked: ForkedWork | None = None

    def cancel() -> None:  # (this build failed: stop the workers, keep what the store holds)
        try:
            if forked is not None:
                forked.cancel()
            close_runs(runs)
        finally:
            store.save()

    def join(_: int | None = None) -> None:
        try:
            _write_data_files(site, store, records, keys, runs, forked)
        except BaseException:
            cancel()
            raise
        close_runs(runs)
        store.save()

    try:
        records = site.publication.records
        keys = [site.fingerprints.of_record(record) for record in records]  # the record's file digest: cheap
        missing = [number for number, key in enumerate(keys) if not store.keep(key)]
        runs, forked = _serialise_all(site, store, [records[n] for n in missing], [keys[n] for n in missing],
                                      whole=len(missing) == len(keys))
        made, of_record = set(missing), site.fingerprints.of_record
        _write_record_files(site, [record for number, record in enumerate(records) if number not in made],
                            lambda record: store.part(of_record(record), JSON_LINE))
    except BaseException:
        cancel()
        raise
    if forked is not None:  # (the workers are still making the lines)
        return Unfinished(None, join, cancel)
    join()
    return None


def _write_data_files(site: Site, store: FragmentStore, records: list[Record], keys: list[str],
                      runs: list[Runs] | None, forked: ForkedWork | None = None) -> None:
    """records.json and the CSVs, joined from the records' fragments (or ``runs``), and schema.json.

    With ``runs`` (the workers still making them), every joined file is written as the runs are done,
    in order (``_write_runs_joined``): copying them (231 MB at 20,000 records) overlaps the later runs'
    making, where it took 0.1-0.6 s at the end of the step with the cores idle, on a full page cache."""
    urls = site.urls
    head = {
        "license": str(site.setting("GONGKAI_LICENSE", "")),
        "schema": urls.absolute(urls.data("schema.json")),
        "count": len(keys),
    }
    schema = schema_of(site.publication.vocab)
    by_kind: dict[str, list[str]] = {kind: [] for kind in KINDS}
    for record, key in zip(records, keys):
        by_kind[record.kind].append(key)
    # (path, keys, part, head, separator, tail, the runs' part). One record per line in records.json,
    # so a change shows as a changed line; the CSVs are UTF-8 with a BOM (Excel), a header of column
    # names, one CRLF line per record.
    joins = [(urls.data("records.json"), keys, JSON_LINE, (json_text(head)[:-1] + ',"records":[\n').encode("utf-8"),
              b",\n", (b"\n" if keys else b"") + b"]}\n", "json")]
    for kind in KINDS:
        header = "\ufeff".encode("utf-8") + csv_line([c.name for c in csv_columns(kind, schema)])
        joins.append((urls.data(f"{kind}s.csv"), by_kind[kind], CSV_LINE, header, b"", b"", kind))
    if runs and forked is not None:
        file_keys = _write_runs_joined(site, joins, runs, forked)
    else:
        file_keys = [_write_joined(site, store, path, keys_of, part, head_of, separator, tail)
                     for path, keys_of, part, head_of, separator, tail, _ in joins]
    if runs:  # the fragments are in the joined files only
        lengths = {key: parts for run in runs for key, parts in run.fragments.items()}
        store.adopt_joined([(site.output.file_of(path), part, len(head_of), separator, keys_of)
                            for path, keys_of, part, head_of, separator, _, _ in joins], lengths)
    for file_key, (path, keys_of, part, head_of, separator, tail, _) in zip(file_keys, joins):
        store.note_joined(path, file_key, keys_of, part, head_of, separator, tail)
    site.write_keyed(urls.data("schema.json"), lambda: dumps(schema))  # vocabularies are in the global key


def _write_joined(site: Site, store: FragmentStore, path: str, keys: list[str], part: int,
                  head: bytes = b"", separator: bytes = b"", tail: bytes = b"") -> str:
    """Write the file at ``path`` joined from the fragments at ``keys``, keyed by them; returns its key.

    When the live site's copy is the previous build's join, only the fragments
    that changed are read: the rest is copied from that copy a block at a time
    (``FragmentStore.splice``), so an edit does not move 150 MB through Python.
    """
    key = site.key(path, *keys)
    before = store.joined_before(path)
    source = site.output.previous_file(path, before.file_key) if before else None
    site.output.write_keyed(path, key, lambda: store.splice(keys, part, head, separator, tail, before, source))
    return key


def _write_runs_joined(site: Site, joins: list[tuple[str, list[str], int, bytes, bytes, bytes, str]],
                       runs: list[Runs], forked: ForkedWork) -> list[str]:
    """Write each joined file (``(path, keys, part, head, separator, tail, the runs' part)``) from the runs
    of a clean build's workers, keyed by its records' keys; returns the keys.

    Every file gets each share's run as soon as that share is done (``ForkedWork.finished_shares``),
    copied while the workers make the later ones: copying the three CSVs after the last
    share left a core idle for 0.4-0.6 s at 20,000 records (records.json alone was done so before).
    A share's run files are deleted as soon as they are copied: the memory their pages held is used
    again for the later ones, where 231 MB of runs kept to the end took as much new memory.
    """
    keys = [site.key(path, *keys_of) for path, keys_of, *_ in joins]
    made = [(file, join) for join, key in zip(joins, keys)  # (None: an earlier build's file, kept)
            if (file := site.output.write_keyed_in_pieces(join[0], key)) is not None]
    try:
        begun = set()  # the files a run went into already (the separator goes between two runs)
        for file, (_, _, _, head, *_) in made:
            file.add(head)
        for share in forked.finished_shares():
            for file, (_, _, _, _, separator, _, part) in made:
                ranges = runs[share].ranges(part)
                if ranges and file in begun:
                    file.add(separator)
                for copied in ranges:
                    begun.add(file)
                    file.add(copied)
                    file.forget(copied.file)
            runs[share].close()  # (its page cache is freed now, for the next runs to reuse)
        for file, (_, _, _, _, _, tail, _) in made:
            file.add(tail)
    except BaseException:
        for file, _ in made:
            file.close(done=False)
        raise
    for file, _ in made:
        file.close()
    return keys


# --- the 数据下载 page ---------------------------------------------------------------------------

DOWNLOADS_SLUG = "downloads"
LICENSE_URLS = {
    "CC BY 4.0": "https://creativecommons.org/licenses/by/4.0/deed.zh-hans",
    "CC BY-SA 4.0": "https://creativecommons.org/licenses/by-sa/4.0/deed.zh-hans",
    "CC0 1.0": "https://creativecommons.org/publicdomain/zero/1.0/deed.zh-hans",
}
"""Where a reader finds the text of a licence named in ``GONGKAI_LICENSE``."""


def _h(text: Any) -> str:
    import html

    return html.escape(str(text), quote=True)


def _license_html(settings: dict) -> str:
    name = str(settings.get("GONGKAI_LICENSE") or "")
    if not name:
        return "<p>本站运营者尚未声明开放数据的许可协议（设置 <code>GONGKAI_LICENSE</code>）。</p>"
    shown = f'<a href="{_h(LICENSE_URLS[name])}">{_h(name)}</a>' if name in LICENSE_URLS else _h(name)
    return (
        f"<p>本页列出的全部数据文件（JSON、CSV、数据结构）和订阅源以 <strong>{shown}</strong> 许可协议发布："
        "在注明来源（本站名称和记录网址）的前提下，可以自由复制、分发、改编和用于任何目的。"
        "每个数据文件也写明了这一许可（records.json 的 <code>license</code>）。</p>"
    )


def _files_html(urls, publication) -> str:
    counts = {kind: len(publication.of_kind(kind)) for kind in KINDS}
    rows = [
        (urls.data("records.json"), "JSON", f"全部公开记录，共 {len(publication.records)} 条（三类合一，按 kind 区分）"),
        *[
            (urls.data(f"{kind}s.csv"), "CSV", f"{RECORD_TYPES[kind].label}，共 {counts[kind]} 条，每条一行")
            for kind in KINDS
        ],
        (urls.data("schema.json"), "JSON Schema", "以上 JSON 文件的数据结构，含各字段中文名称和说明"),
    ]
    body = "".join(
        f'<tr><td><a href="{_h(urls.href(path))}">{_h(path.rsplit("/", 1)[-1])}</a></td><td>{_h(kind)}</td><td>{_h(text)}</td></tr>'
        for path, kind, text in rows
    )
    per_record = "、".join(f"<code>/{kind}s/编号.json</code>" for kind in KINDS)
    return (
        f"<table><thead><tr><th>文件</th><th>格式</th><th>内容</th></tr></thead><tbody>{body}</tbody></table>"
        f"<p>每条记录另有单独的 JSON 文件：{per_record}，内容与 records.json 中的该条相同；记录页面上有链接。</p>"
    )


def _fields_html(vocab: Vocabularies) -> str:
    schema = schema_of(vocab)
    parts = []
    for kind in KINDS:
        rows = "".join(
            f"<tr><td><code>{_h(c.name)}</code></td><td>{_h(c.title)}</td>"
            f"<td>{'是' if c.many else ''}</td><td>{_h(c.description)}</td></tr>"
            for c in csv_columns(kind, schema)
        )
        parts.append(
            f"<h3>{_h(RECORD_TYPES[kind].label)}（{_h(kind)}s.csv）</h3>"
            f"<table><thead><tr><th>列名 / 字段</th><th>中文名称</th><th>多值</th><th>说明</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
        )
    return "".join(parts)


def downloads_html(content: str, settings: dict, urls, publication) -> str:
    """The 数据下载 page's HTML with its placeholders (``<!-- gongkai:… -->``) filled in."""
    filled = {
        "<!-- gongkai:license -->": lambda: _license_html(settings),
        "<!-- gongkai:files -->": lambda: _files_html(urls, publication),
        "<!-- gongkai:fields -->": lambda: _fields_html(publication.vocab),
        "<!-- gongkai:feed-max-items -->": lambda: str(settings.get("FEED_MAX_ITEMS") or 50),
    }
    for placeholder, make in filled.items():
        if placeholder in content:
            content = content.replace(placeholder, make())
    return content


def fill_downloads_page(pages: Iterable[Any], settings: dict, urls, publication) -> None:
    """Fill in the 数据下载 page (content/pages/downloads.md) before Pelican renders it.

    The licence comes from ``GONGKAI_LICENSE`` and the field tables from the
    schema, so the page cannot drift from what the files hold.
    """
    for page in pages:
        if getattr(page, "slug", None) == DOWNLOADS_SLUG:
            page._content = downloads_html(page._content, settings, urls, publication)
