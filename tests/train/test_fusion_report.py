"""`phar train fusion` reports each stream's top-1 over its own labels, beside the fused rows."""
from __future__ import annotations

import numpy as np

from phar_cli.train.fusion import StreamScores, own_label_accuracy


def test_each_stream_is_scored_on_the_clips_of_its_own_labels():
    labels = ["alpha", "beta", "gamma", "delta"]
    truth = np.array([0, 1, 2, 3, 2])
    audio = np.array([[.9, .1, 0, 0], [.3, .7, 0, 0], [.6, .4, 0, 0], [.5, .5, 0, 0],
                      [.2, .8, 0, 0]])
    skeleton = np.array([[0, 0, .5, .5], [0, 0, .5, .5], [0, 0, .8, .2], [0, 0, .6, .4],
                         [0, 0, .9, .1]])
    data = StreamScores(labels, truth, {"audio": audio, "skeleton": skeleton},
                        used={s: np.ones(5, bool) for s in ("audio", "skeleton")},
                        known={"audio": np.array([1, 1, 0, 0], bool),
                               "skeleton": np.array([0, 0, 1, 1], bool)})
    own = own_label_accuracy(data)
    assert own["audio"] == {"top1": 1.0, "clips": 2}      # alpha and beta clips only
    assert own["skeleton"] == {"top1": 0.6667, "clips": 3}  # delta called gamma
