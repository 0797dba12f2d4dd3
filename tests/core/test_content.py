"""The content stream's rules on per-second scores (`core/content.py`): hysteresis, the minimum
duration, the gate, and what the timeline, segments, tags and the filter make of content-free
time with action models that have a background class and with models that have none."""
from __future__ import annotations

import pytest

from phar_cli.core.content import (SURE, Content, ContentOptions, content_of, free_spans,
                                   gate_skips, sample_times)
from phar_cli.core.cutlist import CutOptions, plan_cut
from phar_cli.core.predictions import SCHEMA, Analysis, VideoMeta, WindowPrediction
from phar_cli.core.segments import segments_of
from phar_cli.core.tags import video_tags
from phar_cli.core.timeline import timeline_of
from phar_cli.errors import InvalidOption
from phar_cli.spans import Span

ACTIONS = ["alpha", "beta", "gamma"]  # a prototype-like label map: no background class
WITH_BACKGROUND = ["alpha", "beta", "gamma", "background"]
OPTIONS = ContentOptions()


def spans(scores, options=OPTIONS, duration=None):
    duration = len(scores) if duration is None else duration
    return [(s.start, s.end) for s in free_spans(scores, 1.0, duration, options)]


def test_sample_times_are_the_middle_of_each_interval_the_last_one_cut_at_the_end():
    assert sample_times(3.0, 1.0) == [0.5, 1.5, 2.5]
    assert sample_times(2.5, 1.0) == [0.5, 1.5, 2.25]
    assert sample_times(1.0, 2.0) == [0.25, 0.75]


def test_hysteresis_enters_at_the_upper_threshold_and_leaves_below_the_lower():
    # free, then 0.5 (uncertain: stays free), 0.85 (sexual), 0.5 (stays sexual), 0.1 (free)
    scores = [0.1] * 4 + [0.5] * 2 + [0.85] * 2 + [0.5] * 3 + [0.1] * 4
    assert spans(scores) == [(0, 6), (11, 15)]


def test_nothing_is_content_free_before_a_score_falls_below_the_lower_threshold():
    assert spans([0.5, 0.5, 0.05, 0.05, 0.05]) == [(2, 5)]
    assert spans([0.5, 0.5, 0.9, 0.05, 0.05, 0.05]) == [(3, 6)]
    assert spans([0.5] * 10) == []  # uncertain all through: nothing is content-free
    assert spans([0.05] * 3 + [0.5] * 3) == [(0, 6)]  # once content-free, uncertain holds it


def test_content_free_runs_shorter_than_the_minimum_stay_with_their_surroundings():
    scores = [0.9] * 3 + [0.1] * 2 + [0.9] * 3 + [0.1] * 3 + [0.9]
    assert spans(scores) == [(8, 11)]  # the 2 s run is too short, the 3 s run is not
    assert spans(scores, ContentOptions(min_free=0)) == [(3, 5), (8, 11)]


def test_the_last_interval_ends_at_the_video_end():
    assert spans([0.1] * 5, duration=4.5) == [(0, 4.5)]


def test_options_are_checked():
    with pytest.raises(InvalidOption, match="content_low"):
        ContentOptions(low=0.8, high=0.2)
    with pytest.raises(InvalidOption, match="content_overrides"):
        ContentOptions(overrides="sometimes")
    with pytest.raises(InvalidOption, match="content_fps"):
        ContentOptions(fps=0)


def test_the_gate_skips_a_window_only_when_every_score_inside_is_below_the_lower_threshold():
    gate = ContentOptions(gate=True)
    content = content_of(sample_times(14, 1), [0.01] * 7 + [0.01] * 6 + [0.3], 14, gate, False)
    assert gate_skips(Span(0, 7), content) == pytest.approx(0.01)
    assert gate_skips(Span(7, 14), content) is None  # one score of 0.3 inside
    ungated = content_of(sample_times(14, 1), [0.01] * 14, 14, OPTIONS, False)
    assert gate_skips(Span(0, 7), ungated) is None


def window(start, end, label, score=0.9, labels=ACTIONS):
    rest = [(x, round((1 - score) / (len(labels) - 1), 6)) for x in labels if x != label]
    return WindowPrediction(Span(start, end), [(label, score), *rest])


def analysis(windows, scores, labels, *, know_background, overrides="unsure"):
    duration = windows[-1].span.end
    content = content_of(sample_times(duration, 1), scores, duration,
                         ContentOptions(overrides=overrides), know_background)
    return Analysis(VideoMeta("v.mp4", duration, 30.0, 64, 64), labels + (
        [] if "background" in labels else ["background"]), windows, content=content)


def labelled(a):
    return [(p.span.start, p.span.end, p.top[0]) for p in timeline_of(a)]


def test_without_a_background_class_content_free_time_is_background_whatever_the_models_say():
    # 0-7 s content-free (models: alpha, sure), 7-14 s sexual (beta, unsure: 0.4)
    a = analysis([window(0, 7, "alpha", 0.95), window(7, 14, "beta", 0.4)],
                 [0.02] * 7 + [0.95] * 7, ACTIONS, know_background=False)
    assert labelled(a) == [(0, 7, "background"), (7, 14, "beta")]
    assert [(s.label, s.start, s.end) for s in segments_of(a)] == [("beta", 7, 14)]
    assert [t.label for t in video_tags(a)] == ["beta"]
    # the filter keeps the sexual time although the models' score is under --threshold
    plan = plan_cut(a, CutOptions())
    assert [(r.span.start, r.span.end) for r in plan.ranges] == [(7, 14)]
    assert "in content-free time (content stream)" in plan.why_nothing()


def test_with_a_background_class_unsure_actions_give_way_and_sure_ones_stay():
    scores = [0.02] * 21
    sure, unsure = SURE + 0.3, SURE - 0.1
    windows = [window(0, 7, "alpha", sure, WITH_BACKGROUND),
               window(7, 14, "beta", unsure, WITH_BACKGROUND),
               window(14, 21, "background", 0.9, WITH_BACKGROUND)]
    a = analysis(windows, scores, WITH_BACKGROUND, know_background=True)
    assert labelled(a) == [(0, 7, "alpha"), (7, 14, "background"), (14, 21, "background")]
    every = analysis(windows, scores, WITH_BACKGROUND, know_background=True, overrides="all")
    assert [x[2] for x in labelled(every)] == ["background"] * 3
    untouched = analysis(windows, scores, WITH_BACKGROUND, know_background=True,
                         overrides="none")
    assert [x[2] for x in labelled(untouched)] == ["alpha", "beta", "background"]


def test_the_content_stream_only_adds_background_it_never_removes_it():
    # the models say background where the content is sexual: the timeline keeps background,
    # and the filter, keeping what the content stream calls sexual, keeps it
    windows = [window(0, 7, "background", 0.9, WITH_BACKGROUND)]
    a = analysis(windows, [0.95] * 7, WITH_BACKGROUND, know_background=True)
    assert labelled(a) == [(0, 7, "background")]
    assert [(r.span.start, r.span.end) for r in plan_cut(a, CutOptions()).ranges] == [(0, 7)]


def test_pieces_split_at_the_edges_of_content_free_time_and_keep_and_drop_still_choose():
    # one 10 s window of alpha; content-free from 0 to 4 s
    a = analysis([window(0, 10, "alpha", 0.45)], [0.01] * 4 + [0.9] * 6, ACTIONS,
                 know_background=False)
    assert labelled(a) == [(0, 4, "background"), (4, 10, "alpha")]
    assert [(r.span.start, r.span.end) for r in plan_cut(a, CutOptions()).ranges] == [(4, 10)]
    assert plan_cut(a, CutOptions(drop=("alpha",))).nothing_kept
    assert plan_cut(a, CutOptions(keep=("beta",))).nothing_kept


def test_content_round_trips_through_the_predictions_json_and_old_files_have_none():
    a = analysis([window(0, 7, "alpha")], [0.01] * 3 + [0.9] * 4, ACTIONS,
                 know_background=False)
    data = a.to_dict()
    assert data["schema"] == SCHEMA and "content" in data
    back = Analysis.from_dict(data)
    assert back.content == a.content
    assert labelled(back) == labelled(a)
    del data["content"]
    data["schema"] = "phar.predictions/2"
    old = Analysis.from_dict(data)
    assert old.content is None


def test_a_content_record_with_bad_settings_is_a_format_error():
    from phar_cli.errors import PredictionsFormatError

    a = analysis([window(0, 7, "alpha")], [0.01] * 7, ACTIONS, know_background=False)
    data = a.to_dict()
    data["content"]["options"]["low"] = 0.9
    with pytest.raises(PredictionsFormatError, match="not a phar predictions file"):
        Analysis.from_dict(data, source="x.json")


def test_score_at_and_within():
    content = Content([0.5, 1.5, 2.5], [0.1, 0.2, 0.3], 1.0, [])
    assert content.score_at(1.99) == 0.2 and content.score_at(3.0) is None
    assert content.within(Span(1, 3)) == [0.2, 0.3]
