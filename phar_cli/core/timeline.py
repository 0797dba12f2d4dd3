"""The analysis as a timeline: consecutive pieces of the video, each labelled by the window that
decides it. Segments, tags, the filter and the demo all read this, never the windows directly.

Each analysed window (the grid, and the extra windows refinement adds) speaks for the time
around its centre: a window whose content is mostly A says A, so where windows centred at c1 and
c2 disagree, the change lies between c1 and c2 and is placed half-way. Pieces therefore end
half-way between the centres of consecutive windows, except where two windows only touch (the
plain grid), where they end at the shared edge: without extra windows the timeline is exactly
the grid, as before refinement existed.

With refinement these rules follow (`refined=True`):
- a window shorter than the others (the grid's last) that a full window covers yields to it
  (`refine.speaking`);
- at a confirmed change of the signal (`refine.confirmed`: the windows ending and starting there
  disagree) the labels of those two one-sided windows meet: they speak for the time up to half
  a window either side (or half-way to the next confirmed change; all through a one-sided
  window cut short by the next change or the video's edge, `--min-part`), where only windows
  that straddle the change, and so mix its two sides, would speak otherwise;
- a run of a third label between two other labels that is shorter than a window is what windows
  straddling the two sides say (a mix of two actions can look like a third), not an action: no
  window saw it alone. Its time goes to its neighbours, split at its middle. Background is never
  such a third label (a short pause is real), nor is a run inside one label (A, C, A: no two
  sides to mix), nor one that a one-sided window of a confirmed change read alone;
- a boundary within `snap` seconds of a shot cut moves onto the cut; else, within `snap`
  seconds of a change of the sound or picture (`core/changes.py`), onto the change: the models'
  windows place a change to a second or so, the signal to a tenth where it shows one.
"""
from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from phar_cli.core.content import painted
from phar_cli.core.predictions import Analysis, WindowPrediction
from phar_cli.core.refine import EDGE, Confirmed, confirmed, speaking
from phar_cli.spans import SAME_TIME, Span


@dataclass
class _Run:
    label: str | None
    pieces: list[WindowPrediction]

    @property
    def start(self) -> float:
        return self.pieces[0].span.start

    @property
    def end(self) -> float:
        return self.pieces[-1].span.end


def timeline(windows: Sequence[WindowPrediction], *, refined: bool = False,
             window_len: float | None = None, background: str | None = None,
             cuts: Sequence[float] = (), changes: Sequence[float] = (),
             snap: float = 0.0, duration: float = math.inf,
             min_part: float = 0.0) -> list[WindowPrediction]:
    """Pieces in time order that cover the windows' extent without overlap (see the module)."""
    sure = confirmed(windows, changes, window_len, duration, min_part) if refined else []
    windows = speaking(windows, window_len) if refined else windows
    ordered = sorted({(w.span.start, w.span.end): w for w in windows}.values(),
                     key=lambda w: (w.span.start + w.span.end, w.span.start))
    if not ordered:
        return []
    starts, ends = [ordered[0].span.start], []
    for a, b in zip(ordered, ordered[1:]):
        if b.span.start > a.span.end + EDGE:  # time no window covers stays uncovered
            end, start = a.span.end, b.span.start
        elif b.span.start >= a.span.end - EDGE:  # windows that touch: the grid's edge
            end = start = b.span.start
        else:  # overlapping: half-way between the centres, inside the overlap
            middle = (a.span.start + a.span.end + b.span.start + b.span.end) / 4
            end = start = round(min(max(middle, b.span.start), a.span.end), 6)
        ends.append(end)
        starts.append(start)
    ends.append(max(w.span.end for w in ordered))
    pieces = [replace(w, span=Span(start, end))
              for w, start, end in zip(ordered, starts, ends) if end - start > EDGE]
    if not refined:
        return pieces
    if sure:
        pieces = _one_sided(pieces, sure, window_len / 2)
    runs = _runs(pieces)
    if window_len:
        runs = _without_straddles(runs, window_len, background, sure)
    if snap > 0 and (cuts or changes):
        runs = _snapped(runs, sorted(cuts), sorted(changes), snap)
    return [p for run in runs for p in run.pieces]


def timeline_of(analysis: Analysis) -> list[WindowPrediction]:
    """The timeline of an analysis, with the refinement and cuts it was made with, and its
    content-free time as background where the content stream's rule says (`core/content.py`)."""
    refined = analysis.config.get("refine") or {}
    pieces = timeline(analysis.windows + analysis.extra, refined=bool(refined),
                      window_len=analysis.config.get("subclip_len"),
                      background=analysis.background, cuts=analysis.cuts,
                      changes=analysis.changes, snap=float(refined.get("snap_to_cuts", 0.0)),
                      duration=analysis.video.duration,
                      min_part=float(refined.get("min_part", 0.0)))
    if analysis.content is not None and analysis.background:
        pieces = painted(pieces, analysis.content, analysis.background)
    return pieces


def _one_sided(pieces: list[WindowPrediction], sure: list[Confirmed],
               half: float) -> list[WindowPrediction]:
    """The pieces near each confirmed change (nearer it than the next) replaced by the window on
    their side of it: within `half` of it, or all through a window shorter than 2 x `half` (one
    bounded by another change or the video's edge reads its whole span alone)."""
    for k, c in enumerate(sure):
        before, after = c.before.span, c.after.span
        lo = max(before.start if before.duration < 2 * half - EDGE else c.time - half,
                 (sure[k - 1].time + c.time) / 2 if k else -math.inf)
        hi = min(after.end if after.duration < 2 * half - EDGE else c.time + half,
                 (c.time + sure[k + 1].time) / 2 if k + 1 < len(sure) else math.inf)
        pieces = _painted(_painted(pieces, lo, c.time, c.before), c.time, hi, c.after)
    return pieces


def _painted(pieces: list[WindowPrediction], start: float, end: float,
             w: WindowPrediction) -> list[WindowPrediction]:
    """`pieces` with the time they cover inside [start, end) given to `w`."""
    out = []
    for p in pieces:
        s, e = p.span.start, p.span.end
        if e <= start + EDGE or s >= end - EDGE:
            out.append(p)
            continue
        if s < start - EDGE:
            out.append(replace(p, span=Span(s, round(start, 6))))
        out.append(replace(w, span=Span(round(max(s, start), 6), round(min(e, end), 6))))
        if e > end + EDGE:
            out.append(replace(p, span=Span(round(end, 6), e)))
    return out


def _label(w: WindowPrediction) -> str | None:
    return w.top[0] if w.top else None


def _runs(pieces: list[WindowPrediction]) -> list[_Run]:
    runs: list[_Run] = []
    for p in pieces:
        if runs and runs[-1].label == _label(p):
            runs[-1].pieces.append(p)
        else:
            runs.append(_Run(_label(p), [p]))
    return runs


def _without_straddles(runs: list[_Run], shortest: float, background: str | None,
                       sure: Sequence[Confirmed] = ()) -> list[_Run]:
    """Runs of a third label shorter than `shortest`, between two others, given to them; not a
    run that starts or ends at a confirmed change (`sure`) whose window on the run's side says
    the run's label: that window held the run's side only, so it saw the run, not a mix."""
    def seen_alone(run: _Run) -> bool:
        return any((abs(c.time - run.start) <= SAME_TIME and _label(c.after) == run.label)
                   or (abs(c.time - run.end) <= SAME_TIME and _label(c.before) == run.label)
                   for c in sure)

    out = list(runs)
    i = 1
    while i < len(out) - 1:
        run, before, after = out[i], out[i - 1], out[i + 1]
        if (before.label != after.label
                and run.label not in (before.label, after.label, background, None)
                and run.end - run.start < shortest - SAME_TIME and not seen_alone(run)):
            split = _crossing(run, before.label, after.label)
            if split > run.start + EDGE:
                before.pieces.append(replace(before.pieces[-1], span=Span(run.start, split)))
            if split < run.end - EDGE:
                after.pieces.insert(0, replace(after.pieces[0], span=Span(split, run.end)))
            del out[i]
            continue
        i += 1
    return out


def _crossing(run: _Run, left: str | None, right: str | None) -> float:
    """Where, inside a straddling run, the windows start to favour the right-hand label over the
    left-hand one (the run's middle when they never disagree about which is ahead)."""
    for p in run.pieces:
        scores = dict(p.scores)
        if scores.get(right, 0.0) > scores.get(left, 0.0):
            return p.span.start
    return round((run.start + run.end) / 2, 6)


def _snapped(runs: list[_Run], cuts: list[float], changes: list[float],
             snap: float) -> list[_Run]:
    """Each boundary between runs moved onto the nearest cut within `snap` seconds (else the
    nearest change), when it lies inside the two runs it separates."""
    for left, right in zip(runs, runs[1:]):
        t = right.start
        inside = [c for c in (_nearest(cuts, t, snap), _nearest(changes, t, snap))
                  if c is not None and left.start + SAME_TIME < c < right.end - SAME_TIME]
        if inside and abs(inside[0] - t) > EDGE:
            _move_boundary(left, right, inside[0])
    return runs


def _nearest(times: list[float], t: float, reach: float) -> float | None:
    k = bisect.bisect_left(times, t)
    near = [c for c in times[max(k - 1, 0):k + 1] if abs(c - t) <= reach + SAME_TIME]
    return min(near, key=lambda c: abs(c - t)) if near else None


def _move_boundary(left: _Run, right: _Run, cut: float) -> None:
    def clipped(pieces: list[WindowPrediction], start: float, end: float) -> list[WindowPrediction]:
        out = []
        for p in pieces:
            s, e = max(p.span.start, start), min(p.span.end, end)
            if e - s > EDGE:
                out.append(replace(p, span=Span(s, e)))
        return out

    if cut > right.start:  # the left run grows into the right one
        left.pieces[-1] = replace(left.pieces[-1], span=Span(left.pieces[-1].span.start, cut))
        right.pieces = clipped(right.pieces, cut, right.end)
    else:
        right.pieces[0] = replace(right.pieces[0], span=Span(cut, right.pieces[0].span.end))
        left.pieces = clipped(left.pieces, left.start, cut)
