"""The RTMO front end: the real RTMO-s architecture (mmpose's config as phar references it) with
random weights, loaded through `load_pose_estimator` like the analysis and `prepare-data` load it,
answers in the format the marker backend gives on the same synthetic frames, and its output goes
through the engine's tracking and people cap unchanged.

Random weights find nobody, or everybody, so the head is steered as tests/conftest.py steers the
detector: a constant person score on every location (its output convolutions zeroed and biased),
fixed box sizes, and the config's `nms_pre` cap so a frame holds at most 3 candidates. The
backbone, neck and keypoint decoder keep their random weights. Input 320 (a multiple of 32, the
`det_size` option) keeps the forwards fast; the letterbox check runs at the config's 640.
"""
from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from phar_cli.core.gates import pose_quality
from phar_cli.core.people import track_people
from phar_cli.core.skeleton import window_poses
from phar_cli.errors import InvalidOption, ModelLoadError
from phar_cli.synthetic.figure import KEYPOINT_NAMES, draw_figure, figure_keypoints
from phar_cli.models.bundle import ModelFiles
from phar_cli.synthetic.marker_poses import MarkerPoseEstimator
from phar_cli.models.poses import FramePoses
from phar_cli.models.pose_backends import load_pose_estimator

ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]
RTMO_S = ROOT / "configs/pose/rtmo-s.py"
SIZE = (160, 120)
PERSON_LOGIT = 3.0  # sigmoid 0.953: every location a person


def figure_frames(n: int, size=SIZE, motion="wave") -> np.ndarray:
    return np.stack([draw_figure(np.full((size[1], size[0], 3), (25, 20, 40), np.uint8),
                                 figure_keypoints(motion, 0.15 * k, size)) for k in range(n)])


def steer(model) -> None:
    """A constant person score everywhere and boxes of 6 x 10 strides around each location."""
    import torch

    head = model.head.head_module
    with torch.no_grad():
        for conv in head.out_cls:
            conv.weight.zero_()
            conv.bias.fill_(PERSON_LOGIT)
        for conv in head.out_bbox:
            conv.weight.zero_()
            conv.bias.copy_(torch.tensor([0.0, 0.0, math.log(6), math.log(10)]))


@pytest.fixture(scope="module")
def rtmo_files(tmp_path_factory):
    """RTMO-s random weights saved as mmpose saves a checkpoint, with a config capping the
    candidates a frame."""
    import mmpose
    import torch

    folder = tmp_path_factory.mktemp("rtmo")
    config = folder / "rtmo-s_capped.py"
    config.write_text(f"_base_ = [{str(RTMO_S)!r}]\nmodel = dict(test_cfg=dict(nms_pre=3))\n")
    torch.manual_seed(0)
    est = load_pose_estimator("rtmo-s", {"rtmo-s": ModelFiles(config, None)}, "cpu")
    steer(est.model)
    checkpoint = folder / "rtmo-s.pth"
    torch.save({"meta": {"mmpose_version": mmpose.__version__,
                         "dataset_meta": est.model.dataset_meta},
                "state_dict": est.model.state_dict()}, checkpoint)
    return {"rtmo-s": ModelFiles(config, checkpoint)}


@pytest.fixture(scope="module")
def rtmo(rtmo_files, test_device):
    return load_pose_estimator("rtmo-s", rtmo_files, test_device, det_size=320)


@pytest.fixture(scope="module")
def frames():
    return figure_frames(5)


@pytest.fixture(scope="module")
def found(rtmo, frames):
    return rtmo(frames)


def test_rtmo_answers_in_the_marker_backends_format(rtmo, frames, found):
    markers = MarkerPoseEstimator()(frames)
    assert len(found) == len(markers) == len(frames)
    height, width = frames.shape[1:3]
    for mine, theirs in zip(found, markers):
        assert isinstance(mine, FramePoses) and len(theirs.boxes) == 1
        assert 1 <= len(mine.boxes) <= 3
        for got, want in ((mine.boxes, theirs.boxes), (mine.keypoints, theirs.keypoints),
                          (mine.scores, theirs.scores)):
            assert got.dtype == want.dtype == np.float32
            assert got.shape[1:] == want.shape[1:]
            assert got.shape[0] == len(mine.boxes)
        assert mine.keypoints.shape[1:] == (17, 2)
        assert ((mine.scores >= 0) & (mine.scores <= 1)).all()
        x1, y1, x2, y2, score = mine.boxes.T
        assert ((0 <= x1) & (x1 <= x2) & (x2 <= width)).all()
        assert ((0 <= y1) & (y1 <= y2) & (y2 <= height)).all()
        assert np.allclose(score, 1 / (1 + math.exp(-PERSON_LOGIT)), atol=1e-5)
    # keypoints in COCO order, as the figure (and the marker backend) numbers them
    names = rtmo.model.dataset_meta["keypoint_id2name"]
    assert tuple(names[i] for i in range(17)) == KEYPOINT_NAMES


def test_people_under_the_score_threshold_are_dropped(rtmo_files, frames, test_device):
    strict = load_pose_estimator("rtmo-s", rtmo_files, test_device, det_size=320,
                                 det_score_thr=0.99)
    for poses in strict(frames[:2]):
        assert poses.boxes.shape == (0, 5) and poses.keypoints.shape == (0, 17, 2)
        assert poses.scores.shape == (0, 17)


def test_the_engines_tracking_and_people_cap_take_rtmo_unchanged(rtmo, frames, found):
    with ThreadPoolExecutor(1) as pool:
        keypoints, scores = window_poses(rtmo, frames, range(len(frames)), pool, max_people=2)
    want_kp, want_sc = track_people(found, max_people=2)
    assert keypoints.shape == (len(want_kp), len(frames), 17, 2) and 1 <= len(keypoints) <= 2
    np.testing.assert_allclose(keypoints, want_kp, atol=1e-3)
    np.testing.assert_allclose(scores, want_sc, atol=1e-5)
    assert 0.0 <= pose_quality(scores, 0.4) <= 1.0


def test_pose_every_other_frame_runs_rtmo_on_half_the_frames(rtmo, frames):
    seen: list[int] = []

    class Counting:
        batch_size = rtmo.batch_size

        def frame_inputs(self, part):
            seen.extend(int(f.sum()) for f in part)
            return rtmo.frame_inputs(part)

        def frame_forward(self, inputs):
            return rtmo.frame_forward(inputs)

    with ThreadPoolExecutor(1) as pool:
        keypoints, scores = window_poses(Counting(), frames, range(len(frames)), pool,
                                         max_people=1, pose_every=2)
    assert seen == [int(frames[t].sum()) for t in (0, 2, 4)]
    assert keypoints.shape == (1, 5, 17, 2)
    # the frames between two finds are filled, inside the person's (fixed) box
    assert (scores[0, 1] > 0).any() and (scores[0, 3] > 0).any()
    np.testing.assert_allclose(keypoints[0, 1], (keypoints[0, 0] + keypoints[0, 2]) / 2,
                               atol=1e-3)


def test_a_checkpoint_in_mmpose_format_loads_strictly(rtmo_files, tmp_path, monkeypatch):
    import torch

    est = load_pose_estimator("rtmo-s", rtmo_files, "cpu")
    saved = torch.load(rtmo_files["rtmo-s"].checkpoint, weights_only=False)
    for key, value in saved["state_dict"].items():
        assert torch.equal(est.model.state_dict()[key], value), key
    config = rtmo_files["rtmo-s"].config
    missing = dict(saved, state_dict={k: v for k, v in saved["state_dict"].items()
                                      if not k.startswith("head.dcc.")})
    torch.save(missing, tmp_path / "missing.pth")
    with pytest.raises(ModelLoadError, match=r"RTMO pose checkpoint does not fit the config: "
                                             r"missing \d+ \(e\.g\. head\.dcc\."):
        load_pose_estimator("rtmo-s", {"rtmo-s": ModelFiles(config, tmp_path / "missing.pth")},
                            "cpu")
    extra = dict(saved, state_dict={**saved["state_dict"], "head.extra": torch.zeros(1)})
    torch.save(extra, tmp_path / "extra.pth")
    monkeypatch.setenv("PHAR_STRICT_CHECKPOINTS", "1")  # else an unused key is warned about only
    with pytest.raises(ModelLoadError, match=r"unexpected 1 \(e\.g\. head\.extra\)"):
        load_pose_estimator("rtmo-s", {"rtmo-s": ModelFiles(config, tmp_path / "extra.pth")},
                            "cpu")


@pytest.mark.parametrize("size", [(160, 120), (90, 160)])  # landscape and portrait letterboxes
def test_the_letterbox_on_the_device_equals_mmposes_bottomup_resize(rtmo_files, test_device, size):
    # Tolerance: 1 grey level, a 0.5% share of pixels at most. cv2.warpAffine interpolates in
    # fixed point (5-bit coordinates, 15-bit weights) and rounds once; torch's grid_sample works
    # in float32; both take the same matrix (mmpose's get_warp_matrix), so only rounding differs.
    import torch

    refs = load_pose_estimator("rtmo-s", rtmo_files, "cpu", preprocess="openmmlab")
    ours = load_pose_estimator("rtmo-s", rtmo_files, test_device, preprocess="device")
    frames = figure_frames(2, size)
    for want, got in zip(refs.frame_inputs(frames), ours.frame_inputs(frames)):
        a, b = want["inputs"], got["inputs"].cpu()
        assert a.shape == b.shape == (3, 640, 640) and a.dtype == b.dtype == torch.uint8
        diff = (a.int() - b.int()).abs()
        assert diff.max() <= 1 and (diff > 0).float().mean() < 0.005
        assert_same_metainfo(want["data_samples"].metainfo, got["data_samples"].metainfo)


def assert_same_metainfo(want: dict, got: dict) -> None:
    assert set(want) == set(got)
    for key, value in want.items():
        np.testing.assert_array_equal(np.asarray(got[key]), np.asarray(value), err_msg=key)


def test_bf16_runs_the_convolutions_and_answers_in_float32(rtmo_files, frames, test_device):
    est = load_pose_estimator("rtmo-s", rtmo_files, test_device, det_size=320, precision="bf16")
    for poses in est(frames[:2]):
        assert len(poses.boxes) >= 1
        assert poses.keypoints.dtype == poses.scores.dtype == poses.boxes.dtype == np.float32


def test_options_rtmo_cannot_take_are_one_line_errors(rtmo_files):
    with pytest.raises(InvalidOption, match="det_proposals applies to the two-stage detector"):
        load_pose_estimator("rtmo-s", rtmo_files, "cpu", det_proposals=300)
    with pytest.raises(InvalidOption, match="det_size 300: RTMO's input is a multiple of 32"):
        load_pose_estimator("rtmo-s", rtmo_files, "cpu", det_size=300)
    with pytest.raises(InvalidOption, match="preprocess 'gpu': choose from auto, openmmlab"):
        load_pose_estimator("rtmo-s", rtmo_files, "cpu", preprocess="gpu")


def test_an_engine_with_the_rtmo_front_end_analyses_a_video(rtmo_files, tmp_path, test_device):
    from phar_cli.core.engine import Engine, EngineOptions
    from phar_cli.synthetic.video import Scene, make_video
    from phar_cli.models.bundle import needed_models

    from tests.conftest import LABELS, SMALL_CONFIGS

    video = tmp_path / "figure.mp4"
    make_video(video, segments=[Scene(3, (25, 20, 40), "still", None, figure="wave")],
               size=SIZE, fps=10, audio=False)
    models = {"skeleton": ModelFiles(SMALL_CONFIGS["skeleton"], None, LABELS["skeleton"]),
              **rtmo_files}
    assert needed_models(("skeleton",), "rtmo-s") == list(models)
    engine = Engine(EngineOptions(models=models, streams=("skeleton",), device=test_device,
                                  pose_backend="rtmo-s", det_size=320))
    analysis = engine.analyse(video, gated=False)
    (window,) = analysis.windows
    assert window.used == ["skeleton"] and 1 <= window.measures["people"] <= 2
    assert 0.0 <= window.measures["pose_quality"] <= 1.0
