"""A `phar batch` output folder as a library to search: every done video's profile and look,
read from the catalog (profiles of videos done before it kept them filled in first, see
`batch/signals.py`), as matrices sorted by the videos' paths.

A video's content hash is the catalog's (the SHA-256 of its size, first and last MiB): two
files with the same hash are the same video (copies), and a search leaves them out together.
"""
from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from phar_cli.batch.catalog import CATALOG_NAME, Catalog, CatalogBusy
from phar_cli.batch.plan import head_tail_hash
from phar_cli.batch.signals import backfill, signals_of
from phar_cli.core.action_profile import ActionProfile, profile
from phar_cli.errors import PharError, UsageError
from phar_cli.similarity.ranking import unit_rows


class MixedLooks(PharError):
    """Looks made by two RGB models: their vectors cannot be compared."""


@dataclass(frozen=True)
class Entry:
    path: str                 # the video, as the batch read it
    relpath: str              # its place in the output folder
    content: str              # its content hash (equal for copies of one file)
    size: int | None          # its size in bytes
    profile: ActionProfile
    look_model: str | None    # the RGB model of its look (None: it has none)

    @functools.cached_property
    def shares(self) -> dict[str, float]:
        """Its profile's shares, made once (every match that names it shares the dict)."""
        return self.profile.shares()


@dataclass
class Library:
    outdir: Path
    entries: list[Entry]                  # sorted by path
    labels: list[str]                     # the columns of `shares`
    shares: np.ndarray                    # (videos, labels) shares of action time, unit rows
    look_vectors: dict[str, np.ndarray]   # RGB model -> (videos, dims) unit rows, zeros if none
    notes: list[str] = field(default_factory=list)   # what the user should know

    def __post_init__(self) -> None:
        self._by_path = {e.path: i for i, e in enumerate(self.entries)}
        self._by_content: dict[str, list[int]] = {}
        for i, e in enumerate(self.entries):
            self._by_content.setdefault(e.content, []).append(i)
        self._sizes = {e.size for e in self.entries}

    def __len__(self) -> int:
        return len(self.entries)

    def find(self, path: str) -> int | None:
        """The entry of a video file: by its path, else by its content (hashed only when a
        video of the library has its size)."""
        real = os.path.realpath(path)
        for candidate in (path, os.path.abspath(path), real):
            if candidate in self._by_path:
                return self._by_path[candidate]
        try:
            size = os.path.getsize(path)
        except OSError:
            return None
        same = self.copies(content_hash(path)) if size in self._sizes else []
        return same[0] if same else None

    def copies(self, content: str | None) -> list[int]:
        """The entries with this content hash."""
        return list(self._by_content.get(content, [])) if content else []

    def looks(self, model: str | None = None) -> tuple[str, np.ndarray, np.ndarray]:
        """(model, vectors, which rows have one) of the library's looks; MixedLooks when they
        come from two RGB models, or `model` is not the library's."""
        counts = {m: sum(e.look_model == m for e in self.entries) for m in self.look_vectors}
        if len(counts) > 1 or (model is not None and counts and model not in counts):
            made = ", ".join(f"{m} ({n} videos)" for m, n in sorted(counts.items()))
            query = f"the query's look is {model}'s; " if model and model not in counts else ""
            raise MixedLooks(
                f"{self.outdir}: {query}looks made by different RGB models ({made}) cannot be "
                "compared; analyse again with one model (phar batch redoes what another model "
                "analysed) or use --by profile")
        if not counts:
            raise UsageError(f"{self.outdir}: no video in the library has a look (analysed "
                             "before phar kept them, or without the RGB stream); analyse it "
                             "again with phar batch, or use --by profile")
        name = next(iter(counts))
        has = np.array([e.look_model == name for e in self.entries])
        return name, self.look_vectors[name], has


def content_hash(path: str) -> str | None:
    try:
        return head_tail_hash(path)
    except OSError:
        return None


def load_library(outdir: Path) -> Library:
    """OUTDIR's library (filling in profiles of older analyses, unless a batch is writing)."""
    if not (outdir / CATALOG_NAME).is_file():
        raise UsageError(f"{outdir}: not a phar batch output folder (no {CATALOG_NAME}); "
                         "run phar batch LIBRARY -o OUTDIR first")
    notes = []
    try:
        with Catalog.open(outdir) as catalog:
            filled = backfill(catalog, outdir)
        if filled.profiles:
            notes.append(f"{filled.profiles} profiles (and {filled.looks} looks) filled in from "
                         "predictions files written before the catalog kept them")
        notes += filled.unreadable
    except CatalogBusy:
        notes.append(f"{outdir}: a batch is writing there; videos it has not finished, and "
                     "older ones without a profile, are left out")
    with Catalog.read(outdir) as catalog:
        rows = catalog.signals()
    if rows.not_done:
        notes.append(f"{rows.not_done} videos of the catalog are not done (failed or not "
                     "analysed yet); they are left out")
    looks = rows.looks
    entries = [Entry(path, relpath, head_tail or f"path:{path}", size,
                     profile(duration, rows.seconds.get(video_id, {})),
                     looks[video_id][0] if video_id in looks else None)
               for video_id, path, relpath, head_tail, size, duration in rows.videos]
    labels = sorted({label for e in entries for label in e.profile.seconds})
    column = {label: j for j, label in enumerate(labels)}
    shares = np.zeros((len(entries), len(labels)), np.float32)
    for i, e in enumerate(entries):
        for label, share in e.profile.shares().items():
            shares[i, column[label]] = share
    look_vectors: dict[str, np.ndarray] = {}
    for i, (video_id, *_rest) in enumerate(rows.videos):
        if video_id in looks:
            model, dims, blob = looks[video_id]
            if model not in look_vectors:
                look_vectors[model] = np.zeros((len(entries), dims), np.float32)
            look_vectors[model][i] = np.frombuffer(blob, "<f2")
    without = sum(e.look_model is None for e in entries)
    if without and len(entries) > without:
        notes.append(f"{without} of {len(entries)} videos have no look (analysed before phar "
                     "kept them, or without the RGB stream): they are compared by profile alone")
    return Library(outdir, entries, labels, unit_rows(shares),
                   {m: unit_rows(v) for m, v in look_vectors.items()}, notes)


@dataclass(frozen=True)
class Query:
    name: str                     # as the user gave it
    profile: ActionProfile
    look_model: str | None
    look: np.ndarray | None       # (dims,) unit length
    exclude: list[int]            # the library's entries that are this video or a copy of it


def query_of(target: Path, library: Library) -> Query:
    """A video of the library (by path or content), or a predictions JSON (from anywhere)."""
    if target.suffix.lower() == ".json" and target.is_file():
        profile_, look, video = signals_of(target)
        i = library.find(video)
        same = library.copies(library.entries[i].content) if i is not None else []
        return Query(str(target), profile_, look.model if look else None,
                     unit_rows(look.video[None])[0] if look else None, same)
    i = library.find(str(target))
    if i is None and not target.exists():
        raise UsageError(f"{target}: no such file, nor a video of the library {library.outdir}")
    if i is None:
        raise UsageError(f"{target}: not in the library {library.outdir} (by path or content); "
                         "analyse it with phar batch, or give its predictions JSON")
    entry = library.entries[i]
    model = entry.look_model
    return Query(str(target), entry.profile, model,
                 library.look_vectors[model][i] if model else None, library.copies(entry.content))
