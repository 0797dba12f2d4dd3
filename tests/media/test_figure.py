from __future__ import annotations

import itertools

import numpy as np
import pytest

from phar_cli.media.audio import load_waveform
from phar_cli.media.decode import FrameReader
from phar_cli.synthetic.figure import (
    FIGURE_MOTIONS, JOINT_COLORS, KEYPOINT_NAMES, LIMB_COLOR, MIN_JOINT_GAP, NUM_JOINTS, Figure,
    draw_figure, figure_height, figure_keypoints, joint_radius,
)
from phar_cli.synthetic.video import Scene, make_video

TIMES = np.linspace(0, 2, 41)  # one full period of every motion


def test_palette_is_17_saturated_colours_far_apart():
    colours = np.asarray(JOINT_COLORS, float)
    assert colours.shape == (NUM_JOINTS, 3) == (len(KEYPOINT_NAMES), 3)
    assert len(set(JOINT_COLORS)) == NUM_JOINTS
    assert (colours.max(1) == 255).all()                    # one channel full
    assert (colours.max(1) - colours.min(1) >= 127).all()   # never grey or white
    gaps = [np.linalg.norm(a - b) for a, b in itertools.combinations(colours, 2)]
    assert min(gaps) >= 127
    assert max(LIMB_COLOR) - min(LIMB_COLOR) == 0            # limbs are grey


@pytest.mark.parametrize("motion", FIGURE_MOTIONS)
def test_joints_never_come_closer_than_the_minimum_gap(motion):
    size = (160, 120)
    h = figure_height(size)
    for t in TIMES:
        kp = figure_keypoints(motion, t, size)
        d = np.linalg.norm(kp[:, None] - kp[None], axis=-1) + np.eye(NUM_JOINTS) * 1e9
        assert d.min() >= MIN_JOINT_GAP * h - 1e-3
    # discs (and their rings) of the smallest size we use never touch, even at scale 0.95
    assert MIN_JOINT_GAP * figure_height(size, 0.95) >= 2 * joint_radius(size) + 2


@pytest.mark.parametrize("motion", FIGURE_MOTIONS)
def test_figure_stays_in_the_frame_and_is_deterministic(motion):
    size = (160, 120)
    for t in TIMES:
        kp = figure_keypoints(motion, t, size, center=(0.58, 0.56), scale=1.1)
        r = joint_radius(size)
        assert (kp >= r).all() and (kp[:, 0] < size[0] - r).all() and (kp[:, 1] < size[1] - r).all()
        assert np.array_equal(kp, figure_keypoints(motion, t, size, center=(0.58, 0.56), scale=1.1))


def test_motions_move_the_joints_they_should():
    def travel(motion, joints):
        track = np.stack([figure_keypoints(motion, t, (320, 240)) for t in TIMES])
        return np.ptp(track[:, joints], axis=0).max()

    wrists, hips, knees = [9, 10], [11, 12], [13, 14]
    assert travel("wave", wrists) > 40 and travel("wave", hips) < 1e-6
    assert travel("squat", hips) > 15 and travel("squat", knees) > 10
    assert travel("squat", wrists) > 15  # the upper body goes down with the hips
    assert travel("sway", hips) > 5
    assert travel("jump", [15, 16]) > 15  # the ankles leave the ground
    assert travel("still", list(range(NUM_JOINTS))) == 0
    # a figure's size and place follow the frame
    kp = figure_keypoints("still", 0, (320, 240))
    eyes_to_ankles = kp[[15, 16], 1].mean() - kp[[1, 2], 1].mean()
    assert eyes_to_ankles == pytest.approx(0.6 * 240 * 0.975, rel=0.02)
    assert kp[[11, 12]].mean(0) == pytest.approx((160, 120))


def test_draw_figure_paints_each_joint_in_its_colour():
    frame = np.zeros((120, 160, 3), np.uint8)
    kp = figure_keypoints("wave", 0.5, (160, 120))
    draw_figure(frame, kp)
    for j, (x, y) in enumerate(np.rint(kp).astype(int)):
        assert tuple(frame[y, x]) == JOINT_COLORS[j]
    assert (frame == LIMB_COLOR).all(-1).sum() > 50  # limbs drawn


def test_scene_with_a_figure_and_a_pulsed_tone(tmp_path):
    fig = Figure("squat", center=(0.45, 0.52), scale=1.05, phase=0.5)
    path = make_video(tmp_path / "f.mp4", segments=[
        Scene(1, (20, 20, 20), "still", 500, -10, shape_color=(200, 200, 200), figure=fig,
              pulse_hz=4),
        Scene(1, (20, 20, 20), "still", None)], size=(160, 120), fps=10, crf=18)
    with_fig, without = FrameReader(path).frames([3, 13])
    for j, (x, y) in enumerate(np.rint(fig.keypoints(0.3, (160, 120))).astype(int)):
        assert np.abs(with_fig[y, x].astype(int) - JOINT_COLORS[j]).max() < 40
    assert not any((np.abs(without.astype(int) - c).sum(-1) < 60).any() for c in JOINT_COLORS)
    audio = load_waveform(path)[:16000]
    envelope = np.abs(audio).reshape(-1, 400).max(1)  # 25 ms blocks: 4 on/off cycles a second
    assert envelope.max() > 0.25 and envelope.min() < 0.05


@pytest.mark.parametrize("kwargs, message", [
    ({"figure": "cartwheel"}, "figure motion"),
    ({"pulse_hz": 0}, "pulse_hz"),
])
def test_bad_scene_options(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Scene(1, **kwargs)
