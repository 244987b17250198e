"""`invoke serve`: a clerk saves a record and sees its page change; a broken save keeps the last good site;
a missing address gets the site's 404 page."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from conftest import ROOT, case_record, new_data_dir, write_record

OLD_TITLE = "江中市交通局原局长张某因决策严重失误被责令辞职"
NEW_TITLE = "江中市交通局原局长张某被责令辞职（标题已修改）"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def fetch(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.read().decode("utf-8")
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return ""


def wait_for(condition, seconds: float, what: str, log) -> float:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if condition():
            return time.monotonic() - started
        time.sleep(0.2)
    raise AssertionError(f"{what} not seen within {seconds} s; serve printed:\n{log.read_text(encoding='utf-8')}")


def test_serve_rebuilds_on_change_and_survives_a_broken_record(tmp_path):
    data = new_data_dir(tmp_path / "data")
    record = write_record(data, "case", case_record("t-serve-1"))
    port, log = free_port(), tmp_path / "serve.log"
    page = f"http://127.0.0.1:{port}/cases/t-serve-1/"
    with open(log, "w", encoding="utf-8") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "invoke", "-r", str(ROOT), "serve",
             "--data", str(data), "--output", str(tmp_path / "output"), "--port", str(port)],
            cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        wait_for(lambda: OLD_TITLE in fetch(page), 60, "the record page", log)
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/cases/no-such-case/", timeout=5)
        assert missing.value.code == 404 and "页面不存在" in missing.value.read().decode("utf-8")

        write_record(data, "case", case_record("t-serve-1", title=NEW_TITLE))
        seconds = wait_for(lambda: NEW_TITLE in fetch(page), 30, "the edited title", log)
        assert seconds < 20

        # A save that breaks the record: its problem is printed, the last good page stays.
        record.write_text(record.read_text(encoding="utf-8") + "summery: 拼错\n", encoding="utf-8")
        wait_for(lambda: "生成失败" in log.read_text(encoding="utf-8"), 30, "the failed rebuild", log)
        printed = log.read_text(encoding="utf-8")
        assert "t-serve-1.yaml:" in printed and "未定义的字段「summery」" in printed
        assert NEW_TITLE in fetch(page)

        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
        assert "已停止" in log.read_text(encoding="utf-8")
        assert fetch(page) == ""  # the port is closed
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
