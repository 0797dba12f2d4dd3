"""The OpenSubtitles hash that Stash stores for every file (`oshash`), so a video is found even
when the library is mounted somewhere phar cannot map.

Computed exactly as Stash's `pkg/hash/oshash` does: the file size plus the 64-bit little-endian
word sums of the first and the last 64 KiB, modulo 2**64, as 16 lower-case hex digits. Its edge
cases kept: a file of 8 bytes or fewer has no hash; a file under 64 KiB sums its first and its
last (size // 8) * 8 bytes, which overlap.
"""
from __future__ import annotations

import os
import struct
from pathlib import Path

from phar_cli.errors import PharError

CHUNK = 64 * 1024
_MASK = (1 << 64) - 1


class OshashError(PharError):
    """A file whose oshash cannot be computed (unreadable, or too small)."""


def oshash(path: str | os.PathLike[str]) -> str:
    path = Path(path)
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size <= 8:
                raise OshashError(f"{path}: {size} bytes, too small for an oshash")
            chunk = min(CHUNK, size // 8 * 8)
            head = f.read(chunk)
            f.seek(size - chunk)
            tail = f.read(chunk)
    except OSError as ex:
        raise OshashError(f"{path}: cannot read ({ex.strerror or ex})") from ex
    if len(head) != chunk or len(tail) != chunk:
        raise OshashError(f"{path}: changed while it was read")
    total = size + _word_sum(head) + _word_sum(tail)
    return f"{total & _MASK:016x}"


def _word_sum(data: bytes) -> int:
    return sum(struct.unpack(f"<{len(data) // 8}Q", data))
