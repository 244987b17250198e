"""``invoke build``: validate, build into a staging folder, then swap it in.

A build that fails or is killed part-way never touches the previous output:
everything is written to ``.<output>.building`` beside it, and only a complete
build is moved into place (two renames). The tree it replaces is kept beside
it as the spare, which the next build recycles as its staging folder (see
``output.py``): a rebuild then only touches the files that changed.
"""

from __future__ import annotations

import importlib
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .catalog import Catalog, load_catalog
from .output import recycle_spare, spare_path, swap_in
from .progress import files_under
from .workers import keep_freed_heap

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class BuildResult:
    output: Path
    catalog: Catalog
    report: dict[str, Any]
    """What the records generator reports of its run (counts, step timings), for summaries."""


def staging_path(output: Path) -> Path:
    return output.parent / f".{output.name}.building"


def scratch_path(output: Path) -> Path:
    """Where a build keeps temporary files (the fragment stores of a build without a cache folder):
    beside the output, removed when the build ends, and by the next build if this one was killed."""
    return output.parent / f".{output.name}.scratch"


def beside_output(output: Path) -> list[Path]:
    """Every folder a build keeps or leaves beside ``output``: its staging, spare and scratch trees, and
    the whoosh index with its staging (``search/folders.py``). A later build reuses what it finds there,
    so a clean build is one with none of them."""
    from .search.folders import whoosh_dir, whoosh_staging  # (folders imports this module)

    whoosh = whoosh_dir(output)
    return [staging_path(output), spare_path(output), scratch_path(output), whoosh, whoosh_staging(whoosh)]


def _swap_in(staging: Path, output: Path) -> None:
    retired = spare_path(output)  # (the same name for the whoosh index's retired copy)
    if retired.exists():
        shutil.rmtree(retired)
    if output.exists():
        os.rename(output, retired)
    os.rename(staging, output)
    if retired.exists():
        shutil.rmtree(retired)


def pelican_settings(settings_file: Path, overrides: dict[str, Any]) -> dict[str, Any]:
    from pelican.settings import read_settings

    return read_settings(str(settings_file), override=dict(overrides))


def build_site(
    data_dir: Path,
    output: Path,
    *,
    publish: bool = False,
    overrides: dict[str, Any] | None = None,
    catalog: Catalog | None = None,
    cache_dir: Path | None = None,
) -> BuildResult:
    """Build the site of ``data_dir`` into ``output``; raises ``ProblemsFound`` before writing anything."""
    data_dir, output = Path(data_dir).resolve(), Path(output).resolve()
    keep_freed_heap()  # (before the load: its workers are forked with it)
    # Pelican is imported (0.05-0.1 s) while the load's workers parse, not before they start, with a core idle.
    catalog = catalog or load_catalog(data_dir, cache_dir=cache_dir, meanwhile=lambda: importlib.import_module("pelican"))
    from pelican import Pelican
    staging = staging_path(output)
    if staging.exists():  # left by a killed build: half-updated, never to be trusted
        shutil.rmtree(staging)
    scratch = scratch_path(output)
    shutil.rmtree(scratch, ignore_errors=True)  # left by a killed build
    scratch.mkdir(parents=True)
    settings_file = ROOT / ("publishconf.py" if publish else "pelicanconf.py")
    settings = pelican_settings(settings_file, {
        "OUTPUT_PATH": str(staging),
        "DELETE_OUTPUT_DIRECTORY": False,
        "GONGKAI_DATA_PATH": str(data_dir),
        "GONGKAI_CATALOG": catalog,
        "GONGKAI_PREVIOUS_OUTPUT": str(output) if output.is_dir() else None,
        "GONGKAI_CACHE_PATH": str(cache_dir) if cache_dir else None,
        "GONGKAI_SCRATCH_PATH": str(scratch),
        **(overrides or {}),
    })
    report: dict[str, Any] = settings.setdefault("GONGKAI_REPORT", {})
    report["recycled"] = recycle_spare(output, staging, [settings["THEME_STATIC_DIR"]])
    logging.getLogger("pelican").setLevel(logging.WARNING)
    from .search.folders import discard_staged_whoosh, swap_in_whoosh

    try:
        Pelican(settings).run()
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        discard_staged_whoosh(output)
        raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    # The theme's static files, copied by Pelican after the records generator counted its own.
    report["files"] = report.get("files", 0) + len(files_under(staging / settings["THEME_STATIC_DIR"]))
    swap_in(staging, output)
    swap_in_whoosh(output)  # the terminal's search index, only now that the site it indexes is in place
    return BuildResult(output, catalog, report)
