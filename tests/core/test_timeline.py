"""The timeline: the grid unchanged, half-way between overlapping windows, gaps kept, straddles
given to their two sides, boundaries onto shot cuts; and what segments, tags and the filter
make of it."""
from __future__ import annotations

from phar_cli.core.cutlist import CutOptions, plan_cut
from phar_cli.core.predictions import Analysis, VideoMeta, WindowPrediction
from phar_cli.core.segments import segments_of
from phar_cli.core.tags import video_tags
from phar_cli.core.timeline import timeline
from phar_cli.spans import Span

LABELS = ["alpha", "beta", "gamma", "background"]


def w(start: float, end: float, label: str, score: float = 0.9) -> WindowPrediction:
    rest = [(x, round((1 - score) / 3, 6)) for x in LABELS if x != label]
    return WindowPrediction(Span(start, end), [(label, score), *rest])


def spans(pieces):
    return [(p.span.start, p.span.end, p.top[0]) for p in pieces]


def test_the_grid_is_its_own_timeline():
    grid = [w(0, 7, "alpha"), w(7, 14, "beta"), w(14, 19.5, "beta")]
    assert timeline(grid) == grid
    assert timeline(grid, refined=True, window_len=7) == grid


def test_overlapping_windows_meet_half_way_between_centres():
    pieces = timeline([w(0, 7, "alpha"), w(7, 14, "beta"), w(5.25, 12.25, "alpha")])
    # centres 3.5, 8.75, 10.5: edges (3.5 + 8.75) / 2 and (8.75 + 10.5) / 2
    assert spans(pieces) == [(0, 6.125, "alpha"), (6.125, 9.625, "alpha"), (9.625, 14, "beta")]


def test_time_no_window_covers_stays_a_gap():
    assert spans(timeline([w(0, 7, "alpha"), w(10, 17, "alpha")])) == [
        (0, 7, "alpha"), (10, 17, "alpha")]


def test_a_short_third_label_between_two_others_is_a_straddle():
    pieces = [w(0, 10, "alpha"), w(10, 13, "gamma"), w(13, 25, "beta")]
    refined = timeline(pieces, refined=True, window_len=7)
    assert [p.top[0] for p in refined] == ["alpha", "alpha", "beta", "beta"]
    assert spans(refined)[1][1] == 11.5  # split at the middle when no window leans either way
    assert spans(timeline(pieces)) == spans(pieces)  # without refinement: as the windows say


def test_a_straddle_splits_where_the_windows_start_to_favour_the_right():
    straddle = [WindowPrediction(Span(10, 11), [("gamma", 0.5), ("alpha", 0.3), ("beta", 0.2)]),
                WindowPrediction(Span(11, 13), [("gamma", 0.5), ("beta", 0.3), ("alpha", 0.2)])]
    refined = timeline([w(0, 10, "alpha"), *straddle, w(13, 25, "beta")], refined=True,
                       window_len=7)
    assert [(s, e, label) for s, e, label in spans(refined)] == [
        (0, 10, "alpha"), (10, 11, "alpha"), (11, 13, "beta"), (13, 25, "beta")]


def test_what_is_not_a_straddle_stays():
    long_third = [w(0, 10, "alpha"), w(10, 18, "gamma"), w(18, 30, "beta")]  # a window long
    assert [p.top[0] for p in timeline(long_third, refined=True, window_len=7)] == [
        "alpha", "gamma", "beta"]
    pause = [w(0, 10, "alpha"), w(10, 12, "background"), w(12, 30, "beta")]
    assert [p.top[0] for p in timeline(pause, refined=True, window_len=7,
                                       background="background")] == ["alpha", "background", "beta"]
    inside = [w(0, 10, "alpha"), w(10, 12, "gamma"), w(12, 30, "alpha")]
    assert [p.top[0] for p in timeline(inside, refined=True, window_len=7)] == [
        "alpha", "gamma", "alpha"]


def test_boundaries_snap_to_a_shot_cut_within_reach():
    pieces = [w(0, 10.4, "alpha"), w(10.4, 30, "beta")]
    snapped = timeline(pieces, refined=True, window_len=7, cuts=[9.5, 20.0], snap=1.5)
    assert spans(snapped) == [(0, 9.5, "alpha"), (9.5, 30, "beta")]
    later = timeline(pieces, refined=True, window_len=7, cuts=[11.8], snap=1.5)
    assert spans(later) == [(0, 11.8, "alpha"), (11.8, 30, "beta")]
    assert spans(timeline(pieces, refined=True, window_len=7, cuts=[12.5], snap=1.5)) == \
        spans(pieces)  # too far
    assert spans(timeline(pieces, refined=True, window_len=7, cuts=[9.5], snap=0)) == spans(pieces)


def analysis(windows, extra=(), refine=True, background="background") -> Analysis:
    config = {"subclip_len": 7.0, "background": background}
    if refine:
        config["refine"] = {"resolution": 1.0, "snap_to_cuts": 1.5}
    return Analysis(VideoMeta("v.mp4", 30.0, 25.0, 160, 120), LABELS, list(windows), config,
                    list(extra), [])


def test_segments_tags_and_filter_read_the_refined_timeline_without_background():
    grid = [w(0, 7, "alpha"), w(7, 14, "alpha"), w(14, 21, "background"), w(21, 28, "beta"),
            w(28, 30, "beta")]
    extra = [w(10.5, 17.5, "background")]  # centre 14: alpha ends half-way to 10.5 + 3.5 ...
    a = analysis(grid, extra)
    found = [(s.label, s.start, s.end) for s in segments_of(a)]
    assert found == [("alpha", 0.0, 12.25), ("beta", 21.0, 30.0)]
    assert [(s.label, s.start, s.end) for s in segments_of(a, background=True)][1] == (
        "background", 12.25, 21.0)
    assert {t.label for t in video_tags(a)} == {"alpha", "beta"}
    plan = plan_cut(a, CutOptions())
    assert [(r.span.start, r.span.end) for r in plan.ranges] == [(0.0, 12.25), (21.0, 30.0)]
    assert any("background" in d.reason for d in plan.decisions if not d.kept)


def test_a_custom_background_name_is_no_action_either():
    grid = [w(0, 7, "alpha"), w(7, 14, "gamma")]
    a = analysis(grid, refine=False, background="gamma")
    assert [s.label for s in segments_of(a)] == ["alpha"]
    plan = plan_cut(a, CutOptions(nonsexual=()))
    assert [(r.span.start, r.span.end) for r in plan.ranges] == [(0.0, 7.0)]


def test_boundaries_snap_to_a_change_of_the_signal_and_a_cut_comes_first():
    pieces = [w(0, 10.4, "alpha"), w(10.4, 30, "beta")]
    assert spans(timeline(pieces, refined=True, window_len=7, changes=[11.2], snap=1.5)) == [
        (0, 11.2, "alpha"), (11.2, 30, "beta")]
    both = timeline(pieces, refined=True, window_len=7, cuts=[9.5], changes=[10.6], snap=1.5)
    assert spans(both) == [(0, 9.5, "alpha"), (9.5, 30, "beta")]
    assert spans(timeline(pieces, refined=True, window_len=7, changes=[12.5], snap=1.5)) == \
        spans(pieces)  # too far, and not confirmed by windows on its two sides


def test_at_a_confirmed_change_the_one_sided_windows_speak_for_the_straddling_time():
    # grid windows that straddle 12.0 lean to beta (a glimpse of it is enough for the model);
    # the windows ending and starting at the change say alpha and beta
    windows = [w(0, 7, "alpha"), w(7, 14, "beta"), w(14, 21, "beta"), w(5, 12, "alpha"),
               w(12, 19, "beta"), w(8.75, 15.75, "beta")]
    def change_at(pieces):
        return [b.span.start for a, b in zip(pieces, pieces[1:]) if a.top[0] != b.top[0]]

    # half-way between the centres 8.5 (alpha) and 10.5 (beta): 2.5 s early, and too far to snap
    assert change_at(timeline(windows, refined=True, window_len=7)) == [9.5]
    pieces = timeline(windows, refined=True, window_len=7, changes=[12.0])
    assert change_at(pieces) == [12.0]
    assert spans(pieces)[0] == (0, 6.0, "alpha") and spans(pieces)[-1] == (16.5, 21, "beta")
    # a change whose two sides agree confirms nothing
    agreeing = [w(0, 7, "alpha"), w(7, 14, "alpha"), w(0.5, 7.5, "alpha"), w(7.5, 14.5, "alpha")]
    assert spans(timeline(agreeing, refined=True, window_len=7, changes=[7.5])) == spans(
        timeline(agreeing, refined=True, window_len=7))
