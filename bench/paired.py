"""``python -m bench.paired BEFORE AFTER``: two commits' clean builds, alternating, compared round by round.

On this machine the same clean build's time varies by a fifth between two runs a minute apart
(``docs/performance.md``), far more than most changes save, and the benchmark's ratio to Hugo moves
with it. What does show a change is pairs: each round builds the same records from clean with both
commits, one right after the other (the order alternating from round to round), and the change is
the median of the rounds' differences (after − before), not the difference of two medians.

Each build is a whole ``invoke build`` process of a snapshot of its commit (``run.source_tree``),
into an empty output folder with an empty build cache, on the benchmark's synthetic records. The
folders go on ``--folder`` (default ``/dev/shm`` where it exists): on tmpfs, nothing is measured on
the file system's state after the previous round's deletions (``measure.set_aside``). With ``--disk``
they go on the disk as the benchmark's do, where writing costs what a deployment pays (the twenty-fourth
session found ext4's large page-cache folios costing a clean build seconds of system CPU that tmpfs
never showed): each build's folder is then moved aside, not deleted, after what earlier builds wrote
has been written back (``measure.settle``), and the moved folders are deleted at the end.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from . import run
from .datasets import dataset
from .measure import Sample, empty_trash, fresh_dir, measure, set_aside, settle


@dataclass
class Round:
    """One round: the two builds' samples, and which ran first."""

    before: Sample
    after: Sample
    after_first: bool

    @property
    def wall_difference(self) -> float:
        return self.after.wall_s - self.before.wall_s

    @property
    def cpu_difference(self) -> float | None:
        if self.after.cpu_s is None or self.before.cpu_s is None:
            return None
        return self.after.cpu_s - self.before.cpu_s


def summary(rounds: list[Round]) -> dict[str, float | int | None]:
    """Medians of each side and of the paired differences, and in how many rounds ``after`` was faster."""
    cpu = [r.cpu_difference for r in rounds if r.cpu_difference is not None]
    return {
        "before_wall_s": statistics.median(r.before.wall_s for r in rounds),
        "after_wall_s": statistics.median(r.after.wall_s for r in rounds),
        "wall_difference_s": statistics.median(r.wall_difference for r in rounds),
        "cpu_difference_s": statistics.median(cpu) if cpu else None,
        "after_faster": sum(r.wall_difference < 0 for r in rounds),
        "rounds": len(rounds),
    }


def build_once(tree: Path, data: Path, folder: Path, aside: bool = False) -> Sample:
    """A clean ``invoke build`` of ``data`` with the code in ``tree``, in ``folder`` (removed after, or
    with ``aside`` moved aside once earlier builds' writes are written back: see the module's docstring)."""
    if aside:
        fresh_dir(folder)
        settle()
    else:
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
    try:
        command = run._invoke("build", "--data", str(data), "--output", str(folder / "output"))
        return measure(command, cwd=tree, env=run._env(folder / "cache"), sample_tree=False)
    finally:
        if aside:
            set_aside(folder)
        else:
            shutil.rmtree(folder, ignore_errors=True)


def compare(before: Path, after: Path, data: Path, rounds: int, folder: Path, aside: bool = False) -> list[Round]:
    """``rounds`` rounds of one clean build with each tree, ``after`` first in every other round."""
    made = []
    try:
        for number in range(rounds):
            after_first = number % 2 == 1
            first = build_once(after if after_first else before, data, folder / "build", aside)
            second = build_once(before if after_first else after, data, folder / "build", aside)
            made.append(Round(second, first, True) if after_first else Round(first, second, False))
    finally:
        empty_trash()
    return made


def table(rounds: list[Round], before: str, after: str) -> Table:
    result = Table(title=f"clean builds, {before} → {after}")
    for header in ("round", "first", f"{before} s", f"{after} s", "Δ wall s", f"{before} CPU s", f"{after} CPU s", "Δ CPU s"):
        result.add_column(header, justify="right")
    for number, r in enumerate(rounds, 1):
        cpu = r.cpu_difference
        result.add_row(str(number), after if r.after_first else before, f"{r.before.wall_s:.2f}", f"{r.after.wall_s:.2f}",
                       f"{r.wall_difference:+.2f}", str(r.before.cpu_s or ""), str(r.after.cpu_s or ""),
                       "" if cpu is None else f"{cpu:+.2f}")
    return result


def default_folder() -> Path:
    shm = Path("/dev/shm")
    return shm / "gongkai-paired" if shm.is_dir() else run.CACHE / "paired"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.paired", description=__doc__.splitlines()[0])
    parser.add_argument("before", help="the commit to compare against (e.g. main~3)")
    parser.add_argument("after", nargs="?", default="HEAD", help="the commit measured (default HEAD)")
    parser.add_argument("--size", type=int, default=20000, help="synthetic records (default 20000)")
    parser.add_argument("--rounds", type=int, default=6, help="rounds, each one build per commit (default 6)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--folder", type=Path, default=None, help="where the builds go (default /dev/shm)")
    parser.add_argument("--disk", action="store_true", help="build on the disk, as the benchmark does (in .cache/paired "
                        "unless --folder says where), each build's folder moved aside")
    args = parser.parse_args(argv)
    trees = run.source_trees([args.before, args.after])
    data = dataset(args.size, args.seed)
    folder = args.folder or (run.CACHE / "paired" if args.disk else default_folder())
    rounds = compare(trees[0], trees[1], data.path, args.rounds, folder, args.disk)
    console = Console(highlight=False)
    console.print(table(rounds, args.before, args.after))
    found = summary(rounds)
    cpu = found["cpu_difference_s"]
    console.print(
        f"{args.size:,} records, {found['rounds']} rounds: median {found['before_wall_s']:.2f} s → {found['after_wall_s']:.2f} s; "
        f"median paired difference {found['wall_difference_s']:+.2f} s of wall time"
        + ("" if cpu is None else f", {cpu:+.2f} s of CPU")
        + f"; {args.after} faster in {found['after_faster']} of {found['rounds']} rounds"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
