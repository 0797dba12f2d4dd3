"""What a push reads: one predictions JSON, a folder of them (searched recursively), or a
`phar batch` output folder, whose catalog says which videos are done and where they are."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from phar_cli.batch.catalog import CATALOG_NAME, Catalog
from phar_cli.errors import PharError

_NOT_PREDICTIONS = (".tags.json", ".cuts.json")   # what `phar batch` writes beside them


@dataclass(frozen=True)
class PushItem:
    predictions: Path
    video: str | None = None   # the video's path when a batch catalog knows it


@dataclass
class Sources:
    items: list[PushItem]
    notes: list[str] = field(default_factory=list)   # what was left out, for the user


def push_sources(path: Path) -> Sources:
    if path.is_file():
        return Sources([PushItem(path)])
    if not path.is_dir():
        raise PharError(f"{path}: no such file or folder")
    if (path / CATALOG_NAME).is_file():
        return _from_catalog(path)
    items = [PushItem(p) for p in sorted(path.rglob("*.json")) if p.is_file()
             and not p.name.endswith(_NOT_PREDICTIONS)
             and not any(part.startswith(".") for part in p.relative_to(path).parts)]
    if not items:
        raise PharError(f"{path}: no predictions JSON in this folder")
    return Sources(items)


def _from_catalog(outdir: Path) -> Sources:
    with Catalog.read(outdir) as catalog:
        rows = sorted(catalog.videos().values(), key=lambda r: r.relpath)
    done = [r for r in rows if r.status == "done"]
    notes = []
    if len(done) < len(rows):
        notes.append(f"{outdir}: {len(rows) - len(done)} of the catalog's {len(rows)} videos are "
                     "not done (failed or not yet analysed); they are left out")
    if not done:
        raise PharError(f"{outdir}: the batch catalog has no video done yet")
    return Sources([PushItem(outdir / f"{r.relpath}.json", r.path) for r in done], notes)


def video_path(item: PushItem, written: str) -> str:
    """The video of a predictions file: the catalog's path, else the JSON's `video.path`, read
    against the JSON's folder when it is relative and lies there, else against this folder."""
    if item.video:
        return item.video
    if os.path.isabs(written):
        return written
    beside = item.predictions.parent / written
    return os.path.abspath(beside if beside.exists() else written)
