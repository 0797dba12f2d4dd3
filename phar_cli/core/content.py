"""The content stream's decisions, on per-second scores of a frame classifier (open_nsfw,
`models/content.py`): which time holds no sexual content, which windows the action models may
skip, and what that does to the timeline. Pure Python: every rule is tested without media.

The rules:
- **Scores.** One frame every 1/fps seconds, at the middle of its interval; its score stands for
  the interval.
- **Hysteresis.** open_nsfw's authors publish how to read its score: below 0.2 the image is safe
  with high probability, above 0.8 it is NSFW with high probability, in between it is
  uncertain (github.com/yahoo/open_nsfw, README). So the content turns sexual where a score
  reaches `high` (0.8) and turns content-free where one falls below `low` (0.2); between the
  two the state holds. A video starts as not content-free: nothing is called content-free
  before a score falls below `low` (uncertain time at the start is kept by a cut).
- **Minimum duration.** A content-free run shorter than `min_free` seconds is not one: a second
  or two of a covered-up scene stays with the scene.
- **Background.** Content-free time becomes the `background` label on the timeline. Where the
  action models have no background class of their own (the prototype's checkpoints), always.
  Where they have one, as `overrides` says: `unsure` (the default) paints content-free time
  background except where the models are sure of an action there (its fused score at least
  `SURE`: even odds against everything else), so the content stream only adds background and
  never removes an action the models are sure of; `all` paints it all; `none` leaves the
  timeline to the models.
- **Gate.** With `gate`, a window whose every score stays below `low` is not given to the action
  models at all (the analysis records it as skipped, with its highest score).
"""
from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from phar_cli.errors import InvalidOption
from phar_cli.spans import Span

PUBLISHED_LOW, PUBLISHED_HIGH = 0.2, 0.8  # open_nsfw's README: safe below, NSFW above
OVERRIDES = ("unsure", "all", "none")
SURE = 0.5  # a fused score at which the models are sure of an action (overrides=unsure)
_EPS = 1e-6


@dataclass(frozen=True)
class ContentOptions:
    fps: float = 1.0            # frames scored a second
    high: float = PUBLISHED_HIGH
    low: float = PUBLISHED_LOW
    min_free: float = 3.0       # seconds: shorter content-free runs are not content-free
    gate: bool = False          # skip the action models on windows below `low` all through
    overrides: str = OVERRIDES[0]

    def __post_init__(self) -> None:
        if not self.fps > 0:
            raise InvalidOption("content_fps", f"must be positive (got {self.fps})")
        if not 0.0 <= self.low < self.high <= 1.0:
            raise InvalidOption("content_low", f"{{option}} ({self.low:g}) must be below "
                                               f"the upper threshold ({self.high:g}), both in 0..1")
        if self.min_free < 0:
            raise InvalidOption("content_min_free", f"must be at least 0 (got {self.min_free})")
        if self.overrides not in OVERRIDES:
            raise InvalidOption("content_overrides", f"{self.overrides!r}: use "
                                                     f"{', '.join(OVERRIDES)}")


@dataclass
class Content:
    """What the content stream found in one video."""

    times: list[float]                  # the scored frames' times (s)
    scores: list[float]                 # P(sexual content) of each
    step: float                         # seconds each score stands for
    free: list[Span]                    # content-free time
    options: ContentOptions = field(default_factory=ContentOptions)
    models_know_background: bool = False  # whether the action models have a background class
    model: str = "open_nsfw"

    def is_free(self, t: float) -> bool:
        k = bisect.bisect_right(self.free, t, key=lambda s: s.start) - 1
        return k >= 0 and t < self.free[k].end

    def score_at(self, t: float) -> float | None:
        """The score that stands for time `t` (None outside the scored time)."""
        k = math.floor(t / self.step + _EPS) if self.step > 0 else -1
        return self.scores[k] if 0 <= k < len(self.scores) else None

    def within(self, span: Span) -> list[float]:
        """The scores of the frames inside `span`."""
        lo = bisect.bisect_left(self.times, span.start)
        hi = bisect.bisect_left(self.times, span.end)
        return self.scores[lo:hi]

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "step": self.step,
                "scores": [round(s, 6) for s in self.scores],
                "times": [round(t, 6) for t in self.times],
                "free": [[s.start, s.end] for s in self.free],
                "options": asdict(self.options),
                "models_know_background": self.models_know_background}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Content:
        return cls([float(t) for t in data["times"]], [float(s) for s in data["scores"]],
                   float(data["step"]), [Span(float(a), float(b)) for a, b in data["free"]],
                   ContentOptions(**data.get("options", {})),
                   bool(data.get("models_know_background", False)),
                   str(data.get("model", "open_nsfw")))


def sample_times(duration: float, fps: float) -> list[float]:
    """The middle of each 1/fps interval of [0, duration) (the last one cut at the end)."""
    step = 1.0 / fps
    count = max(0, math.ceil(duration / step - _EPS))
    return [round((k * step + min((k + 1) * step, duration)) / 2, 6) for k in range(count)]


def content_of(times: Sequence[float], scores: Sequence[float], duration: float,
               options: ContentOptions, models_know_background: bool) -> Content:
    step = 1.0 / options.fps
    return Content(list(times), [float(s) for s in scores], step,
                   free_spans(scores, step, duration, options), options, models_know_background)


def free_spans(scores: Sequence[float], step: float, duration: float,
               options: ContentOptions) -> list[Span]:
    """Content-free time from scores each standing for `step` seconds (the module's rules)."""
    decided: list[bool | None] = [True if s >= options.high else False if s < options.low
                                  else None for s in scores]
    sexual, state = [], True  # nothing is content-free until a score says so
    for d in decided:
        state = state if d is None else d
        sexual.append(state)
    spans, k = [], 0
    while k < len(sexual):
        if sexual[k]:
            k += 1
            continue
        j = k
        while j < len(sexual) and not sexual[j]:
            j += 1
        span = Span(round(k * step, 6), round(min(j * step, duration), 6))
        if span.duration >= options.min_free - _EPS:
            spans.append(span)
        k = j
    return spans


def gate_skips(span: Span, content: Content) -> float | None:
    """The highest score inside `span` when every one is below the gate's threshold (the window
    is skipped), else None (it is analysed)."""
    inside = content.within(span)
    if not content.options.gate or not inside or max(inside) >= content.options.low:
        return None
    return max(inside)


def painted(pieces: Sequence[Any], content: Content, background: str) -> list[Any]:
    """Timeline pieces (WindowPredictions) split at the edges of content-free time, and the
    content-free ones labelled `background` as the module's rules say."""
    edges = sorted({t for s in content.free for t in (s.start, s.end)})
    out = []
    for piece in pieces:
        cuts = [piece.span.start] + [t for t in edges
                                     if piece.span.start + _EPS < t < piece.span.end - _EPS]
        cuts.append(piece.span.end)
        for a, b in zip(cuts, cuts[1:]):
            part = replace(piece, span=Span(a, b))
            out.append(_background(part, content, background)
                       if content.is_free((a + b) / 2) and _overridden(part, content, background)
                       else part)
    return out


def _overridden(piece: Any, content: Content, background: str) -> bool:
    if not content.models_know_background:
        return True
    rule = content.options.overrides
    top = piece.top
    if rule == "none":
        return False
    if rule == "unsure":
        return top is None or top[0] == background or top[1] < SURE
    return True


def _background(piece: Any, content: Content, background: str) -> Any:
    inside = content.within(piece.span) or [content.score_at((piece.span.start +
                                                              piece.span.end) / 2) or 0.0]
    return replace(piece, scores=[(background, round(1.0 - max(inside), 6))])
