"""Files the build keeps on disk are written whole, a ``PIECE`` at most per system call."""

from __future__ import annotations

import array
import os
import pickle

import pytest

from gongkai.piecewise import PIECE, open_to_write, write_all

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
