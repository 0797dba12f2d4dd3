"""Refinement: extra windows across each change place the boundary to the resolution, at a cost
that grows with the number of changes; the timeline they make; the windows of --stride."""
from __future__ import annotations

import pytest

from phar_cli.core.predictions import WindowPrediction
from phar_cli.core.refine import RefineOptions, centre, refine, window_at
from phar_cli.core.timeline import timeline
from phar_cli.core.windows import plan_strided, plan_windows
from phar_cli.spans import Span

L = 7.0


def scripted(parts: list[tuple[str, float]]):
    """An 'engine' whose window says what most of it shows (the model refinement assumes),
    with scores proportional to each label's share of the window."""
    bounds, t = [], 0.0
    for label, length in parts:
        bounds.append((label, t, t + length))
        t += length
    calls: list[Span] = []

    def analyse(spans: list[Span]) -> list[WindowPrediction]:
        calls.extend(spans)
        out = []
        for span in spans:
            share = {label: max(0.0, min(end, span.end) - max(start, span.start))
                     for label, start, end in bounds}
            total = sum(share.values()) or 1.0
            out.append(WindowPrediction(span, [(k, v / total) for k, v in share.items()]))
        return out

    return analyse, calls, t


def boundaries(pieces: list[WindowPrediction]) -> list[float]:
    return [b.span.start for a, b in zip(pieces, pieces[1:]) if a.top[0] != b.top[0]]


@pytest.mark.parametrize("offset", [0.3, 1.0, 2.2, 3.5, 4.9, 6.1, 6.8])
def test_a_boundary_anywhere_inside_a_window_is_found_to_the_resolution(offset):
    change = 14.0 + offset  # inside the third grid window
    analyse, calls, duration = scripted([("alpha", change), ("beta", 42.0 - change)])
    grid = analyse(plan_windows(duration))
    grid_calls = len(calls)
    extra = refine(grid, analyse, duration=duration, window_len=L)
    found = boundaries(timeline(grid + extra, refined=True, window_len=L))
    assert len(found) == 1 and abs(found[0] - change) <= 1.0
    assert len(calls) - grid_calls == len(extra) <= 4  # log2(7 / 1) windows, rounded up


@pytest.mark.parametrize("resolution", [0.5, 1.0, 2.0])
def test_resolution_sets_how_close(resolution):
    analyse, _, duration = scripted([("alpha", 17.3), ("beta", 20.0)])
    grid = analyse(plan_windows(duration))
    extra = refine(grid, analyse, duration=duration, window_len=L,
                   options=RefineOptions(resolution=resolution))
    found = boundaries(timeline(grid + extra, refined=True, window_len=L))
    assert abs(found[0] - 17.3) <= resolution


def test_cost_grows_with_the_changes_not_with_the_video():
    short, _, d1 = scripted([("alpha", 30.3), ("beta", 29.7)])
    long_, _, d2 = scripted([("alpha", 300.3), ("beta", 299.7)])
    extra_short = refine(short(plan_windows(d1)), short, duration=d1, window_len=L)
    extra_long = refine(long_(plan_windows(d2)), long_, duration=d2, window_len=L)
    assert len(extra_long) == len(extra_short)


def test_a_third_label_in_between_is_searched_on_both_sides():
    parts = [("alpha", 9.0), ("background", 3.0), ("gamma", 15.0)]
    analyse, _, duration = scripted(parts)
    grid = analyse(plan_windows(duration))
    extra = refine(grid, analyse, duration=duration, window_len=L)
    pieces = timeline(grid + extra, refined=True, window_len=L, background="background")
    found = boundaries(pieces)
    assert [p.top[0] for p in pieces if p.span.start in found] == ["background", "gamma"]
    assert abs(found[0] - 9.0) <= 1.0 and abs(found[1] - 12.0) <= 1.0


def test_windows_near_the_edges_stay_inside_the_video():
    assert window_at(1.0, L, 30.0) == Span(0.0, 7.0)
    assert window_at(29.0, L, 30.0) == Span(23.0, 30.0)
    assert window_at(2.0, L, 5.0) == Span(0.0, 5.0)
    assert centre(window_at(10.0, L, 30.0)) == 10.0


def test_without_changes_nothing_is_added():
    analyse, calls, duration = scripted([("alpha", 40.0)])
    grid = analyse(plan_windows(duration))
    assert refine(grid, analyse, duration=duration, window_len=L) == []


def test_bad_options_are_named():
    from phar_cli.errors import InvalidOption

    with pytest.raises(InvalidOption, match="resolution must be positive"):
        RefineOptions(resolution=0)
    with pytest.raises(InvalidOption, match="snap_to_cuts must be >= 0"):
        RefineOptions(snap_to_cuts=-1)


def test_strided_windows_cover_the_video_and_end_at_its_end():
    spans = plan_strided(20.5, 7.0, 2.0)
    assert spans[0] == Span(0.0, 7.0) and spans[1] == Span(2.0, 9.0)
    assert spans[-1] == Span(13.5, 20.5)
    assert all(s.duration == 7.0 for s in spans)
    assert plan_strided(5.0, 7.0, 1.0) == [Span(0.0, 5.0)]  # shorter than a window: the grid's
    with pytest.raises(ValueError):
        plan_strided(20, 7.0, 8.0)
