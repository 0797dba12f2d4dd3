"""Whole-video tags: which acts a video is mostly made of, for search and recommendation."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from phar_cli.core.predictions import Analysis
from phar_cli.core.timeline import timeline_of


@dataclass
class Tag:
    label: str
    seconds: float          # total length of the windows where the label is top-1
    mean_confidence: float  # plain mean of its fused score over those windows
    windows: int

    def to_dict(self, digits: int = 6) -> dict[str, Any]:
        return {"label": self.label, "seconds": round(self.seconds, digits),
                "mean_confidence": round(self.mean_confidence, digits), "windows": self.windows}


def video_tags(analysis: Analysis, topk: int | None = None, min_score: float = 0.0) -> list[Tag]:
    """One tag per action label that is top-1 somewhere on the timeline, longest first.

    Parts of the timeline (`core/timeline.py`) whose top score is under `min_score` (or that have
    no scores) count for no label; background is never a tag.
    Order: seconds descending, then mean confidence descending, then label; `topk` keeps the
    first k (None keeps all). Seconds are compared at microsecond precision so that float sums
    of equal window lengths tie.
    """
    if topk is not None and topk < 0:
        raise ValueError("topk must be >= 0")
    seconds: dict[str, float] = {}
    total: dict[str, float] = {}
    count: dict[str, int] = {}
    for w in timeline_of(analysis):
        top = w.top
        if top is None or top[1] < min_score or top[0] == analysis.background:
            continue
        label, score = top
        seconds[label] = seconds.get(label, 0.0) + w.span.duration
        total[label] = total.get(label, 0.0) + score
        count[label] = count.get(label, 0) + 1
    tags = [Tag(label, seconds[label], total[label] / count[label], count[label]) for label in seconds]
    tags.sort(key=lambda t: (-round(t.seconds, 6), -t.mean_confidence, t.label))
    return tags if topk is None else tags[:topk]


def tags_document(analysis: Analysis, tags: list[Tag]) -> dict[str, Any]:
    """The tags JSON (`phar tags --json`, `phar batch --tags`): the video and its tags."""
    return {"video": analysis.video.path, "tags": [t.to_dict() for t in tags]}
