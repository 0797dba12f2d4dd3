"""A video's *profile*: how long each action lasts in it, for comparing videos by what happens
(`phar similar`, `phar recommend`).

Seconds per label over the segments phar writes (`phar timestamps`: the refined timeline,
background and content-free time left out), each label's share of the action time, and the
share of the video where nothing happens. Videos are compared by their shares of the action
time (`shares`), so a long and a short video with the same mix are alike.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from phar_cli.core.predictions import Analysis
from phar_cli.core.segments import Segment, segments_of


@dataclass(frozen=True)
class ActionProfile:
    duration: float
    seconds: dict[str, float]   # label -> seconds under it, most first (then by label)

    @property
    def action_seconds(self) -> float:
        return sum(self.seconds.values())

    @property
    def idle_share(self) -> float:
        """The share of the video where nothing happens (no action segment)."""
        if self.duration <= 0:
            return 0.0
        return min(1.0, max(0.0, 1.0 - self.action_seconds / self.duration))

    def shares(self) -> dict[str, float]:
        """Each label's share of the action time ({} when nothing happens)."""
        total = self.action_seconds
        return {label: s / total for label, s in self.seconds.items()} if total > 0 else {}

    def to_dict(self) -> dict[str, Any]:
        shares = self.shares()
        return {"duration": round(self.duration, 6),
                "action_seconds": round(self.action_seconds, 6),
                "idle_share": round(self.idle_share, 6),
                "labels": [{"label": label, "seconds": round(s, 6),
                            "share": round(shares[label], 6)}
                           for label, s in self.seconds.items()]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ActionProfile:
        return profile(float(data["duration"]),
                       {str(x["label"]): float(x["seconds"]) for x in data["labels"]})


def profile(duration: float, seconds: dict[str, float]) -> ActionProfile:
    """An ActionProfile with its labels in order (most seconds first, then by name); labels
    without time are left out."""
    kept = {label: s for label, s in seconds.items() if s > 0}
    return ActionProfile(duration, dict(sorted(kept.items(), key=lambda kv: (-kv[1], kv[0]))))


def profile_of(analysis: Analysis, segments: list[Segment] | None = None) -> ActionProfile:
    """The profile of an analysis, from `segments` (as written) or its default segments."""
    seconds: dict[str, float] = {}
    for s in segments_of(analysis) if segments is None else segments:
        if s.label != analysis.background:
            # a segment that bridged a gap (--max-gap) counts only the time it covers
            seconds[s.label] = seconds.get(s.label, 0.0) + s.span.duration * s.coverage
    return profile(analysis.video.duration, seconds)
