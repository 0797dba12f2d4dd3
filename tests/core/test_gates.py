"""The seed's gates: label top-k, pose quality, loudness."""
import numpy as np
import pytest

from phar_cli.core.gates import (DEFAULT_LOUDNESS_THR, SEED_LOUDNESS, GateOptions, audio_wanted,
                                 loud_enough, parse_loudness, pose_quality, skeleton_wanted)

SKELETON = ["blowjob", "doggy", "missionary", "cowgirl", "69", "kissing"]
AUDIO = ["anal", "deepthroat", "doggy", "blowjob"]


def ranked(*labels):
    return [(label, 1.0 - i / 10) for i, label in enumerate(labels)]


def test_skeleton_label_must_be_in_the_rgb_top3():
    options = GateOptions()
    assert skeleton_wanted(ranked("fondling", "handjob", "cowgirl", "anal"), SKELETON, options)
    assert not skeleton_wanted(ranked("fondling", "handjob", "anal", "cowgirl"), SKELETON, options)


def test_audio_label_must_be_in_the_rgb_top2():
    options = GateOptions()
    assert audio_wanted(ranked("fondling", "deepthroat"), AUDIO, options)
    assert not audio_wanted(ranked("fondling", "cowgirl", "deepthroat"), AUDIO, options)


def test_pose_quality_counts_keypoints_over_people_and_frames():
    scores = np.zeros((2, 10, 17), np.float32)
    scores[0, :, :] = 0.5          # one person fully visible: half of all keypoints
    scores[1, :3, :] = 0.9         # the other in 3 of 10 frames
    assert pose_quality(scores, 0.4) == pytest.approx((170 + 51) / 340)
    assert pose_quality(scores, 0.6) == pytest.approx(51 / 340)
    assert pose_quality(np.zeros((0, 10, 17)), 0.4) == 0.0


def test_loudness_gate_default_is_the_seed_mean():
    assert DEFAULT_LOUDNESS_THR == pytest.approx(-48.445)
    options = GateOptions()
    assert loud_enough(-40.0, ranked("doggy"), options)
    assert not loud_enough(-50.0, ranked("doggy"), options)
    assert not loud_enough(float("-inf"), ranked("doggy"), options)


def test_per_class_loudness_uses_the_rgb_top_label():
    thr, table = parse_loudness("seed")
    options = GateOptions(loudness_thr=thr, per_class_loudness=table)
    assert table == SEED_LOUDNESS
    assert loud_enough(-50.0, ranked("blowjob"), options)       # blowjob: -53.72
    assert not loud_enough(-47.0, ranked("deepthroat"), options)  # deepthroat: -45.69
    assert not loud_enough(-49.0, ranked("fondling"), options)  # not in the table: the mean


def test_parse_loudness_forms():
    assert parse_loudness(None) == (DEFAULT_LOUDNESS_THR, {})
    assert parse_loudness("-40") == (-40.0, {})
    assert parse_loudness("anal=-40,scoop_up=-45") == (DEFAULT_LOUDNESS_THR,
                                                       {"anal": -40.0, "scoop-up": -45.0})
