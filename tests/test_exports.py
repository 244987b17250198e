"""Open data (issue 4): records.json, the CSVs, each record's JSON, schema.json, the 数据下载 page.

Read from built files as a researcher downloads them. The sample build shows
that every file validates and that the CSVs read back to the records; a data
set of our own (``mixed``, built twice) holds non-public records with unique
markers that must appear nowhere, and shows that two builds are identical.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import json
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import jsonschema
import pytest

from conftest import BUILD_EPOCH, SAMPLE_DATA, build, case_record, disclosure_record, new_data_dir, report_record, write_record

from gongkai.catalog import load_catalog, load_vocabularies
from gongkai.exports import Column, csv_columns, csv_line, csv_row, guarded, join_items, split_items
from gongkai.jsonschema import editor_schemas, record_types, vocab_fields
from gongkai.publication import publish
from gongkai.workers import available_cores

NOW = datetime.fromtimestamp(BUILD_EPOCH, tz=timezone.utc)
KINDS = ("case", "disclosure", "report")
SITEURL = "http://example.test/gongkai"


def load_json(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


def validator(output: Path) -> jsonschema.Draft202012Validator:
    schema = load_json(output / "data" / "schema.json")
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def record_json_files(output: Path, records: list[dict]) -> list[Path]:
    return [output / f"{r['kind']}s" / f"{r['id']}.json" for r in records]


# --- the sample build ------------------------------------------------------------------------


def test_records_json_holds_every_public_record_in_order(sample_site):
    publication = publish(load_catalog(SAMPLE_DATA), NOW)
    document = load_json(sample_site.file("data/records.json"))
    assert document["count"] == len(publication.records) == len(document["records"])
    assert [r["id"] for r in document["records"]] == [r.id for r in publication.records]
    assert document["license"] == "CC BY 4.0"
    assert document["schema"] == f"{sample_site.url}/data/schema.json"
    record = next(r for r in document["records"] if r["id"] == "jz-zw-2024-0021")
    assert record["kind"] == "disclosure"
    assert record["url"] == f"{sample_site.url}/disclosures/jz-zw-2024-0021/"
    assert record["formerly"] == ["jz-zw-2024-0019"]
    assert record["region"] == {"id": "jiangzhong", "name": "江中市"}
    assert record["corrections"][0]["on"] == "2024-05-10"
    assert "<h2>修订要点</h2>" in record["body_html"]
    assert "status" not in record and "withdrawal" not in record
    report = next(r for r in document["records"] if r["kind"] == "report")
    assert report["report_kind"] in ("述职述廉", "述责述廉", "四述")


def test_every_json_file_validates_against_the_schema(sample_site):
    check = validator(sample_site.output)
    document = load_json(sample_site.file("data/records.json"))
    assert not list(check.iter_errors(document))
    for path, record in zip(record_json_files(sample_site.output, document["records"]), document["records"]):
        single = load_json(path)
        assert single == record, path
        errors = list(check.iter_errors(single))
        assert not errors, f"{path}: {errors[0].message}"


def test_the_schema_rejects_what_is_not_a_published_record(sample_site):
    check = validator(sample_site.output)
    record = load_json(sample_site.file("data/records.json"))["records"][0]
    assert check.is_valid(record)
    assert not check.is_valid({**record, "status": "draft"})
    assert not check.is_valid({**record, "region": {"id": "nowhere", "name": "无此地"}})
    assert not check.is_valid({k: v for k, v in record.items() if k != "url"})


def _json_at(value, path: list[str]):
    """The value at a dotted path; through a list, the list of the items' values."""
    if not path or value is None:
        return value
    if isinstance(value, list):
        return [_json_at(item, path) for item in value]
    return _json_at(value.get(path[0]), path[1:])


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _leaf_paths(value, prefix: str = "") -> set[str]:
    if isinstance(value, dict):
        return set().union(*[_leaf_paths(v, f"{prefix}.{k}" if prefix else k) for k, v in value.items()]) if value else {prefix}
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return set().union(*[_leaf_paths(item, prefix) for item in value])
    return {prefix}


def read_csv(path: Path) -> list[dict[str, str]]:
    """The rows, each cell as the 数据下载 page tells programs to read it: one leading ``'`` dropped."""
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "UTF-8 with BOM"
    rows = csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline=""))
    return [{name: cell.removeprefix("'") for name, cell in row.items()} for row in rows]


def assert_csv_round_trips(output: Path) -> None:
    records = load_json(output / "data" / "records.json")["records"]
    for kind in KINDS:
        rows = read_csv(output / "data" / f"{kind}s.csv")
        expected = [r for r in records if r["kind"] == kind]
        assert [row["id"] for row in rows] == [r["id"] for r in expected]
        header = list(rows[0]) if rows else []
        assert header == [c.name for c in csv_columns(kind)]
        for row, record in zip(rows, expected):
            for leaf in _leaf_paths(record) - {"body_html"}:  # every value has its column
                assert leaf in header or any(h.startswith(leaf + ".") for h in header), (record["id"], leaf)
            for column, cell in row.items():
                value = _json_at(record, column.split("."))
                if isinstance(value, list):
                    assert split_items(cell) == [_text(v) for v in value], (record["id"], column)
                else:
                    assert cell == _text(value), (record["id"], column)


def test_csv_reads_back_as_the_records(sample_site):
    assert_csv_round_trips(sample_site.output)


def test_list_items_are_joined_and_escaped_predictably():
    items = ["a|b", "c\\d", "", "e\\|f", "中文"]
    joined = join_items(items)
    assert joined == "a\\|b|c\\\\d||e\\\\\\|f|中文"
    assert split_items(joined) == items
    assert split_items("") == [] and join_items([]) == ""


def test_csv_lines_are_what_pythons_csv_writer_writes_and_read_back_whole():
    """``csv_line`` joins cells itself; a spreadsheet or ``csv.reader`` must get every cell back as it was."""
    import random

    alphabet = ["a", '"', ",", "\r", "\n", "\x00", " ", "\t", "\\", "'", "中", "\u2028", "\x85", "|", "=", ""]
    picked = random.Random(8)
    rows = [[""], ["", ""], ['"'], ["a,b", "c\r\nd", '他说"好"']]
    rows += [["".join(picked.choice(alphabet) for _ in range(picked.randint(0, 5))) for _ in range(picked.randint(1, 4))]
             for _ in range(20000)]
    for cells in rows:
        written = io.StringIO(newline="")
        csv.writer(written, lineterminator="\r\n").writerow(cells)
        line = csv_line(cells)
        assert line == written.getvalue().encode("utf-8"), cells
        assert next(csv.reader(io.StringIO(line.decode("utf-8"), newline=""))) == cells


def test_downloads_page_explains_files_fields_and_licence(sample_site):
    html = sample_site.text("downloads/")
    assert "gongkai:" not in html  # every placeholder filled in
    assert "CC BY 4.0" in html
    for name in ("records.json", "cases.csv", "disclosures.csv", "reports.csv", "schema.json"):
        assert f'href="{sample_site.url}/data/{name}"' in html
    for column in ("subject.name", "stages.on", "topics.name", "evaluation.grades.好", "report_kind", "category.id"):
        assert f"<code>{column}</code>" in html
    assert "|" in html and "UTF-8" in html


# --- schemas ------------------------------------------------------------------------------


def test_vocabulary_references_are_found_in_the_models():
    found = {cls.kind: vocab_fields(cls) for cls in record_types()}
    common = {"region": "regions", "issuer": "organizations", "topics": "topics"}
    assert found["disclosure"] == {**common, "category": "categories"}
    assert found["report"] == common
    assert found["case"] == {**common, "regime": "regimes", "circumstances": "circumstances",
                             "forms": "forms", "initiated_by": "initiators"}


def test_record_file_schemas_accept_the_sample_and_refuse_mistakes(tmp_path):
    vocab, _ = load_vocabularies(SAMPLE_DATA / "vocab")
    for name, document in editor_schemas(vocab).items():
        (tmp_path / name).write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")

    def check(schema: str, files: list[Path]) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "check_jsonschema", "--schemafile", str(tmp_path / schema), *map(str, files)]
        return subprocess.run(command, capture_output=True, text=True)

    for kind in KINDS:
        files = sorted((SAMPLE_DATA / f"{kind}s").rglob("*.yaml"))
        result = check(f"{kind}.schema.json", files)
        assert result.returncode == 0, result.stdout + result.stderr
    data = new_data_dir(tmp_path / "data")
    wrong = [
        write_record(data, "case", case_record("t-x1", summery="拼错的字段")),
        write_record(data, "case", case_record("t-x2", region="无此地区")),
        write_record(data, "case", case_record("t-x3", published="2024年3月5日")),
    ]
    for path in wrong:
        assert check("case.schema.json", [path]).returncode == 1, path
    right = write_record(data, "case", case_record("t-ok", region="jiangzhong", published="2024-03-05"))
    assert check("record.schema.json", [right]).returncode == 0


def test_committed_editor_schemas_are_up_to_date():
    """``schema/`` is committed for editors; it must be what ``invoke schema`` writes now."""
    from conftest import ROOT
    from gongkai.jsonschema import dumps

    vocab, _ = load_vocabularies(SAMPLE_DATA / "vocab")
    for name, document in editor_schemas(vocab).items():
        path = ROOT / "schema" / name
        assert path.is_file() and path.read_text(encoding="utf-8") == dumps(document), \
            f"{path} is stale: run `invoke schema` (after changing records.py or data/vocab/) and commit schema/"


# --- non-public records, reproducibility ------------------------------------------------

FORMULA_TITLE = '=HYPERLINK("http://example.org/","点此")江中市问责'
"""A title a spreadsheet would run as a formula if the CSV gave it as it is."""

MARKERS = {
    "draft": "草稿标记QZDRAFT",
    "embargoed": "预约标记QZEMBARGO",
    "withdrawn-body": "撤回正文标记QZWBODY",
    "withdrawn-summary": "撤回摘要标记QZWSUM",
    "withdrawn-subject": "撤回对象标记QZWSUBJ",
}


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    """Public records of each kind (with awkward text) beside non-public ones; built twice."""
    root = tmp_path_factory.mktemp("exports")
    data = new_data_dir(root / "data")
    write_record(data, "case", case_record(
        "t-pub", legal_basis=["第七条|第八条", "反斜杠\\在此", "逗号,与\"引号\""],
        title=FORMULA_TITLE, summary="'引号开头的摘要",
        body="- 第一段，含逗号。\n\n第二段\n| 表 | 格 |\n|---|---|\n| 1 | 2 |",
        corrections=[{"on": "2024-04-01", "note": "更正一"}, {"on": "2024-05-01", "note": "更正|二"}],
        appeal={"filed": True, "result": "维持原决定"},
    ))
    write_record(data, "disclosure", disclosure_record("t-disc", sources=[{"title": "来源", "url": "https://example.org/a?b=1&c=2"}]))
    write_record(data, "report", report_record("t-rep", questions=[
        {"asked_by": "委员甲", "question": "问题一", "answer": "回答一"},
        {"asked_by": "委员乙", "question": "问题二"},
    ]))
    write_record(data, "case", case_record(
        "t-draft", status="draft", title=f"标题{MARKERS['draft']}", summary=MARKERS["draft"], approval=None, published=None,
    ))
    write_record(data, "disclosure", disclosure_record(
        "t-embargo", published="2099-01-01", title=f"标题{MARKERS['embargoed']}", body=MARKERS["embargoed"],
    ))
    write_record(data, "case", case_record(
        "t-gone", status="withdrawn", withdrawal={"on": "2024-06-01", "reason": "撤回原因"},
        body=MARKERS["withdrawn-body"], summary=MARKERS["withdrawn-summary"],
        subject={"name": MARKERS["withdrawn-subject"], "position": "局长", "organization": "某局", "level": "县处级"},
    ))
    build(data, root / "one", siteurl=SITEURL)
    build(data, root / "two", siteurl=SITEURL)
    return root


def output_files(output: Path) -> list[Path]:
    """Everything the feeds and open data steps write."""
    files = sorted((output / "feeds").rglob("*.xml")) + sorted((output / "data").iterdir())
    files += sorted(p for kind in KINDS for p in (output / f"{kind}s").glob("*.json"))
    return files


def test_nothing_non_public_is_in_any_feed_or_data_file(mixed):
    output = mixed / "one"
    records = load_json(output / "data" / "records.json")["records"]
    assert sorted(r["id"] for r in records) == ["t-disc", "t-pub", "t-rep"]
    assert not (output / "cases" / "t-draft.json").exists()
    assert not (output / "disclosures" / "t-embargo.json").exists()
    assert not (output / "cases" / "t-gone.json").exists()
    for path in output_files(output):
        text = path.read_bytes().decode("utf-8-sig")
        for what, marker in MARKERS.items():
            assert marker not in text, f"{what} marker in {path}"


def test_awkward_text_round_trips_and_validates(mixed):
    output = mixed / "one"
    assert_csv_round_trips(output)
    check = validator(output)
    record_files = record_json_files(output, load_json(output / "data" / "records.json")["records"])
    for path in [output / "data" / "records.json", *record_files]:
        errors = list(check.iter_errors(load_json(path)))
        assert not errors, f"{path}: {errors[0].message}"
    for path in record_files:  # compact UTF-8 JSON, as json writes it (no ASCII escapes), one line
        text = path.read_text(encoding="utf-8")
        assert text == json.dumps(json.loads(text), ensure_ascii=False, separators=(",", ":")) + "\n", path
    row = read_csv(output / "data" / "cases.csv")[0]
    assert split_items(row["legal_basis"]) == ["第七条|第八条", "反斜杠\\在此", "逗号,与\"引号\""]
    assert split_items(row["corrections.note"]) == ["更正一", "更正|二"]
    assert row["appeal.filed"] == "true"
    questions = read_csv(output / "data" / "reports.csv")[0]
    assert split_items(questions["questions.answer"]) == ["回答一", ""]


def test_csv_cells_that_start_like_formulas_are_guarded_and_the_json_is_exact(mixed):
    output = mixed / "one"
    text = (output / "data" / "cases.csv").read_bytes().decode("utf-8-sig")
    row = next(csv.DictReader(io.StringIO(text, newline="")))  # as a spreadsheet gets it: nothing dropped
    assert row["title"] == "'" + FORMULA_TITLE
    assert row["summary"] == "''引号开头的摘要"
    assert row["body"].startswith("'- 第一段")
    assert row["subject.name"] == "张某" and row["appeal.filed"] == "true"
    record = next(r for r in load_json(output / "data" / "records.json")["records"] if r["id"] == "t-pub")
    assert (record["title"], record["summary"]) == (FORMULA_TITLE, "'引号开头的摘要")
    assert record["body"].startswith("- 第一段")
    columns = [Column("score", "分数", False), Column("note", "说明", False), Column("items", "各项", True)]
    cells = csv_row({"score": -3, "note": "-3", "items": ["@a", "b"]}, columns)
    assert cells == ["-3", "'-3", "'@a|b"]  # a number is never a formula; text is guarded, lists as a whole
    for start in ("=", "+", "-", "@", "\t", "\r", "'"):
        assert guarded(start + "x") == "'" + start + "x"
    assert guarded("江中市=1") == "江中市=1" and guarded("") == ""


def test_two_builds_give_identical_feeds_and_data(mixed):
    one, two = output_files(mixed / "one"), output_files(mixed / "two")
    assert [p.relative_to(mixed / "one") for p in one] == [p.relative_to(mixed / "two") for p in two]
    for a, b in zip(one, two):
        assert a.read_bytes() == b.read_bytes(), a


# --- a rebuild from cached fragments ------------------------------------------------------------


def test_rebuilds_serialise_what_changed_copy_the_rest_and_give_a_clean_parallel_builds_bytes(tmp_path, monkeypatch):
    from conftest import build_epoch

    from gongkai import bodies, catalog, exports, piecewise
    from gongkai.build import build_site

    data = new_data_dir(tmp_path / "data")
    for number in range(3):
        write_record(data, "case", case_record(f"t-case-{number}", body=f"第{number}段正文。"))
        write_record(data, "report", report_record(f"t-rep-{number}"))
    write_record(data, "disclosure", disclosure_record("t-disc"))

    def cached_build(output: Path):
        with build_epoch():
            build_site(data, output, overrides={"SITEURL": SITEURL}, cache_dir=tmp_path / "cache")

    monkeypatch.setattr(exports, "PARALLEL_THRESHOLD", 2)  # clean builds serialise in forked workers
    monkeypatch.setattr(catalog, "PARALLEL_THRESHOLD", 2)  # and load in workers, which keep the bodies they render
    ranges_of = exports.Runs.ranges
    runs_joined: dict[str, int] = {}  # how many workers' runs each joined file was given (as its workers finish them)
    read_runs: list = []  # each run, as its files are first read

    def counted(run, part):
        runs_joined[part] = runs_joined.get(part, 0) + 1
        if run not in read_runs:  # the runs read before are deleted already (their pages used again)
            assert not [path for earlier in read_runs for path in earlier.paths.values() if os.path.exists(path)]
            read_runs.append(run)
        return ranges_of(run, part)

    monkeypatch.setattr(exports.Runs, "ranges", counted)
    rendered: list[str] = []
    render_many = bodies._render_many
    monkeypatch.setattr(bodies, "_render_many", lambda texts: rendered.extend(texts) or render_many(texts))
    cached_build(tmp_path / "out")
    if available_cores() > 1:  # the workers' runs of lines, copied into records.json and each CSV
        assert len(runs_joined) == 4 and min(runs_joined.values()) > 1, runs_joined
        assert len(read_runs) > 1 and not [p for run in read_runs for p in run.paths.values() if os.path.exists(p)]
        assert not rendered, "the load workers rendered every body and kept it in the body store"
        joined = {os.stat(tmp_path / "out" / "data" / name).st_ino for name in ("records.json", "cases.csv", "reports.csv")}
        segments = {path.stat().st_ino for path in (tmp_path / "cache").glob("open-data-*.segment")}
        assert joined <= segments, "the joined files are the fragment store's segments, not a second copy of its lines"
    build(data, tmp_path / "serial", siteurl=SITEURL)  # 7 records: serialised in this process, joined from fragments
    serial = output_files(tmp_path / "serial")
    assert [p.relative_to(tmp_path / "serial") for p in serial] == [p.relative_to(tmp_path / "out") for p in output_files(tmp_path / "out")]
    for path in serial:
        assert path.read_bytes() == (tmp_path / "out" / path.relative_to(tmp_path / "serial")).read_bytes(), path
    made, copied = [], []
    original = exports.Publisher.record
    monkeypatch.setattr(exports.Publisher, "record", lambda self, record: made.append(record.id) or original(self, record))
    copy = piecewise.FileWriter.copy
    monkeypatch.setattr(piecewise.FileWriter, "copy", lambda self, source, offset, length: copied.append(length) or copy(self, source, offset, length))
    changes = [  # records are ordered by id here: a change in the middle, one added between two, the first removed
        ("edit", lambda: write_record(data, "case", case_record("t-case-1", title="改过的标题", body="第1段正文。")), ["t-case-1"]),
        ("add", lambda: write_record(data, "case", case_record("t-case-15")), ["t-case-15"]),
        ("delete", lambda: (data / "cases" / "t-case-0.yaml").unlink(), []),
    ]
    for name, change, serialised in changes:
        change()
        made.clear(), copied.clear(), rendered.clear()
        cached_build(tmp_path / "out")
        assert made == serialised, name
        # (bodies are kept by file digest: the edited and the added record's are rendered again, no other)
        assert len(rendered) == (0 if name == "delete" else 1), f"{name}: the other bodies are kept from the clean build's load"
        assert copied, f"{name}: records.json and cases.csv are spliced from the live copy"
        build(data, tmp_path / name, siteurl=SITEURL)
        files = output_files(tmp_path / name)
        assert [p.relative_to(tmp_path / name) for p in files] == [p.relative_to(tmp_path / "out") for p in output_files(tmp_path / "out")]
        for path in files:
            assert path.read_bytes() == (tmp_path / "out" / path.relative_to(tmp_path / name)).read_bytes(), (name, path)
    shutil.rmtree(tmp_path / "out")  # a fresh output folder beside the kept cache: the stored fragments outlive it
    cached_build(tmp_path / "fresh")
    for path in output_files(tmp_path / "delete"):
        assert path.read_bytes() == (tmp_path / "fresh" / path.relative_to(tmp_path / "delete")).read_bytes(), path


@pytest.mark.skipif(available_cores() < 2, reason="open data is made in this process on one core")
def test_the_sitemap_runs_while_open_data_workers_make_the_lines_and_its_failure_stops_them(tmp_path, monkeypatch):
    """A clean build whose open data is made in forked workers runs the sitemap step before it joins
    records.json and the CSVs (a core was left idle at the build's end). A sitemap that fails then
    stops the workers and fails the build with its error; the output stays as it was."""
    import multiprocessing

    from gongkai import exports, generator, sitemap
    from gongkai.build import staging_path

    data, output = new_data_dir(tmp_path / "data"), tmp_path / "out"
    for number in range(6):
        write_record(data, "case", case_record(f"t-case-{number}"))
    monkeypatch.setattr(exports, "PARALLEL_THRESHOLD", 2)
    joined_before_sitemap: list[bool] = []

    def noting(site):
        joined_before_sitemap.append((staging_path(output) / "data" / "records.json").exists())
        return sitemap.write_sitemap(site)

    def sitemap_step(step):
        monkeypatch.setattr(generator, "OUTPUT_STEPS", tuple((name, step if name == "sitemap" else made)
                                                             for name, made in generator.OUTPUT_STEPS))

    sitemap_step(noting)
    build(data, output)
    assert joined_before_sitemap == [False]
    assert len(json.loads((output / "data" / "records.json").read_text(encoding="utf-8"))["records"]) == 6
    before = {p.relative_to(output): p.read_bytes() for p in output.rglob("*") if p.is_file()}

    def failing(site):
        raise RuntimeError("站点地图出错")

    sitemap_step(failing)
    write_record(data, "case", case_record("t-case-0", title="改过的标题"))
    with pytest.raises(RuntimeError, match="站点地图出错"):
        build(data, output)  # (without a build cache: every line made again, in workers)
    assert not multiprocessing.active_children()
    assert {p.relative_to(output): p.read_bytes() for p in output.rglob("*") if p.is_file()} == before


def test_forked_work_gives_each_share_in_order_once_it_is_done_and_taken_over(tmp_path):
    """``ForkedWork.finished_shares``: the shares' numbers in order, each given once its result was
    adopted (what the open data's records.json is written from while later shares are made);
    ``finish`` takes over the rest; a worker's error is raised."""
    import os
    import time
    from types import SimpleNamespace

    from gongkai.output import OutputTree
    from gongkai.workers import ForkedWork

    def work(share, shares):
        time.sleep(0.01 * (shares - share))  # (the later shares are done first)
        return share, os.getpid()

    def failing_at_4(share, shares):
        if share == 4:
            raise ValueError("份额出错")
        return work(share, shares)

    adopted: list = []
    site = SimpleNamespace(output=OutputTree(tmp_path / "out"))
    forked = ForkedWork(site, work, workers=2, shares_per_worker=3, adopt=adopted.append)
    given = []
    for share in forked.finished_shares():
        given.append((share, [number for number, _ in adopted]))
        if share == 2:
            break
    forked.finish()
    assert given == [(0, [0]), (1, [0, 1]), (2, [0, 1, 2])]
    assert [number for number, _ in adopted] == list(range(6)) and os.getpid() not in {pid for _, pid in adopted}

    failing = ForkedWork(site, failing_at_4, workers=2, shares_per_worker=3)
    with pytest.raises(ValueError, match="份额出错"):
        failing.finish()


def test_a_splice_is_the_join_whatever_changed(tmp_path, monkeypatch):
    """``FragmentStore.splice`` gives ``join``'s bytes (held and written whole, a block at a time past the page
    cache, or so on a file system that refuses it)."""
    from gongkai import piecewise
    from gongkai.fragments import FragmentStore
    from gongkai.output import CopiedRange, OutputTree

    store = FragmentStore(tmp_path / "cache", "t", "salt")
    for key in "abcdefg":
        store.add(key, [key.encode() * (1 + ord(key) % 3)])
    head, separator, tail = b"[\n", b",\n", b"\n]"
    before = list("abcdef")
    tree = OutputTree(tmp_path / "before")
    tree.write_bytes("old.txt", store.join(before, 0, head, separator, tail))
    store.note_joined("old.txt", "k", before, 0, head, separator, tail)
    store.save()
    store = FragmentStore(tmp_path / "cache", "t", "salt")  # the next build
    joined = store.joined_before("old.txt")
    assert joined is not None and joined.file_key == "k"
    source = str(tmp_path / "before" / "old.txt")
    tree = OutputTree(tmp_path / "after")
    cases = [list("abcdef"), list("abXdef"), list("abcgdef"), list("bcdef"), list("abcde"), list("fedcba"), [], list("g")]
    for number, keys in enumerate(cases):
        store.add("X", [b"changed"])
        pieces = store.splice(keys, 0, b"{", separator, b"}", joined, source)
        tree.write_bytes(f"{number}.txt", pieces)
        assert (tmp_path / "after" / f"{number}.txt").read_bytes() == store.join(keys, 0, b"{", separator, b"}"), keys
    assert any(isinstance(piece, CopiedRange) for piece in store.splice(list("abXdef"), 0, b"", separator, b"", joined, source))
    assert store.splice(list("abc"), 0, b"", b";", b"", joined, source) == store.join(list("abc"), 0, separator=b";")  # another separator

    monkeypatch.setattr(piecewise, "DIRECT_FROM", 8)  # (these files past the page cache, then refused that)
    tree.write_bytes("direct.txt", store.splice(list("abXdef"), 0, head, separator, tail, joined, source))
    assert (tmp_path / "after" / "direct.txt").read_bytes() == store.join(list("abXdef"), 0, head, separator, tail)
    monkeypatch.setattr(piecewise, "_set_direct", lambda descriptor, on: False)
    tree.write_bytes("other-fs.txt", store.splice(list("abXdef"), 0, head, separator, tail, joined, source))
    assert (tmp_path / "after" / "other-fs.txt").read_bytes() == store.join(list("abXdef"), 0, head, separator, tail)
    (tmp_path / "before" / "old.txt").write_bytes(b"not that file")
    assert isinstance(store.splice(list("abXdef"), 0, head, separator, tail, joined, source), bytearray)


def test_fragment_store_keeps_what_a_build_used_and_trusts_nothing_else(tmp_path):
    from gongkai.fragments import FragmentStore

    store = FragmentStore(tmp_path, "t", "salt")
    store.add("a", [b"A1", b"A22"])
    store.add("b", [b"B1", b""])
    assert store.part("a", 1) == b"A22" and store.part("b", 1) == b""
    assert store.join(["a", "b"], 0, head=b"[", separator=b",", tail=b"]") == b"[A1,B1]"
    store.save()

    again = FragmentStore(tmp_path, "t", "salt")
    assert again.keep("b") and not again.keep("c")
    assert again.part("b", 0) == b"B1"
    again.save()  # "a" was not used: dropped, and the segments compacted to what is live
    third = FragmentStore(tmp_path, "t", "salt")
    assert not third.keep("a") and third.keep("b") and third.part("b", 0) == b"B1"
    third.save()
    assert len(list(tmp_path.glob("t-*.segment"))) == 1

    assert not FragmentStore(tmp_path, "t", "other salt").keep("b")
    segment = next(tmp_path.glob("t-*.segment"))
    segment.write_bytes(b"")  # shorter than the index says: none of it is trusted
    assert not FragmentStore(tmp_path, "t", "salt").keep("b")

    temporary = FragmentStore(None, "t", "salt")
    temporary.add("x", [b"X"])
    assert temporary.join(["x", "x"], 0, separator=b"\n") == b"X\nX"
    temporary.save()
    assert not temporary.folder.exists()


@pytest.mark.parametrize("links", [True, False])
def test_fragment_store_takes_over_joined_files_without_writing_their_bytes_again(tmp_path, monkeypatch, links):
    """``adopt_joined``: the fragments of files joined elsewhere (a clean build's records.json and CSVs,
    made from its workers' runs) become the store's, each file hard-linked into the store's folder
    (copied where it cannot be linked). They read back, across builds, after the joined files were
    replaced and removed, and a later edit's fragments mix with them as any others."""
    from gongkai.fragments import FragmentStore

    if not links:
        def refused(*args, **kwargs):
            raise OSError(18, "Invalid cross-device link")

        monkeypatch.setattr("gongkai.fragments.os.link", refused)
    out = tmp_path / "out"
    out.mkdir()
    fragments = {"a": (b'{"id":"a"}', b"a,1\r\n"), "b": (b'{"id":"\u4e59"}', b""), "c": (b"{}", b"c,3\r\n")}
    json_file, csv_file = out / "records.json", out / "cases.csv"
    json_file.write_bytes(b"[\n" + b",\n".join(f[0] for f in fragments.values()) + b"\n]")
    csv_file.write_bytes(b"id,n\r\n" + b"".join(f[1] for f in fragments.values()))
    store = FragmentStore(tmp_path / "cache", "t", "salt")
    store.adopt_joined([(str(json_file), 0, 2, b",\n", list(fragments)), (str(csv_file), 1, 6, b"", list(fragments))],
                       {key: tuple(len(p) for p in parts) for key, parts in fragments.items()})
    assert all(store.part(key, n) == parts[n] for key, parts in fragments.items() for n in (0, 1))
    assert store.join(list("cab"), 0, b"<", b";", b">") == b'<{};{"id":"a"};{"id":"\u4e59"}>'
    segments = sorted(os.stat(path).st_ino for path in (tmp_path / "cache").glob("t-*.segment"))
    assert (segments == sorted(os.stat(path).st_ino for path in (json_file, csv_file))) is links
    store.save()
    (out / "new.csv").write_bytes(b"id,n\r\n")
    (out / "new.csv").replace(csv_file)  # a file of the output is replaced (a new inode), never written in place
    json_file.unlink()
    csv_file.unlink()
    again = FragmentStore(tmp_path / "cache", "t", "salt")
    assert all(again.keep(key) for key in fragments)
    again.add("b", [b'{"id":"b2"}', b"b,2\r\n"])  # an edit
    assert again.join(list("abc"), 0, separator=b",") == b'{"id":"a"},{"id":"b2"},{}'
    assert again.join(list("abc"), 1) == b"a,1\r\nb,2\r\nc,3\r\n"
    again.save()
    third = FragmentStore(tmp_path / "cache", "t", "salt")
    assert third.keep("a") and third.part("a", 1) == b"a,1\r\n" and third.part("b", 0) == b'{"id":"b2"}'


def test_fragment_store_over_many_builds_reads_back_and_stays_small_on_disk(tmp_path):
    """Each build replaces half of the fragments (edits): every live fragment reads back, and the
    segment files on disk stay within the store's rule (at most twice the live bytes plus 1 MB, at
    most ``MAX_SEGMENTS`` and this build's), which holds only if the store counts right what each
    segment still holds as fragments come and go."""
    from gongkai.fragments import MAX_SEGMENTS, FragmentStore

    def segments() -> list[Path]:
        return list(tmp_path.glob("t-*.segment"))

    live = {f"k{n}": bytes([n]) * 100_000 for n in range(20)}
    first = FragmentStore(tmp_path, "t", "salt")
    for key, value in live.items():
        first.add(key, [value])
    first.save()
    for generation in range(8):
        store = FragmentStore(tmp_path, "t", "salt")
        replaced = sorted(live)[:10]
        store.keep_all(key for key in live if key not in replaced)
        for number, key in enumerate(replaced):
            del live[key]
            live[f"b{generation}-{number}"] = value = bytes([generation, number]) * 50_000
            store.add(f"b{generation}-{number}", [value])
        store.save()
        check = FragmentStore(tmp_path, "t", "salt")
        assert {key: check.part(key, 0) for key in live} == live
        assert not check.keep(replaced[0])
        check.close()  # (a look only: saving it would drop what it did not keep)
        assert sum(path.stat().st_size for path in segments()) <= 2 * sum(map(len, live.values())) + (1 << 20)
        assert len(segments()) <= MAX_SEGMENTS + 1
