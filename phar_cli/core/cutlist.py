"""What `phar filter` keeps: a decision per window, then Miles-Deep-style smoothing into ranges.

Pure Python on an Analysis, so every rule is tested without media. The steps, in order:
1. decide each window (`decide`): kept, or dropped with the reason; where the content stream
   ran, the time it calls sexual is kept and its content-free time is not (`core/content.py`);
2. join kept windows that touch into ranges. Time no window covers is dropped, except the tail
   after the last window (a remainder under the 2 s minimum window, never analysed), which
   goes with the last window;
3. fill gaps of at most `max_gap` seconds between ranges;
4. drop ranges shorter than `min_segment` seconds;
5. pad each range by `margin` seconds on both sides, clip to [0, duration], merge overlaps.
Copy-mode cuts then snap the ranges to keyframes (`media.cut.snap_to_keyframes`).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from phar_cli.core.content import Content
from phar_cli.core.labels import canonical
from phar_cli.core.predictions import Analysis, WindowPrediction
from phar_cli.core.segments import Segment
from phar_cli.core.timeline import timeline_of
from phar_cli.defaults import DEFAULT_BACKGROUND, MIN_LAST_WINDOW
from phar_cli.errors import InvalidOption, NothingToKeep, UsageError  # noqa: F401 - old path
from phar_cli.media.cut import SNAP_RULES, snap_to_keyframes  # noqa: F401 - old import path
from phar_cli.spans import SAME_TIME as EPS
from phar_cli.spans import Span

DEFAULT_NONSEXUAL = ("other", "miscellaneous", "non-sexual", DEFAULT_BACKGROUND)
SEXUAL, FREE = "sexual", "free"  # what the content stream says of a piece's time


@dataclass(frozen=True)
class CutOptions:
    keep: tuple[str, ...] = ()          # only windows whose top label is one of these (empty: any)
    drop: tuple[str, ...] = ()          # never windows whose top label is one of these
    drop_nonsexual: bool = True         # drop windows under `threshold` or with a non-sexual label
    threshold: float = 0.5
    nonsexual: tuple[str, ...] = DEFAULT_NONSEXUAL
    min_segment: float = 0.0
    max_gap: float = 0.0
    margin: float = 0.0

    def __post_init__(self) -> None:
        for name in ("min_segment", "max_gap", "margin"):
            if getattr(self, name) < 0:
                raise InvalidOption(name, "must be >= 0")
        if not 0.0 <= self.threshold <= 1.0:
            raise InvalidOption("threshold", f"must be between 0 and 1 (got {self.threshold})")
        both = sorted(set(map(canonical, self.keep)) & set(map(canonical, self.drop)))
        if both:
            raise UsageError(f"the labels to keep and to drop both name {', '.join(both)}")


@dataclass(frozen=True)
class Decision:
    window: WindowPrediction
    kept: bool
    reason: str         # 'kept', or why the window was dropped


@dataclass(frozen=True)
class KeptRange:
    span: Span
    labels: tuple[str, ...]     # top labels of the kept windows inside, most seconds first
    score: float                # their top scores' mean, weighted by seconds
    covered: float              # seconds of kept windows inside (the rest: filled gaps, margins)

    @property
    def coverage(self) -> float:
        return min(1.0, self.covered / self.span.duration) if self.span.duration > 0 else 1.0

    def segment(self, span: Span | None = None) -> Segment:
        """As a Segment for the timestamps writers; `span`: the times actually cut, if other."""
        return Segment("+".join(self.labels) or "-", span or self.span, self.score, self.coverage)


@dataclass
class CutPlan:
    duration: float
    decisions: list[Decision]
    ranges: list[KeptRange] = field(default_factory=list)

    @property
    def kept_seconds(self) -> float:
        return sum(r.span.duration for r in self.ranges)

    @property
    def everything_kept(self) -> bool:
        return (len(self.ranges) == 1 and self.ranges[0].span.start <= EPS
                and self.ranges[0].span.end >= self.duration - EPS)

    @property
    def nothing_kept(self) -> bool:
        return not self.ranges

    def why_nothing(self) -> str:
        """'5 windows dropped: 3 under --threshold 0.50, 2 with label other (non-sexual)'."""
        counts: dict[str, int] = defaultdict(int)
        for d in self.decisions:
            counts[d.reason] += 1
        kept = counts.pop("kept", 0)
        parts = [f"{n} {reason}" for reason, n in sorted(counts.items(), key=lambda kv: -kv[1])]
        head = f"{len(self.decisions) - kept} of {len(self.decisions)} windows dropped"
        if kept:
            head += f"; the {kept} kept ones are shorter than --min-segment"
        return head + (": " + ", ".join(parts) if parts else "")


def check_labels(options: CutOptions, labels: list[str]) -> None:
    """--keep/--drop labels must exist in the analysis (a typo would silently keep nothing)."""
    known = set(labels)
    for name in ("keep", "drop"):
        unknown = [lab for lab in getattr(options, name) if canonical(lab) not in known]
        if unknown:
            raise InvalidOption(name, f"{{option}}: unknown label {', '.join(unknown)} "
                                      f"(labels: {', '.join(labels)})")


def decide(window: WindowPrediction, options: CutOptions, background: str | None = None,
           content: str | None = None) -> Decision:
    """Kept or dropped, and why; the analysis' `background` label counts as non-sexual.
    `content`: what the content stream says of the window's time, where it ran: 'sexual' time
    is kept whatever the action models' score (only --keep and --drop still choose by label);
    'free' time the timeline already labels background where the rule says so."""
    top = window.top
    if top is None and content != SEXUAL:
        return Decision(window, False, "without scores")
    label = top[0] if top else None
    if options.keep and label not in {canonical(x) for x in options.keep}:
        return Decision(window, False, "with a label not in --keep")
    if label in {canonical(x) for x in options.drop}:
        return Decision(window, False, f"with label {label} (--drop)")
    if content == SEXUAL:
        return Decision(window, True, "kept")
    score = top[1] if top else 0.0
    if options.drop_nonsexual:
        if content == FREE and label == background:
            return Decision(window, False, "in content-free time (content stream)")
        if label in {canonical(x) for x in options.nonsexual} | {background}:
            return Decision(window, False, f"with label {label} (non-sexual)")
        if score < options.threshold:
            return Decision(window, False, f"under --threshold {options.threshold:.2f}")
    return Decision(window, True, "kept")


def content_says(window: WindowPrediction, content: Content | None) -> str | None:
    """'sexual' or 'free' for a piece of the timeline (split at the edges of content-free time),
    None without a content stream."""
    if content is None:
        return None
    return FREE if content.is_free((window.span.start + window.span.end) / 2) else SEXUAL


def plan_cut(analysis: Analysis, options: CutOptions, duration: float | None = None) -> CutPlan:
    """Decide every part of the timeline (the windows, or their refined parts: see
    `core/timeline.py`) and smooth the kept ones into ranges (steps 1 to 5 above)."""
    duration = analysis.video.duration if duration is None else duration
    windows = timeline_of(analysis)
    decisions = [decide(w, options, analysis.background, content_says(w, analysis.content))
                 for w in windows]
    pieces = [(_clip(d.window.span, duration), d.window) for d in decisions if d.kept]
    tail = duration - windows[-1].span.end if windows else 0.0
    if windows and decisions[-1].kept and 0 < tail < MIN_LAST_WINDOW + EPS:
        last_span, last_window = pieces[-1]
        pieces[-1] = (Span(last_span.start, duration), last_window)
    pieces = [(s, w) for s, w in pieces if s.duration > 0]
    groups = _join(pieces, gap=options.max_gap)  # touching windows, and gaps up to max_gap
    groups = [g for g in groups if _extent(g).duration >= options.min_segment - EPS]
    ranges = [_range(g, _extent(g)) for g in groups]
    ranges = _pad(ranges, options.margin, duration)
    return CutPlan(duration, decisions, ranges)


# -- helpers ----------------------------------------------------------------------------------

Piece = tuple[Span, WindowPrediction]


def _clip(span: Span, duration: float) -> Span:
    start = min(max(span.start, 0.0), duration)
    return Span(start, min(max(span.end, start), duration))


def _join(pieces: list[Piece], gap: float) -> list[list[Piece]]:
    groups: list[list[Piece]] = []
    for piece in pieces:
        if groups and piece[0].start - _extent(groups[-1]).end <= gap + EPS:
            groups[-1].append(piece)
        else:
            groups.append([piece])
    return groups


def _extent(group: list[Piece]) -> Span:
    return Span(group[0][0].start, max(s.end for s, _ in group))


def _range(group: list[Piece], span: Span) -> KeptRange:
    seconds: dict[str, float] = defaultdict(float)
    weighted = weight = covered = 0.0
    end = span.start
    for piece, window in group:
        label, score = window.top or ("-", 0.0)  # kept without scores: in sexual time
        seconds[label] += piece.duration
        weighted += score * piece.duration
        weight += piece.duration
        covered += max(0.0, piece.end - max(piece.start, end))
        end = max(end, piece.end)
    labels = tuple(sorted(seconds, key=lambda lab: -seconds[lab]))
    score = weighted / weight if weight > 0 else 0.0
    return KeptRange(span, labels, score, covered)


def _pad(ranges: list[KeptRange], margin: float, duration: float) -> list[KeptRange]:
    out: list[KeptRange] = []
    for r in ranges:
        span = Span(max(0.0, r.span.start - margin), min(duration, r.span.end + margin))
        if out and span.start <= out[-1].span.end + EPS:
            prev = out[-1]
            merged = Span(prev.span.start, max(prev.span.end, span.end))
            labels = tuple(dict.fromkeys(prev.labels + r.labels))
            total = prev.covered + r.covered
            score = (prev.score * prev.covered + r.score * r.covered) / total if total else 0.0
            out[-1] = KeptRange(merged, labels, score, total)
        else:
            out.append(KeptRange(span, r.labels, r.score, r.covered))
    return out










def regroup(ranges: list[KeptRange], spans: list[Span]) -> list[KeptRange]:
    """The planned ranges as the spans actually cut (frame-rounded or keyframe-snapped; one
    span may hold several ranges): labels, score and kept-window seconds carried over."""
    out = []
    for span in spans:
        inside = [r for r in ranges if r.span.overlap(span) > 0 or
                  (r.span.duration == 0 and span.start <= r.span.start <= span.end)]
        covered = sum(r.covered for r in inside)
        score = (sum(r.score * r.covered for r in inside) / covered) if covered > 0 else 0.0
        labels = tuple(dict.fromkeys(lab for r in inside for lab in r.labels))
        out.append(KeptRange(span, labels, score, min(covered, span.duration)))
    return out
