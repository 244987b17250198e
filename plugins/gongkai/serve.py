"""``invoke serve``: the site on 127.0.0.1, rebuilt whenever a clerk saves a file.

A clerk edits a record and wants to see its page before committing. This
builds once, serves the output folder, and watches the data folder,
``content/``, ``theme/``, ``plugins/`` and the settings files (``*.py`` at the
top of the project). Each rebuild is ``invoke build`` in a fresh process, so a
change to the plugin's own code or to ``pelicanconf.py`` takes effect too, and
a build that fails (an invalid record) prints its problems and leaves the
previous output in place (``build.py`` swaps a finished build in, or nothing),
so the browser keeps showing the last good site.
"""

from __future__ import annotations

import functools
import http
import http.server
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import watchfiles

from .build import ROOT

WATCHED_FOLDERS = ("content", "theme", "plugins")
"""Project folders whose changes change the site (besides the data folder and ``ROOT/*.py``)."""


NOT_FOUND_PAGE = "404.html"


class SiteHandler(http.server.SimpleHTTPRequestHandler):
    """Static files, never cached (a reload shows the latest build), and the site's 404 page for a missing one.

    As GitHub and GitLab Pages do, a missing address gets the ``404.html`` of the site it is in:
    the nearest one in the requested folder or above it, so a site served under a sub-path gets its own.
    """

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        page = self._not_found_page() if code == http.HTTPStatus.NOT_FOUND else None
        if page is None:
            super().send_error(code, message, explain)
            return
        body = page.read_bytes()
        self.send_response(code, message)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _not_found_page(self) -> Path | None:
        root = Path(self.directory)
        folder = Path(self.translate_path(self.path)).parent  # translate_path builds on ``self.directory``
        inside = [candidate for candidate in (folder, *folder.parents) if candidate.is_relative_to(root)]
        return next((page for page in (candidate / NOT_FOUND_PAGE for candidate in inside) if page.is_file()), None)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
        pass


def build_command(data: Path, output: Path) -> list[str]:
    """The same ``invoke build`` a clerk would type, for this data and output."""
    return [sys.executable, "-m", "invoke", "-r", str(ROOT), "build", "--data", str(data), "--output", str(output)]


def rebuild(data: Path, output: Path) -> bool:
    """Build in a fresh process; its problems go to this terminal. True when it succeeded."""
    started = time.monotonic()
    result = subprocess.run(build_command(data, output), stdout=subprocess.DEVNULL)
    seconds = time.monotonic() - started
    if result.returncode == 0:
        print(f"[{time.strftime('%H:%M:%S')}] 已重新生成（{seconds:.1f} 秒）", flush=True)
        return True
    print(f"[{time.strftime('%H:%M:%S')}] 生成失败：请按上面的提示修改；浏览器中仍是上一次成功生成的网站。", flush=True)
    return False


def _settings_files() -> dict[Path, int]:
    """The top-level ``*.py`` (settings, tasks) and when each last changed."""
    return {path: path.stat().st_mtime_ns for path in sorted(ROOT.glob("*.py"))}


def watched_paths(data: Path) -> list[Path]:
    return [path for path in [data, *(ROOT / name for name in WATCHED_FOLDERS)] if path.is_dir()]


def serve(data: Path, output: Path, port: int = 8000, host: str = "127.0.0.1") -> None:
    """Build, serve ``output`` on ``host:port`` and rebuild on every change until interrupted."""
    data, output = Path(data).resolve(), Path(output).resolve()
    handler = functools.partial(SiteHandler, directory=str(output))
    try:
        server = http.server.ThreadingHTTPServer((host, port), handler)
    except OSError as error:
        print(f"无法在 {host}:{port} 上提供服务：{error.strerror}（可用 --port 换一个端口）", file=sys.stderr)
        sys.exit(2)
    server.daemon_threads = True
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    rebuild(data, output)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"正在提供 http://{host}:{port}/ ——修改 {data}、content/、theme/、plugins/ 或设置文件后自动重新生成；按 Ctrl+C 停止。", flush=True)
    settings = _settings_files()
    try:
        for changes in watchfiles.watch(
            *watched_paths(data), stop_event=stop, rust_timeout=1000, yield_on_timeout=True, debounce=400,
        ):
            current = _settings_files()
            if changes or current != settings:
                settings = current
                rebuild(data, output)
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
        server.server_close()
        print("已停止。", flush=True)
