"""The cut list: which windows `phar filter` keeps and how they are smoothed into ranges."""
from __future__ import annotations

import pytest

from phar_cli.core.cutlist import (CutOptions, check_labels, plan_cut, regroup,
                                   snap_to_keyframes)
from phar_cli.spans import Span
from phar_cli.errors import UsageError

from tests.mediacheck import hand_analysis

LABELS = ["doggy", "kissing", "blowjob", "other"]


def analysis(tops, window=2.0, duration=None):
    duration = len(tops) * window if duration is None else duration
    return hand_analysis("v.mp4", duration, tops, window, LABELS)


def spans(plan):
    return [(round(r.span.start, 6), round(r.span.end, 6)) for r in plan.ranges]


K, D = ("doggy", 0.9), ("doggy", 0.2)   # kept / under the default threshold


def test_default_drops_windows_under_the_threshold_first_and_last_kept():
    plan = plan_cut(analysis([K, D, K, K, D, K]), CutOptions())
    assert spans(plan) == [(0, 2), (4, 8), (10, 12)]
    assert [d.kept for d in plan.decisions] == [True, False, True, True, False, True]
    assert plan.decisions[1].reason == "under --threshold 0.50"
    assert plan.kept_seconds == 8


def test_threshold_is_inclusive_and_adjustable():
    tops = [("doggy", 0.5), ("doggy", 0.49)]
    assert spans(plan_cut(analysis(tops), CutOptions())) == [(0, 2)]
    assert spans(plan_cut(analysis(tops), CutOptions(threshold=0.4))) == [(0, 4)]


def test_non_sexual_label_is_dropped_even_when_confident():
    plan = plan_cut(analysis([K, ("other", 0.95), K]), CutOptions())
    assert spans(plan) == [(0, 2), (4, 6)]
    assert plan.decisions[1].reason == "with label other (non-sexual)"


def test_non_sexual_set_is_configurable_and_spellings_match():
    tops = [K, ("kissing", 0.9), ("other", 0.9)]
    plan = plan_cut(analysis(tops), CutOptions(nonsexual=("Kissing",)))
    assert spans(plan) == [(0, 2), (4, 6)]


def test_no_drop_nonsexual_ignores_threshold_and_set():
    plan = plan_cut(analysis([K, D, ("other", 0.9)]), CutOptions(drop_nonsexual=False))
    assert spans(plan) == [(0, 6)]
    assert plan.everything_kept


def test_keep_only_chosen_labels():
    tops = [K, ("kissing", 0.9), ("blowjob", 0.8), K]
    plan = plan_cut(analysis(tops), CutOptions(keep=("doggy", "blowjob")))
    assert spans(plan) == [(0, 2), (4, 8)]
    assert plan.decisions[1].reason == "with a label not in --keep"


def test_keep_still_applies_the_threshold_unless_told_not_to():
    tops = [K, D]
    assert spans(plan_cut(analysis(tops), CutOptions(keep=("doggy",)))) == [(0, 2)]
    assert spans(plan_cut(analysis(tops), CutOptions(keep=("doggy",), drop_nonsexual=False))) == [(0, 4)]


def test_drop_labels():
    tops = [K, ("kissing", 0.9), K]
    plan = plan_cut(analysis(tops), CutOptions(drop=("kissing",)))
    assert spans(plan) == [(0, 2), (4, 6)]
    assert plan.decisions[1].reason == "with label kissing (--drop)"


def test_unknown_or_conflicting_labels_are_usage_errors():
    with pytest.raises(UsageError, match="unknown label dogy"):
        check_labels(CutOptions(keep=("dogy",)), LABELS)
    with pytest.raises(UsageError, match="^drop: unknown label nope"):
        check_labels(CutOptions(drop=("nope",)), LABELS)
    check_labels(CutOptions(keep=("DOGGY",), drop=("kissing",)), LABELS)
    with pytest.raises(UsageError, match="both name doggy"):
        CutOptions(keep=("doggy",), drop=("doggy",))
    with pytest.raises(UsageError, match="^min_segment must be >= 0"):
        CutOptions(min_segment=-1)
    with pytest.raises(UsageError, match="^threshold must be between 0 and 1"):
        CutOptions(threshold=1.5)


def test_touching_windows_of_different_labels_form_one_range():
    tops = [K, ("blowjob", 0.8), ("blowjob", 0.7), D]
    (r,) = plan_cut(analysis(tops), CutOptions()).ranges
    assert (r.span.start, r.span.end) == (0, 6)
    assert r.labels == ("blowjob", "doggy")          # most seconds first
    assert r.score == pytest.approx((0.9 + 0.8 + 0.7) / 3)
    assert r.coverage == 1.0


def test_gaps_up_to_max_gap_are_filled_longer_ones_are_not():
    tops = [K, D, K, D, D, K]     # gaps of 2 s and 4 s
    assert spans(plan_cut(analysis(tops), CutOptions(max_gap=1.9))) == [(0, 2), (4, 6), (10, 12)]
    plan = plan_cut(analysis(tops), CutOptions(max_gap=2.0))
    assert spans(plan) == [(0, 6), (10, 12)]
    assert plan.ranges[0].coverage == pytest.approx(4 / 6)   # the filled gap is not a kept window
    assert spans(plan_cut(analysis(tops), CutOptions(max_gap=4))) == [(0, 12)]


def test_segments_shorter_than_min_segment_are_dropped_after_gap_filling():
    tops = [K, D, K, K, D, D, K]   # 2 s, 4 s, 2 s runs
    assert spans(plan_cut(analysis(tops), CutOptions(min_segment=3))) == [(4, 8)]
    # the 2 s gap filled first: 0-8 is one 8 s segment, the last 2 s run still too short
    assert spans(plan_cut(analysis(tops), CutOptions(min_segment=3, max_gap=2))) == [(0, 8)]
    assert spans(plan_cut(analysis(tops), CutOptions(min_segment=2))) == [(0, 2), (4, 8), (12, 14)]


def test_margin_pads_clips_to_the_video_and_merges_overlaps():
    tops = [K, D, D, K, D, K]
    plan = plan_cut(analysis(tops), CutOptions(margin=0.5))
    assert spans(plan) == [(0, 2.5), (5.5, 8.5), (9.5, 12)]
    plan = plan_cut(analysis(tops), CutOptions(margin=1.0))
    assert spans(plan) == [(0, 3), (5, 12)]     # 7-9 and 9-11 padded into each other


def test_the_unanalysed_tail_goes_with_the_last_window():
    # 13.5 s video, 2 s windows: the last 1.5 s (under the 2 s minimum) has no window
    a = analysis([K, D, K, K, D, K], duration=13.5)
    assert spans(plan_cut(a, CutOptions())) == [(0, 2), (4, 8), (10, 13.5)]
    a = analysis([K, D, K, K, D, D], duration=13.5)
    assert spans(plan_cut(a, CutOptions())) == [(0, 2), (4, 8)]


def test_everything_and_nothing():
    plan = plan_cut(analysis([K, K, K]), CutOptions())
    assert plan.everything_kept and not plan.nothing_kept
    plan = plan_cut(analysis([D, ("other", 0.9), D]), CutOptions())
    assert plan.nothing_kept and not plan.everything_kept
    assert plan.why_nothing() == ("3 of 3 windows dropped: 2 under --threshold 0.50, "
                                  "1 with label other (non-sexual)")
    plan = plan_cut(analysis([K, D, D]), CutOptions(min_segment=5))
    assert plan.nothing_kept
    assert "the 1 kept ones are shorter than --min-segment" in plan.why_nothing()


def test_windows_past_the_video_end_are_clipped():
    plan = plan_cut(analysis([K, K], window=7.0, duration=9.0), CutOptions())
    assert spans(plan) == [(0, 9)]
    assert plan.everything_kept


KEYS = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]   # a 5.5 s video, a keyframe every second


@pytest.mark.parametrize("rule,expected", [
    ("outward", [(0.0, 2.0), (3.0, 5.5)]),
    ("inward", [(4.0, 5.0)]),            # 0.4-1.6 holds no whole GOP: it vanishes
    ("nearest", [(0.0, 2.0), (3.0, 5.0)]),
])
def test_snap_to_keyframes(rule, expected):
    got = snap_to_keyframes([Span(0.4, 1.6), Span(3.2, 5.1)], KEYS, 5.5, rule)
    assert [(s.start, s.end) for s in got] == expected


def test_snap_keeps_aligned_points_merges_and_drops_empty():
    assert snap_to_keyframes([Span(1.0, 3.0)], KEYS, 5.5) == [Span(1.0, 3.0)]
    assert snap_to_keyframes([Span(1.0005, 2.9995)], KEYS, 5.5) == [Span(1.0, 3.0)]
    assert snap_to_keyframes([Span(0.5, 1.5), Span(1.6, 2.5)], KEYS, 5.5) == [Span(0.0, 3.0)]
    assert snap_to_keyframes([Span(1.2, 1.8)], KEYS, 5.5, "inward") == []
    assert snap_to_keyframes([Span(5.2, 5.5)], KEYS, 5.5, "inward") == []
    assert snap_to_keyframes([Span(4.5, 5.5)], KEYS, 5.5, "inward") == [Span(5.0, 5.5)]
    with pytest.raises(UsageError, match="^snap 'sideways'"):
        snap_to_keyframes([Span(0, 1)], KEYS, 5.5, "sideways")


def test_regroup_carries_labels_scores_and_coverage_to_the_spans_cut():
    plan = plan_cut(analysis([K, D, ("blowjob", 0.7), D]), CutOptions(margin=0.3))
    (joined,) = regroup(plan.ranges, [Span(0.0, 7.0)])
    assert joined.labels == ("doggy", "blowjob")
    assert joined.score == pytest.approx((0.9 * 2 + 0.7 * 2) / 4)
    assert joined.coverage == pytest.approx(4 / 7)
