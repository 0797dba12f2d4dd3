"""`sha256.lock`: the checksum of every model file `phar models fetch` downloaded, pinned.

The prototype published no checksums for its three files and OpenMMLab publishes only the first
8 hex digits of its files' sha256, so a fetched file is pinned on first use: its full sha256 is
written to `sha256.lock` in the folder it was fetched to (`$PHAR_HOME/models`), and `phar models
verify` and every later load of that file compare it with the pin. A file that changed since (a
swapped or tampered file) is refused with both checksums. A file the lock does not name (one the
user passed with --rgb-checkpoint, say) is not checked here.

The lock is JSON, `{"schema": "phar.sha256-lock/1", "files": {"<file name>": "<sha256>"}}`,
written atomically; a lock that cannot be read is an error, never ignored.
"""
from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import orjson

from phar_cli.atomic import atomic_write_bytes
from phar_cli.errors import ModelLoadError

LOCK_NAME = "sha256.lock"
SCHEMA = "phar.sha256-lock/1"
CHUNK = 1 << 20

_HASHED: dict[tuple[str, int, int], str] = {}  # (path, size, mtime_ns) -> sha256


def sha256_file(path: Path, progress: Callable[[int, int], None] | None = None) -> str:
    """sha256 of a file, read in 1 MiB chunks; `progress(done, total)` after each."""
    digest = hashlib.sha256()
    total, done = path.stat().st_size, 0
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
            done += len(chunk)
            if progress is not None:
                progress(done, total)
    return digest.hexdigest()


def sha256_of(path: Path) -> str:
    """`sha256_file`, remembered while the file's size and mtime hold (a file loaded again in
    one process is hashed once)."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _HASHED:
        _HASHED[key] = sha256_file(path)
    return _HASHED[key]


def read_pins(folder: Path) -> dict[str, str]:
    """File name -> pinned sha256 of `folder`'s lock ({} when it has none)."""
    lock = folder / LOCK_NAME
    try:
        data = orjson.loads(lock.read_bytes())
    except FileNotFoundError:
        return {}
    except (OSError, orjson.JSONDecodeError) as ex:
        raise ModelLoadError(f"{lock}: cannot read the checksum lock ({ex})") from ex
    files = data.get("files") if isinstance(data, dict) else None
    if data.get("schema") != SCHEMA or not isinstance(files, dict):
        raise ModelLoadError(f"{lock}: not a phar checksum lock ({SCHEMA})")
    return {str(k): str(v) for k, v in files.items()}


def pin(folder: Path, file: str, digest: str) -> Path:
    """Record `file`'s sha256 in `folder`'s lock (replacing an older pin); returns the lock."""
    pins = {**read_pins(folder), file: digest}
    lock = folder / LOCK_NAME
    atomic_write_bytes(lock, orjson.dumps({"schema": SCHEMA, "files": dict(sorted(pins.items()))},
                                          option=orjson.OPT_INDENT_2))
    return lock


def pinned_change(path: Path) -> str | None:
    """Why `path` no longer matches its pin (one line), or None: unpinned, or unchanged."""
    pinned = read_pins(path.parent).get(path.name)
    if pinned is None:
        return None
    digest = sha256_of(path)
    if digest == pinned:
        return None
    return (f"{path}: changed since it was fetched: sha256 {digest}, pinned {pinned} in "
            f"{path.parent / LOCK_NAME}")


def check_pinned(path: str | os.PathLike[str]) -> None:
    """Refuse a model file that changed since `phar models fetch` pinned it."""
    change = pinned_change(Path(path))
    if change:
        raise ModelLoadError(f"{change}; fetch it again (phar models fetch --force) if the "
                             "change is yours")
