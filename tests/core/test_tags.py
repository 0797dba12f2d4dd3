import pytest

from phar_cli.core.predictions import Analysis, VideoMeta, WindowPrediction
from phar_cli.spans import Span
from phar_cli.core.tags import Tag, video_tags


def analysis(*tops):
    """tops: (duration, label, score) per consecutive window."""
    windows, t = [], 0.0
    for dur, label, score in tops:
        windows.append(WindowPrediction(Span(t, t + dur), [(label, score), ("x", 0.0)]))
        t += dur
    return Analysis(VideoMeta("v.mp4", t, 30.0, 64, 64), ["a", "b", "c", "x"], windows)


def test_seconds_and_mean_confidence_per_top_label():
    a = analysis((7, "a", 0.9), (7, "b", 0.5), (7, "a", 0.6), (3, "a", 0.3))
    tags = video_tags(a)
    assert [t.label for t in tags] == ["a", "b"]
    assert tags[0] == Tag("a", 17.0, pytest.approx(0.6), 3)   # (0.9 + 0.6 + 0.3) / 3
    assert tags[1] == Tag("b", 7.0, 0.5, 1)


def test_topk_keeps_the_longest():
    a = analysis((7, "a", 0.9), (7, "b", 0.5), (7, "b", 0.5), (7, "c", 0.4))
    assert [t.label for t in video_tags(a, topk=1)] == ["b"]
    assert video_tags(a, topk=0) == []
    assert len(video_tags(a, topk=10)) == 3


def test_ties_on_seconds_go_to_higher_confidence_then_label():
    a = analysis((7, "c", 0.5), (7, "b", 0.5), (7, "a", 0.4), (7, "x", 0.9))
    assert [t.label for t in video_tags(a)] == ["x", "b", "c", "a"]


def test_float_sums_of_equal_lengths_tie():
    # 0.1 * 3 != 0.3 in floats; the tie must still fall to confidence
    a = analysis((0.1, "a", 0.2), (0.1, "a", 0.2), (0.1, "a", 0.2), (0.3, "b", 0.9))
    assert [t.label for t in video_tags(a)] == ["b", "a"]


def test_min_score_drops_weak_windows():
    a = analysis((7, "a", 0.9), (7, "a", 0.1), (7, "b", 0.2))
    tags = video_tags(a, min_score=0.5)
    assert tags == [Tag("a", 7.0, 0.9, 1)]


def test_empty_analysis_has_no_tags():
    assert video_tags(analysis()) == []
