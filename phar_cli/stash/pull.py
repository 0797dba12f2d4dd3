"""`phar stash pull`: the markers people made or corrected with phar's label tags, as the plain
annotations CSV (`video,start,end,label`) that `phar prepare-data` reads, so that training
learns from the user's own library.

A marker counts when its primary tag is a label's tag and a person made it (no parent tag) or
changed it since phar made it (an edited phar marker is a correction). A marker flagged with the
incorrect tag is a negative: written with the settings' `negative_label` (default `incorrect`),
the marker's own label in the `tag` column. phar's untouched markers are its own guesses and are
not exported. Markers without an end time are points: exported as a window of `point_seconds`
centred on the point when asked, else left out and counted.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from phar_cli.atomic import atomic_write_bytes
from phar_cli.core.labels import DEFAULT_LABEL_FILES, canonical, read_label_map
from phar_cli.errors import UsageError
from phar_cli.stash.api import Marker, StashApi, Tag
from phar_cli.stash.paths import PathMap, to_local
from phar_cli.stash.settings import BACKGROUND, StashSettings

COLUMNS = ("video", "start", "end", "label", "kind", "tag", "marker")


@dataclass(frozen=True)
class PullOptions:
    labels: tuple[str, ...]                      # the labels to look for (a label map)
    settings: StashSettings = field(default_factory=StashSettings)
    path_maps: tuple[PathMap, ...] = ()
    point_seconds: float | None = None           # None: point markers are left out

    def __post_init__(self) -> None:
        if self.point_seconds is not None and self.point_seconds <= 0:
            raise UsageError("--point-seconds must be > 0")


@dataclass(frozen=True)
class Annotation:
    video: str
    start: float
    end: float
    label: str
    kind: str      # 'positive' or 'negative'
    tag: str       # the marker's primary tag
    marker: str    # its id in Stash


@dataclass
class PullReport:
    rows: list[Annotation] = field(default_factory=list)
    markers_seen: int = 0
    phar_untouched: int = 0       # phar's own markers, not exported
    points_skipped: int = 0       # without an end time and without --point-seconds
    points_widened: int = 0       # exported as a --point-seconds window
    no_file: int = 0              # markers of scenes without a file
    missing_tags: list[str] = field(default_factory=list)   # label tags the server lacks

    def counts(self) -> dict[str, int]:
        return {"rows": len(self.rows),
                "positives": sum(r.kind == "positive" for r in self.rows),
                "negatives": sum(r.kind == "negative" for r in self.rows),
                "markers_seen": self.markers_seen, "phar_untouched": self.phar_untouched,
                "points_skipped": self.points_skipped, "points_widened": self.points_widened,
                "no_file": self.no_file}


def pull_labels(settings: StashSettings, label_map: str | Path | None = None) -> tuple[str, ...]:
    """The labels a pull looks for: a label map's (default: phar's 17) and the settings' own,
    background never."""
    names = read_label_map(label_map or DEFAULT_LABEL_FILES["rgb"])
    return tuple(x for x in dict.fromkeys([*names, *settings.labels]) if x != BACKGROUND)


def pull(api: StashApi, options: PullOptions) -> PullReport:
    settings = options.settings
    tag_names = settings.tags([canonical(x) for x in options.labels])
    report = PullReport()
    label_of: dict[str, str] = {}
    for label, name in tag_names.items():
        tag = api.find_tag(name)
        if tag is None:
            report.missing_tags.append(name)
        else:
            label_of[tag.id] = label
    parent, incorrect = api.find_tag(settings.parent_tag), api.find_tag(settings.incorrect)
    for marker in api.markers_with_tags(sorted(label_of)):
        report.markers_seen += 1
        label = label_of.get(marker.primary_tag.id)
        if label is None:
            continue   # a label tag only among its other tags: not a marker of that label
        row = _annotation(marker, label, parent, incorrect, options, report)
        if row is not None:
            report.rows.append(row)
    report.rows.sort(key=lambda r: (r.video, r.start, r.end, r.label))
    return report


def _annotation(marker: Marker, label: str, parent: Tag | None, incorrect: Tag | None,
                options: PullOptions, report: PullReport) -> Annotation | None:
    if marker.has(incorrect):
        kind, label = "negative", options.settings.negative_label
    elif not marker.has(parent) or marker.edited:
        kind = "positive"
    else:
        report.phar_untouched += 1
        return None
    if not marker.files:
        report.no_file += 1
        return None
    file = marker.files[0]   # Stash lists a scene's primary file first
    start, end = marker.seconds, marker.end_seconds
    if end is None:
        if options.point_seconds is None:
            report.points_skipped += 1
            return None
        half = options.point_seconds / 2
        start, end = max(0.0, start - half), start + half
        if file.duration:
            end = min(end, float(file.duration))
        report.points_widened += 1
    if end <= start:
        return None
    return Annotation(to_local(file.path, options.path_maps), round(start, 3), round(end, 3),
                      label, kind, marker.primary_tag.name, marker.id)


def write_annotations(rows: list[Annotation], path: str | Path) -> None:
    """The plain annotations CSV, written atomically (the extra columns are read past)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for r in rows:
        writer.writerow([r.video, str(r.start), str(r.end), r.label, r.kind, r.tag, r.marker])
    atomic_write_bytes(path, buffer.getvalue().encode("utf-8"))
