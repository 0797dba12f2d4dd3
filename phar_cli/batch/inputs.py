"""Which videos a batch is about: a folder walked recursively, or a manifest file.

Each input keeps the path its outputs mirror under OUTDIR (`relpath`), so a library's tree comes
out as the same tree of predictions. A manifest is one path a line (blank lines and '#' comments
skipped), or a CSV whose header has a `path` column; relative paths are read against the
manifest's folder, so a manifest can travel with its library. Entries outside the manifest's
folder mirror their absolute path (without the root), which stays the same from run to run.
"""
from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from phar_cli.defaults import VIDEO_EXTENSIONS
from phar_cli.errors import PharError, UsageError

PATH_COLUMNS = ("path", "file", "video", "filename")


class ManifestError(PharError):
    """A manifest that cannot be read or names no videos."""


@dataclass(frozen=True)
class BatchInput:
    path: Path              # absolute, symlinks resolved: the video's identity in the catalog
    relpath: PurePosixPath  # where its outputs go under OUTDIR (without extension)


def is_video_name(path: Path) -> bool:
    return path.suffix.lower() in VIDEO_EXTENSIONS and not path.name.startswith(".")


def find_inputs(source: str | os.PathLike[str], exclude: Path | None = None) -> list[BatchInput]:
    """The videos of a folder (recursive; hidden files and folders and `exclude` skipped) or a
    manifest, sorted by output path; duplicates (the same file twice) kept once."""
    source = Path(source)
    if not source.exists():
        raise UsageError(f"{source}: no such folder or manifest")
    if source.is_dir():
        found = list(_walk(source, exclude))
    elif is_video_name(source):
        raise UsageError(f"{source}: is a video; phar batch takes a folder of videos or a manifest "
                         "(use phar timestamps for one video)")
    else:
        found = list(_manifest(source))
    return _unique(found)


def _walk(root: Path, exclude: Path | None) -> list[BatchInput]:
    root = root.resolve()
    skip = exclude.resolve() if exclude is not None else None
    out = []
    # os.walk does not follow symlinked folders (no loops); symlinked files are followed.
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and (here / d) != skip)
        for name in sorted(files):
            path = here / name
            if is_video_name(path) and path.is_file():
                rel = PurePosixPath(*path.relative_to(root).parts)
                out.append(BatchInput(path.resolve(), rel.with_suffix("")))
    return out


def _manifest(manifest: Path) -> list[BatchInput]:
    try:
        text = manifest.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as ex:
        why = getattr(ex, "strerror", None) or ex
        raise ManifestError(f"{manifest}: cannot read manifest ({why})") from ex
    entries = _csv_paths(text, manifest)
    if entries is None:
        entries = [line.strip() for line in text.splitlines()
                   if line.strip() and not line.lstrip().startswith("#")]
    if not entries:
        raise ManifestError(f"{manifest}: manifest names no videos")
    base = manifest.resolve().parent
    out = []
    for entry in entries:
        given = Path(entry).expanduser()
        path = (given if given.is_absolute() else base / given)
        path = Path(os.path.normpath(path))
        try:
            rel = PurePosixPath(*path.relative_to(base).parts)
        except ValueError:
            rel = PurePosixPath(*path.parts[1:])  # outside the manifest's folder: mirror it whole
        # Not resolved when missing: a missing file is recorded as failed with its own error.
        out.append(BatchInput(path.resolve() if path.exists() else path, rel.with_suffix("")))
    return out


def _csv_paths(text: str, manifest: Path) -> list[str] | None:
    """The path column of a CSV manifest, or None when the file is a plain list of paths.

    A CSV is recognised by its header (a `path`, `file`, `video` or `filename` column, with ',',
    tab or ';' between columns), not by sniffing, so a plain path with a comma in it stays a path.
    """
    first = next((line for line in text.splitlines() if line.strip()), "")
    for delimiter in (",", "\t", ";"):
        header = [h.strip().lower() for h in next(csv.reader([first], delimiter=delimiter))]
        column = next((c for c in PATH_COLUMNS if c in header), None)
        if column is not None:
            index = header.index(column)
            rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))[1:]
            return [row[index].strip() for row in rows if len(row) > index and row[index].strip()]
    if manifest.suffix.lower() in (".csv", ".tsv"):
        raise ManifestError(f"{manifest}: CSV manifest needs a 'path' column (header is: {first.strip()})")
    return None


def _unique(found: list[BatchInput]) -> list[BatchInput]:
    """One entry per file; two files that would write the same outputs keep their extension
    in the output name (`a.mp4.json`, `a.mkv.json`), so neither overwrites the other."""
    seen: dict[Path, BatchInput] = {}
    for item in found:
        seen.setdefault(item.path, item)
    items = list(seen.values())
    count: dict[str, int] = {}
    for item in items:
        count[str(item.relpath).lower()] = count.get(str(item.relpath).lower(), 0) + 1
    out = [BatchInput(i.path, i.relpath.with_name(i.relpath.name + i.path.suffix))
           if count[str(i.relpath).lower()] > 1 else i for i in items]
    return sorted(out, key=lambda i: str(i.relpath))
