"""The video index: finds the file under the videos folder that an annotation names."""
from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path

from phar_cli.defaults import VIDEO_EXTENSIONS


class _VideoIndex:
    """Files under the videos folder, found by exact relative path, by file name, or by base
    name with any video extension; never guesses between two that fit."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.by_name: dict[str, list[Path]] = defaultdict(list)
        self.by_stem: dict[str, list[Path]] = defaultdict(list)
        for folder, dirs, files in os.walk(root):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(files):
                if name.startswith("."):
                    continue
                path = Path(folder) / name
                self.by_name[name].append(path)
                if path.suffix.lower() in VIDEO_EXTENSIONS:
                    self.by_stem[path.stem].append(path)

    def find(self, written: str, near: str = "") -> tuple[Path | None, str]:
        written = written.strip().replace("\\", "/")
        if written.startswith("file://"):
            written = written[len("file://"):]
        direct = self.root / written
        if written and not Path(written).is_absolute() and direct.is_file():
            return direct, ""
        name = written.rsplit("/", 1)[-1]
        if not name:
            return None, "no file name"
        exact = self.by_name.get(name, [])
        if exact and Path(name).suffix.lower() in VIDEO_EXTENSIONS | {""}:
            return self._one(exact, written, near)
        if exact and len(exact) == 1:
            return exact[0], ""
        stem = Path(name).stem if Path(name).suffix.lower() in VIDEO_EXTENSIONS else name
        return self._one(self.by_stem.get(stem, []), written, near)

    def _one(self, found: list[Path], written: str, near: str) -> tuple[Path | None, str]:
        if len(found) == 1:
            return found[0], ""
        if not found:
            return None, "no video file by that name"
        folder = written.rsplit("/", 1)[0] if "/" in written else near
        closer = [p for p in found if p.parent == (self.root / folder)]
        if len(closer) == 1:
            return closer[0], ""
        names = ", ".join(p.relative_to(self.root).as_posix() for p in found)
        return None, f"{len(found)} files fit ({names}), cannot tell which"
