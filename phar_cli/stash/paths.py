"""Path maps: the same library mounted at one place here and another on the Stash server
(`--path-map /mnt/nas/videos=/data/videos`, or `=D:\\videos` for a Windows server)."""
from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass

from phar_cli.errors import UsageError

_WINDOWS = re.compile(r"^(?:[A-Za-z]:[\\/]|\\\\)")


@dataclass(frozen=True)
class PathMap:
    local: str    # absolute, POSIX separators, no trailing separator
    remote: str   # as the server spells it, no trailing separator

    @property
    def windows(self) -> bool:
        return bool(_WINDOWS.match(self.remote)) or ("\\" in self.remote and "/" not in self.remote)


def parse_path_maps(texts: Iterable[str]) -> tuple[PathMap, ...]:
    """`LOCAL=REMOTE` options as maps; the longest matching prefix wins when several fit."""
    maps = []
    for text in texts:
        local, sep, remote = text.partition("=")
        if not sep or not local.strip() or not remote.strip():
            raise UsageError(f"--path-map {text!r}: give LOCAL=REMOTE (a folder here = the same "
                             "folder as the Stash server sees it)")
        local = os.path.abspath(os.path.expanduser(local.strip())).replace(os.sep, "/")
        remote = remote.strip()
        remote = remote.rstrip("/\\") or remote[:1]
        maps.append(PathMap(local.rstrip("/") or "/", remote))
    return tuple(sorted(maps, key=lambda m: -len(m.local)))


def local_path(path: str | os.PathLike[str]) -> str:
    """A local file's path as maps compare it: absolute, POSIX separators."""
    return os.path.abspath(os.path.expanduser(os.fspath(path))).replace(os.sep, "/")


def to_remote(path: str | os.PathLike[str], maps: tuple[PathMap, ...]) -> str:
    """Where the Stash server sees a local file (the local path itself when no map fits)."""
    here = local_path(path)
    for m in maps:
        rest = _under(here, m.local, "/")
        if rest is not None:
            if m.windows:
                return _join(m.remote, rest.replace("/", "\\"), "\\")
            return _join(m.remote, rest, "/")
    return here


def to_local(path: str, maps: tuple[PathMap, ...]) -> str:
    """Where a file the server names lies here (its own path when no map fits)."""
    for m in sorted(maps, key=lambda m: -len(m.remote)):
        sep = "\\" if m.windows else "/"
        remote = m.remote.replace("/", sep) if m.windows else m.remote
        rest = _under(path.replace("/", sep) if m.windows else path, remote, sep)
        if rest is not None:
            return _join(m.local, rest.replace(sep, "/"), "/")
    return path


def _under(path: str, prefix: str, sep: str) -> str | None:
    """`path` below `prefix` as the rest after it ('' for the prefix itself), else None."""
    if path == prefix:
        return ""
    head = prefix if prefix.endswith(sep) else prefix + sep
    return path[len(head):] if path.startswith(head) else None


def _join(base: str, rest: str, sep: str) -> str:
    if not rest:
        return base
    return base + rest if base.endswith(sep) else base + sep + rest
