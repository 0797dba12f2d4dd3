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
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from phar_cli.core.predictions import WindowPrediction
from phar_cli.errors import InvalidOption
from phar_cli.spans import Span

Analyse = Callable[[list[Span]], list[WindowPrediction]]


@dataclass(frozen=True)
class RefineOptions:
    resolution: float = 1.0     # seconds between the two windows that place a change
    snap_to_cuts: float = 1.5   # a change this close to a shot cut moves onto it (0: never)
    close: float = 0.1          # top-two fused margin under which a window is looked around
    max_rounds: int = 12        # a bound for the pathological (a label flipping every window)

    def __post_init__(self) -> None:
        if not self.resolution > 0:
            raise InvalidOption("resolution", f"must be positive (got {self.resolution})")
        if self.snap_to_cuts < 0:
            raise InvalidOption("snap_to_cuts", f"must be >= 0 (got {self.snap_to_cuts})")


def centre(w: WindowPrediction | Span) -> float:
    span = w.span if isinstance(w, WindowPrediction) else w
    return (span.start + span.end) / 2


def label(w: WindowPrediction) -> str | None:
    return w.top[0] if w.top else None


def window_at(c: float, length: float, duration: float) -> Span:
    """The window of `length` centred at `c`, moved inside the video (so its centre may move)."""
    start = min(max(c - length / 2, 0.0), max(duration - length, 0.0))
    return Span(round(start, 6), round(min(start + length, duration), 6))


def refine(grid: Sequence[WindowPrediction], analyse: Analyse, *, duration: float,
           window_len: float, options: RefineOptions = RefineOptions(),
           progress: Callable[[int], None] | None = None) -> list[WindowPrediction]:
    """The extra windows that place every change of label in `grid` to `options.resolution`."""
    grid = sorted(grid, key=centre)
    known = {(w.span.start, w.span.end): w for w in grid}
    extra: list[WindowPrediction] = []
    searches: list[tuple[WindowPrediction, WindowPrediction]] = []
    looks: list[tuple[WindowPrediction, Span]] = []  # a close window, and a span beside it
    for i, w in enumerate(grid):
        if i + 1 < len(grid) and label(w) != label(grid[i + 1]):
            searches.append((w, grid[i + 1]))
        if len(w.scores) > 1 and w.scores[0][1] - w.scores[1][1] < options.close:
            for side, neighbour in ((-1, grid[i - 1] if i else None),
                                    (1, grid[i + 1] if i + 1 < len(grid) else None)):
                if neighbour is not None and label(neighbour) != label(w):
                    continue  # a search covers that side already
                span = window_at(centre(w) + side * window_len / 2, window_len, duration)
                if abs(centre(span) - centre(w)) > options.resolution:
                    looks.append((w, span))

    def run(spans: list[Span]) -> list[WindowPrediction]:
        wanted = [s for s in dict.fromkeys((s.start, s.end) for s in spans) if s not in known]
        if wanted:
            for w in analyse([Span(*s) for s in wanted]):
                known[(w.span.start, w.span.end)] = w
                extra.append(w)
            if progress:
                progress(len(extra))
        return [known[(s.start, s.end)] for s in spans]

    if looks:
        for (w, _), beside in zip(looks, run([span for _, span in looks])):
            if label(beside) != label(w):
                searches.append((w, beside) if centre(w) < centre(beside) else (beside, w))
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
