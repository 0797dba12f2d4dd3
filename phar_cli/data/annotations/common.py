"""What the readers share: the records they produce (`Annotation`, `Problem`, `AnnotationSet`, and
`_Record` for a segment not yet checked), the row error and the `Problem` it becomes, time parsing,
and reading a text file and its CSV rows."""
from __future__ import annotations

import csv
import math
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from phar_cli.errors import AnnotationError
from phar_cli.spans import Span

PROBLEM_KINDS = ("malformed", "empty", "unknown-label", "missing-video", "unreadable-video",
                 "out-of-range", "overlapping")


@dataclass(frozen=True)
class Annotation:
    """One labelled time range of one video.

    `video` is the key of the video in `AnnotationSet.videos`: the file it resolved to, relative
    to the videos folder in POSIX form (`12.mp4`, `sub/12.mp4`), so that two spellings of one
    video (`12` and `12.mp4`) are one video; as written in the source when no videos folder is
    given.
    """

    video: str
    span: Span
    label: str


@dataclass(frozen=True)
class Problem:
    kind: str     # one of PROBLEM_KINDS
    source: str   # "file:line" for CSV rows, "file: metadata ID" for VIA project entries
    detail: str   # what is wrong and what was done about it

    def __str__(self) -> str:
        return f"{self.source}: {self.kind}: {self.detail}"


@dataclass
class AnnotationSet:
    annotations: list[Annotation]                       # usable, sorted by video, start, label
    videos: dict[str, Path] = field(default_factory=dict)  # video key -> file (resolved only)
    problems: list[Problem] = field(default_factory=list)
    sources: list[Path] = field(default_factory=list)   # annotation files that were read

    def __iter__(self) -> Iterator[Annotation]:
        return iter(self.annotations)

    def __len__(self) -> int:
        return len(self.annotations)

    @property
    def labels(self) -> list[str]:
        return sorted({a.label for a in self.annotations})

    def by_video(self) -> dict[str, list[Annotation]]:
        out: dict[str, list[Annotation]] = defaultdict(list)
        for ann in self.annotations:
            out[ann.video].append(ann)
        return dict(out)

    def problems_by_kind(self) -> dict[str, list[Problem]]:
        out: dict[str, list[Problem]] = {}
        for problem in self.problems:
            out.setdefault(problem.kind, []).append(problem)
        return out


def parse_time(text: str) -> float:
    """Seconds from `12.5`, `01:02.5` or `1:02:03.250`; ValueError on anything else."""
    text = text.strip()
    if not text:
        raise ValueError("no time")
    parts = text.split(":")
    if len(parts) > 3:
        raise ValueError(f"not a time: {text!r}")
    try:
        values = [float(p) if i == len(parts) - 1 else int(p) for i, p in enumerate(parts)]
    except ValueError:
        raise ValueError(f"not a time: {text!r}") from None
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f"not a time: {text!r}")
    if len(parts) > 1:
        if any(v < 0 for v in values) or any(v >= 60 for v in values[1:]):
            raise ValueError(f"not a time: {text!r}")
    seconds = 0.0
    for value in values:
        seconds = seconds * 60 + value
    return seconds


@dataclass
class _Record:
    """A segment as parsed, before any check."""

    video: str                      # as written
    start: float
    end: float
    label: str                      # canonical
    source: str
    fallback: str | None = None     # another name to try when `video` does not resolve
    near: str = ""                  # folder (relative to the videos folder) to prefer


class _RowError(ValueError):
    """A row that cannot be used; its message is the reason."""


def _row_problem(source: str, reason: str) -> Problem:
    if reason.startswith("empty: "):
        return Problem("empty", source, reason[len("empty: "):] + "; dropped")
    return Problem("malformed", source, f"{reason}; row dropped")


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as ex:
        raise AnnotationError(f"{path}: not a UTF-8 text file ({ex.reason})") from ex
    except OSError as ex:
        raise AnnotationError(f"{path}: cannot read ({ex.strerror or ex})") from ex


def _split_row(line: str) -> list[str]:
    # VIA writes one record per line (no newline inside a field), so each line is parsed alone:
    # a stray quote then spoils one row, never the rest of the file.
    return next(csv.reader([line]), [])


def _data_rows(lines: list[str], first: int) -> Iterator[tuple[int, list[str]]]:
    for number in range(first, len(lines) + 1):
        line = lines[number - 1]
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        yield number, _split_row(line)


def _cells(row: list[str], header: list[str], needed: Iterable[str]) -> dict[str, str]:
    index = {name: i for i, name in enumerate(header)}
    out = {}
    for name in needed:
        i = index[name]
        if i >= len(row):
            raise _RowError(f"{len(row)} columns, the header has {len(header)}")
        out[name] = row[i]
    return out
