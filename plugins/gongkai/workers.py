"""Output work done in forked processes, on every core.

Rendering thousands of pages is CPU-bound Python; the workers are forked once
everything they read is in memory (records, facets, the compiled templates),
so nothing is pickled to them and the memory they only read stays shared.
Each worker writes its files through its own copy of ``site.output`` and
sends back what it wrote; the parent takes it over (``OutputTree.absorb``),
and may do other work of its own meanwhile. Two shapes:

- ``ForkedWork``: one job split into shares over a pool (record pages, open data);
- ``BackgroundSteps``: whole output steps in one process beside the parent's
  other steps (the search index, then the sitemap);
- ``made_in_order``: a sequence of results made by this process and forked
  workers at once, taken in order (the search analysis of a clean build).
"""

from __future__ import annotations

import functools
import gc
import multiprocessing
import multiprocessing.connection
import os
import pickle
import signal
import sys
import tempfile
import time
import traceback
from multiprocessing.reduction import recv_handle, send_handle
from typing import Any, Callable, Iterable, Iterator, Sequence

from .output import OutputTree, WrittenApart
from .site import Site

Share = Callable[[int, int], Any]
"""``work(share, shares)``: do the ``share``-th of ``shares`` parts of the work; may return what the
parent should take over besides the files (see ``ForkedWork``'s ``adopt``)."""

_job: tuple[Site, Share, int] | None = None
"""What the forked workers run (inherited, never pickled)."""


def _run_share(share: int) -> tuple[Any, WrittenApart]:
    assert _job is not None
    site, work, shares = _job
    return site.output.written_apart(lambda: work(share, shares))


def anonymous_file(name: str, folder: str | None = None) -> int:
    """A descriptor of a new file without a name, for bytes one process of the build hands another:
    freed when the last descriptor of it closes, so nothing is left behind, even by a killed build.

    In memory (``memfd_create``) where the system has it: a clean build's search analysis hands 72 MB
    of blocks over at 20,000 records, each read at once, and on ext4 writing a new file costs several
    times what the same bytes cost in memory (new page-cache pages, 2.4-3.5 ms a megabyte measured here
    against 0.4 in memory). Elsewhere an unlinked file in ``folder``.
    """
    if hasattr(os, "memfd_create"):
        return os.memfd_create(f"gongkai-{name}", os.MFD_CLOEXEC)
    descriptor, path = tempfile.mkstemp(prefix=f"gongkai-{name}-", dir=folder)
    os.unlink(path)
    return descriptor


def read_whole(descriptor: int) -> bytes:
    """Everything in the file ``descriptor`` is open on, from its start."""
    size = os.fstat(descriptor).st_size
    data = os.pread(descriptor, size, 0)
    if len(data) != size:
        raise OSError(f"read {len(data)} of {size} bytes handed over")
    return data


def made_in_order(make: Callable[[int], Any], count: int, output: OutputTree, workers: int | None = None,
                  scratch: str | None = None) -> Iterator[Any]:
    """``make(i)`` for each ``i`` in ``range(count)``, in order: this process and forked workers each
    claim the next index not yet claimed, make it, and claim again, until all are made.

    Claiming (rather than every ``workers``-th index each) keeps every core busy to the end whatever
    the share each gets: this process also takes in the workers' results and whatever the caller
    does with each, and its share of a clean build's search analysis took 30 % longer than the
    worker's, which then waited. A worker pickles each result into an ``anonymous_file`` and hands
    this process its descriptor with the index it made: 0.9 MB a block through a pipe stalled the
    worker whenever this process, busy making a block of its own, did not read it. (``scratch``:
    where such files go on a system without files in memory.) What a worker writes through its copy
    of ``output`` is taken over here with its result. One process (``workers`` 1 or fewer, or no
    fork) makes them all.
    """
    workers = workers or available_cores()
    if workers < 2 or count < 2 or "fork" not in multiprocessing.get_all_start_methods():
        yield from map(make, range(count))
        return
    context = multiprocessing.get_context("fork")
    claimed = context.Value("q", 0)  # the next index to claim (with its own lock)
    children: list[tuple[multiprocessing.process.BaseProcess | None, Any]] = []
    try:
        for _ in range(workers - 1):
            receiver, sender = context.Pipe(duplex=True)  # (a socket: descriptors pass through it)
            children.append((fork_child(_claim_and_make, make, count, output, claimed, scratch, sender), receiver))
            sender.close()
        made: dict[int, Any] = {}  # made ahead of their turn, here or by a worker
        listening = [receiver for _, receiver in children]
        for index in range(count):
            while index not in made:
                for ready in multiprocessing.connection.wait(listening, timeout=0):
                    _take_message(ready, listening, made, output)
                if index in made:
                    break
                mine = _claim(claimed, count)
                if mine is not None:
                    made[mine] = make(mine)
                elif listening:
                    for ready in multiprocessing.connection.wait(listening):  # a worker is making it
                        _take_message(ready, listening, made, output)
                else:
                    raise RuntimeError(f"no process made result {index} of {count}")
            yield made.pop(index)
    finally:
        for process, receiver in children:
            if process is not None:
                process.terminate()
                process.join()
            receiver.close()


def _claim(claimed: Any, count: int) -> int | None:
    """The next index no process has claimed yet (None when all are)."""
    with claimed.get_lock():
        index = claimed.value
        if index >= count:
            return None
        claimed.value = index + 1
        return index


def _claim_and_make(make: Callable[[int], Any], count: int, output: OutputTree, claimed: Any, scratch: str | None,
                    sender: Any) -> None:
    """A ``made_in_order`` worker: make what it claims, each result handed over in a file of its own,
    until all are claimed."""
    try:
        while (index := _claim(claimed, count)) is not None:
            result = output.written_apart(lambda: make(index))
            descriptor = anonymous_file("made", scratch)
            try:
                with open(descriptor, "wb", closefd=False) as file:
                    pickle.dump(result, file, protocol=pickle.HIGHEST_PROTOCOL)
                sender.send(("made", index))
                send_handle(sender, descriptor, os.getppid())
            finally:
                os.close(descriptor)
    except BaseException:
        sender.send(("failed", traceback.format_exc()))
        sys.exit(1)  # the parent raises with this traceback; not printed twice
    sender.send(("done", None))


def _take_message(receiver: Any, listening: list[Any], made: dict[int, Any], output: OutputTree) -> None:
    """Take one message of a ``made_in_order`` worker: a result it made (into ``made``), its end, or its error."""
    try:
        kind, detail = receiver.recv()
    except EOFError:
        kind, detail = "failed", "the process ended without a result"
    if kind == "made":
        descriptor = recv_handle(receiver)  # (sent right after the message)
        try:
            made[detail], written = pickle.loads(read_whole(descriptor))
        finally:
            os.close(descriptor)
        output.absorb(written)
        return
    listening.remove(receiver)
    if kind == "failed":
        raise RuntimeError(f"a worker making results in order failed:\n{detail}")


def freeze_for_fork() -> None:
    """Keep the garbage collector off every object a forked child inherits (touching one copies its
    memory page), and give the heap freed by the steps before back to the system (else it counts
    to this process's memory while the children run: 30 MB after the feeds at 20,000 records).

    What is frozen stays frozen: the objects alive at a fork are the build's (records, templates),
    which live as long as it does; the next ``load_catalog`` hands them back to the collector.
    """
    gc.freeze()
    return_free_memory()


HEAP_MMAP_THRESHOLD = 32 * 1024 * 1024
"""Blocks up to this size come from the heap, not from a mapping of their own (glibc's largest setting)."""
HEAP_TRIM_THRESHOLD = 1 << 30
"""Freed heap is kept for reuse up to this much, not given back after each free (``return_free_memory``
gives it back where it matters: before forking and after the search step's analysis)."""


def keep_freed_heap() -> None:
    """Let glibc reuse freed memory in place instead of unmapping it and faulting fresh pages in again.

    glibc maps a block of 128 KB or more on its own, and gives freed heap back as soon as the top of it
    is free; a clean build at 20,000 records reallocates its numpy arrays and lists again and again, and
    took 790,000-860,000 page faults (each a zeroed page, ≈2 µs here). Fixed thresholds (which also turn
    glibc's adaptive ones off) took that to 715,000-725,000 and the build's CPU down by 0.32 s (paired, on
    tmpfs), its peak memory unchanged: the heap is still given back before each fork (``freeze_for_fork``).
    (``PYTHONMALLOC=malloc``, glibc for Python's small objects too, took 1,080,000 faults and 3.7-4.0 s more.)"""
    libc = _glibc()
    if libc is not None:
        libc.mallopt(-3, HEAP_MMAP_THRESHOLD)  # M_MMAP_THRESHOLD
        libc.mallopt(-1, HEAP_TRIM_THRESHOLD)  # M_TRIM_THRESHOLD


def return_free_memory() -> None:
    """Give the heap freed so far back to the system (glibc keeps it for this process otherwise)."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)


@functools.cache
def _glibc() -> Any:
    """glibc's allocator calls (``mallopt``, ``malloc_trim``), loaded once; None where the C library is another."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


def available_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def share_count(shares_per_worker: int, workers: int | None = None) -> int:
    """How many shares ``ForkedWork`` splits a job into (1: it does it here, unforked)."""
    workers = workers or available_cores()
    if workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return workers * shares_per_worker


class ForkedWork:
    """``work`` running in forked workers (or, with one core, done at once here) until ``finish()``."""

    def __init__(
        self,
        site: Site,
        work: Share,
        workers: int | None = None,
        shares_per_worker: int = 4,
        adopt: Callable[[Any], None] | None = None,
    ):
        """``adopt`` is given what each forked share's ``work`` returned, in the shares' order (with one
        core, ``work`` runs here and has nothing to hand over)."""
        global _job
        self.site = site
        self._adopt = adopt
        workers = workers or available_cores()
        self._pool = None
        self._taking: Iterator[int] = iter(())
        shares = share_count(shares_per_worker, workers)  # small shares even out the workers' finishing times
        if shares < 2:
            work(0, 1)
            return
        _job = (site, work, shares)
        freeze_for_fork()
        try:
            self._pool = multiprocessing.get_context("fork").Pool(workers)  # forks them now
            self._results = self._pool.imap(_run_share, range(shares), chunksize=1)
            self._taking = self._take_over()
        finally:
            _job = None

    def _take_over(self) -> Iterator[int]:
        try:
            for share, (made, written) in enumerate(self._results):
                self.site.output.absorb(written)
                if self._adopt is not None:
                    self._adopt(made)
                yield share
        finally:
            self.cancel()

    def finished_shares(self) -> Iterator[int]:
        """Each share's number, in order, once it is done and taken over (its files, and its result
        given to ``adopt``): the caller may use a share while the later ones are still being done.
        Re-raises a worker's error; ``finish`` takes over whatever this has not given yet."""
        return self._taking

    def cancel(self) -> None:
        """Stop the workers (this process failed; what they wrote is thrown away with the build)."""
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None

    def finish(self) -> None:
        """Wait for the workers and take over the files they wrote (re-raises a worker's error)."""
        for _ in self._taking:
            pass


def die_with_parent(parent: int) -> None:
    """End this forked process if ``parent`` dies: a build killed part-way (``kill -9``) must not
    leave a child writing beside the next build."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG (Linux)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the build died before we could ask
        os._exit(1)


def _with_parent(parent: int, target: Callable[..., Any], *args: Any) -> None:
    die_with_parent(parent)
    target(*args)


def fork_child(target: Callable[..., Any], *args: Any) -> multiprocessing.process.BaseProcess | None:
    """Run ``target(*args)`` in a forked process that dies with this one (inline where fork is
    unavailable: then ``None``)."""
    if "fork" not in multiprocessing.get_all_start_methods():
        target(*args)
        return None
    process = multiprocessing.get_context("fork").Process(
        target=_with_parent, args=(os.getpid(), target, *args), name=f"gongkai-{getattr(target, '__name__', 'child')}")
    gc.collect()  # garbage freed now is not copied into the child
    freeze_for_fork()
    process.start()
    return process


class BackgroundSteps:
    """Output steps (``(name, step)``, each ``step(site)``) running in order in a forked process while
    this one goes on (inline with one core, or when not ``beside``).

    The child writes its files through its copy of ``site.output`` and sends
    back what it wrote, and what it entered in the build's report
    (``GONGKAI_REPORT``); ``finish()`` takes both over. The steps must not
    change anything else the parent reads: only their files come back.
    """

    def __init__(self, site: Site, steps: Sequence[tuple[str, Callable[[Site], Unfinished | None]]], beside: bool = True,
                 seconds: dict[str, float | None] | None = None):
        """``seconds``: where the steps run here enter their times as they go (``run_steps``)."""
        self.site = site
        self.seconds: dict[str, float | None] = {}
        """How long each step took (in the child: its own time, not the wait for it)."""
        self._process: multiprocessing.process.BaseProcess | None = None
        self.forked = beside and available_cores() > 1 and "fork" in multiprocessing.get_all_start_methods()
        """Whether the steps run in a child (else they have run already)."""
        if not self.forked:
            self.seconds = run_steps(site, steps, seconds)
            return
        self._results, sender = multiprocessing.get_context("fork").Pipe(duplex=False)
        self._process = fork_child(_background, site, steps, sender)
        sender.close()

    def cancel(self) -> None:
        """Stop the child (this process failed; what it wrote is thrown away with the build)."""
        if self._process is not None:
            self._process.terminate()
            self._process.join()
            self._process = None

    def finish(self) -> None:
        """Wait for the child and take over its files and report (re-raises its error)."""
        process = self._process
        if process is None:
            return
        self._process = None
        try:
            outcome = self._results.recv()  # before join: a child blocked on a full pipe never exits
        except EOFError:
            process.join()
            outcome = ("failed", f"the process ended without a result (exit code {process.exitcode})")
        finally:
            process.join()
            self._results.close()
        if outcome[0] == "failed":
            raise RuntimeError(f"an output step run beside the others failed:\n{outcome[1]}")
        _, written, report, self.seconds = outcome
        self.site.output.absorb(written)
        mine = self.site.settings.get("GONGKAI_REPORT")
        if isinstance(mine, dict):
            mine.update(report)


class Unfinished:
    """A child process a step leaves running (the whoosh writer), or workers (``cancel``: the open data's),
    and what the step does once it ended."""

    def __init__(self, process: multiprocessing.process.BaseProcess | None, then: Callable[[int | None], None],
                 cancel: Callable[[], None] | None = None):
        """``then(exit code)`` (None when there was no process) finishes the step; it may raise.
        ``cancel()`` stops what the step left running, if not a process."""
        self._process, self._then, self._cancel = process, then, cancel

    def finish(self) -> None:
        process, self._process, self._cancel = self._process, None, None
        if process is not None:
            process.join()
        self._then(process.exitcode if process is not None else None)

    def cancel(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.join()
            self._process = None
        cancel, self._cancel = self._cancel, None
        if cancel is not None:
            cancel()


def run_steps(site: Site, steps: Iterable[tuple[str, Callable[[Site], Unfinished | None]]],
              seconds: dict[str, float | None] | None = None) -> dict[str, float | None]:
    """Run each ``(name, step)`` in order; how long each took, entered in ``seconds`` as each ends
    (the build's report: the progress display reads it while the build runs, and a step entered
    as None is the one running).

    A step may return a child process it left running (``Unfinished``): the next step runs beside
    it, on the core this process would have left idle waiting for it, and it is finished as that
    step ends (the wait counts to its own step). The next step must not be one whose memory peaks
    (record pages, open data): the child's memory adds to it.
    """
    seconds = {} if seconds is None else seconds
    left: tuple[str, Unfinished] | None = None
    try:
        for name, step in steps:
            seconds[name] = None
            started = time.perf_counter()
            unfinished = step(site)
            seconds[name] = time.perf_counter() - started
            before, left = left, ((name, unfinished) if unfinished is not None else None)
            if before is not None:
                _finish(*before, seconds)
        if left is not None:
            _finish(*left, seconds)
    except BaseException:
        if left is not None:
            left[1].cancel()
        raise
    return seconds


def _finish(name: str, unfinished: Unfinished, seconds: dict[str, float | None]) -> None:
    started = time.perf_counter()
    unfinished.finish()
    seconds[name] = (seconds[name] or 0.0) + time.perf_counter() - started


def _background(site: Site, steps: Sequence[tuple[str, Callable[[Site], Unfinished | None]]], sender: Any) -> None:
    """The child's side of ``BackgroundSteps``."""
    report: dict[str, Any] = {}
    site.settings = {**site.settings, "GONGKAI_REPORT": report}
    try:
        seconds, written = site.output.written_apart(lambda: run_steps(site, steps))
    except BaseException:
        sender.send(("failed", traceback.format_exc()))
        sys.exit(1)  # the parent raises with this traceback; not printed twice
    sender.send(("done", written, report, seconds))
