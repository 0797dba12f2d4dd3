"""Atomic file writes: a reader (or a crash) sees the old file or the whole new one, never half.

Data goes to a hidden temp file in the destination's folder (same filesystem, so the rename is
atomic), is fsync'ed, then `os.replace`d over the destination. On any error the temp file is
removed and the destination is untouched.
"""
from __future__ import annotations

import contextlib
import os
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from phar_cli.errors import PharError


@contextlib.contextmanager
def atomic_open(path: str | Path) -> Iterator[BinaryIO]:
    """Yield a binary file whose content replaces `path` when the block ends without error.

    Errors raised inside the block propagate unchanged; OS errors of the write itself (missing
    folder, no permission, disk full) become PharError naming the path.
    """
    path = Path(path)
    tmp, f = _create_temp(path)
    try:
        try:
            yield f
            f.flush()
            os.fsync(f.fileno())
        finally:
            f.close()
        os.replace(tmp, path)
    except BaseException as ex:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(ex, OSError):
            raise PharError(f"{path}: cannot write ({ex.strerror or ex})") from ex
        raise
    fsync_dir(path.parent)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    with atomic_open(path) as f:
        f.write(data)


# `_create_temp`'s names: ".<name>.<8 hex digits>.tmp"
_TEMP_NAME = re.compile(r"^\..+\.[0-9a-f]{8}\.tmp$")


def is_temp_name(name: str) -> bool:
    """Whether a file name is one of our temp files (a killed writer can leave one behind)."""
    return bool(_TEMP_NAME.match(name))


def _create_temp(path: Path) -> tuple[Path, BinaryIO]:
    # os.open with 0o666 lets the umask decide the mode, like a plain open() would (mkstemp
    # would leave every output file 0600).
    for _ in range(100):
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        except OSError as ex:
            raise PharError(f"{path}: cannot write ({ex.strerror or ex})") from ex
        return tmp, os.fdopen(fd, "wb")
    raise PharError(f"{path}: cannot write (no free temporary name)")


def fsync_dir(folder: Path) -> None:
    """Make the rename itself durable where the platform allows it (not on Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside `path` for a tool (ffmpeg) to write; renamed over `path`
    when the block ends without error, removed otherwise (the destination is then untouched)."""
    path = Path(path)
    tmp, f = _create_temp(path)
    f.close()
    try:
        yield tmp
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException as ex:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(ex, OSError):
            raise PharError(f"{path}: cannot write ({ex.strerror or ex})") from ex
        raise
    fsync_dir(path.parent)
