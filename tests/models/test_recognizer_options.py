"""Test-time sampling and views as recognizer options: PoseC3D's clips (the seed's 10) and
TimeSformer's spatial views (the seed's 3 crops), changed on the loaded config's test pipeline;
None leaves the config's pipeline as it is."""
from __future__ import annotations

import numpy as np
import pytest

from phar_cli.core.labels import read_label_map
from phar_cli.errors import InvalidOption
from phar_cli.models.recognizer import Recognizer, with_frames

from tests.conftest import LABELS, ROOT, SMALL_CONFIGS

SEED_POSEC3D = ROOT / "configs/skeleton/posec3d.py"


def labels(stream):
    return read_label_map(LABELS[stream])


def test_the_seeds_posec3d_samples_one_clip_when_asked():
    seed = Recognizer("skeleton", SEED_POSEC3D, None, labels("skeleton"), "cpu")
    one = Recognizer("skeleton", SEED_POSEC3D, None, labels("skeleton"), "cpu", clips=1)
    assert seed.sample(210)["frame_inds"].shape == (540,)  # the seed's 10 clips of 54
    sample = one.sample(210)
    assert sample["frame_inds"].shape == (54,) and sample["num_clips"] == 1
    assert len(np.unique(sample["frame_inds"])) < len(np.unique(seed.sample(210)["frame_inds"]))
    assert one.sampler_cfg == dict(seed.sampler_cfg, num_clips=1)


def test_the_defaults_leave_the_configs_pipeline_untouched():
    from mmengine.config import Config

    for stream in ("rgb", "skeleton"):
        rec = Recognizer(stream, SMALL_CONFIGS[stream], None, labels(stream), "cpu",
                         clips=None, views=None)
        test_pipeline = Config.fromfile(str(SMALL_CONFIGS[stream])).test_pipeline
        samplers = [dict(t) for t in test_pipeline if t["type"] == rec.sampler_cfg["type"]]
        assert rec.sampler_cfg == samplers[0]
        built = [type(t).__name__ for t in rec.transforms.transforms]
        wanted = [t["type"] for t in test_pipeline
                  if t["type"] not in ("DecordInit", "DecordDecode", rec.sampler_cfg["type"])]
        assert built == wanted


@pytest.fixture(scope="module")
def rgb_sample():
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 255, (8, 36, 48, 3), dtype=np.uint8)  # the small config's 8 frames
    return frames


def test_one_rgb_view_is_the_centre_crop_and_gives_the_same_classes(rgb_sample, test_device):
    import torch

    torch.manual_seed(0)
    # one clip a window (the small config reads three): the sample's 8 frames
    three = Recognizer("rgb", SMALL_CONFIGS["rgb"], None, labels("rgb"), test_device, clips=1)
    one = Recognizer("rgb", SMALL_CONFIGS["rgb"], None, labels("rgb"), test_device, views=1,
                     clips=1)
    one.model.load_state_dict(three.model.state_dict())
    assert [type(t).__name__ for t in one.transforms.transforms][:2] == ["Resize", "CenterCrop"]
    items = {}
    for name, rec in (("three", three), ("one", one)):
        sample = rec.sample(40)
        items[name] = rec.prepare(with_frames(sample, rgb_sample[:len(sample["frame_inds"])]))
    assert items["three"]["inputs"].shape[0] == 3 and items["one"]["inputs"].shape[0] == 1
    # the centre crop is the middle one of the three (ThreeCrop's order: left, right, middle)
    assert torch.equal(items["one"]["inputs"][0], items["three"]["inputs"][2])
    probs_one, probs_three = one.forward([items["one"]]), three.forward([items["three"]])
    assert probs_one.shape == probs_three.shape == (1, len(labels("rgb")))
    assert np.allclose(probs_one.sum(1), 1, atol=1e-5)


@pytest.mark.parametrize("stream, kw, match", [
    ("skeleton", dict(clips=0), "skeleton_clips must be a whole number of at least 1"),
    ("rgb", dict(views=2), "rgb_views 2: use 1 \\(centre crop\\) or 3"),
    ("skeleton", dict(views=1), "skeleton_views: views are the RGB model's crops"),
    ("audio", dict(views=1), "audio_views: the config's test pipeline has no single crop"),
])
def test_bad_sampling_options_are_one_line_errors(stream, kw, match):
    with pytest.raises(InvalidOption, match=match):
        Recognizer(stream, SMALL_CONFIGS[stream], None, labels(stream), "cpu", **kw)
