"""Shared fixtures: one built sample site for every test that only reads it, a real browser,
and helpers to build small data sets of a test's own into temporary folders."""

from __future__ import annotations

import functools
import os
import shutil
import socketserver
import sys
import threading
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugins"))

from gongkai.build import build_site  # noqa: E402
from gongkai.serve import SiteHandler  # noqa: E402

SAMPLE_DATA = ROOT / "data"
BUILD_EPOCH = int(datetime(2026, 11, 1, tzinfo=timezone.utc).timestamp())
"""The sample site is built as of 2026-11-01 UTC (SOURCE_DATE_EPOCH), so embargoes are stable."""
SUBPATH = "gongkai"
"""The sample site is served under a sub-path, as a real deployment may be."""
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync",
]


@contextmanager
def build_epoch(epoch: int = BUILD_EPOCH):
    """Set SOURCE_DATE_EPOCH for the duration of a build."""
    previous = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = str(epoch)
    try:
        yield
    finally:
        if previous is None:
            del os.environ["SOURCE_DATE_EPOCH"]
        else:
            os.environ["SOURCE_DATE_EPOCH"] = previous


def build(data_dir: Path, output: Path, siteurl: str = "http://example.test/gongkai", epoch: int = BUILD_EPOCH, **overrides):
    """Build ``data_dir`` into ``output`` as of ``epoch``; returns the BuildResult."""
    with build_epoch(epoch):
        return build_site(data_dir, output, overrides={"SITEURL": siteurl, **overrides})


@pytest.fixture(scope="session")
def server_root(tmp_path_factory):
    return tmp_path_factory.mktemp("www")


@pytest.fixture(scope="session")
def server(server_root):
    """A static HTTP server on 127.0.0.1 serving ``server_root`` as ``invoke serve`` and Pages hosts do
    (a missing address gets its site's ``404.html``); yields its base URL."""
    handler = functools.partial(SiteHandler, directory=str(server_root))
    httpd = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="session")
def sample_site(server, server_root):
    """The shipped sample data, built once, served at ``{server}/gongkai/``.

    Read-only: tests that need other data build their own with ``build``.
    Yields ``SampleSite`` with ``output`` (Path), ``url`` (site root URL) and ``result``.
    """
    output = server_root / SUBPATH
    siteurl = f"{server}/{SUBPATH}"
    result = build(SAMPLE_DATA, output, siteurl=siteurl)
    return SampleSite(output=output, url=siteurl, result=result)


class SampleSite:
    def __init__(self, output: Path, url: str, result):
        self.output, self.url, self.result = output, url, result

    def file(self, path: str) -> Path:
        """The output file of a site path (``cases/x/`` → ``cases/x/index.html``)."""
        return self.output / (path + "index.html" if path.endswith("/") or not path else path)

    def text(self, path: str) -> str:
        return self.file(path).read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (never a downloaded browser)."""
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: run `invoke test`, which installs it, or apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    yield page
    context.close()


# --- small data sets of a test's own -------------------------------------------------


def new_data_dir(target: Path) -> Path:
    """An empty data folder with the shipped vocabularies."""
    target.mkdir(parents=True, exist_ok=True)
    shutil.copytree(SAMPLE_DATA / "vocab", target / "vocab", dirs_exist_ok=True)
    return target


def write_record(data_dir: Path, kind: str, record: dict, *, text: str | None = None) -> Path:
    """Write one record (a dict, or exact YAML ``text``) as ``<kind>s/<id>.yaml``."""
    path = data_dir / f"{kind}s" / f"{record['id']}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text if text is not None else yaml.safe_dump(record, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def case_record(record_id: str = "t-case-1", **changes) -> dict:
    """A valid public case; ``changes`` replace or add fields (value None removes one)."""
    record = {
        "id": record_id,
        "title": "江中市交通局原局长张某因决策严重失误被责令辞职",
        "status": "approved",
        "approval": {"by": "中共江中市纪委", "on": "2024-03-01"},
        "published": "2024-03-05T10:00:00+08:00",
        "region": "江中市",
        "issuer": "中共江中市纪委",
        "topics": ["交通建设"],
        "regime": "2009-interim",
        "subject": {"name": "张某", "position": "江中市交通局局长", "organization": "江中市交通局", "level": "县处级"},
        "circumstances": ["决策严重失误"],
        "forms": ["责令辞职"],
        "initiated_by": "人大",
        "stages": [
            {"stage": "启动", "on": "2023-11-20", "by": "中共江中市纪委"},
            {"stage": "决定", "on": "2024-02-20", "by": "中共江中市委"},
            {"stage": "执行", "on": "2024-02-28", "by": "中共江中市委组织部"},
        ],
        "decision": {"by": "中共江中市委", "on": "2024-02-20", "doc_no": "江委〔2024〕15号"},
        "summary": "在未经集体决策的情况下擅自批准道路改造项目，造成财政资金损失。",
        "body": "经查，张某在担任江中市交通局局长期间……",
    }
    return _apply(record, changes)


def disclosure_record(record_id: str = "t-disc-1", **changes) -> dict:
    record = {
        "id": record_id,
        "title": "江中市人民政府关于2024年重点民生实事项目的公告",
        "status": "approved",
        "approval": {"by": "江中市人民政府办公室", "on": "2024-04-01"},
        "published": "2024-04-02",
        "region": "江中市",
        "issuer": "江中市人民政府办公室",
        "domain": "政务公开",
        "category": _first_category("政务公开"),
        "index_no": "JZ-2024-00012",
        "doc_no": "江政发〔2024〕3号",
        "summary": "公布2024年十项重点民生实事项目。",
        "body": "## 项目清单\n\n1. 老旧小区改造\n2. 公交线路优化\n",
    }
    return _apply(record, changes)


def report_record(record_id: str = "t-rep-1", **changes) -> dict:
    record = {
        "id": record_id,
        "title": "江中市交通局局长王某2023年度述职述廉报告",
        "status": "approved",
        "approval": {"by": "中共江中市纪委", "on": "2024-01-20"},
        "published": "2024-01-25",
        "region": "江中市",
        "issuer": "中共江中市纪委",
        "official": {"name": "王某", "position": "江中市交通局局长", "organization": "江中市交通局"},
        "year": 2023,
        "session": {"body": "市纪委全委会", "on": "2024-01-15"},
        "evaluation": {"method": "民主测评", "participants": 40, "score": 88.5, "grades": {"好": 30, "较好": 8, "一般": 2, "差": 0}},
    }
    return _apply(record, changes)


def _first_category(domain: str) -> str:
    entries = yaml.safe_load((SAMPLE_DATA / "vocab" / "categories.yaml").read_text(encoding="utf-8"))
    return next(e["id"] for e in entries if e["domain"] == domain)


def _apply(record: dict, changes: dict) -> dict:
    for key, value in changes.items():
        if value is None:
            record.pop(key, None)
        else:
            record[key] = value
    return record
