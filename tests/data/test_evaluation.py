"""Scoring phar's segments against annotations: every number below is worked out by hand in the
comments next to it."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from phar_cli.core.predictions import Analysis, VideoMeta, WindowPrediction
from phar_cli.core.segments import merge_segments
from phar_cli.defaults import DEFAULT_BACKGROUND as BACKGROUND
from phar_cli.data.evaluation import (Labelled, combine, evaluate, evaluate_files,
                                      segments_of_analysis)
from phar_cli.synthetic.dataset import (Segment, write_plain_csv, write_via_csvs,
                                             write_via_project)
from phar_cli.errors import AnnotationError, EvaluationError, PharError, UsageError
from phar_cli.outputs import get_writer
from phar_cli.spans import Span


def spans(*items: tuple[str, float, float]) -> list[Labelled]:
    return [Labelled(label, Span(start, end)) for label, start, end in items]


# Two classes back to back with nothing around them, on a 20 s video:
#   truth  0-2 nothing | 2-10 a | 10-18 b | 18-20 nothing
TRUTH = spans(("a", 2, 10), ("b", 10, 18))
# the a->b boundary placed 1.5 s late
LATE = spans(("a", 2, 11.5), ("b", 11.5, 18))
# b forgotten, on a truth where a and b do not touch
GAPPED = spans(("a", 2, 10), ("b", 12, 18))
ONLY_A = spans(("a", 2, 10))


def test_a_perfect_prediction_scores_one_everywhere():
    e = evaluate(TRUTH, TRUTH, 20)
    assert e.annotated_seconds == 16 and e.right_seconds == 16    # 8 s of a + 8 s of b
    assert e.labelled_right == 1.0
    assert e.classes["a"].seconds.precision == 1.0 and e.classes["b"].seconds.recall == 1.0
    assert (e.segments.truth, e.segments.predicted, e.segments.matched) == (2, 2, 2)
    assert e.segments.f1 == 1.0
    # boundaries 2, 10, 18 in both lists; 0 and 20 are the video's ends, not boundaries
    assert e.boundary_errors.distances == (0, 0, 0)
    assert e.missed_boundary_errors.distances == (0, 0, 0)
    assert (e.boundary_errors.mean, e.boundary_errors.max) == (0, 0)


def test_a_boundary_off_by_one_and_a_half_seconds():
    e = evaluate(TRUTH, LATE, 20)
    # annotated 16 s; wrong only over 10-11.5 (truth b, predicted a): right 14.5 s
    assert e.right_seconds == pytest.approx(14.5)
    assert e.labelled_right == pytest.approx(14.5 / 16)           # 0.90625
    a, b = e.classes["a"].seconds, e.classes["b"].seconds
    # a: predicted 2-11.5 = 9.5 s, of which truly a 8 s; truly a 8 s, all predicted a
    assert (a.truth, a.predicted, a.right) == pytest.approx((8, 9.5, 8))
    assert a.precision == pytest.approx(8 / 9.5) and a.recall == 1.0
    # b: predicted 11.5-18 = 6.5 s, all truly b; truly b 8 s
    assert b.precision == 1.0 and b.recall == pytest.approx(6.5 / 8)
    # predicted boundaries 2, 11.5, 18 against true 2, 10, 18: distances 0, 1.5, 0
    errors = e.boundary_errors
    assert errors.distances == pytest.approx((0, 1.5, 0))
    assert (errors.count, errors.mean, errors.median, errors.max) == (3, pytest.approx(0.5), 0,
                                                                      pytest.approx(1.5))
    assert e.missed_boundary_errors.distances == pytest.approx((0, 1.5, 0))
    # IoU a = 8 / 9.5 = 0.84, b = 6.5 / 8 = 0.81: both matched
    assert e.segments.matched == 2


def test_a_missing_segment():
    e = evaluate(GAPPED, ONLY_A, 20)
    # annotated 8 s of a + 6 s of b = 14 s; right: the 8 s of a
    assert e.labelled_right == pytest.approx(8 / 14)
    b = e.classes["b"]
    assert b.seconds.predicted == 0 and b.seconds.precision is None   # never predicted
    assert b.seconds.recall == 0.0
    assert (b.segments.truth, b.segments.predicted, b.segments.matched) == (1, 0, 0)
    # segments: truth 2, predicted 1, matched 1: P 1, R 0.5, F1 2*1*0.5/1.5 = 2/3
    s = e.segments
    assert (s.precision, s.recall, s.f1) == (1.0, 0.5, pytest.approx(2 / 3))
    # predicted boundaries 2, 10 both sit on true ones
    assert e.boundary_errors.distances == (0, 0)
    # true boundaries 2, 10, 12, 18 to the nearest predicted (2, 10): 0, 0, 2, 8
    missed = e.missed_boundary_errors
    assert missed.distances == (0, 0, 2, 8)
    assert (missed.mean, missed.median, missed.max) == (2.5, 1.0, 8)  # 10 / 4; (0 + 2) / 2


def test_a_spurious_segment_of_a_third_label():
    truth = spans(("a", 0, 10), ("b", 10, 20))
    predicted = spans(("a", 0, 10), ("c", 10, 12), ("b", 12, 20))
    e = evaluate(truth, predicted, 20)
    assert e.labelled_right == pytest.approx(18 / 20)   # wrong only over 10-12
    assert list(e.classes) == ["a", "b", "c"]
    c = e.classes["c"]
    assert (c.seconds.truth, c.seconds.predicted, c.seconds.right) == (0, 2, 0)
    assert c.seconds.precision == 0.0 and c.seconds.recall is None
    assert c.segments.precision == 0.0 and c.segments.recall is None and c.segments.f1 is None
    assert e.classes["b"].seconds.recall == pytest.approx(8 / 10)
    # a (IoU 1) and b (IoU 8/10) matched, c not: P 2/3, R 2/2, F1 2*(2/3)/(5/3) = 0.8
    s = e.segments
    assert (s.truth, s.predicted, s.matched) == (2, 3, 2)
    assert (s.precision, s.recall, s.f1) == (pytest.approx(2 / 3), 1.0, pytest.approx(0.8))
    # the spans touch both ends of the video: true boundary 10 only, predicted 10 and 12
    assert e.boundary_errors.distances == (0, 2)
    assert e.missed_boundary_errors.distances == (0,)


def test_nothing_happens_on_either_side_counts_against_precision_only():
    # truth a over 5-15 of 30 s; phar says a over 3-17
    e = evaluate(spans(("a", 5, 15)), spans(("a", 3, 17)), 30)
    assert e.annotated_seconds == 10
    assert e.labelled_right == 1.0                      # every annotated second is called a
    a = e.classes["a"].seconds
    assert a.precision == pytest.approx(10 / 14) and a.recall == 1.0
    assert e.boundary_errors.distances == (2, 2)        # 3 -> 5, 17 -> 15
    assert e.missed_boundary_errors.distances == (2, 2)
    assert e.segments.matched == 1                      # IoU 10 / 14 = 0.71


def test_predicted_nothing_inside_a_segment_is_wrong_and_boundaries_without_truth_unmeasured():
    # truth a over the whole 20 s video: no true boundary at all; phar leaves 8-12 empty
    e = evaluate(spans(("a", 0, 20)), spans(("a", 0, 8), ("a", 12, 20)), 20)
    assert e.labelled_right == pytest.approx(16 / 20)
    errors = e.boundary_errors
    assert errors.distances == () and errors.unmeasured == 2      # 8 and 12: nothing to meet
    assert (errors.mean, errors.median, errors.max) == (None, None, None)
    assert e.to_dict()["boundary_errors"] == {"count": 0, "unmeasured": 2, "mean": None,
                                              "median": None, "max": None}
    assert e.missed_boundary_errors.count == 0 and e.missed_boundary_errors.unmeasured == 0
    # two predicted segments of IoU 8 / 20 = 0.4 each: none matched
    assert (e.segments.truth, e.segments.predicted, e.segments.matched) == (1, 2, 0)


def test_touching_spans_of_one_label_are_one_segment_and_make_no_boundary():
    truth = spans(("a", 0, 5), ("a", 5, 10))
    e = evaluate(truth, spans(("a", 0, 10)), 12)
    assert e.classes["a"].segments.truth == 1 and e.segments.matched == 1
    assert e.missed_boundary_errors.distances == (0,)   # only 10, where a ends


def test_labels_are_compared_in_canonical_spelling():
    e = evaluate(spans(("The_Snake", 0, 10)), spans(("the-snake", 0, 10)), 10)
    assert list(e.classes) == ["the-snake"] and e.labelled_right == 1.0


def test_iou_exactly_at_the_threshold_matches_and_just_below_does_not():
    truth = spans(("a", 0, 10))
    assert evaluate(truth, spans(("a", 0, 5)), 20).segments.matched == 1     # 5 / 10 = 0.5
    assert evaluate(truth, spans(("a", 0, 4.99)), 20).segments.matched == 0  # 0.499
    # 0.3 / 0.6 is 0.5 by hand and 0.4999999999999999 in floats: still a match
    assert evaluate(spans(("a", 0.2, 0.8)), spans(("a", 0.2, 0.5)), 1).segments.matched == 1
    # a stricter threshold: 0.5 is not enough for 0.7
    assert evaluate(truth, spans(("a", 0, 5)), 20, iou=0.7).segments.matched == 0


def test_matching_is_one_to_one():
    # two predictions over one truth a 0-10: IoU 6 / 10 = 0.6 and 3.5 / 10 = 0.35, both over
    # the 0.3 threshold; only one may take the truth segment
    e = evaluate(spans(("a", 0, 10)), spans(("a", 0, 6), ("a", 6.5, 10)), 20, iou=0.3)
    assert (e.segments.truth, e.segments.predicted, e.segments.matched) == (1, 2, 1)
    assert (e.segments.precision, e.segments.recall) == (0.5, 1.0)
    # and one prediction over two truths takes one of them
    e = evaluate(spans(("a", 0, 6), ("a", 6.5, 10)), spans(("a", 0, 10)), 20, iou=0.3)
    assert (e.segments.truth, e.segments.predicted, e.segments.matched) == (2, 1, 1)


def test_matching_takes_the_pairs_of_highest_iou_first():
    # threshold 0.2; t1 = 0-2.5, t2 = 5-16; p1 = 0-10, p2 = 10.5-16.
    # IoU p2-t2 = 5.5 / 11 = 0.5, p1-t2 = 5 / 16 = 0.3125, p1-t1 = 2.5 / 10 = 0.25.
    # Highest first: p2-t2, then p1-t2 (t2 taken, skipped), then p1-t1: 2 matches. (Giving each
    # prediction in time order its best truth would pair p1-t2 and leave p2 with nothing: 1.)
    e = evaluate(spans(("a", 0, 2.5), ("a", 5, 16)), spans(("a", 0, 10), ("a", 10.5, 16)), 20,
                 iou=0.2)
    assert e.segments.matched == 2


def test_matching_is_greedy_not_the_largest_assignment():
    # threshold 0.15; t1 = 0-4, t2 = 4.5-12; p1 = 0-10, p2 = 10.5-12.
    # IoU p1-t2 = 5.5 / 12 = 0.458, p1-t1 = 4 / 10 = 0.4, p2-t2 = 1.5 / 7.5 = 0.2.
    # Highest first: p1-t2; then p1 and t2 are taken: 1 match (p1-t1 + p2-t2 would give 2).
    e = evaluate(spans(("a", 0, 4), ("a", 4.5, 12)), spans(("a", 0, 10), ("a", 10.5, 12)), 20,
                 iou=0.15)
    assert e.segments.matched == 1


def test_combining_videos_sums_seconds_and_pools_boundaries():
    one, two = evaluate(TRUTH, LATE, 20), evaluate(GAPPED, ONLY_A, 20)
    both = combine([one, two])
    assert both.videos == 2 and both.duration == 40
    # right 14.5 + 8 over annotated 16 + 14: 22.5 / 30 = 0.75 (the mean of the two ratios,
    # (0.90625 + 0.5714) / 2 = 0.7388, would be wrong)
    assert both.labelled_right == pytest.approx(0.75)
    # segments: truth 2 + 2, predicted 2 + 1, matched 2 + 1
    assert (both.segments.truth, both.segments.predicted, both.segments.matched) == (4, 3, 3)
    assert both.segments.recall == 0.75
    # b: truth 8 + 6 s, predicted 6.5 + 0 s, all right
    assert both.classes["b"].seconds.recall == pytest.approx(6.5 / 14)
    # boundary distances pooled: (0, 1.5, 0) + (0, 0): mean 1.5 / 5, median 0
    assert both.boundary_errors.count == 5
    assert both.boundary_errors.mean == pytest.approx(0.3) and both.boundary_errors.median == 0
    # missed: (0, 1.5, 0) + (0, 0, 2, 8): 7 distances, sum 11.5, median 0, max 8
    assert both.missed_boundary_errors.mean == pytest.approx(11.5 / 7)
    assert both.missed_boundary_errors.max == 8
    with pytest.raises(ValueError, match="IoU"):
        combine([one, evaluate(TRUTH, LATE, 20, iou=0.7)])


def test_to_dict_rounds_and_is_json():
    d = evaluate(TRUTH, LATE, 20).to_dict()
    json.dumps(d)
    assert d["labelled_right"] == 0.90625 and d["duration"] == 20.0
    assert d["classes"]["a"]["precision"] == 0.842105              # 8 / 9.5
    assert d["classes"]["a"]["segments"]["matched"] == 1
    assert d["segments"]["f1"] == 1.0
    assert d["boundary_errors"] == {"count": 3, "unmeasured": 0, "mean": 0.5, "median": 0.0,
                                    "max": 1.5}


def test_no_annotated_time_gives_no_ratio():
    e = evaluate([], spans(("a", 0, 5)), 10)
    assert e.annotated_seconds == 0 and e.labelled_right is None
    assert e.segments.recall is None and e.segments.precision == 0.0


def test_overlapping_or_out_of_range_spans_are_refused():
    with pytest.raises(ValueError, match="predicted spans overlap: 'a' 0.000–6.000 s and 'b'"):
        evaluate(TRUTH, spans(("a", 0, 6), ("b", 5, 8)), 20)
    with pytest.raises(ValueError, match="truth spans overlap"):
        evaluate(spans(("a", 0, 6), ("a", 5, 8)), [], 20)
    with pytest.raises(ValueError, match="outside the video"):
        evaluate(spans(("a", 2, 21)), [], 20)


# --- files --------------------------------------------------------------------------------------

LABELS = ["alpha", "beta", BACKGROUND]


def analysis(path: str, duration: float, *windows: tuple[float, float, str]) -> Analysis:
    """Windows with the given top label (0.8; the other labels share the rest)."""
    out = []
    for start, end, label in windows:
        rest = [lab for lab in LABELS if lab != label]
        out.append(WindowPrediction(Span(start, end), [(label, 0.8)] + [(r, 0.1) for r in rest]))
    return Analysis(VideoMeta(path, duration, 30.0, 160, 120), list(LABELS), out,
                    {"background": BACKGROUND})  # as an engine whose models know it records


def write_predictions(path: Path, result: Analysis) -> Path:
    get_writer("json").write(result, merge_segments(result.windows), path)
    return path


# truth: 12.mp4 as TRUTH (a -> alpha, b -> beta); 13.mp4 as GAPPED; 14.mp4 never predicted
TRUTH_ROWS = [Segment("12.mp4", 2, 10, "alpha"), Segment("12.mp4", 10, 18, "beta"),
              Segment("13.mp4", 2, 10, "alpha"), Segment("13.mp4", 12, 18, "beta"),
              Segment("14.mp4", 1, 3, "alpha")]


@pytest.fixture
def predictions(tmp_path) -> list[Path]:
    # 12: the boundary 1.5 s late (as LATE); 13: beta forgotten (as ONLY_A), background around
    late = analysis("/media/videos/12.mp4", 20, (0, 2, BACKGROUND), (2, 6, "alpha"),
                    (6, 11.5, "alpha"), (11.5, 18, "beta"), (18, 20, BACKGROUND))
    only_a = analysis("/media/videos/13.mp4", 20, (0, 2, BACKGROUND), (2, 10, "alpha"),
                      (10, 20, BACKGROUND))
    return [write_predictions(tmp_path / "12.json", late),
            write_predictions(tmp_path / "13.json", only_a)]


def check_two_videos(result):
    assert [(v.predictions.name, v.video) for v in result.videos] == [("12.json", "12.mp4"),
                                                                      ("13.json", "13.mp4")]
    assert result.videos[0].evaluation.labelled_right == pytest.approx(14.5 / 16)
    assert result.videos[1].evaluation.labelled_right == pytest.approx(8 / 14)
    assert result.overall.labelled_right == pytest.approx(0.75)     # as in the combining test
    assert result.overall.segments.matched == 3
    assert result.overall.missed_boundary_errors.mean == pytest.approx(11.5 / 7)


def test_truth_from_a_plain_csv(tmp_path, predictions):
    csv = write_plain_csv(tmp_path / "truth.csv", TRUTH_ROWS)
    result = evaluate_files(predictions, csv)
    check_two_videos(result)
    assert result.unpredicted == ["14.mp4"] and result.skipped == []
    d = result.to_dict()
    json.dumps(d)
    assert d["overall"]["labelled_right"] == 0.75 and d["videos"][0]["video"] == "12.mp4"


def test_truth_from_via_csv_exports(tmp_path, predictions):
    files = write_via_csvs(tmp_path / "via", TRUTH_ROWS)
    # the folder of per-video exports names videos by base name (12), one export by file_list
    folder = evaluate_files(predictions, tmp_path / "via")
    assert [v.video for v in folder.videos] == ["12", "13"]
    assert folder.overall.labelled_right == pytest.approx(0.75)
    single = evaluate_files(predictions[:1], files[0])
    assert single.videos[0].video == "12.mp4"
    assert single.overall.labelled_right == pytest.approx(14.5 / 16)


def test_truth_from_a_via_project(tmp_path, predictions):
    check_two_videos(evaluate_files(predictions, write_via_project(tmp_path / "p.json",
                                                                   TRUTH_ROWS)))


def test_background_segments_mean_nothing_happens():
    result = analysis("v.mp4", 10, (0, 2, BACKGROUND), (2, 8, "alpha"), (8, 10, BACKGROUND))
    assert segments_of_analysis(result) == [Labelled("alpha", Span(2, 8))]


def test_a_predictions_file_without_truth_is_skipped_and_video_forces_the_name(tmp_path,
                                                                               predictions):
    csv = write_plain_csv(tmp_path / "truth.csv", TRUTH_ROWS)
    stray = write_predictions(tmp_path / "99.json", analysis("/media/99.mp4", 20, (0, 20, "beta")))
    result = evaluate_files([predictions[0], stray], csv)
    assert [v.video for v in result.videos] == ["12.mp4"]
    assert [str(s) for s in result.skipped] == [
        f"{stray}: no annotated video named like '99.mp4'"]
    forced = evaluate_files([stray], csv, video="13.mp4")
    # beta everywhere on 13: right only over 12-18, 6 of the 14 annotated seconds
    assert forced.videos[0].video == "13.mp4"
    assert forced.overall.labelled_right == pytest.approx(6 / 14)
    with pytest.raises(UsageError, match="one predictions file"):
        evaluate_files(predictions, csv, video="12.mp4")
    with pytest.raises(UsageError, match="IoU"):
        evaluate_files(predictions, csv, iou=0)


def test_nothing_matching_is_one_error_naming_the_files(tmp_path):
    csv = write_plain_csv(tmp_path / "truth.csv", TRUTH_ROWS)
    stray = write_predictions(tmp_path / "99.json", analysis("/media/99.mp4", 20, (0, 20, "beta")))
    with pytest.raises(EvaluationError) as info:
        evaluate_files([stray], csv)
    message = str(info.value)
    assert str(stray) in message and str(csv) in message and "12.mp4, 13.mp4, 14.mp4" in message
    assert "\n" not in message


def test_unknown_truth_labels_are_reported_not_scored(tmp_path, predictions):
    rows = TRUTH_ROWS[:2] + [Segment("12.mp4", 18, 20, "gamma")]
    result = evaluate_files(predictions[:1], write_plain_csv(tmp_path / "t.csv", rows))
    assert [p.kind for p in result.problems] == ["unknown-label"]
    assert result.overall.annotated_seconds == 16       # gamma's 2 s are not scored
    assert "gamma" not in result.overall.classes


def test_truth_a_little_past_the_video_is_clipped(tmp_path, predictions):
    rows = [Segment("12.mp4", 2, 10, "alpha"), Segment("12.mp4", 10, 20.3, "beta")]
    result = evaluate_files(predictions[:1], write_plain_csv(tmp_path / "t.csv", rows))
    assert result.overall.annotated_seconds == pytest.approx(18)   # beta clipped to 10-20


@pytest.mark.parametrize("write, needle", [
    (lambda p: None, "annotation file not found"),
    (lambda p: p.write_text("name,when\nx,1\n"), "neither a VIA CSV export"),
    (lambda p: p.write_bytes(b"\xff\xfe\x00bad"), "not a UTF-8 text file"),
    (lambda p: write_plain_csv(p, [Segment("12.mp4", 2, 30, "alpha")]), "lies past the video"),
    (lambda p: p.write_text("video,start,end,label\n12.mp4,soon,3,alpha\n"), "no usable"),
])
def test_bad_truth_files_are_one_error_naming_the_file(tmp_path, predictions, write, needle):
    path = tmp_path / "truth.csv"
    write(path)
    with pytest.raises(PharError) as info:
        evaluate_files(predictions[:1], path)
    assert isinstance(info.value, AnnotationError)
    assert str(info.value).startswith(str(path)) and needle in str(info.value)


def test_overlapping_predicted_segments_name_the_predictions_file(tmp_path, predictions):
    csv = write_plain_csv(tmp_path / "truth.csv", TRUTH_ROWS)

    def overlapping(result):
        return spans(("alpha", 0, 6), ("beta", 5, 8))

    with pytest.raises(EvaluationError, match=f"^{predictions[0]}: predicted spans overlap"):
        evaluate_files(predictions[:1], csv, segments_of=overlapping)


def test_two_annotated_videos_of_one_name_are_told_apart_by_folder(tmp_path):
    rows = [Segment("a/12.mp4", 2, 10, "alpha"), Segment("b/12.mp4", 2, 10, "beta")]
    csv = write_plain_csv(tmp_path / "truth.csv", rows)
    in_b = write_predictions(tmp_path / "b.json", analysis("/media/b/12.mp4", 20, (0, 20, "beta")))
    in_c = write_predictions(tmp_path / "c.json", analysis("/media/c/12.mp4", 20, (0, 20, "beta")))
    result = evaluate_files([in_b, in_c], csv)
    assert [v.video for v in result.videos] == ["b/12.mp4"]
    assert result.overall.labelled_right == 1.0                    # beta over b's 2-10
    assert [s.reason for s in result.skipped] == [
        "2 annotated videos fit '12.mp4' (a/12.mp4, b/12.mp4)"]
