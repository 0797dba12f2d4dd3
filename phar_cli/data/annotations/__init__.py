"""Annotated time ranges per label: read from what annotators write, checked against the videos.

Inputs `read_annotations` accepts (chosen by what the path is):
- a VIA 3 project JSON (`project`, `attribute`, `file`, `view`, `metadata`): each metadata entry
  with `z = [start, end]` is a temporal segment of the video its `vid` views;
- a folder of CSV files, searched recursively: the seed's input, one VIA CSV export per video,
  named after the video's base name (`12.csv` annotates `12.mp4`; the name in `file_list` is
  tried only when no video is named like the CSV). A CSV there that cannot be read at all is
  reported (malformed, file skipped); only a folder where none can be read raises;
- one VIA CSV export (`# ...` comment lines, then `metadata_id,file_list,flags,
  temporal_coordinates,spatial_coordinates,metadata` rows; the `temporal_segments_csv` export with
  `temporal_segment_start,temporal_segment_end` columns is read too);
- a plain CSV with a header naming at least `video,start,end,label` (any order, more columns
  allowed); times in seconds or `[[HH:]MM:]SS(.fff)`.

A label is the value of the segment's label attribute: either an option id of that attribute
(`{"1": "3"}` with option "3" = "doggy") or free text (`{"1": "doggy"}`); it is stored in its
canonical spelling ('_' and '-' are one label).

Nothing in the data is fatal: every row that cannot be used becomes a `Problem` and the rest is
kept. Only a file that cannot be read at all raises `AnnotationError`.

Checks, in this order, and what happens:
- malformed: a row that cannot be parsed (bad time, bad JSON, no label, ends before it starts,
  too few columns): dropped.
- empty: zero length (or a VIA time point `[t]`): dropped.
- unknown-label: not in the label map given: dropped (the detail suggests a close spelling).
- missing-video: no file under the videos folder by that name, or several that fit: the video's
  segments are dropped; reported once per video.
- unreadable-video: `duration_of` failed on the file: its segments are dropped; once per video.
- out-of-range: a segment past either end of the video by less than `range_tolerance` (0.5 s)
  is clipped to the video and reported; by more it is dropped.
- overlapping: the same label twice over the same time is merged into one segment (touching
  segments of one label are merged silently). Different labels over the same time: with
  `overlap="trim"` (the default) the shared time is cut out of both segments, because a clip of
  it would teach the classifier two answers for the same frames (a segment lying wholly inside
  another one of a different label disappears, and the outer one is split in two); with
  `overlap="keep"` both segments are kept as they are. Either way every overlapping pair is
  reported.
"""
from __future__ import annotations

import csv
import difflib
import json
import math
import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from phar_cli.core.labels import canonical
from phar_cli.defaults import VIDEO_EXTENSIONS
from phar_cli.spans import Span
from phar_cli.errors import AnnotationError, PharError, UsageError

PROBLEM_KINDS = ("malformed", "empty", "unknown-label", "missing-video", "unreadable-video",
                 "out-of-range", "overlapping")
RANGE_TOLERANCE = 0.5  # seconds a segment may run past the video and still be clipped, not dropped
LABEL_ATTRIBUTE_NAMES = ("activity", "action", "label", "class", "category")
VIA_TEMPORAL_ANCHOR = "FILE1_Z2_XY0"  # VIA 3: "Temporal Segment in Video or Audio"
_EPS = 1e-6

OverlapPolicy = Literal["trim", "keep"]


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


def read_annotations(path: str | Path, videos_dir: str | Path | None, *,
                     labels: Iterable[str] | None = None,
                     duration_of: Callable[[Path], float] | None = None,
                     overlap: OverlapPolicy = "trim",
                     range_tolerance: float = RANGE_TOLERANCE,
                     label_attribute: str | None = None) -> AnnotationSet:
    """Read annotations from `path` and check them against the videos under `videos_dir`.

    `labels`: the label map (any spelling); None accepts every label. `duration_of(path)` gives a
    video's duration in seconds (phar's probe), called once per video; None (or no `videos_dir`)
    skips the range check. `label_attribute`
    names (or ids) the VIA attribute that holds the label when a segment carries several.
    Raises AnnotationError when a file cannot be read at all, UsageError when `videos_dir` is not
    a folder; everything else is reported in `AnnotationSet.problems`.
    """
    if overlap not in ("trim", "keep"):
        raise ValueError(f"overlap policy must be 'trim' or 'keep', not {overlap!r}")
    path = Path(path)
    records, problems, sources = _parse(path, label_attribute)
    videos_root = None
    if videos_dir is not None:
        videos_root = Path(videos_dir)
        if not videos_root.is_dir():
            raise UsageError(f"{videos_root}: videos folder not found")
    label_set = None if labels is None else {canonical(lab) for lab in labels}
    result = _check(records, problems, videos_root, label_set, duration_of, overlap,
                    range_tolerance)
    result.sources = sources
    return result


# --- parsing ------------------------------------------------------------------------------------

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


class _Skip(Exception):
    """A VIA entry that is not a temporal segment (a spatial region, a file attribute)."""


def _parse(path: Path, label_attribute: str | None
           ) -> tuple[list[_Record], list[Problem], list[Path]]:
    if path.is_dir():
        return _parse_folder(path, label_attribute)
    if not path.exists():
        raise AnnotationError(f"{path}: annotation file not found")
    if path.suffix.lower() == ".json":
        records, problems = _parse_via_project(path, label_attribute)
    else:
        records, problems = _parse_csv(path, label_attribute, video=None)
    return records, problems, [path]


def _parse_folder(folder: Path, label_attribute: str | None
                  ) -> tuple[list[_Record], list[Problem], list[Path]]:
    """The seed's layout: one CSV per video, named after the video's base name.

    A file that cannot be read is reported and skipped; only a folder where no CSV can be read
    raises.
    """
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() == ".csv" and p.is_file()
                   and not any(part.startswith(".") for part in p.relative_to(folder).parts))
    if not files:
        raise AnnotationError(f"{folder}: no CSV annotation files in this folder")
    records: list[_Record] = []
    problems: list[Problem] = []
    sources: list[Path] = []
    failures: list[AnnotationError] = []
    for file in files:
        rel = file.relative_to(folder)
        try:
            recs, probs = _parse_csv(file, label_attribute, video=rel.with_suffix("").as_posix())
        except AnnotationError as ex:
            failures.append(ex)
            problems.append(Problem("malformed", str(file),
                                    f"{_strip_prefix(ex, file)}; file skipped"))
            continue
        records += recs
        problems += probs
        sources.append(file)
    if not sources:
        raise AnnotationError(f"{folder}: no CSV file in this folder could be read "
                              f"(first: {failures[0]})")
    return records, problems, sources


def _strip_prefix(ex: Exception, file: Path) -> str:
    text = str(ex)
    prefix = f"{file}: "
    return text[len(prefix):] if text.startswith(prefix) else text


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as ex:
        raise AnnotationError(f"{path}: not a UTF-8 text file ({ex.reason})") from ex
    except OSError as ex:
        raise AnnotationError(f"{path}: cannot read ({ex.strerror or ex})") from ex


# VIA 3 project JSON

def _parse_via_project(path: Path, label_attribute: str | None
                       ) -> tuple[list[_Record], list[Problem]]:
    try:
        project = json.loads(_read_text(path))
    except json.JSONDecodeError as ex:
        raise AnnotationError(f"{path}: not JSON ({ex.msg} at line {ex.lineno})") from ex
    if not isinstance(project, dict) or not all(
            isinstance(project.get(key), dict) for key in ("metadata", "view", "file")):
        raise AnnotationError(f"{path}: not a VIA 3 project (needs 'metadata', 'view' and 'file' "
                              f"objects; VIA 2 projects are not supported)")
    attributes = _attributes(project.get("attribute"))
    views: dict[str, Any] = project["view"]
    files: dict[str, Any] = project["file"]
    records: list[_Record] = []
    problems: list[Problem] = []
    for mid, meta in project["metadata"].items():
        source = f"{path}: metadata {mid}"
        try:
            if not isinstance(meta, dict):
                raise _RowError("not an object")
            video = _view_file(str(meta.get("vid")), views, files)
            start, end = _temporal(meta.get("z"), meta.get("xy"))
            label = _label(meta.get("av"), attributes, label_attribute)
        except _Skip:
            continue
        except _RowError as ex:
            problems.append(_row_problem(source, str(ex)))
            continue
        records.append(_Record(video, start, end, label, source))
    return records, problems


def _view_file(vid: str, views: dict[str, Any], files: dict[str, Any]) -> str:
    view = views.get(vid)
    if not isinstance(view, dict) or not view.get("fid_list"):
        raise _RowError(f"view {vid!r} is not in the project")
    fids = view["fid_list"]
    if len(fids) != 1:
        raise _RowError(f"view {vid!r} shows {len(fids)} files, not one video")
    entry = files.get(str(fids[0]))
    if not isinstance(entry, dict) or not entry.get("fname"):
        raise _RowError(f"file {fids[0]!r} of view {vid!r} is not in the project")
    return str(entry["fname"])


def _attributes(raw: Any) -> dict[str, dict[str, Any]]:
    """Attribute id -> {aname, type, anchor_id, options}; accepts VIA's full attribute objects
    and the older `{id: name}` form of CSV exports."""
    out: dict[str, dict[str, Any]] = {}
    if not isinstance(raw, dict):
        return out
    for aid, attr in raw.items():
        if isinstance(attr, dict):
            options = attr.get("options") if isinstance(attr.get("options"), dict) else {}
            out[str(aid)] = {"aname": str(attr.get("aname", aid)), "type": attr.get("type"),
                             "anchor_id": attr.get("anchor_id"),
                             "options": {str(k): str(v) for k, v in options.items()}}
        else:
            out[str(aid)] = {"aname": str(attr), "type": None, "anchor_id": None, "options": {}}
    return out


def _temporal(z: Any, xy: Any) -> tuple[float, float]:
    if not isinstance(z, list):
        raise _RowError("temporal coordinates are not a list")
    if xy and len(z) < 2:
        raise _Skip  # a spatial region on a frame, not a temporal segment
    if len(z) == 0:
        raise _Skip  # an attribute of the whole file
    if len(z) == 1:
        raise _RowError("empty: a single time point, not a segment")
    if len(z) != 2:
        raise _RowError(f"temporal coordinates have {len(z)} values, not [start, end]")
    try:
        start, end = (float(v) for v in z)
    except (TypeError, ValueError):
        raise _RowError(f"temporal coordinates are not numbers: {z}") from None
    if not (math.isfinite(start) and math.isfinite(end)):
        raise _RowError(f"temporal coordinates are not finite: {z}")
    return start, end


def _label(av: Any, attributes: dict[str, dict[str, Any]], label_attribute: str | None) -> str:
    if not isinstance(av, dict):
        raise _RowError("metadata is not an object")
    if not av:
        raise _RowError("no label (metadata is empty)")
    key = _label_key(av, attributes, label_attribute)
    attr = attributes.get(key, {})
    value = av[key]
    if isinstance(value, dict):  # checkbox form {option id: true}
        chosen = [k for k, v in value.items() if v]
        if len(chosen) != 1:
            raise _RowError(f"attribute {key!r} has {len(chosen)} options set, not one")
        value = chosen[0]
    if isinstance(value, (list, bool)) or value is None:
        raise _RowError(f"attribute {key!r} has no usable value: {value!r}")
    text = str(value).strip()
    options = attr.get("options") or {}
    if text in options:
        text = options[text]
    elif attr.get("type") == 2 and "," in text:  # checkbox ids joined by commas
        raise _RowError(f"attribute {key!r} has several options set: {text}")
    label = canonical(text)
    if not label:
        raise _RowError("no label (empty value)")
    return label


def _label_key(av: dict[str, Any], attributes: dict[str, dict[str, Any]],
               label_attribute: str | None) -> str:
    def name(key: str) -> str:
        return str(attributes.get(key, {}).get("aname", key))

    if label_attribute is not None:
        wanted = label_attribute.strip().lower()
        for key in av:
            if key.lower() == wanted or name(key).lower() == wanted:
                return key
        raise _RowError(f"no value for the label attribute {label_attribute!r}")
    keys = list(av)
    if len(keys) == 1:
        return keys[0]
    temporal = [k for k in keys if attributes.get(k, {}).get("anchor_id") == VIA_TEMPORAL_ANCHOR]
    if len(temporal) == 1:
        return temporal[0]
    named = [k for k in keys if name(k).lower() in LABEL_ATTRIBUTE_NAMES]
    if len(named) == 1:
        return named[0]
    raise _RowError(f"several attributes ({', '.join(name(k) for k in keys)}); "
                    f"say which one holds the label (label_attribute)")


# CSV files

_VIA_COLUMNS = ("metadata_id", "file_list", "flags", "temporal_coordinates",
                "spatial_coordinates", "metadata")
_PLAIN_COLUMNS = ("video", "start", "end", "label")


def _parse_csv(path: Path, label_attribute: str | None, video: str | None
               ) -> tuple[list[_Record], list[Problem]]:
    """A VIA CSV export or a plain `video,start,end,label` CSV. `video`: the video every row
    annotates (folder mode: the CSV's own name), else each row names its video."""
    lines = _read_text(path).splitlines()
    header: list[str] | None = None
    attributes: dict[str, dict[str, Any]] = {}
    first_data = None
    for number, line in enumerate(lines, 1):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            body = stripped.lstrip("#").strip()
            key, _, value = body.partition("=")
            key = key.strip().upper()
            if key == "CSV_HEADER":
                header = [c.strip().lower() for c in value.split(",") if c.strip()]
            elif key in ("ATTRIBUTE", "ATTRIBUTES"):
                try:
                    attributes = _attributes(json.loads(value))
                except json.JSONDecodeError:
                    pass  # only needed to turn option ids into names; rows say if it matters
            continue
        first_data = number
        break
    if first_data is None:
        if header is not None:
            return [], []  # a VIA export of a video without segments
        raise AnnotationError(f"{path}: empty CSV file")
    if header is None:
        header = [c.strip().lower() for c in _split_row(lines[first_data - 1])]
        first_data += 1
    if "temporal_coordinates" in header or "temporal_segment_start" in header:
        return _via_rows(path, lines, first_data, header, attributes, label_attribute, video)
    if all(c in header for c in _PLAIN_COLUMNS):
        return _plain_rows(path, lines, first_data, header)
    raise AnnotationError(
        f"{path}: neither a VIA CSV export (columns {','.join(_VIA_COLUMNS)}) nor a plain "
        f"annotation CSV (header {','.join(_PLAIN_COLUMNS)}); its columns are: "
        f"{','.join(header) or '(none)'}")


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


def _via_rows(path: Path, lines: list[str], first: int, header: list[str],
              attributes: dict[str, dict[str, Any]], label_attribute: str | None,
              video: str | None) -> tuple[list[_Record], list[Problem]]:
    segments_export = "temporal_coordinates" not in header
    needed = ["file_list", "metadata"] + (
        ["temporal_segment_start", "temporal_segment_end"] if segments_export
        else ["temporal_coordinates"] + (["spatial_coordinates"] if "spatial_coordinates" in header
                                         else []))
    missing = [c for c in needed if c not in header and c != "file_list"]
    if missing:
        raise AnnotationError(f"{path}: VIA CSV export without column(s) {', '.join(missing)}")
    if "file_list" not in header and video is None:
        raise AnnotationError(f"{path}: VIA CSV export without a file_list column")
    needed = [c for c in needed if c in header]
    records: list[_Record] = []
    problems: list[Problem] = []
    for number, row in _data_rows(lines, first):
        source = f"{path}:{number}"
        try:
            cells = _cells(row, header, needed)
            named = _file_list(cells["file_list"]) if "file_list" in cells else None
            if segments_export:
                z: Any = [_json_number(cells["temporal_segment_start"]),
                          _json_number(cells["temporal_segment_end"])]
                xy: Any = []
            else:
                z = _json(cells["temporal_coordinates"], "temporal_coordinates")
                xy = _json(cells["spatial_coordinates"], "spatial_coordinates") \
                    if "spatial_coordinates" in cells else []
            start, end = _temporal(z, xy)
            label = _label(_json(cells["metadata"], "metadata"), attributes, label_attribute)
        except _Skip:
            continue
        except _RowError as ex:
            problems.append(_row_problem(source, str(ex)))
            continue
        if video is not None:
            parent = Path(video).parent.as_posix()
            records.append(_Record(video, start, end, label, source, fallback=named,
                                   near="" if parent == "." else parent))
        elif named:
            records.append(_Record(named, start, end, label, source))
        else:
            problems.append(_row_problem(source, "file_list names no video"))
    return records, problems


def _json(text: str, column: str) -> Any:
    try:
        return json.loads(text) if text.strip() else None
    except json.JSONDecodeError:
        raise _RowError(f"{column} is not valid JSON: {text!r}") from None


def _json_number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise _RowError(f"not a number: {text!r}") from None


def _file_list(text: str) -> str | None:
    value = _json(text, "file_list")
    if value is None or value == []:
        return None
    if isinstance(value, str):
        return value
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _RowError(f"file_list is not a list of file names: {text!r}")
    if len(value) != 1:
        raise _RowError(f"file_list names {len(value)} files, not one video")
    return value[0]


def _plain_rows(path: Path, lines: list[str], first: int, header: list[str]
                ) -> tuple[list[_Record], list[Problem]]:
    records: list[_Record] = []
    problems: list[Problem] = []
    for number, row in _data_rows(lines, first):
        source = f"{path}:{number}"
        try:
            cells = _cells(row, header, _PLAIN_COLUMNS)
            video = cells["video"].strip()
            if not video:
                raise _RowError("no video")
            try:
                start, end = parse_time(cells["start"]), parse_time(cells["end"])
            except ValueError as ex:
                raise _RowError(str(ex)) from None
            label = canonical(cells["label"])
            if not label:
                raise _RowError("no label")
        except _RowError as ex:
            problems.append(_row_problem(source, str(ex)))
            continue
        records.append(_Record(video, start, end, label, source))
    return records, problems


def _row_problem(source: str, reason: str) -> Problem:
    if reason.startswith("empty: "):
        return Problem("empty", source, reason[len("empty: "):] + "; dropped")
    return Problem("malformed", source, f"{reason}; row dropped")


# --- checks -------------------------------------------------------------------------------------

@dataclass
class _Seg:
    video: str
    start: float
    end: float
    label: str
    source: str


def _fmt(t: float) -> str:
    return f"{t:.3f}"


def _check(records: list[_Record], problems: list[Problem], videos_root: Path | None,
           label_set: set[str] | None, duration_of: Callable[[Path], float] | None,
           overlap: OverlapPolicy, tolerance: float) -> AnnotationSet:
    kept: list[tuple[_Record, str]] = []  # with the video key
    resolver = _VideoIndex(videos_root) if videos_root is not None else None
    missing: dict[str, tuple[str, str, int]] = {}  # written name -> (source, reason, segments)
    videos: dict[str, Path] = {}
    for rec in records:
        if rec.end < rec.start:
            problems.append(Problem("malformed", rec.source, f"ends before it starts "
                                    f"({_fmt(rec.start)}–{_fmt(rec.end)} s); row dropped"))
            continue
        if rec.end - rec.start <= _EPS:
            problems.append(Problem("empty", rec.source,
                                    f"zero length at {_fmt(rec.start)} s; dropped"))
            continue
        if label_set is not None and rec.label not in label_set:
            close = difflib.get_close_matches(rec.label, sorted(label_set), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            problems.append(Problem("unknown-label", rec.source,
                                    f"'{rec.label}' is not in the label map{hint}; dropped"))
            continue
        if resolver is None:
            kept.append((rec, rec.video))
            continue
        found, reason = resolver.find(rec.video, rec.near)
        if found is None and rec.fallback:
            found, _ = resolver.find(rec.fallback, rec.near)
        if found is None:
            source, why, count = missing.get(rec.video, (rec.source, reason, 0))
            missing[rec.video] = (source, why, count + 1)
            continue
        key = found.relative_to(videos_root).as_posix()
        videos[key] = found
        kept.append((rec, key))
    for name, (source, why, count) in missing.items():
        problems.append(Problem("missing-video", source, f"'{name}': {why} under {videos_root} "
                                f"({count} segment{'s' * (count != 1)} dropped)"))

    durations: dict[str, float | None] = {}
    segs: list[_Seg] = []
    for rec, key in kept:
        start, end = rec.start, rec.end
        if duration_of is not None and resolver is not None:
            if key not in durations:
                durations[key] = _duration(duration_of, videos[key], rec.source, problems)
            duration = durations[key]
            if duration is None:
                continue
            clipped = _in_range(rec, duration, tolerance, problems)
            if clipped is None:
                continue
            start, end = clipped
        segs.append(_Seg(key, start, end, rec.label, rec.source))
    for key in [k for k, d in durations.items() if d is None]:
        videos.pop(key, None)

    by_video: dict[str, list[_Seg]] = defaultdict(list)
    for seg in segs:
        by_video[seg.video].append(seg)
    annotations: list[Annotation] = []
    for key in sorted(by_video):
        merged = _merge_same_label(by_video[key], problems)
        for seg in _resolve_overlaps(merged, overlap, problems):
            annotations.append(Annotation(key, Span(round(seg.start, 6), round(seg.end, 6)),
                                          seg.label))
    annotations.sort(key=lambda a: (a.video, a.span.start, a.span.end, a.label))
    used = sorted({a.video for a in annotations}) if resolver is not None else []
    problems.sort(key=_source_order)
    return AnnotationSet(annotations, {k: videos[k] for k in used}, problems)


def _source_order(problem: Problem) -> tuple[str, int]:
    """File, then row number: problems read in the order of the files they point into."""
    file, sep, line = problem.source.rpartition(":")
    if sep and line.isdigit():
        return file, int(line)
    return problem.source, 0


def _duration(duration_of: Callable[[Path], float], path: Path, source: str,
              problems: list[Problem]) -> float | None:
    try:
        duration = float(duration_of(path))
    except (PharError, OSError, ValueError) as ex:
        problems.append(Problem("unreadable-video", source,
                                f"{path}: {ex}; its segments are dropped"))
        return None
    if not math.isfinite(duration) or duration <= 0:
        problems.append(Problem("unreadable-video", source,
                                f"{path}: no duration ({duration}); its segments are dropped"))
        return None
    return duration


def _in_range(rec: _Record, duration: float, tolerance: float,
              problems: list[Problem]) -> tuple[float, float] | None:
    start, end = rec.start, rec.end
    where = f"{_fmt(start)}–{_fmt(end)} s"
    if start < -tolerance - _EPS or end > duration + tolerance + _EPS or start >= duration - _EPS:
        if start >= duration - _EPS:
            why = f"starts after the video ends ({_fmt(duration)} s)"
        elif start < -tolerance - _EPS:
            why = f"starts {_fmt(-start)} s before the video"
        else:
            why = f"ends {_fmt(end - duration)} s after the video ({_fmt(duration)} s)"
        problems.append(Problem("out-of-range", rec.source, f"{where} {why}; dropped"))
        return None
    if start >= -_EPS and end <= duration + _EPS:
        return max(start, 0.0), min(end, duration)
    start, end = max(start, 0.0), min(end, duration)
    problems.append(Problem("out-of-range", rec.source, f"{where} runs past the video "
                            f"(0–{_fmt(duration)} s) by less than {tolerance:g} s; clipped to "
                            f"{_fmt(start)}–{_fmt(end)} s"))
    if end - start <= _EPS:
        problems.append(Problem("empty", rec.source, "nothing left after clipping; dropped"))
        return None
    return start, end


def _merge_same_label(segs: list[_Seg], problems: list[Problem]) -> list[_Seg]:
    """Union of one label's segments; overlaps are reported, touching segments merge silently."""
    out: list[_Seg] = []
    by_label: dict[str, list[_Seg]] = defaultdict(list)
    for seg in segs:
        by_label[seg.label].append(seg)
    for label in sorted(by_label):
        current: _Seg | None = None
        for seg in sorted(by_label[label], key=lambda s: (s.start, s.end)):
            if current is not None and seg.start <= current.end + _EPS:
                if seg.start < current.end - _EPS:
                    new_end = max(current.end, seg.end)
                    problems.append(Problem(
                        "overlapping", seg.source,
                        f"'{label}' {_fmt(seg.start)}–{_fmt(seg.end)} s overlaps '{label}' "
                        f"{_fmt(current.start)}–{_fmt(current.end)} s ({current.source}); "
                        f"merged into {_fmt(current.start)}–{_fmt(new_end)} s"))
                current.end = max(current.end, seg.end)
                continue
            current = _Seg(seg.video, seg.start, seg.end, seg.label, seg.source)
            out.append(current)
    return sorted(out, key=lambda s: (s.start, s.end, s.label))


def _resolve_overlaps(segs: list[_Seg], policy: OverlapPolicy,
                      problems: list[Problem]) -> list[_Seg]:
    """Different labels over the same time: report each pair; with 'trim' cut the shared time
    out of both."""
    cuts: list[list[tuple[float, float]]] = [[] for _ in segs]
    for i, a in enumerate(segs):
        for j in range(i + 1, len(segs)):
            b = segs[j]
            if b.start >= a.end - _EPS:
                break  # sorted by start: no later segment overlaps a
            lo, hi = max(a.start, b.start), min(a.end, b.end)
            if hi - lo <= _EPS:
                continue
            if policy == "trim":
                cuts[i].append((lo, hi))
                cuts[j].append((lo, hi))
                inner = [s for s in (a, b) if s.start >= lo - _EPS and s.end <= hi + _EPS]
                done = "the shared time is dropped from both"
                if inner:
                    done += "; " + " and ".join(f"'{s.label}' {_fmt(s.start)}–{_fmt(s.end)} s "
                                                f"is dropped entirely" for s in inner)
            else:
                done = "both kept"
            problems.append(Problem(
                "overlapping", b.source,
                f"'{b.label}' {_fmt(b.start)}–{_fmt(b.end)} s and '{a.label}' "
                f"{_fmt(a.start)}–{_fmt(a.end)} s ({a.source}) share {_fmt(hi - lo)} s "
                f"({_fmt(lo)}–{_fmt(hi)} s); {done}"))
    if policy == "keep":
        return segs
    out: list[_Seg] = []
    for seg, seg_cuts in zip(segs, cuts):
        pieces = [(seg.start, seg.end)]
        for lo, hi in seg_cuts:
            pieces = [p for s, e in pieces for p in ((s, min(e, lo)), (max(s, hi), e))
                      if p[1] - p[0] > _EPS]
        out += [_Seg(seg.video, s, e, seg.label, seg.source) for s, e in pieces]
    return sorted(out, key=lambda s: (s.start, s.end, s.label))


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
