"""Segments: runs of windows that agree on their top label, the unit every timestamps format,
chapter list and cut list is made of."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from phar_cli.core.predictions import Analysis, WindowPrediction
from phar_cli.core.timeline import timeline_of
from phar_cli.spans import Span

_EPS = 1e-6  # window bounds are rounded to the microsecond; never split on a rounding error


@dataclass(frozen=True)
class Segment:
    label: str
    span: Span
    score: float      # duration-weighted mean of the windows' top score
    coverage: float   # seconds covered by the windows / span duration (1.0 without gaps)

    @property
    def start(self) -> float:
        return self.span.start

    @property
    def end(self) -> float:
        return self.span.end

    def to_dict(self, digits: int = 6) -> dict[str, Any]:
        return {"label": self.label, "start": round(self.span.start, digits),
                "end": round(self.span.end, digits), "score": round(self.score, digits),
                "coverage": round(self.coverage, digits)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Segment:
        """A segment as `to_dict` wrote it (KeyError, TypeError or ValueError otherwise)."""
        return cls(str(data["label"]), Span(float(data["start"]), float(data["end"])),
                   float(data["score"]), float(data.get("coverage", 1.0)))


@dataclass
class _Run:
    label: str
    start: float
    end: float
    covered: float
    weighted: float   # sum of top score x window duration
    weight: float     # sum of window durations
    scores: list[float]

    def segment(self) -> Segment:
        duration = self.end - self.start
        score = self.weighted / self.weight if self.weight > 0 else sum(self.scores) / len(self.scores)
        coverage = min(1.0, self.covered / duration) if duration > 0 else 1.0
        return Segment(self.label, Span(self.start, self.end), score, coverage)


def segments_of(analysis: Analysis, *, min_score: float = 0.0, max_gap: float = 0.0,
                background: bool = False) -> list[Segment]:
    """The analysis as labelled segments (`phar.segments`): its timeline (refined boundaries,
    see `core/timeline.py`) merged. Background is no action: its time is a gap unless
    `background` asks for its segments too."""
    pieces = timeline_of(analysis)
    if not background and analysis.background:
        pieces = [p for p in pieces if not p.top or p.top[0] != analysis.background]
    return merge_segments(pieces, min_score=min_score, max_gap=max_gap)


def merge_segments(windows: list[WindowPrediction], *, min_score: float = 0.0,
                   max_gap: float = 0.0) -> list[Segment]:
    """Merge windows into segments of one top-1 label.

    Exact rules, windows taken in order of start time:
    - A window is *dropped* when it has no scores or its top score < `min_score`. A dropped window
      belongs to no segment; the time it spans counts as a gap.
    - A kept window extends the last segment when both have the same top label and the gap
      between them (the window's start minus the segment's end; time covered by no window or only
      by dropped windows) is <= `max_gap` seconds. With the default 0, windows that touch (or
      overlap) merge and any real gap splits. Otherwise the window starts a new segment, so a kept
      window of another label always ends the segment before it.
    - A segment spans from its first window's start to the furthest end of its windows.
    - `score` is the mean of the windows' top scores weighted by window duration (a plain mean if
      every window has zero length).
    - `coverage` is the seconds covered by the segment's windows (their union, so overlapping
      windows count once) divided by the segment's duration: 1.0 without gaps, lower where
      `max_gap` bridged a gap; 1.0 for a zero-length segment.
    """
    if max_gap < 0:
        raise ValueError("max_gap must be >= 0")
    runs: list[_Run] = []
    for w in sorted(windows, key=lambda w: (w.span.start, w.span.end)):
        top = w.top
        if top is None or top[1] < min_score:
            continue
        label, score = top
        start, end, dur = w.span.start, w.span.end, w.span.duration
        last = runs[-1] if runs else None
        if last is not None and last.label == label and start - last.end <= max_gap + _EPS:
            last.covered += max(0.0, end - max(start, last.end))
            last.end = max(last.end, end)
            last.weighted += score * dur
            last.weight += dur
            last.scores.append(score)
        else:
            runs.append(_Run(label, start, end, dur, score * dur, dur, [score]))
    return [run.segment() for run in runs]
