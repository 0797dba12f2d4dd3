"""The RGB model's pooled features, kept during the forward that scores a batch: exactly the
input of the head's last layer, one row per window in the batch's order (views averaged). One
clip a window here (the small config reads three), so a window's rows are its views alone."""
from __future__ import annotations

import numpy as np
import pytest

from phar_cli.core.labels import read_label_map
from phar_cli.models.recognizer import Recognizer, with_frames

from tests.conftest import LABELS, SMALL_CONFIGS


def windows(rec: Recognizer, n: int) -> list[dict]:
    rng = np.random.default_rng(11)
    items = []
    for _ in range(n):
        sample = rec.sample(64)
        frames = rng.integers(0, 255, (len(sample["frame_inds"]), 40, 48, 3), dtype=np.uint8)
        items.append(rec.prepare(with_frames(sample, frames)))
    return items


@pytest.fixture(scope="module")
def labels():
    return read_label_map(LABELS["rgb"])


def test_the_features_are_what_the_head_classifies(labels):
    import torch

    torch.manual_seed(5)
    rec = Recognizer("rgb", SMALL_CONFIGS["rgb"], None, labels, "cpu", views=1, clips=1)
    items = windows(rec, 3)
    probs = rec.forward(items)
    features = rec.last_features
    assert features.shape == (3, 64)
    with torch.no_grad():
        logits = rec.model.cls_head.fc_cls(torch.from_numpy(features))
    assert np.allclose(torch.softmax(logits, 1).numpy(), probs, atol=1e-5)
    # one row per window, in the batch's order
    rec.forward(items[::-1])
    assert np.allclose(rec.last_features, features[::-1], atol=1e-5)


def test_three_views_give_one_row_a_window_the_mean_of_its_views(labels):
    import torch

    torch.manual_seed(5)
    rec = Recognizer("rgb", SMALL_CONFIGS["rgb"], None, labels, "cpu", views=3, clips=1)
    items = windows(rec, 2)
    rec.forward(items)
    assert rec.last_features.shape == (2, 64)
    kept = []
    rec.model.cls_head.fc_cls.register_forward_pre_hook(lambda m, x: kept.append(x[0].clone()))
    rec.forward(items)
    views = kept[0].numpy()
    assert views.shape == (6, 64)
    assert np.allclose(rec.last_features, views.reshape(2, 3, 64).mean(1), atol=1e-6)


def test_the_configs_three_clips_still_give_one_row_a_window(labels):
    rec = Recognizer("rgb", SMALL_CONFIGS["rgb"], None, labels, "cpu")
    assert rec.sampler_cfg["num_clips"] == 3
    rec.forward(windows(rec, 2))
    assert rec.last_features.shape == (2, 64)
