"""A video's look and profile: made from windows, written compactly, read back; old files and
broken records."""
from __future__ import annotations

import numpy as np
import pytest

from phar_cli.core.action_profile import ActionProfile, profile, profile_of
from phar_cli.core.look import Look, look_of
from phar_cli.core.predictions import Analysis, VideoMeta, WindowPrediction
from phar_cli.errors import PredictionsFormatError
from phar_cli.spans import Span


def features(*rows):
    return [np.array(r, np.float32) if r is not None else None for r in rows]


def test_the_video_vector_is_the_unit_mean_over_action_windows():
    look = look_of(features((1, 0), None, (0, 3), (5, 5)), "m" * 16, lambda i: i != 3)
    assert look.windows == (0, 2, 3) and look.over == "action"
    assert np.allclose(look.video, [0.3162, 0.9487], atol=1e-3)  # (.5, 1.5), unit length
    assert look.vectors.dtype == np.float16 and look.vectors.shape == (3, 2)


def test_without_action_every_window_and_without_features_no_look():
    look = look_of(features((1, 0), (0, 1)), "m" * 16, lambda i: False)
    assert look.over == "all" and np.allclose(look.video, [0.7071, 0.7071], atol=1e-3)
    assert look_of(features(None, None), "m" * 16, lambda i: True) is None


def test_a_look_round_trips_in_the_predictions_file_and_older_files_have_none():
    rng = np.random.default_rng(4)
    look = look_of(list(rng.standard_normal((3, 768)).astype(np.float32)), "ab" * 8,
                   lambda i: True)
    windows = [WindowPrediction(Span(7 * k, 7 * k + 7), [("alpha", 0.9)]) for k in range(3)]
    analysis = Analysis(VideoMeta("v.mp4", 21, 25, 64, 48), ["alpha"], windows, look=look)
    data = analysis.to_dict()
    assert len(data["look"]["vectors"]) < 3 * 768 * 2 * 4 / 3 + 4  # base64 of float16
    back = Analysis.from_dict(data).look
    assert back.model == look.model and back.windows == look.windows
    assert np.array_equal(back.vectors, look.vectors) and np.array_equal(back.video, look.video)
    del data["look"]
    data["schema"] = "phar.predictions/2.1"
    assert Analysis.from_dict(data).look is None
    for broken in ({"dtype": "float32"}, {"dims": 700}, {"vectors": "!!"}, {"over": "some"}):
        with pytest.raises(PredictionsFormatError):
            Analysis.from_dict({**analysis.to_dict(), "look": {**look.to_dict(), **broken}})


def test_a_profile_counts_action_seconds_and_the_time_where_nothing_happens():
    windows = [WindowPrediction(Span(0, 7), [("alpha", 0.9)]),
               WindowPrediction(Span(7, 14), [("background", 0.9)]),
               WindowPrediction(Span(14, 21), [("beta", 0.8)]),
               WindowPrediction(Span(21, 28), [("alpha", 0.7)])]
    analysis = Analysis(VideoMeta("v.mp4", 28, 25, 64, 48), ["alpha", "beta", "background"],
                        windows, {"background": "background"})
    p = profile_of(analysis)
    assert p.seconds == {"alpha": 14, "beta": 7}
    assert p.shares() == pytest.approx({"alpha": 2 / 3, "beta": 1 / 3})
    assert p.idle_share == pytest.approx(0.25)
    assert ActionProfile.from_dict(p.to_dict()) == p
    assert profile(10, {}).shares() == {} and profile(10, {}).idle_share == 1.0
