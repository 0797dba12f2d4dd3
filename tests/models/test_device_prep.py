"""Pre-processing on the model's device equals the OpenMMLab transforms it replaces: the
detector's resize, the pose model's crops, PoseC3D's heatmap volumes (RTMO's letterbox: in
test_rtmo.py). Each check states its tolerance and why; the data samples (what the forwards read
besides the pixels) must be the same, and a forward on them must give what it gives on the
reference's data samples with the same pixels.

`PHAR_TEST_DEVICE=cuda` runs the device side on a GPU; the reference is always the CPU's.
"""
from __future__ import annotations

import numpy as np
import pytest

from phar_cli.core.labels import read_label_map
from phar_cli.errors import InvalidOption
from phar_cli.synthetic.figure import draw_figure, figure_keypoints
from phar_cli.models.device_prep import on_device, parse_preprocess, pose_heatmaps
from phar_cli.models.poses import PoseEstimator
from phar_cli.models.recognizer import Recognizer, with_poses

from tests.conftest import LABELS, SMALL_CONFIGS

# cv2 (resize, warpAffine) interpolates uint8 in fixed point (11-bit resize weights, 5-bit warp
# coordinates, products shifted before rounding in its SIMD paths); torch interpolates in float32
# and rounds once. With the same geometry the pixels are at most 1 grey level apart, on up to
# ~13% of the pixels of a noisy texture (measured: 8-13% for resizes, 0-7% for warps; a share of
# values lands on the other side of a half), so: 1 level, at most 15% of the pixels.
MAX_LEVELS, MAX_SHARE = 1, 0.15
# GeneratePoseTarget's float32 exp(-(dx^2 + dy^2) / 2s^2) against the device's separable
# exp(-dx^2 / 2s^2) * exp(-dy^2 / 2s^2): two roundings more, a few float32 ulps at 1.
HEATMAP_ATOL = 1e-6


def frames(size=(160, 120), n=2):
    w, h = size
    rng = np.random.default_rng(0)
    out = []
    for k in range(n):
        f = rng.integers(0, 60, (h, w, 3), dtype=np.uint8)  # texture: interpolation shows
        out.append(draw_figure(f, figure_keypoints("wave", 0.3 * k, size)))
    return np.stack(out)


def estimators(device, **kw):
    import torch

    torch.manual_seed(0)
    ref = PoseEstimator(SMALL_CONFIGS["det"], None, SMALL_CONFIGS["pose"], None, "cpu",
                        preprocess="openmmlab", **kw)
    ours = PoseEstimator(SMALL_CONFIGS["det"], None, SMALL_CONFIGS["pose"], None, device,
                         preprocess="device", **kw)
    ours.detector.load_state_dict(ref.detector.state_dict())
    ours.pose_model.load_state_dict(ref.pose_model.state_dict())
    return ref, ours


@pytest.fixture(scope="module")
def pair(test_device):
    return estimators(test_device)


def assert_same_pixels(want, got):
    import torch

    got = got.cpu()
    assert want.shape == got.shape and want.dtype == got.dtype == torch.uint8
    diff = (want.int() - got.int()).abs()
    assert diff.max() <= MAX_LEVELS and (diff > 0).float().mean() <= MAX_SHARE


def assert_same_sample(want, got):
    """Two packed data samples alike: metainfo and every instance field."""
    assert set(want.metainfo) == set(got.metainfo)
    for key, value in want.metainfo.items():
        if isinstance(value, (str, type(None))):
            assert got.metainfo[key] == value, key
        else:
            np.testing.assert_allclose(np.asarray(got.metainfo[key], np.float64),
                                       np.asarray(value, np.float64), rtol=1e-6, err_msg=key)
    if "gt_instances" in want:
        assert set(want.gt_instances.keys()) == set(got.gt_instances.keys())
        for key in want.gt_instances.keys():
            np.testing.assert_allclose(np.asarray(got.gt_instances[key]),
                                       np.asarray(want.gt_instances[key]), rtol=1e-6,
                                       err_msg=key)


def with_pixels(reference: list[dict], ours: list[dict]) -> list[dict]:
    """The reference inputs carrying our pixels: a forward on them must equal one on ours."""
    return [dict(r, inputs=o["inputs"].cpu()) for r, o in zip(reference, ours)]


@pytest.mark.parametrize("det_size", [None, 48])  # the config's 320 (upscaling), and downscaling
def test_the_detectors_resize_on_the_device_equals_mmdets(pair, test_device, det_size):
    ref, ours = pair if det_size is None else estimators(test_device, det_size=det_size)
    assert ours.det_on_device and not ref.det_on_device
    f = frames()
    want, got = ref.det_inputs(f), ours.det_inputs(f)
    for a, b in zip(want, got):
        assert_same_pixels(a["inputs"], b["inputs"])
        assert_same_sample(a["data_samples"], b["data_samples"])
    same = ours.det_forward(with_pixels(want, got))
    for a, b in zip(ours.det_forward(got), same):
        np.testing.assert_allclose(a, b, atol=1e-3)


def test_the_pose_crops_on_the_device_equal_mmposes_topdown_affine(pair):
    ref, ours = pair
    assert ours.pose_on_device
    f = frames()
    items = [(0, np.array([40, 10, 110, 115, 0.9], np.float32)),   # inside
             (0, np.array([-30, -20, 50, 60, 0.8], np.float32)),   # over the corner: border
             (1, np.array([150, 100, 158, 119, 0.7], np.float32)),  # tiny, at the edge
             (1, np.array([10.3, 5.7, 90.1, 80.9, 0.6], np.float32))]  # wide
    want, got = ref.pose_inputs(f, items), ours.pose_inputs(f, items)
    assert len(got) == len(items)
    for a, b in zip(want, got):
        assert_same_pixels(a["inputs"], b["inputs"])
        assert_same_sample(a["data_samples"], b["data_samples"])
    kp, sc = ours.pose_forward(got)
    kp_same, sc_same = ours.pose_forward(with_pixels(want, got))
    np.testing.assert_allclose(kp, kp_same, atol=1e-3)
    np.testing.assert_allclose(sc, sc_same, atol=1e-5)


def skeleton_sample(rec, rng, people=2, total=30, size=(120, 160)):
    sample = rec.sample(total)
    h, w = size
    kp = (rng.random((people, total, 17, 2)) * [w * 1.1, h * 1.1] - [w * 0.05, h * 0.05])
    scores = rng.random((people, total, 17))
    scores[0, :4] = 0.0          # a person missing from some frames
    scores[-1, :, 3] = 5e-5      # under the transform's eps: no Gaussian
    return with_poses(sample, kp.astype(np.float32), scores.astype(np.float32),
                      np.arange(total), total, size)


def test_the_heatmap_volumes_on_the_device_equal_mmactions(test_device):
    import torch

    labels = read_label_map(LABELS["skeleton"])
    torch.manual_seed(0)
    ref = Recognizer("skeleton", SMALL_CONFIGS["skeleton"], None, labels, "cpu",
                     preprocess="openmmlab")
    ours = Recognizer("skeleton", SMALL_CONFIGS["skeleton"], None, labels, test_device,
                      preprocess="device")
    ours.model.load_state_dict(ref.model.state_dict())
    rng = np.random.default_rng(1)
    samples = [skeleton_sample(ref, rng), skeleton_sample(ref, rng, people=1)]
    want = [ref.prepare(dict(s)) for s in samples]
    got = [ours.prepare(dict(s)) for s in samples]
    for a, b in zip(want, got):
        assert a["inputs"].shape == b["inputs"].shape == (4, 17, 12, 32, 32)  # 2 clips x flip
        assert a["inputs"].dtype == b["inputs"].dtype == torch.float32
        assert (a["inputs"] > 0).sum() > 1000
        assert torch.allclose(a["inputs"], b["inputs"].cpu(), atol=HEATMAP_ATOL, rtol=0)
        assert_same_sample(a["data_samples"], b["data_samples"])
    np.testing.assert_allclose(ours.forward(got), ref.forward(want), atol=1e-5)


def test_heatmaps_keep_the_transforms_window_at_the_borders(test_device):
    """Keypoints beyond the edges and scores at the eps, against GeneratePoseTarget with the
    seed's settings (sigma 0.6, flip with its left/right keypoints)."""
    from phar_cli.models.compat import import_openmmlab

    import_openmmlab()
    from mmaction.datasets.transforms import GeneratePoseTarget

    left, right = [1, 3, 5, 7, 9, 11, 13, 15], [2, 4, 6, 8, 10, 12, 14, 16]
    target = GeneratePoseTarget(sigma=0.6, use_score=True, with_kp=True, with_limb=False,
                                double=True, left_kp=left, right_kp=right)
    rng = np.random.default_rng(2)
    kp = (rng.random((2, 6, 17, 2)) * 20 - 2).astype(np.float32)
    kp[0, 0, :6] = [[-2.0, 3], [-1.7, 3], [-0.5, 3], [15.9, 4], [16.0, 4], [17.7, 4]]
    scores = rng.random((2, 6, 17)).astype(np.float32)
    scores[1, 2, :5] = [1e-4, 9.9e-5, 0, 1, 0.5]
    want = target(dict(keypoint=kp.copy(), keypoint_score=scores.copy(),
                        img_shape=(16, 16)))["imgs"]
    flip = np.arange(17)
    for a, b in zip(left, right):
        flip[a], flip[b] = b, a
    import torch

    got = pose_heatmaps(torch.from_numpy(kp).to(test_device), torch.from_numpy(scores),
                        (16, 16), 0.6, flip_index=flip).cpu().numpy()
    assert got.shape == want.shape == (12, 17, 16, 16)
    assert ((got > 0) == (want > 0)).all()
    np.testing.assert_allclose(got, want, atol=HEATMAP_ATOL, rtol=0)


def test_auto_runs_on_the_device_only_on_cuda():
    assert not on_device("auto", "cpu") and on_device("auto", "cuda:0")
    assert on_device("device", "cpu") and not on_device("openmmlab", "cuda")
    with pytest.raises(InvalidOption, match="preprocess 'gpu': choose from"):
        parse_preprocess("gpu")


def test_device_pre_processing_refuses_a_pipeline_it_cannot_reproduce(tmp_path):
    det = tmp_path / "det_flip.py"
    det.write_text(f"_base_ = [{str(SMALL_CONFIGS['det'])!r}]\n"
                   "test_pipeline = [dict(type='LoadImageFromFile'),\n"
                   "    dict(type='Resize', scale=(320, 320), keep_ratio=False),\n"
                   "    dict(type='PackDetInputs')]\n"
                   "test_dataloader = dict(dataset=dict(pipeline=test_pipeline))\n")
    with pytest.raises(InvalidOption, match="preprocess device: the detector's or the pose "
                                            "model's test pipeline is not one phar can run"):
        PoseEstimator(det, None, SMALL_CONFIGS["pose"], None, "cpu", preprocess="device")
    # auto falls back to the transforms
    est = PoseEstimator(det, None, SMALL_CONFIGS["pose"], None, "cpu", preprocess="auto")
    assert not est.det_on_device
