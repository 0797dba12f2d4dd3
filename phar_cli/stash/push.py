"""`phar stash push`: each analysis becomes scene markers and scene tags in Stash, planned per
scene from what is there, then applied (or only shown, with a dry run).

Which markers are phar's: those carrying the parent tag (default `phar`) that nobody changed
since (Stash's `updated_at` is still its `created_at`: phar never edits a marker) and that nobody
flagged with the incorrect tag. Only those are ever destroyed; every other marker and every
scene tag a person set is left as it is. A marker already there as wanted (same tag, title and
times) is kept, so a rerun with the same predictions writes nothing.
"""
from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from dataclasses import asdict, dataclass, field
from typing import Any

import orjson

from phar_cli.core.predictions import load_predictions
from phar_cli.errors import PharError
from phar_cli.stash.api import Marker, Scene, StashApi, Tag
from phar_cli.stash.scene_markers import DIGITS, Intent, MarkerSpec, intent_for
from phar_cli.stash.oshash import OshashError, oshash
from phar_cli.stash.paths import PathMap, to_remote
from phar_cli.stash.settings import StashSettings
from phar_cli.stash.sources import PushItem, video_path

Progress = Callable[[str, float, float], None]


@dataclass(frozen=True)
class PushOptions:
    settings: StashSettings = field(default_factory=StashSettings)
    path_maps: tuple[PathMap, ...] = ()
    use_oshash: bool = True     # look a video up by its oshash when no scene has its path
    dry_run: bool = False


@dataclass(frozen=True)
class MarkerRow:
    """A marker as the report shows it."""

    tag: str
    start: float
    end: float | None
    title: str
    id: str | None = None
    why: str = ""        # for markers left alone: whose it is


@dataclass
class ScenePush:
    predictions: str
    video: str
    remote: str | None = None          # the path looked up on the server
    scene_id: str | None = None
    found_by: str | None = None        # 'path' or 'oshash'
    status: str = "planned"            # planned, pushed, unchanged, no-scene, failed
    error: str | None = None
    create: list[MarkerRow] = field(default_factory=list)
    replace: list[MarkerRow] = field(default_factory=list)     # phar's earlier markers that go
    keep: list[MarkerRow] = field(default_factory=list)        # phar's markers already as wanted
    left_alone: list[MarkerRow] = field(default_factory=list)  # a person's markers
    scene_tags: list[str] = field(default_factory=list)        # to add
    status_tag: bool = False                                   # the status tag is to be added

    @property
    def changes(self) -> bool:
        return bool(self.create or self.replace or self.scene_tags or self.status_tag)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class PushReport:
    server: str                        # the server's URL, as shown
    dry_run: bool
    end_seconds: bool                  # False: the server has point markers only
    status_tag: str                    # the tag that marks a scene as analysed
    scenes: list[ScenePush] = field(default_factory=list)
    tags_created: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[ScenePush]:
        return [s for s in self.scenes if s.status == "failed"]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for scene in self.scenes:
            out[scene.status] = out.get(scene.status, 0) + 1
        for kind in ("create", "replace", "keep", "left_alone"):
            out[f"markers_{kind}"] = sum(len(getattr(s, kind)) for s in self.scenes)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"server": self.server, "dry_run": self.dry_run, "end_seconds": self.end_seconds,
                "status_tag": self.status_tag, "counts": self.counts(),
                "tags_created": self.tags_created, "notes": self.notes,
                "scenes": [s.to_dict() for s in self.scenes]}


class TagBook:
    """phar's tags on the server: each name looked up once, created only when a write needs it
    (never in a dry run). Looked up before created, so a rerun finds what a killed run made."""

    def __init__(self, api: StashApi, settings: StashSettings, dry_run: bool) -> None:
        self.api = api
        self.settings = settings
        self.dry_run = dry_run
        self.created: list[str] = []
        self._known: dict[str, Tag | None] = {}

    def get(self, name: str) -> Tag | None:
        key = name.casefold()
        if key not in self._known:
            self._known[key] = self.api.find_tag(name)
        return self._known[key]

    def ensure(self, name: str) -> Tag:
        tag = self.get(name)
        if tag is not None:
            return tag
        if self.dry_run:
            raise AssertionError("a dry run creates no tag")
        parent = self.settings.parent_tag
        if name.casefold() == parent.casefold():
            tag = self.api.create_tag(name, [], "Made by phar: its markers and scene tags carry "
                                      "this tag; phar replaces only markers that do.")
        else:
            tag = self.api.create_tag(name, [self.ensure(parent).id], "Made by phar.")
        self._known[name.casefold()] = tag
        self.created.append(tag.name)
        return tag


def push(api: StashApi, items: Iterable[PushItem], options: PushOptions,
         progress: Progress | None = None) -> PushReport:
    """Push every item; a video without a scene or a file that cannot be read is reported and
    skipped. Server errors stop the push (they would fail every scene after)."""
    items = list(items)
    report = PushReport(api.client.shown, options.dry_run, api.end_seconds,
                        options.settings.status)
    book = TagBook(api, options.settings, options.dry_run)
    seen: dict[str, str] = {}
    for done, item in enumerate(items):
        report.scenes.append(_one(api, book, item, options, seen))
        if progress:
            progress("scenes", done + 1, len(items))
    report.tags_created = book.created
    return report


def _one(api: StashApi, book: TagBook, item: PushItem, options: PushOptions,
         seen: dict[str, str]) -> ScenePush:
    try:
        analysis = load_predictions(item.predictions)
    except PharError as ex:
        return ScenePush(str(item.predictions), item.video or "", status="failed", error=str(ex))
    result = ScenePush(str(item.predictions), video_path(item, analysis.video.path))
    result.remote = to_remote(result.video, options.path_maps)
    scene, why = _find_scene(api, result, options.use_oshash)
    if scene is None:
        result.status, result.error = "no-scene", why
        return result
    if scene.id in seen:
        result.status = "failed"
        result.error = (f"{result.predictions}: its scene {scene.id} was already pushed from "
                        f"{seen[scene.id]} in this run; left out")
        return result
    seen[scene.id] = result.predictions
    result.scene_id = scene.id
    intent = intent_for(analysis, options.settings)
    stale = plan_scene(result, scene, intent, book, api.end_seconds)
    if not result.changes:
        result.status = "unchanged"
    elif not options.dry_run:
        _apply(api, book, scene, result, stale)
        result.status = "pushed"
    return result


def _find_scene(api: StashApi, result: ScenePush, use_oshash: bool) -> tuple[Scene | None, str]:
    scene = api.scene_by_path(result.remote or "")
    if scene is not None:
        result.found_by = "path"
        return scene, ""
    why = f"no scene in Stash has the file {result.remote}"
    if not use_oshash:
        return None, why
    if not os.path.isfile(result.video):
        return None, f"{why}, and {result.video} is not here to hash (use --path-map)"
    try:
        digest = oshash(result.video)
    except OshashError as ex:
        return None, f"{why}; {ex}"
    scene = api.scene_by_oshash(digest)
    if scene is None:
        return None, f"{why} nor its oshash {digest}"
    result.found_by = "oshash"
    return scene, ""


def plan_scene(result: ScenePush, scene: Scene, intent: Intent, book: TagBook,
               end_seconds: bool) -> list[Marker]:
    """Fill in what would be created, kept, replaced and left alone; returns the markers to
    destroy. Markers match by primary tag, title and times (end times only where the server
    has them: elsewhere a segment is a point at its start)."""
    settings = book.settings
    parent, incorrect = book.get(settings.parent_tag), book.get(settings.incorrect)
    wanted: dict[tuple[Any, ...], MarkerSpec] = {}
    for spec in intent.markers:
        wanted.setdefault(_spec_key(spec, end_seconds), spec)
    stale: list[Marker] = []
    for marker in sorted(scene.markers, key=lambda m: (m.seconds, m.id)):
        row = _row(marker)
        if not marker.has(parent):
            result.left_alone.append(_with(row, "a person's marker"))
        elif marker.has(incorrect):
            result.left_alone.append(_with(row, "flagged incorrect"))
        elif marker.edited:
            result.left_alone.append(_with(row, "phar's, edited by a person"))
        elif wanted.pop(_marker_key(marker, end_seconds), None) is not None:
            result.keep.append(row)
        else:
            stale.append(marker)
            result.replace.append(row)
    result.create = [MarkerRow(s.tag, s.start, s.end if end_seconds else None, s.title)
                     for s in wanted.values()]
    present = {t.name.casefold() for t in scene.tags}
    result.scene_tags = [t.tag for t in intent.scene_tags if t.tag.casefold() not in present]
    result.status_tag = settings.status.casefold() not in present
    if result.create or result.replace:
        result.status_tag = True   # it comes off while the markers change (see _apply)
    return stale


def _apply(api: StashApi, book: TagBook, scene: Scene, result: ScenePush,
           stale: list[Marker]) -> None:
    """Write one scene's plan, in the one order that makes a push killed at any point safe to
    run again, with nothing duplicated and nothing of a person's lost:

    1. tags are found by name before one is created, so a rerun finds what a killed run made;
    2. the status tag comes off a scene whose markers are about to change, so "analysed" only
       ever marks a scene whose markers are complete;
    3. new markers are created, each with the parent tag in the same mutation (Stash writes a
       marker and its tags in one transaction), so every marker phar made is recognised as
       phar's by the next run, whenever this one stops;
    4. only then are phar's stale markers destroyed: a run killed in between leaves the old
       markers and some new ones, never fewer than before; the next run keeps the new ones
       (they match what it wants) and destroys the rest;
    5. scene tags and the status tag are added last, in one ADD that touches no other tag.
    """
    settings = book.settings
    parent = book.ensure(settings.parent_tag)
    status = book.ensure(settings.status)
    book.ensure(settings.incorrect)   # there for people to flag phar's markers with
    if result.create or result.replace:
        if any(t.id == status.id for t in scene.tags):
            api.remove_scene_tags(scene.id, [status.id])
        for i, row in enumerate(result.create):
            made = api.create_marker(scene.id, row.title, row.start, row.end,
                                     book.ensure(row.tag).id, [parent.id])
            result.create[i] = _with(row, "", made)
        for marker in stale:
            api.destroy_marker(marker.id)
    add = [book.ensure(name).id for name in result.scene_tags] + [status.id]
    api.add_scene_tags(scene.id, add)


def _spec_key(spec: MarkerSpec, end_seconds: bool) -> tuple[Any, ...]:
    return (spec.tag.casefold(), spec.title, spec.start, spec.end if end_seconds else None)


def _marker_key(marker: Marker, end_seconds: bool) -> tuple[Any, ...]:
    end = marker.end_seconds if end_seconds and marker.end_seconds is not None else None
    return (marker.primary_tag.name.casefold(), marker.title, round(marker.seconds, DIGITS),
            None if end is None else round(end, DIGITS))


def _row(marker: Marker) -> MarkerRow:
    return MarkerRow(marker.primary_tag.name, marker.seconds, marker.end_seconds, marker.title,
                     marker.id)


def _with(row: MarkerRow, why: str, marker_id: str | None = None) -> MarkerRow:
    return MarkerRow(row.tag, row.start, row.end, row.title, marker_id or row.id, why)


class BatchPusher:
    """`phar batch --stash`: each video pushed as it is written, and recorded in the catalog
    with what it was pushed with (server, settings, path maps: never the key) and which
    predictions, so a rerun pushes only what is new or changed."""

    def __init__(self, api: StashApi, options: PushOptions) -> None:
        self.api = api
        self.options = options
        self.book = TagBook(api, options.settings, options.dry_run)
        self.seen: dict[str, str] = {}
        self._vr_tag: str | None = None  # the server's, asked on first need
        settings = {"server": api.client.shown, "settings": asdict(options.settings),
                    "path_maps": [asdict(m) for m in options.path_maps],
                    "oshash": options.use_oshash}
        text = orjson.dumps(settings, option=orjson.OPT_SORT_KEYS, default=str)
        self.digest = hashlib.sha256(text).hexdigest()[:16]

    def needed(self, last: tuple[str, str, str] | None, predictions_sha: str) -> bool:
        """Whether a video last pushed as `last` (None: never) needs pushing again."""
        return (last is None or last[:2] != (self.digest, predictions_sha)
                or last[2] not in ("pushed", "unchanged"))

    def vr_mode(self, video: str) -> str | None:
        """'stereo' when the video's scene carries the server's VR tag (phar analyses one eye;
        the file name need not say), else None (the options decide)."""
        if self._vr_tag is None:
            self._vr_tag = self.api.vr_tag() or ""
        if not self._vr_tag:
            return None
        probe = ScenePush("", video)
        probe.remote = to_remote(video, self.options.path_maps)
        scene, _ = _find_scene(self.api, probe, self.options.use_oshash)
        tags = {t.name.casefold() for t in scene.tags} if scene is not None else set()
        return "stereo" if self._vr_tag.casefold() in tags else None

    def push(self, predictions: str | os.PathLike[str], video: str) -> ScenePush:
        """One video; a server error raises (every later video would fail the same way)."""
        return _one(self.api, self.book, PushItem(Path(predictions), video), self.options,
                    self.seen)
