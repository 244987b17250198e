"""Measuring one command as a whole process: wall time and peak memory.

Every number in the benchmark is a separate process, so what is measured is
what a clerk or CI waits for: interpreter start-up, imports, worker pools and
all. Two memory figures are taken, because neither alone is right for every
program:

- ``max_rss_kb``: GNU ``time``'s ``%M``, the kernel's exact peak resident set
  of the *largest single process* in the tree (Hugo and plain Pelican are one
  process, so this is their peak);
- ``tree_kb``: the sum over the whole process tree (our build runs worker
  processes), sampled from ``/proc`` every ``SAMPLE_EVERY`` seconds; when the
  tree has several processes it sums PSS (shared copy-on-write pages counted
  once), otherwise RSS. A spike shorter than the interval can be missed.
  Reading PSS is not free: the kernel walks the process's page tables
  (``smaps_rollup``: 33 ms of CPU for a 900 MB process on the benchmark
  machine), so sampling a build's three processes four times a second takes
  a quarter of a core from it. A run measured with ``sample_tree=False``
  (timed runs) reads no PSS and has only ``max_rss_kb``.

``peak_kb`` is the larger of the two. GNU ``time`` also gives the CPU time
(user + system) of the whole tree, which a busy shared machine disturbs much
less than the wall time.
"""

from __future__ import annotations

import itertools
import os
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from .datasets import CACHE

GNU_TIME = "/usr/bin/time"
SAMPLE_EVERY = 0.25
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


class CommandFailed(RuntimeError):
    """A measured command exited non-zero: the benchmark stops rather than report a broken build."""


@dataclass
class Sample:
    wall_s: float
    max_rss_kb: int
    tree_kb: int
    cpu_s: float | None = None
    """User + system CPU seconds of the whole tree (GNU time): steadier than wall time on a busy machine."""

    @property
    def peak_kb(self) -> int:
        return max(self.max_rss_kb, self.tree_kb)


@dataclass
class Series:
    """Several runs of one measurement."""

    samples: list[Sample] = field(default_factory=list)
    """The timed runs."""
    memory_samples: list[Sample] = field(default_factory=list)
    """Runs made only for their peak memory (the process tree sampled: see ``measure``)."""

    @property
    def runs(self) -> int:
        return len(self.samples)

    @property
    def median_s(self) -> float:
        return statistics.median(s.wall_s for s in self.samples)

    @property
    def min_s(self) -> float:
        return min(s.wall_s for s in self.samples)

    @property
    def max_s(self) -> float:
        return max(s.wall_s for s in self.samples)

    @property
    def median_cpu_s(self) -> float | None:
        values = [s.cpu_s for s in self.samples if s.cpu_s is not None]
        return statistics.median(values) if values else None

    @property
    def peak_mb(self) -> float:
        return max(s.peak_kb for s in [*self.samples, *self.memory_samples]) / 1024

    def as_dict(self, records: int) -> dict:
        return {
            "runs": self.runs,
            "median_s": round(self.median_s, 3),
            "min_s": round(self.min_s, 3),
            "max_s": round(self.max_s, 3),
            "ms_per_record": round(self.median_s * 1000 / records, 3),
            "median_cpu_s": round(self.median_cpu_s, 3) if self.median_cpu_s is not None else None,
            "peak_mb": round(self.peak_mb, 1),
            "samples": [_sample_dict(s) for s in self.samples],
            "memory_samples": [_sample_dict(s) for s in self.memory_samples],
        }


def _sample_dict(sample: Sample) -> dict:
    return {"wall_s": round(sample.wall_s, 3), "cpu_s": sample.cpu_s, "max_rss_kb": sample.max_rss_kb, "tree_kb": sample.tree_kb}


def gnu_time_available() -> bool:
    return Path(GNU_TIME).is_file() and os.access(GNU_TIME, os.X_OK)


# --- the process tree, from /proc ----------------------------------------------------


def _parents() -> dict[int, int]:
    parents = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
    return parents


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for pid, parent in _parents().items():
        children.setdefault(parent, []).append(pid)
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += children.get(pid, [])
    return found


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", "rb") as statm:
            return int(statm.read().split()[1]) * PAGE_KB
    except (OSError, IndexError, ValueError):
        return 0


def _pss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as rollup:
            for line in rollup:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return _rss_kb(pid)


class TreeSampler(threading.Thread):
    """Samples the memory of a process and its descendants until stopped."""

    def __init__(self, root: int):
        super().__init__(daemon=True)
        self.root = root
        self.peak_kb = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            pids = _descendants(self.root)
            size = _pss_kb if len(pids) > 2 else _rss_kb  # GNU time + one program: RSS is exact enough
            self.peak_kb = max(self.peak_kb, sum(size(pid) for pid in pids))
            self._stop_event.wait(SAMPLE_EVERY)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


# --- one measured run ---------------------------------------------------------------


def measure(command: list[str], *, cwd: Path, env: dict[str, str] | None = None, timeout: float = 3600,
            sample_tree: bool = True) -> Sample:
    """Run ``command`` once; its wall time and peak memory (the process tree's sampled too with
    ``sample_tree``, which slows a many-process command down). Raises ``CommandFailed`` on a non-zero exit."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        wrapped = [GNU_TIME, "-f", "%M %U %S", "-o", report.name, *command] if gnu_time_available() else command
        started = time.perf_counter()
        process = subprocess.Popen(
            wrapped, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        sampler = TreeSampler(process.pid) if sample_tree else None
        if sampler is not None:
            sampler.start()
        try:
            out, err = process.communicate(timeout=timeout)
        finally:
            wall = time.perf_counter() - started
            if sampler is not None:
                sampler.stop()
        if process.returncode != 0:
            tail = "\n".join((out + err).strip().splitlines()[-25:])
            raise CommandFailed(f"{' '.join(command)} exited {process.returncode} in {cwd}:\n{tail}")
        max_rss, cpu = 0, None
        lines = [line for line in Path(report.name).read_text().splitlines() if line.strip()]
        fields = lines[-1].split() if lines else []
        if len(fields) == 3:  # "%M %U %S"; anything else is a message from time itself
            max_rss, cpu = int(fields[0]), round(float(fields[1]) + float(fields[2]), 2)
    return Sample(wall, max_rss, sampler.peak_kb if sampler is not None else 0, cpu)


RECENT_S = 370.0
"""How long ext4 skips a freed inode when it allocates one (``recently_deleted``): 60 s once its inode
table block is written back, 360 s while that block is dirty, and creating files next to it dirties it
again. The check is made only on an ext4 without a journal (``find_inode_bit``), as this machine's is."""

MIN_FREE_BYTES = 10 * 1024**3
"""Below this much free disk, the trash is emptied before the next measurement (which then waits)."""

TRASH_PREFIX = ".trash-"
_trash: list[Path] = []
_moved = itertools.count()
_last_deleted = 0.0
"""When this process last deleted a tree (``time.time()``; 0: never)."""
DELETION_MARK = CACHE / "last-deletion"
"""When a benchmark last deleted a tree, for the runs after it: a run emptied its trash at its end (gigabytes
freed), and the next run, started within minutes, timed its first rounds on the file system's penalty
(twentieth session: clean builds of 21-22 s and 39-41 CPU s, against 13-14 s and 23-26 s in the run before)."""


def set_aside(path: Path) -> None:
    """Take ``path`` out of the way by moving it aside; ``empty_trash`` deletes it at the end.

    On this machine's ext4 (no journal), creating files within minutes of deleting many is many
    times slower: inode allocation skips every inode freed in the last 60-360 s (``RECENT_S``), and
    a folder costs 100-250 us instead of 26 (eleventh session: ``mkdir`` 108 us 75 s after deleting
    2 GB of trees and writing them back, 41-61 us after two to four minutes, 26 us after six). So a
    clean build timed after the previous run's output was deleted, ours or Hugo's, was timed partly
    on the file system's penalty, per file and folder made: ours makes 97,000, Hugo 46,000. A moved
    folder frees no inode, so nothing is measured on that penalty. What the moved trees still hold
    unwritten is written back before each measurement (``settle``'s ``sync``), not during it.
    """
    if not path.is_dir():
        return
    aside = path.with_name(f"{TRASH_PREFIX}{next(_moved)}-{path.name}")
    path.rename(aside)
    _trash.append(aside)
    if shutil.disk_usage(aside).free < MIN_FREE_BYTES:
        empty_trash()


def remove_now(path: Path) -> None:
    """Delete ``path`` at once; the next ``settle`` then waits ``RECENT_S``."""
    global _last_deleted
    if path.is_dir():
        shutil.rmtree(path)
        _last_deleted = time.time()
        DELETION_MARK.parent.mkdir(parents=True, exist_ok=True)
        DELETION_MARK.write_text(f"{_last_deleted}\n", encoding="utf-8")


def empty_trash() -> None:
    """Delete what ``set_aside`` moved aside (at the end of a run, or when the disk fills)."""
    while _trash:
        remove_now(_trash.pop())


def settle() -> None:
    """Write back what earlier runs wrote (``sync``), and wait out the file system's penalty when
    folders were really deleted (``RECENT_S``; only after ``empty_trash`` or ``remove_now``).

    Writing back first: this disk writes back at 35-70 MB/s, and a run that shared it with the
    previous runs' 1.5 GB trees was slowed down (in the ninth session one Hugo run took 63 s
    against 14-20 s).
    """
    os.sync()
    deleted = max(_last_deleted, _deleted_by_an_earlier_run())
    wait = deleted + RECENT_S - time.time()
    if deleted and wait > 0:
        time.sleep(wait)


def _deleted_by_an_earlier_run() -> float:
    try:
        return float(DELETION_MARK.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return 0.0


def warm(folder: Path) -> None:
    """Read every file under ``folder``, so the measurement after it starts with its input in the page cache.

    This machine gives memory back to its host (``kdamond``, DAMON reclaim) by evicting page cache that
    has gone unread for a while: a data set left alone for hours took 42 s instead of 11 s to load (38 s
    of it waiting for the disk), and within a benchmark run the cached anchor sites lose a few per cent
    of their pages a minute. Our build reads a fresh working copy, Hugo and Pelican a cached site, so
    without this the anchors were timed partly on the disk. On CI the input is a fresh checkout, in
    the cache; so both are measured that way.
    """
    for path in folder.rglob("*"):
        if path.is_file():
            with path.open("rb") as file:
                while file.read(1 << 20):
                    pass


def fresh_dir(path: Path) -> Path:
    """An empty folder at ``path`` (what was there moved aside first: see ``set_aside``)."""
    set_aside(path)
    path.mkdir(parents=True)
    return path
