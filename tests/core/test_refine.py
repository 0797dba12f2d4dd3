"""Refinement: extra windows across each change place the boundary to the resolution, at a cost
that grows with the number of changes; the timeline they make; the windows of --stride."""
from __future__ import annotations

import numpy as np
import pytest

from phar_cli.core.changes import Change
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
            share: dict[str, float] = {}
            for label, start, end in bounds:  # a label may come back: its parts add up
                inside = max(0.0, min(end, span.end) - max(start, span.start))
                share[label] = share.get(label, 0.0) + inside
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


def glimpsing(parts: list[tuple[str, float]], background: str = "background", favour: str = ""):
    """An 'engine' whose model says an action when it sees any of it (a glimpse of alpha in a
    window of nothing reads as alpha) and, between two actions, `favour` when it sees any of it:
    the bias of real models that refinement alone cannot undo."""
    analyse, calls, duration = scripted(parts)

    def biased(spans: list[Span]) -> list[WindowPrediction]:
        out = []
        for w in analyse(spans):
            shares = dict(w.scores)
            actions = {k: v for k, v in shares.items() if k != background and v > 0}
            if favour in actions:
                top = favour
            elif actions:
                top = max(actions, key=actions.get)
            else:
                top = background
            out.append(WindowPrediction(w.span, [(top, 0.9)] + [
                (k, 0.1 / len(shares)) for k in shares if k != top]))
        return out

    return biased, calls, duration


def change_list(*times: float):
    return [Change(t, 2.0) for t in times]


def test_a_pause_no_grid_window_holds_is_found_across_the_signal_changes():
    parts = [("alpha", 10.0), ("background", 8.0), ("alpha", 13.0)]  # 10-18 s: nothing
    analyse, _, duration = glimpsing(parts)
    grid = analyse(plan_windows(duration))
    assert {w.top[0] for w in grid} == {"alpha"}  # every grid window glimpses the action
    missed = refine(grid, analyse, duration=duration, window_len=L)
    assert "background" not in {w.top[0] for w in missed}
    changes = change_list(10.0, 18.0)
    extra = refine(grid, analyse, duration=duration, window_len=L, changes=changes)
    pieces = timeline(grid + extra, refined=True, window_len=L, background="background",
                      changes=[c.time for c in changes], snap=1.5)
    assert boundaries(pieces) == [10.0, 18.0]
    assert [p.top[0] for p in pieces if p.span.start in (10.0, 18.0)] == ["background", "alpha"]


@pytest.mark.parametrize("change", [16.2, 19.0, 22.6])
def test_a_confirmed_change_places_the_boundary_whatever_the_straddling_windows_say(change):
    parts = [("alpha", change), ("beta", 42.0 - change)]
    analyse, calls, duration = glimpsing(parts, favour="beta")  # a glimpse of beta reads as beta
    grid = analyse(plan_windows(duration))
    before = len(calls)
    alone = refine(grid, analyse, duration=duration, window_len=L)
    off = boundaries(timeline(grid + alone, refined=True, window_len=L))[0]
    assert change - off > 1.5  # bisection finds where the model flips: a glimpse early
    calls.clear()
    extra = refine(grid, analyse, duration=duration, window_len=L, changes=change_list(change))
    assert len(calls) == len(extra) == 2  # the two one-sided windows replace the search
    found = boundaries(timeline(grid + extra, refined=True, window_len=L, changes=[change]))
    assert found == [change]
    assert before  # the grid ran


def test_changes_where_the_grid_agrees_cost_a_bounded_share_of_the_grid():
    from phar_cli.core.refine import PROBE_MIN, PROBE_SHARE

    analyse, calls, duration = scripted([("alpha", 140.0)])
    grid = analyse(plan_windows(duration))
    noisy = [Change(t, 1.0 + t / 1000) for t in np.arange(5.0, 135.0, 2.5)]
    extra = refine(grid, analyse, duration=duration, window_len=L, changes=noisy)
    assert len(extra) <= max(PROBE_MIN, PROBE_SHARE * len(grid))
    assert {w.top[0] for w in extra} == {"alpha"}  # changes that mean nothing move nothing


def test_a_tail_too_short_for_the_grid_is_seen_by_a_window_ending_at_the_end():
    analyse, _, duration = scripted([("alpha", 30.0), ("beta", 6.5)])  # 36.5 s: 35-36.5 unseen
    grid = analyse(plan_windows(duration))
    assert grid[-1].span.end == 35.0
    extra = refine(grid, analyse, duration=duration, window_len=L)
    pieces = timeline(grid + extra, refined=True, window_len=L)
    assert pieces[-1].span.end == duration and pieces[-1].top[0] == "beta"
    assert Span(29.5, 36.5) in [w.span for w in extra]


def test_a_short_last_window_yields_to_the_full_one_that_covers_it():
    analyse, _, duration = scripted([("alpha", 33.0), ("beta", 5.0)])  # the last window: 35-38
    grid = analyse(plan_windows(duration))
    assert grid[-1].span == Span(35.0, 38.0)
    pieces = timeline(grid + analyse([Span(31.0, 38.0)]), refined=True, window_len=L)
    assert Span(35.0, 38.0) not in [p.span for p in pieces]  # the full window speaks instead
    assert pieces[-1].span.end == 38.0


def _short_part_pieces(parts, changes, min_part=RefineOptions.min_part):
    analyse, calls, duration = glimpsing(parts, favour="beta")  # straddles read as beta
    grid = analyse(plan_windows(duration))
    options = RefineOptions(min_part=min_part)
    extra = refine(grid, analyse, duration=duration, window_len=L, options=options,
                   changes=change_list(*changes))
    return timeline(grid + extra, refined=True, window_len=L, background="background",
                    changes=changes, duration=duration, min_part=min_part)


def runs(pieces: list[WindowPrediction]) -> list[tuple[str, float, float]]:
    out: list[list] = []
    for p in pieces:
        if out and out[-1][0] == p.top[0]:
            out[-1][2] = p.span.end
        else:
            out.append([p.top[0], p.span.start, p.span.end])
    return [(label, round(a, 6), round(b, 6)) for label, a, b in out]


@pytest.mark.parametrize("start", [9.3, 12.8, 16.1])
def test_a_part_shorter_than_a_window_between_two_others_is_read_alone(start):
    """4 s of gamma between alpha and beta: no window of 7 s holds most of it, and every window
    across it reads as beta; the window from one of its changes to the other reads it."""
    parts = [("alpha", start), ("gamma", 4.0), ("beta", 35.0 - start)]
    right = [("alpha", 0.0, start), ("gamma", start, start + 4.0), ("beta", start + 4.0, 39.0)]
    assert runs(_short_part_pieces(parts, [start, start + 4.0])) == right
    # with full windows only (--min-part 0) the straddling windows' reading wins somewhere
    assert runs(_short_part_pieces(parts, [start, start + 4.0], min_part=0.0)) != right


def test_a_short_part_at_the_start_and_one_below_min_part():
    parts = [("gamma", 3.6), ("alpha", 20.0), ("delta", 2.0), ("alpha", 14.0)]
    pieces = _short_part_pieces(parts, [3.6, 23.6, 25.6])
    assert runs(pieces)[0] == ("gamma", 0.0, 3.6)
    # 2 s is under --min-part: never read alone, its time goes to the windows around it
    assert "delta" not in {p.top[0] for p in pieces}


def test_one_sided_windows_stop_at_the_next_change_or_the_edge():
    from phar_cli.core.refine import one_sided

    changes = [3.6, 12.0, 16.0, 17.5]
    assert one_sided(3.6, changes, 40.0, L, 3.0) == (Span(0.0, 3.6), Span(3.6, 10.6))
    assert one_sided(12.0, changes, 40.0, L, 3.0) == (Span(5.0, 12.0), Span(12.0, 16.0))
    # 17.5 is 1.5 s after 16: too near to bound a window, passed over
    assert one_sided(16.0, changes, 40.0, L, 3.0) == (Span(12.0, 16.0), Span(16.0, 23.0))
    assert one_sided(1.0, [1.0], 40.0, L, 3.0) == (None, Span(1.0, 8.0))
    assert one_sided(38.0, [38.0], 40.0, L, 3.0) == (Span(31.0, 38.0), None)
    # min_part 0: the rule of analyses made before it, every window a window long
    assert one_sided(3.6, changes, 40.0, L, 0.0) == (None, Span(3.6, 10.6))
