"""Files the build keeps on disk are written whole, a ``PIECE`` at most per system call."""

from __future__ import annotations

import array
import io
import os
import pickle

import pytest

from gongkai import piecewise
from gongkai.piecewise import _ALIGN, DIRECT_BLOCK, DIRECT_FROM, PIECE, FileWriter, open_to_write, write_all

BIG = os.urandom(3 * PIECE + 12345)


def test_a_file_opened_to_write_holds_every_byte_written(tmp_path):
    numbers = array.array("i", range(100_000))  # a buffer whose items are not bytes
    path = tmp_path / "file"
    with open_to_write(path) as out:
        out.write(b"head")
        out.write(BIG)
        out.write(memoryview(numbers))
        pickle.dump([BIG, bytearray(BIG)], out, protocol=5)
        at = out.tell()
    with open_to_write(path, "ab") as out:
        out.write(BIG)
    data = path.read_bytes()
    assert at == len(data) - len(BIG)
    assert data[:4] == b"head" and data[4:4 + len(BIG)] == BIG and data[at:] == BIG
    rest = data[4 + len(BIG):at]
    assert rest[:len(numbers) * numbers.itemsize] == numbers.tobytes()
    assert pickle.loads(rest[len(numbers) * numbers.itemsize:]) == [BIG, bytearray(BIG)]


def test_each_write_takes_a_piece_at_most(tmp_path):
    with open_to_write(tmp_path / "file") as out:
        assert out.raw.write(BIG) == PIECE  # what the buffered writer then writes again from
        assert out.raw.write(b"small") == 5


def test_exclusive_opening_never_writes_over_a_file(tmp_path):
    path = tmp_path / "file"
    path.write_bytes(b"kept")
    with pytest.raises(FileExistsError):
        open_to_write(path, "xb")
    assert path.read_bytes() == b"kept"


def test_write_all_writes_everything_from_the_descriptors_position(tmp_path):
    path = tmp_path / "file"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT)
    try:
        os.write(descriptor, b"head")
        write_all(descriptor, BIG)
        write_all(descriptor, memoryview(BIG)[7:])
    finally:
        os.close(descriptor)
    assert path.read_bytes() == b"head" + BIG + BIG[7:]


def _mount_type(path) -> str:
    """The file system type of the mount holding ``path`` (from ``/proc/self/mounts``)."""
    path, best, kind = os.path.realpath(path), "", ""
    with open("/proc/self/mounts", encoding="utf-8") as mounts:
        for line in mounts:
            _, point, fs_type, *_ = line.split()
            if (path == point or path.startswith(point.rstrip("/") + "/")) and len(point) >= len(best):
                best, kind = point, fs_type
    return kind


def _takes_direct_writes(path) -> bool:
    """Whether the file system of ``path`` takes an aligned ``O_DIRECT`` write."""
    import mmap

    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    try:
        with mmap.mmap(-1, _ALIGN) as block:
            return piecewise._set_direct(descriptor, True) and os.write(descriptor, block) == _ALIGN
    except OSError:
        return False
    finally:
        os.close(descriptor)
        os.unlink(path)


def _resident_bytes(path) -> int:
    """How much of the file at ``path`` is in the page cache (``mincore`` over a mapping of it)."""
    import ctypes
    import mmap

    size = os.path.getsize(path)
    pages = -(-size // mmap.PAGESIZE)
    with open(path, "rb") as file, mmap.mmap(file.fileno(), size, access=mmap.ACCESS_COPY) as mapped:
        resident = (ctypes.c_ubyte * pages)()
        address = ctypes.c_void_p(ctypes.addressof(ctypes.c_char.from_buffer(mapped)))
        assert ctypes.CDLL(None, use_errno=True).mincore(address, ctypes.c_size_t(size), resident) == 0
        return sum(page & 1 for page in resident) * mmap.PAGESIZE


SIZES = [0, 1, 4095, 4096, DIRECT_FROM - 1, DIRECT_FROM, DIRECT_BLOCK - 1, DIRECT_BLOCK + 1, 3 * DIRECT_BLOCK + 4097]


@pytest.mark.parametrize("direct_taken", [True, False])
def test_a_file_writer_writes_every_byte_and_copied_range_in_order(tmp_path, monkeypatch, direct_taken):
    """Whatever the sizes (under, at and past the size where writing goes past the page cache, across
    block boundaries), and whether or not the file system takes direct writes."""
    if not direct_taken:
        monkeypatch.setattr(piecewise, "_set_direct", lambda descriptor, on: False)
    source = tmp_path / "source"
    source.write_bytes(BIG * 20)
    for size in SIZES:
        expected = bytearray(b"head")
        target = tmp_path / f"file-{size}"
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
        reader = os.open(source, os.O_RDONLY)
        try:
            writer = FileWriter(descriptor)
            writer.write(b"head")
            writer.copy(reader, 5, size)
            expected += (BIG * 20)[5:5 + size]
            writer.write(memoryview(BIG)[:size])
            expected += BIG[:size]
            writer.close()
        finally:
            os.close(descriptor)
            os.close(reader)
        assert target.read_bytes() == expected, size


def test_a_large_file_is_written_past_the_page_cache_and_a_small_one_through_it(tmp_path):
    """The build's large files (the open data, the feeds, the kept search corpus) take no page cache
    (but for their last partial block), where the file system takes direct writes; a file the build
    reads back, or one appended to, is cached whole."""
    if _mount_type(tmp_path) in ("tmpfs", "ramfs", ""):
        pytest.skip("a file system in memory has nothing but page cache")
    if not _takes_direct_writes(tmp_path / "probe"):
        pytest.skip("this file system refuses direct writes (the file is written through the page cache)")
    large, small, read_back, appended = (tmp_path / name for name in ("large", "small", "read back", "appended"))
    with open_to_write(large, read_back=False) as out:
        for _ in range(5):
            pickle.dump(BIG, out, protocol=5)
        at = out.tell()
    for path, mode, kept in ((small, "wb", False), (read_back, "wb", True), (appended, "ab", False)):
        with open_to_write(path, mode, read_back=kept) as out:
            out.write(BIG[:PIECE] if path == small else BIG * 5)
    assert _resident_bytes(large) <= 2 * _ALIGN, "only the last partial block went through the page cache"
    assert _resident_bytes(small) == PIECE
    assert _resident_bytes(read_back) == _resident_bytes(appended) == -(-len(BIG) * 5 // 4096) * 4096
    data = large.read_bytes()
    stream = io.BytesIO(data)
    assert at == len(data) and [pickle.load(stream) for _ in range(5)] == [BIG] * 5
    assert small.read_bytes() == BIG[:PIECE]
    assert read_back.read_bytes() == appended.read_bytes() == BIG * 5


def test_a_forked_process_writing_beside_this_one_never_shares_its_block(tmp_path):
    """A rebuild writes the search corpus in a forked process while this one writes the feeds: a block
    either got from the spare ones they both inherited is its own (an anonymous mapping shared across
    the fork mixed one file's bytes into the other's)."""
    first = tmp_path / "first"
    with open_to_write(first, read_back=False) as out:  # (leaves a spare block behind)
        out.write(BIG * 2)
    child_wrote, parent_wrote = os.pipe(), os.pipe()
    size = DIRECT_FROM + 12345
    pid = os.fork()
    if pid == 0:  # the child: half-fills a block, lets the parent fill its own, then writes its file
        try:
            with open_to_write(tmp_path / "child", read_back=False) as out:
                out.write(b"c" * size)
                os.write(child_wrote[1], b"1")
                os.read(parent_wrote[0], 1)
        finally:
            os._exit(0)
    os.read(child_wrote[0], 1)
    with open_to_write(tmp_path / "parent", read_back=False) as out:
        out.write(b"p" * size)
        os.write(parent_wrote[1], b"1")
    assert os.waitpid(pid, 0)[1] == 0
    assert (tmp_path / "child").read_bytes() == b"c" * size
    assert (tmp_path / "parent").read_bytes() == b"p" * size
