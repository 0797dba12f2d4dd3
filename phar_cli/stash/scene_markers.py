"""What one analysis becomes in Stash, before any server is asked: the markers (label, start,
end) and the scene tags, by the settings' rules. Pure, so every rule is tested without a server."""
from __future__ import annotations

from dataclasses import dataclass

from phar_cli.core.predictions import Analysis
from phar_cli.core.segments import Segment, segments_of
from phar_cli.stash.settings import StashSettings

EPS = 1e-6
DIGITS = 3   # marker times are written to the millisecond


@dataclass(frozen=True)
class MarkerSpec:
    label: str
    tag: str        # the marker's primary tag
    start: float
    end: float
    score: float    # duration-weighted mean of its segments' scores

    @property
    def title(self) -> str:
        return f"{self.tag} {self.score:.0%}"


@dataclass(frozen=True)
class SceneTagSpec:
    label: str
    tag: str
    seconds: float  # seconds of the label's segments that pass its threshold


@dataclass
class Intent:
    """What phar wants on one scene."""

    markers: list[MarkerSpec]
    scene_tags: list[SceneTagSpec]


def segments_for(analysis: Analysis) -> list[Segment]:
    """The segments Stash markers are made of. The one place that decides it, so that it can
    move to refined boundaries without touching the rest; background is never a marker."""
    return segments_of(analysis)  # refined, without background (core/segments.py)


def intent_for(analysis: Analysis, settings: StashSettings) -> Intent:
    """Markers and scene tags of one analysis: per label, segments under its threshold are
    dropped, what is left is joined across gaps up to `max_gap` and kept when it lasts
    `min_marker_seconds`; scene tags go to the `scene_tags_topk` labels with the most seconds
    that have at least `min_scene_seconds`."""
    by_label: dict[str, list[Segment]] = {}
    for seg in segments_for(analysis):
        by_label.setdefault(seg.label, []).append(seg)
    tags = settings.tags(sorted(by_label))
    markers: list[MarkerSpec] = []
    candidates: list[SceneTagSpec] = []
    for label, segments in by_label.items():
        rule = settings.rule(label)
        kept = [s for s in segments if s.score >= rule.threshold - EPS]
        seconds = sum(s.span.duration for s in kept)
        if rule.markers:
            markers += [m for m in _joined(kept, label, tags[label], rule.max_gap)
                        if m.end - m.start >= rule.min_marker_seconds - EPS and m.end > m.start]
        if rule.scene_tag and seconds > EPS and seconds >= rule.min_scene_seconds - EPS:
            candidates.append(SceneTagSpec(label, tags[label], seconds))
    candidates.sort(key=lambda t: (-round(t.seconds, 6), t.label))
    topk = settings.scene_tags_topk
    markers.sort(key=lambda m: (m.start, m.end, m.label))
    return Intent(markers, candidates[:topk] if topk else candidates)


def _joined(segments: list[Segment], label: str, tag: str, max_gap: float) -> list[MarkerSpec]:
    out: list[MarkerSpec] = []
    weight = 0.0
    for seg in sorted(segments, key=lambda s: s.span.start):
        dur = seg.span.duration
        if out and seg.span.start - out[-1].end <= max_gap + EPS:
            last = out[-1]
            total = weight + dur
            score = (last.score * weight + seg.score * dur) / total if total > 0 else last.score
            out[-1] = MarkerSpec(label, tag, last.start, max(last.end, _t(seg.span.end)), score)
            weight = total
        else:
            out.append(MarkerSpec(label, tag, _t(seg.span.start), _t(seg.span.end), seg.score))
            weight = dur
    return out


def _t(seconds: float) -> float:
    return round(seconds, DIGITS)
