"""Clip planning inside segments (the seed's rule) and the train/val split by video."""
from __future__ import annotations

import random
from collections import Counter

import pytest

from phar_cli.spans import Span
from phar_cli.data.annotations import Annotation
from phar_cli.data.clips import Clip, clip_spans, plan_clips, split_by_video, val_videos


def bounds(spans) -> list[tuple[float, float]]:
    return [(s.start, s.end) for s in spans]


# --- clips inside a segment ---------------------------------------------------------------------

def test_a_23_s_segment_gives_three_7_s_clips():
    # 23 = 3 x 7 + 2; 2 s < half a clip (3.5 s): no back-overlapping clip
    assert bounds(clip_spans(Span(0, 23))) == [(0, 7), (7, 14), (14, 21)]


def test_a_remainder_of_half_a_clip_or_more_adds_a_clip_ending_at_the_segment_end():
    # 25 = 3 x 7 + 4; 4 s >= 3.5 s: one more clip 18-25, overlapping 14-21 by 3 s
    assert bounds(clip_spans(Span(0, 25))) == [(0, 7), (7, 14), (14, 21), (18, 25)]
    # exactly half a clip left (24.5 = 3 x 7 + 3.5) counts, as in the seed (>=)
    assert bounds(clip_spans(Span(10, 34.5))) == [(10, 17), (17, 24), (24, 31), (27.5, 34.5)]


def test_the_seeds_ten_second_clips():
    # the seed's generate_dataset.py: clip_len 10, min remainder clip_len / 2
    assert bounds(clip_spans(Span(100, 135), clip_len=10)) == [
        (100, 110), (110, 120), (120, 130), (125, 135)]
    assert bounds(clip_spans(Span(100, 134), clip_len=10)) == [(100, 110), (110, 120), (120, 130)]


def test_a_segment_shorter_than_a_clip_gives_no_clip_as_in_the_seed():
    assert clip_spans(Span(0, 6.9)) == []
    assert clip_spans(Span(0, 3.5)) == []
    assert bounds(clip_spans(Span(3, 10))) == [(3, 10)]  # exactly one clip long


def test_overlap_makes_the_step_shorter():
    # step 7 - 2 = 5: starts 0, 5, 10, 15 (15 + 7 = 22 <= 23); 1 s left < 3.5: no more
    assert bounds(clip_spans(Span(0, 23), overlap=2)) == [(0, 7), (5, 12), (10, 17), (15, 22)]
    # 26 s: same four clips end at 22, 4 s left >= 3.5: one more, 19-26
    assert bounds(clip_spans(Span(0, 26), overlap=2)) == [
        (0, 7), (5, 12), (10, 17), (15, 22), (19, 26)]


def test_min_last_is_a_fraction_of_the_clip():
    # 9 s = 7 + 2: 2 s >= 0 x 7 and >= 0.25 x 7 = 1.75, but < 0.3 x 7 = 2.1
    assert bounds(clip_spans(Span(0, 9), min_last=0)) == [(0, 7), (2, 9)]
    assert bounds(clip_spans(Span(0, 9), min_last=0.25)) == [(0, 7), (2, 9)]
    assert bounds(clip_spans(Span(0, 9), min_last=0.3)) == [(0, 7)]
    # min_last 1 never adds one: what is left is always shorter than a clip
    assert bounds(clip_spans(Span(0, 13.9), min_last=1)) == [(0, 7)]


def test_rounded_bounds_do_not_lose_a_clip():
    # 3 x 7.1 = 21.299999999999997 in floating point
    assert len(clip_spans(Span(0.1, 21.4), clip_len=7.1)) == 3
    assert bounds(clip_spans(Span(1.1, 8.1))) == [(1.1, 8.1)]


@pytest.mark.parametrize("kwargs", [dict(clip_len=0), dict(clip_len=-1), dict(overlap=7),
                                    dict(overlap=-1), dict(min_last=1.5), dict(min_last=-0.1)])
def test_bad_options_are_value_errors(kwargs):
    with pytest.raises(ValueError):
        clip_spans(Span(0, 30), **kwargs)
    with pytest.raises(ValueError):
        plan_clips([], **kwargs)


def test_plan_clips_numbers_clips_per_video_in_time_order():
    anns = [Annotation("b.mp4", Span(30, 44), "anal"), Annotation("a.mp4", Span(0, 25), "doggy"),
            Annotation("b.mp4", Span(0, 7), "doggy"), Annotation("b.mp4", Span(50, 53), "69")]
    clips = plan_clips(anns)
    assert [(c.video, c.span.start, c.span.end, c.label, c.index) for c in clips] == [
        ("a.mp4", 0, 7, "doggy", 0), ("a.mp4", 7, 14, "doggy", 1), ("a.mp4", 14, 21, "doggy", 2),
        ("a.mp4", 18, 25, "doggy", 3),
        ("b.mp4", 0, 7, "doggy", 0), ("b.mp4", 30, 37, "anal", 1), ("b.mp4", 37, 44, "anal", 2)]


# --- split by video -----------------------------------------------------------------------------

def library(n_videos: int, rng: random.Random, classes: int = 6) -> list[Clip]:
    """Videos of 1 to 3 classes each, 1 to 30 clips a class: like a real, lopsided library."""
    labels = [f"class-{i}" for i in range(classes)]
    clips = []
    for v in range(n_videos):
        video = f"video-{v:03d}.mp4"
        index = 0
        for label in rng.sample(labels, rng.randint(1, 3)):
            for _ in range(rng.randint(1, 30)):
                clips.append(Clip(video, Span(index * 7, index * 7 + 7), label, index))
                index += 1
    return clips


def videos_of(clips) -> set[str]:
    return {c.video for c in clips}


def check_split(clips, train, val, ratio) -> None:
    assert not videos_of(train) & videos_of(val)
    assert sorted(train + val, key=lambda c: (c.video, c.index)) == \
        sorted(clips, key=lambda c: (c.video, c.index))
    labels_by_video = {}
    for c in clips:
        labels_by_video.setdefault(c.label, set()).add(c.video)
    train_labels = {c.label for c in train}
    val_labels = {c.label for c in val}
    for label, videos in labels_by_video.items():
        assert label in train_labels  # every class keeps training data
        if len(videos) >= 2:
            assert label in val_labels, label


def test_split_properties_over_many_seeds():
    rng = random.Random(1234)
    fractions = []
    for seed in range(60):
        clips = library(rng.randint(8, 60), rng)
        train, val = split_by_video(clips, val_ratio=0.2, seed=seed)
        check_split(clips, train, val, 0.2)
        fractions.append(len(val) / len(clips))
        assert 0.05 <= fractions[-1] <= 0.4
    assert sum(fractions) / len(fractions) == pytest.approx(0.2, abs=0.03)


def test_large_library_honours_the_ratio_closely():
    clips = library(600, random.Random(7), classes=17)
    for ratio in (0.1, 0.2, 0.3):
        train, val = split_by_video(clips, val_ratio=ratio, seed=3)
        check_split(clips, train, val, ratio)
        assert len(val) / len(clips) == pytest.approx(ratio, abs=0.01)


def test_split_is_reproducible_and_independent_of_clip_order():
    clips = library(40, random.Random(5))
    shuffled = list(clips)
    random.Random(99).shuffle(shuffled)
    assert split_by_video(clips, seed=11) == split_by_video(clips, seed=11)
    assert val_videos(clips, seed=11) == val_videos(shuffled, seed=11)
    assert len({frozenset(val_videos(clips, seed=s)) for s in range(10)}) > 1  # the seed matters


def test_split_keeps_the_given_order_within_each_side():
    clips = library(20, random.Random(2))
    train, val = split_by_video(clips, seed=0)
    chosen = videos_of(val)
    assert train == [c for c in clips if c.video not in chosen]
    assert val == [c for c in clips if c.video in chosen]


def test_a_class_in_two_videos_gets_one_of_them_in_val():
    clips = [Clip("big.mp4", Span(0, 7), "doggy", i) for i in range(50)]
    clips += [Clip(f"v{i}.mp4", Span(0, 7), "doggy", 0) for i in range(4)]
    clips += [Clip("r1.mp4", Span(0, 7), "rare", 0), Clip("r2.mp4", Span(0, 7), "rare", 0)]
    for seed in range(20):
        train, val = split_by_video(clips, seed=seed)
        assert Counter(c.label for c in val)["rare"] == 1
        assert "big.mp4" not in videos_of(val)  # 50 clips would overshoot 20% of 56


def test_a_class_in_one_video_only_stays_in_train():
    clips = [Clip("a.mp4", Span(0, 7), "doggy", i) for i in range(5)]
    clips += [Clip("b.mp4", Span(0, 7), "doggy", i) for i in range(5)]
    clips += [Clip("a.mp4", Span(7, 14), "unique", 5)]
    train, val = split_by_video(clips, seed=0)
    assert videos_of(val) == {"b.mp4"} and videos_of(train) == {"a.mp4"}


def test_degenerate_splits():
    one = [Clip("a.mp4", Span(0, 7), "doggy", i) for i in range(3)]
    assert split_by_video(one) == (one, [])
    two = one + [Clip("b.mp4", Span(0, 7), "doggy", 0)]
    assert split_by_video(two, val_ratio=0.0) == (two, [])
    train, val = split_by_video(two, val_ratio=0.05)  # never an empty val with 2 videos
    assert videos_of(val) == {"b.mp4"}
    assert split_by_video([]) == ([], [])
    with pytest.raises(ValueError):
        split_by_video(two, val_ratio=1.0)


def test_uncovered_time_keeps_a_margin_from_every_annotation():
    from phar_cli.data.clips import uncovered

    covered = [Span(5.0, 10.0), Span(9.0, 12.0), Span(30.0, 31.0)]
    assert uncovered(covered, 40.0, margin=1.0) == [Span(0.0, 4.0), Span(13.0, 29.0),
                                                     Span(32.0, 40.0)]
    assert uncovered([], 12.0) == [Span(0.0, 12.0)]
    assert uncovered([Span(0.0, 12.0)], 12.0, margin=1.0) == []


def test_background_clips_fill_the_gaps_capped_and_numbered_after_the_actions():
    from phar_cli.data.clips import background_clips

    covered = {"a.mp4": [Span(0.0, 10.0)], "b.mp4": [Span(20.0, 30.0)]}
    durations = {"a.mp4": 40.0, "b.mp4": 30.0}
    clips = background_clips(covered, durations, "background", clip_len=7.0, margin=1.0,
                             first_index={"a.mp4": 2})
    # a: 11-40 (29 s: 11-18, 18-25, 25-32, 32-39; 1 s left); b: 0-19 (0-7, 7-14, then 12-19
    # ending at the gap's end, 5 s >= half a clip being left)
    assert [(c.video, c.span.start, c.span.end) for c in clips] == [
        ("a.mp4", 11.0, 18.0), ("a.mp4", 18.0, 25.0), ("a.mp4", 25.0, 32.0), ("a.mp4", 32.0, 39.0),
        ("b.mp4", 0.0, 7.0), ("b.mp4", 7.0, 14.0), ("b.mp4", 12.0, 19.0)]
    assert [c.index for c in clips if c.video == "a.mp4"] == [2, 3, 4, 5]
    assert {c.label for c in clips} == {"background"}
    capped = background_clips(covered, durations, "background", limit=3, seed=1)
    again = background_clips(covered, durations, "background", limit=3, seed=1)
    assert len(capped) == 3 and capped == again
    assert background_clips({"a.mp4": [Span(0.0, 35.0)]}, {"a.mp4": 40.0}, "background") == []
