import pytest

from phar_cli.core.predictions import WindowPrediction
from phar_cli.core.segments import Segment, merge_segments
from phar_cli.spans import Span


def win(start, end, label, score, runner_up=0.0):
    return WindowPrediction(Span(start, end), [(label, score), ("other", runner_up)])


def test_consecutive_windows_with_the_same_top_label_merge():
    windows = [win(0, 7, "doggy", 0.8), win(7, 14, "doggy", 0.6), win(14, 21, "blowjob", 0.9)]
    segs = merge_segments(windows)
    assert [(s.label, s.start, s.end) for s in segs] == [("doggy", 0, 14), ("blowjob", 14, 21)]
    assert segs[0].score == pytest.approx(0.7)
    assert segs[0].coverage == 1.0 and segs[1].coverage == 1.0


def test_score_is_weighted_by_window_duration():
    # a 7 s window at 0.8 and a last partial 3 s window at 0.3: (7*0.8 + 3*0.3) / 10
    segs = merge_segments([win(0, 7, "doggy", 0.8), win(7, 10, "doggy", 0.3)])
    assert segs == [Segment("doggy", Span(0, 10), pytest.approx(0.65), 1.0)]


def test_windows_are_taken_in_time_order():
    segs = merge_segments([win(7, 14, "anal", 0.5), win(0, 7, "anal", 0.5)])
    assert [(s.start, s.end) for s in segs] == [(0, 14)]


def test_a_window_under_min_score_is_dropped_and_splits_the_segment():
    windows = [win(0, 7, "doggy", 0.8), win(7, 14, "doggy", 0.2), win(14, 21, "doggy", 0.6)]
    segs = merge_segments(windows, min_score=0.5)
    assert [(s.label, s.start, s.end, s.coverage) for s in segs] == [
        ("doggy", 0, 7, 1.0), ("doggy", 14, 21, 1.0)]


def test_min_score_is_inclusive():
    assert len(merge_segments([win(0, 7, "doggy", 0.5)], min_score=0.5)) == 1


def test_max_gap_bridges_a_dropped_window_and_coverage_counts_the_hole():
    windows = [win(0, 7, "doggy", 0.8), win(7, 14, "doggy", 0.2), win(14, 21, "doggy", 0.6)]
    (seg,) = merge_segments(windows, min_score=0.5, max_gap=7)
    assert (seg.start, seg.end) == (0, 21)
    assert seg.score == pytest.approx(0.7)           # the dropped window does not count
    assert seg.coverage == pytest.approx(14 / 21)


def test_gap_longer_than_max_gap_is_not_bridged():
    windows = [win(0, 7, "doggy", 0.8), win(7, 14, "doggy", 0.2), win(14, 21, "doggy", 0.6)]
    assert len(merge_segments(windows, min_score=0.5, max_gap=6.9)) == 2


def test_max_gap_bridges_time_no_window_covers():
    (seg,) = merge_segments([win(0, 7, "kissing", 0.9), win(10, 17, "kissing", 0.5)], max_gap=3)
    assert (seg.start, seg.end) == (0, 17)
    assert seg.coverage == pytest.approx(14 / 17)
    assert seg.score == pytest.approx(0.7)


def test_without_max_gap_a_real_gap_splits():
    assert len(merge_segments([win(0, 7, "kissing", 0.9), win(10, 17, "kissing", 0.5)])) == 2


def test_another_label_in_between_is_never_bridged():
    windows = [win(0, 7, "doggy", 0.8), win(7, 14, "anal", 0.9), win(14, 21, "doggy", 0.6)]
    segs = merge_segments(windows, max_gap=100)
    assert [s.label for s in segs] == ["doggy", "anal", "doggy"]


def test_overlapping_windows_count_once_in_coverage():
    (seg,) = merge_segments([win(0, 7, "doggy", 0.5), win(5, 12, "doggy", 0.5)])
    assert (seg.start, seg.end, seg.coverage) == (0, 12, 1.0)


def test_windows_without_scores_are_dropped():
    empty = WindowPrediction(Span(7, 14), [])
    segs = merge_segments([win(0, 7, "doggy", 0.8), empty, win(14, 21, "doggy", 0.8)], max_gap=7)
    assert [(s.start, s.end) for s in segs] == [(0, 21)]
    assert segs[0].coverage == pytest.approx(2 / 3)


def test_no_windows_no_segments():
    assert merge_segments([]) == []


def test_negative_max_gap_is_refused():
    with pytest.raises(ValueError):
        merge_segments([], max_gap=-1)


def test_to_dict_rounds():
    seg = Segment("doggy", Span(0, 7), 1 / 3, 1.0)
    assert seg.to_dict() == {"label": "doggy", "start": 0, "end": 7, "score": 0.333333, "coverage": 1.0}
