"""What an analysis becomes in Stash before any server is asked: markers per segment by the
label's rules, scene tags for the labels that pass."""
from __future__ import annotations

from phar_cli.stash.scene_markers import intent_for, segments_for
from phar_cli.stash.settings import StashSettings

from tests.mediacheck import hand_analysis

LABELS = ["kissing", "fondling", "doggy", "other", "background"]
K, F, D, O, B = ("kissing", 0.9), ("fondling", 0.8), ("doggy", 0.7), ("other", 0.9), ("background", 0.95)


def analysis(tops, window=2.0):
    return hand_analysis("v.mp4", window * len(tops), tops, window, LABELS)


def spans(intent, label=None):
    return [(m.label, m.start, m.end) for m in intent.markers if label in (None, m.label)]


def test_one_marker_per_segment_background_and_other_never():
    intent = intent_for(analysis([K, K, B, F, O, D, D, D]), StashSettings())
    assert spans(intent) == [("kissing", 0, 4), ("fondling", 6, 8), ("doggy", 10, 16)]
    assert [m.title for m in intent.markers] == ["kissing 90%", "fondling 80%", "doggy 70%"]
    assert "background" not in {s.label for s in segments_for(analysis([B, K]))}


def test_segments_under_the_threshold_make_no_marker():
    low = ("kissing", 0.4)
    assert spans(intent_for(analysis([low, F, K]), StashSettings())) == \
        [("fondling", 2, 4), ("kissing", 4, 6)]
    # the segment's mean decides: three kissing windows make one segment of mean 0.567
    intent = intent_for(analysis([low, low, K, F]), StashSettings())
    assert spans(intent) == [("kissing", 0, 6), ("fondling", 6, 8)]
    strict = StashSettings(defaults={"threshold": 0.6})
    assert spans(intent_for(analysis([low, low, K, F]), strict)) == [("fondling", 6, 8)]


def test_max_gap_joins_and_min_marker_seconds_drops():
    tops = [K, F, K, K, D, D, D, D, K]
    plain = intent_for(analysis(tops), StashSettings())
    assert spans(plain, "kissing") == [("kissing", 0, 2), ("kissing", 4, 8), ("kissing", 16, 18)]
    rules = StashSettings(labels={"kissing": {"max_gap": 2.0, "min_marker_seconds": 3.0}})
    joined = intent_for(analysis(tops), rules)
    assert spans(joined, "kissing") == [("kissing", 0, 8)]   # 16-18 is 8 s away and 2 s long
    assert spans(joined, "fondling") == [("fondling", 2, 4)]  # other labels keep their rules


def test_scene_tags_are_the_top_labels_with_enough_seconds():
    tops = [D, D, D, K, K, F]
    assert [t.label for t in intent_for(analysis(tops), StashSettings()).scene_tags] == \
        ["doggy", "kissing", "fondling"]
    top2 = StashSettings(scene_tags_topk=2)
    assert [t.label for t in intent_for(analysis(tops), top2).scene_tags] == ["doggy", "kissing"]
    long = StashSettings(defaults={"min_scene_seconds": 4.0})
    tags = intent_for(analysis(tops), long).scene_tags
    assert [(t.label, t.seconds) for t in tags] == [("doggy", 6.0), ("kissing", 4.0)]
    no_markers = StashSettings(labels={"doggy": {"markers": False}})
    intent = intent_for(analysis(tops), no_markers)
    assert "doggy" in [t.label for t in intent.scene_tags] and not spans(intent, "doggy")
