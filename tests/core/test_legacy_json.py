import orjson
import pytest

from phar_cli.core.predictions import analysis_from_seed_json
from phar_cli.core.predictions import load_predictions
from phar_cli.spans import Span
from phar_cli.errors import PredictionsFormatError


def test_score_keyed_dicts_the_seed_wrote():
    data = [{"0.8": "doggy", "0.15": "scoop_up"}, {"0.6": "69", "0.3": "doggy"}]
    a = analysis_from_seed_json(data, source="old.json")
    assert [w.span for w in a.windows] == [Span(0, 7), Span(7, 14)]
    assert a.windows[0].scores == [("doggy", 0.8), ("scoop-up", 0.15)]
    assert a.windows[1].top == ("69", 0.6)
    assert a.labels == ["doggy", "scoop-up", "69"]
    assert (a.video.path, a.video.duration, a.video.fps, a.video.width, a.video.height) == (
        "old.json", 14.0, 0.0, 0, 0)
    assert a.config == {"source": "seed-json"}


def test_label_keyed_dicts_including_a_numeric_label():
    data = [{"doggy": 0.2, "69": 0.7}, {"scoop-up": "0.5", "anal": "0.25"}]
    a = analysis_from_seed_json(data, source="x", subclip_len=5)
    assert a.windows[0].scores == [("69", 0.7), ("doggy", 0.2)]
    assert a.windows[1].scores == [("scoop-up", 0.5), ("anal", 0.25)]
    assert a.windows[1].span == Span(5, 10)


@pytest.mark.parametrize("key", ["0:00:07", "7", "0:00:00"])
def test_wrapped_under_a_timestamp_key(key):
    data = [{key: {"0.9": "blowjob"}}, {key: {"blowjob": 0.4, "kissing": 0.5}}]
    a = analysis_from_seed_json(data, source="x")
    assert [w.top for w in a.windows] == [("blowjob", 0.9), ("kissing", 0.5)]
    assert a.windows[1].span == Span(7, 14)


def test_underscore_and_dash_are_one_label():
    a = analysis_from_seed_json([{"0.3": "scoop_up", "0.4": "scoop-up"}], source="x")
    assert a.windows[0].scores == [("scoop-up", 0.4)]
    assert a.labels == ["scoop-up"]


def test_a_single_label_window_is_not_taken_for_a_wrapper():
    a = analysis_from_seed_json([{"doggy": 1.0}], source="x")
    assert a.windows[0].scores == [("doggy", 1.0)]


@pytest.mark.parametrize("data, reason", [
    ({"0.5": "doggy"}, "list"),
    ([], "no windows"),
    (["doggy"], "window 0: expected an object"),
    ([{"0.5": "doggy"}, {}], "window 1: no scores"),
    ([{"doggy": "high"}], "window 0: neither"),
    ([{"0.5": "doggy", "anal": 0.2}], "window 0: neither"),
    ([{"doggy": [0.5]}], "window 0: neither"),
    ([{"doggy": True}], "window 0: neither"),
    ([{"nan": "doggy"}], "non-finite"),
])
def test_malformed_input_is_a_one_line_error(data, reason):
    with pytest.raises(PredictionsFormatError) as err:
        analysis_from_seed_json(data, source="bad.json")
    msg = str(err.value)
    assert msg.startswith("bad.json: ") and reason in msg and "\n" not in msg


def test_load_predictions_reads_seed_files(tmp_path):
    path = tmp_path / "seed.json"
    path.write_bytes(orjson.dumps([{"0:00:07": {"0.8": "doggy"}}, {"0:00:14": {"0.7": "anal"}}]))
    a = load_predictions(path, subclip_len=7)
    assert [(w.span, w.top) for w in a.windows] == [(Span(0, 7), ("doggy", 0.8)), (Span(7, 14), ("anal", 0.7))]
    assert a.video.path == str(path)
