"""The oshash phar computes is the one Stash stores: Stash's own published test vectors, and an
independent computation (plain integer arithmetic, no struct) over files of awkward sizes."""
from __future__ import annotations

import random

import pytest

from phar_cli.synthetic.video import Scene, make_video
from phar_cli.stash.oshash import OshashError, oshash


def reference(data: bytes) -> str:
    """The OpenSubtitles hash written out the long way: size + 64-bit sums of head and tail."""
    chunk = min(65536, len(data) - len(data) % 8)
    total = len(data)
    for part in (data[:chunk], data[len(data) - chunk:]):
        for i in range(0, chunk, 8):
            total += int.from_bytes(part[i:i + 8], "little")
    return format(total % 2**64, "016x")


# Stash's pkg/hash/oshash/oshash_test.go: (data, hash)
def _tail(text: bytes) -> bytes:
    return bytes(65536) + bytes(65536 - len(text)) + text


STASH_VECTORS = [
    (b"this is a test" * 2**15, "6a0eba04654d0b9b"),
    (b"hello world", "d3e392dee38cd4df"),
    (_tail(b"this is dumb"), "d5d6ddd820756920"),
    (_tail(b"dumb is this"), "d5d6ddd820756920"),
]


@pytest.mark.parametrize("data,expected", STASH_VECTORS, ids=["regular", "under-64k", "tail-1", "tail-2"])
def test_matches_stash_published_vectors(tmp_path, data, expected):
    path = tmp_path / "v.bin"
    path.write_bytes(data)
    assert oshash(path) == expected
    assert reference(data) == expected


@pytest.mark.parametrize("size", [9, 15, 16, 100, 65535, 65536, 65537, 131071, 131072, 200_003])
def test_matches_an_independent_computation_at_awkward_sizes(tmp_path, size):
    data = random.Random(size).randbytes(size)
    path = tmp_path / "v.bin"
    path.write_bytes(data)
    assert oshash(path) == reference(data)


def test_a_synthetic_video(tmp_path):
    video = make_video(tmp_path / "clip.mp4", size=(64, 48), fps=10,
                       segments=[Scene(1, "red", "circle", None)])
    assert oshash(video) == reference(video.read_bytes())


@pytest.mark.parametrize("size", [0, 5, 8])
def test_files_of_eight_bytes_or_fewer_have_no_hash(tmp_path, size):
    path = tmp_path / "tiny.bin"
    path.write_bytes(b"x" * size)
    with pytest.raises(OshashError, match="too small for an oshash"):
        oshash(path)


def test_a_missing_file_is_a_one_line_error(tmp_path):
    with pytest.raises(OshashError, match="missing.mp4: cannot read"):
        oshash(tmp_path / "missing.mp4")
