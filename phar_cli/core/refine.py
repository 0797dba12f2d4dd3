"""Where the label changes, find where to the second: extra windows of the same length, shifted
across each change, placed by bisection on the window's centre.

A window says what most of it shows, so along the centre axis the label flips where the content
does (see `timeline`). Between two windows centred at cL (label A) and cR (label B) the change
lies in (cL, cR); the window centred half-way tells which half: A moves cL there, B moves cR,
a third label C means two changes (A|C and C|B), each searched on. The search stops when the
centres are `resolution` apart, so a change costs about log2(window / resolution) windows (3 for
7 s windows at 1 s), however long the video: the cost grows with the number of changes.

Windows are analysed a round at a time (every open search's next window in one batch, through
the engine's own path, gates and fusion), so the models see batches, not single windows.
A window whose two best labels are `close` is also looked at half a window to each side, since
a change of its runner-up can hide inside it.

Two more kinds of window are looked at first, since the grid can miss what they show:
- at each change of the signal (`core/changes.py`), the window that ends there and the one that
  starts there: each holds one side only, where the models are surest. When they disagree the
  change is `confirmed`: it is where their two labels meet, and the windows that straddle it
  (whose mix of the two sides a model may call either, or a third thing) need no search. A
  stretch of a few seconds that no grid window holds most of (a pause between two actions)
  shows in them too. A change that means nothing costs the two windows and moves nothing.
  Where the next change (or the video's edge) is nearer than a window but at least `min_part`
  away, the window stops there (`one_sided`): a part shorter than a window is read alone.
  Between grid windows that disagree, every change is looked at so (the search it spares would
  cost more); elsewhere at most `PROBE_SHARE` of the grid's windows (or `PROBE_MIN`) are spent
  so, strongest changes first;
- the window that ends at the video's end, where the grid leaves a tail too short for a window
  unseen, or where its last, shorter window disagrees with the one before (the full window then
  speaks for the tail: `speaking`).
Then every two neighbouring windows that disagree, and that no confirmed change explains, are
searched.
"""
from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from phar_cli.core.changes import Change
from phar_cli.core.predictions import WindowPrediction
from phar_cli.errors import InvalidOption
from phar_cli.spans import Span

Analyse = Callable[[list[Span]], list[WindowPrediction]]
PROBE_SHARE = 0.5  # at most this many windows across signal changes, per grid window ...
PROBE_MIN = 4      # ... or this many, in a short video
EDGE = 1e-6  # window bounds are rounded to the microsecond


@dataclass(frozen=True)
class RefineOptions:
    resolution: float = 1.0     # seconds between the two windows that place a change
    snap_to_cuts: float = 1.5   # a change this close to a shot cut moves onto it (0: never)
    min_part: float = 3.0       # seconds: a shorter one-sided window is never analysed (0: all full)
    close: float = 0.1          # top-two fused margin under which a window is looked around
    max_rounds: int = 12        # a bound for the pathological (a label flipping every window)

    def __post_init__(self) -> None:
        if not self.resolution > 0:
            raise InvalidOption("resolution", f"must be positive (got {self.resolution})")
        if self.snap_to_cuts < 0:
            raise InvalidOption("snap_to_cuts", f"must be >= 0 (got {self.snap_to_cuts})")
        if self.min_part < 0:
            raise InvalidOption("min_part", f"must be >= 0 (got {self.min_part})")


def centre(w: WindowPrediction | Span) -> float:
    span = w.span if isinstance(w, WindowPrediction) else w
    return (span.start + span.end) / 2


def label(w: WindowPrediction) -> str | None:
    return w.top[0] if w.top else None


def window_at(c: float, length: float, duration: float) -> Span:
    """The window of `length` centred at `c`, moved inside the video (so its centre may move)."""
    start = min(max(c - length / 2, 0.0), max(duration - length, 0.0))
    return Span(round(start, 6), round(min(start + length, duration), 6))


def speaking(windows: Sequence[WindowPrediction],
             window_len: float | None) -> list[WindowPrediction]:
    """`windows` without the short ones (the grid's last, when the video does not end on the
    grid) that a full-length window covers: a window shorter than the models were trained on
    says less than one that holds the same time."""
    if not window_len:
        return list(windows)
    full = [w.span for w in windows if w.span.duration >= window_len - EDGE]
    return [w for w in windows if w.span.duration >= window_len - EDGE or not any(
        f.start <= w.span.start + EDGE and f.end >= w.span.end - EDGE for f in full)]


def refine(grid: Sequence[WindowPrediction], analyse: Analyse, *, duration: float,
           window_len: float, options: RefineOptions = RefineOptions(),
           progress: Callable[[int], None] | None = None,
           changes: Sequence[Change] = ()) -> list[WindowPrediction]:
    """The extra windows that place every change of label in `grid` to `options.resolution`,
    having looked across the signal `changes` first (see the module)."""
    grid = sorted(grid, key=centre)
    known = {(w.span.start, w.span.end): w for w in grid}
    extra: list[WindowPrediction] = []
    first: list[Span] = []  # looked at before any search
    for i, w in enumerate(grid):
        if len(w.scores) > 1 and w.scores[0][1] - w.scores[1][1] < options.close:
            for side, neighbour in ((-1, grid[i - 1] if i else None),
                                    (1, grid[i + 1] if i + 1 < len(grid) else None)):
                if neighbour is not None and label(neighbour) != label(w):
                    continue  # a search covers that side already
                span = window_at(centre(w) + side * window_len / 2, window_len, duration)
                if abs(centre(span) - centre(w)) > options.resolution:
                    first.append(span)
    first += _across(changes, grid, duration, window_len,
                     max(PROBE_MIN, math.ceil(PROBE_SHARE * len(grid))), options.min_part)
    if duration >= window_len and grid and (grid[-1].span.end < duration - EDGE or (
            grid[-1].span.duration < window_len - EDGE and len(grid) > 1
            and label(grid[-1]) != label(grid[-2]))):
        first.append(window_at(duration, window_len, duration))

    def run(spans: list[Span]) -> list[WindowPrediction]:
        wanted = [s for s in dict.fromkeys((s.start, s.end) for s in spans) if s not in known]
        if wanted:
            for w in analyse([Span(*s) for s in wanted]):
                known[(w.span.start, w.span.end)] = w
                extra.append(w)
            if progress:
                progress(len(extra))
        return [known[(s.start, s.end)] for s in spans]

    if first:
        run(first)
    seen = sorted(speaking(list(known.values()), window_len), key=centre)
    sure = [c.time for c in confirmed(list(known.values()), [c.time for c in changes],
                                      window_len, duration, options.min_part)]
    searches = [(a, b) for a, b in zip(seen, seen[1:]) if label(a) != label(b)
                and not any(max(abs(centre(a) - t), abs(centre(b) - t)) <= window_len / 2 + EDGE
                            for t in sure)]
    for _ in range(options.max_rounds):
        open_ = [(a, b) for a, b in searches if centre(b) - centre(a) > options.resolution]
        if not open_:
            break
        probes = [window_at((centre(a) + centre(b)) / 2, window_len, duration) for a, b in open_]
        searches = []
        for (a, b), probe, w in zip(open_, probes, run(probes)):
            if not centre(a) < centre(probe) < centre(b):
                continue  # pressed against the video's edge: as close as it gets
            if label(w) == label(a):
                searches.append((w, b))
            elif label(w) == label(b):
                searches.append((a, w))
            else:
                searches += [(a, w), (w, b)]
    return sorted(extra, key=centre)


@dataclass(frozen=True)
class Confirmed:
    """A signal change whose two one-sided windows disagree."""

    time: float
    before: WindowPrediction  # the window that ends at `time`
    after: WindowPrediction   # the window that starts there


def confirmed(windows: Sequence[WindowPrediction], changes: Sequence[float],
              window_len: float | None, duration: float = math.inf,
              min_part: float = 0.0) -> list[Confirmed]:
    """The `changes` (s) at which the window ending there and the one starting there
    (`one_sided`) were both analysed and have different top labels, in time order."""
    if not window_len:
        return []
    by_span = {(round(w.span.start, 3), round(w.span.end, 3)): w for w in windows}
    times = sorted(changes)
    out = []
    for t in times:
        spans = one_sided(t, times, duration, window_len, min_part)
        before, after = (by_span.get((round(s.start, 3), round(s.end, 3))) if s else None
                         for s in spans)
        if before is not None and after is not None and label(before) != label(after):
            out.append(Confirmed(t, before, after))
    return out


def one_sided(t: float, changes: Sequence[float], duration: float, window_len: float,
              min_part: float) -> tuple[Span | None, Span | None]:
    """The windows that end and start at the change `t` (`changes` sorted): a window long, or,
    with `min_part`, only as far as the next change or the video's edge where that is nearer
    but at least `min_part` away (a part shorter than a window is then read alone, the same
    window ending at one of its changes and starting at the other). Nearer changes are passed
    over (their part is too short to read alone); None where no window fits."""
    if not min_part:  # every window a window long (analyses made before --min-part)
        return (Span(round(t - window_len, 6), round(t, 6)) if t >= window_len - EDGE else None,
                Span(round(t, 6), round(t + window_len, 6))
                if t + window_len <= duration + EDGE else None)
    k = bisect.bisect_left(changes, t)
    earlier = [c for c in changes[:k] if c <= t - min_part + EDGE]
    later = [c for c in changes[k:] if c >= t + min_part - EDGE]
    start = max(t - window_len, earlier[-1] if earlier else 0.0, 0.0)
    end = min(t + window_len, later[0] if later else duration, duration)
    return (Span(round(start, 6), round(t, 6)) if t - start >= min_part - EDGE else None,
            Span(round(t, 6), round(end, 6)) if end - t >= min_part - EDGE else None)


def _across(changes: Sequence[Change], grid: Sequence[WindowPrediction], duration: float,
             window_len: float, budget: int, min_part: float) -> list[Span]:
    """The windows that end and start at each signal change (`one_sided`). Changes between grid
    windows that disagree are all looked at (their two windows replace the search's); the
    others, where the grid saw nothing change, strongest first while `budget` windows last."""
    centres = [centre(w) for w in grid]
    times = sorted(c.time for c in changes)
    spans: list[Span] = []
    spent = 0
    for change in sorted(changes, key=lambda c: -c.strength):
        k = bisect.bisect_left(centres, change.time)
        searched = 0 < k < len(grid) and label(grid[k - 1]) != label(grid[k])
        if min_part:
            pair = one_sided(change.time, times, duration, window_len, min_part)
        else:  # near the video's ends, the window pressed inside it (as before --min-part)
            pair = (window_at(change.time - window_len / 2, window_len, duration),
                    window_at(change.time + window_len / 2, window_len, duration))
        new = [s for s in pair if s is not None and s not in spans]
        if not searched:
            if spent + len(new) > budget:
                continue
            spent += len(new)
        spans += new
    return spans
