"""The markers pose backend reads the synthetic figure's joints back after real H.264 encoding."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from phar_cli.core.gates import pose_quality
from phar_cli.core.people import track_people
from phar_cli.media.decode import FrameReader
from phar_cli.synthetic.figure import Figure, draw_figure, figure_keypoints
from phar_cli.synthetic.video import Scene, make_video
from phar_cli.synthetic.marker_poses import MarkerPoseEstimator

FPS = 10


def _figure_video(path, size, motion, *, shape_color=(230, 230, 230)):
    """2 s of a figure over a moving bright disc, then 1 s without a figure."""
    fig = Figure(motion, center=(0.46, 0.54), scale=1.05, phase=0.4)
    make_video(path, segments=[
        Scene(2, (25, 20, 40), "left-right", 300, -15, shape_color=shape_color, figure=fig),
        Scene(1, (25, 20, 40), "circle", None, shape_color=shape_color),
    ], size=size, fps=FPS, crf=18)
    return fig


@pytest.mark.parametrize("size, motion", [((160, 120), "wave"), ((160, 120), "squat"),
                                          ((320, 240), "sway"), ((320, 240), "jump")])
def test_recovers_ground_truth_after_encoding(tmp_path, size, motion):
    path = tmp_path / f"{motion}.mp4"
    fig = _figure_video(path, size, motion)
    reader = FrameReader(path)
    frames = reader.frames(list(range(len(reader))))
    assert frames.shape[1:3] == (size[1], size[0])
    poses = MarkerPoseEstimator()(frames)
    assert len(poses) == len(frames) == 3 * FPS

    with_figure = poses[:2 * FPS]
    assert all(p.keypoints.shape == (1, 17, 2) and p.scores.shape == (1, 17)
               and p.boxes.shape == (1, 5) for p in with_figure)
    truth = np.stack([fig.keypoints(i / FPS, size) for i in range(2 * FPS)])
    found = np.stack([p.keypoints[0] for p in with_figure])
    error = np.linalg.norm(found - truth, axis=-1)
    assert (error <= 2.0).mean() >= 0.95
    assert np.median(error) < 1.0
    scores = np.stack([p.scores[0] for p in with_figure])
    assert scores.min() >= 0.5 and scores.max() <= 1.0
    for p in with_figure:  # the box holds every joint; its score is the mean joint score
        x1, y1, x2, y2, s = p.boxes[0]
        assert (p.keypoints[0, :, 0] >= x1).all() and (p.keypoints[0, :, 0] <= x2).all()
        assert (p.keypoints[0, :, 1] >= y1).all() and (p.keypoints[0, :, 1] <= y2).all()
        assert s == pytest.approx(p.scores[0].mean())

    # nobody in the frames without a figure, though a bright disc moves there
    assert all(len(p.boxes) == 0 and p.keypoints.shape == (0, 17, 2) and p.scores.shape == (0, 17)
               for p in poses[2 * FPS + 1:])

    # the seed's pose-quality gate passes on the figure, as the engine computes it
    _, track_scores = track_people(with_figure, max_people=2)
    assert track_scores.shape[0] == 1
    assert pose_quality(track_scores, 0.4) >= 0.35
    assert pose_quality(track_scores, 0.4) == pytest.approx(1.0)


def test_exact_on_drawn_frames_and_partial_joints_score_less():
    size = (160, 120)
    frames = np.zeros((3, 120, 160, 3), np.uint8)
    frames[..., 2] = 40
    kps = [figure_keypoints("wave", t, size) for t in (0.0, 0.7)]
    for frame, kp in zip(frames, kps):
        draw_figure(frame, kp)
    frames[1, :, 100:] = 0  # hide the figure's left side (image right) in the second frame
    poses = MarkerPoseEstimator()(frames)
    assert np.abs(poses[0].keypoints[0] - np.rint(kps[0])).max() < 1e-6
    assert (poses[0].scores[0] == 1.0).all()
    hidden = kps[1][:, 0] > 100 + 3
    assert (poses[1].scores[0][hidden] == 0).all()
    assert (poses[1].scores[0][~hidden] > 0.5).all()
    assert len(poses[2].boxes) == 0  # an empty frame


def test_few_joints_are_nobody():
    frame = np.zeros((1, 120, 160, 3), np.uint8)
    draw_figure(frame[0], figure_keypoints("still", 0, (160, 120)))
    frame[0, :88] = 0  # only the two ankles are left
    estimator = MarkerPoseEstimator(min_joints=5)
    assert len(estimator(frame)[0].boxes) == 0
    assert len(MarkerPoseEstimator(min_joints=2)(frame)[0].boxes) == 1


def test_bad_input_shape():
    with pytest.raises(ValueError, match="shape"):
        MarkerPoseEstimator()(np.zeros((2, 10, 10), np.uint8))
    assert MarkerPoseEstimator()(np.zeros((0, 12, 16, 3), np.uint8)) == []


def test_imports_neither_torch_nor_openmmlab():
    code = ("import sys, phar_cli.synthetic.marker_poses; "
            "print(sorted(m for m in ('torch', 'mmcv', 'mmengine', 'mmpose', 'mmdet') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
