"""The checks every parsed segment goes through, in this order, and what happens:

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

The first two are partly the readers': a row they cannot parse is reported where it is read (as
malformed, or as empty for a VIA time point); `_check` takes the segments they produce.
"""
from __future__ import annotations

import difflib
import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from phar_cli.errors import PharError
from phar_cli.spans import Span
from phar_cli.data.annotations.common import Annotation, AnnotationSet, Problem, _Record
from phar_cli.data.annotations.videos import _VideoIndex

RANGE_TOLERANCE = 0.5  # seconds a segment may run past the video and still be clipped, not dropped
_EPS = 1e-6

OverlapPolicy = Literal["trim", "keep"]


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
