"""Tracking detections into at most two people across the sampled frames."""
from dataclasses import dataclass

import numpy as np

from phar_cli.core.people import track_people


@dataclass
class Frame:
    boxes: np.ndarray
    keypoints: np.ndarray
    scores: np.ndarray


def frame(*people):
    """people: (x, box score, keypoint score) — boxes 10 wide at x."""
    boxes = np.array([[x, 0, x + 10, 20, s] for x, s, _ in people], np.float32).reshape(-1, 5)
    kps = np.stack([np.full((17, 2), x, np.float32) for x, _, _ in people]) if people else \
        np.zeros((0, 17, 2), np.float32)
    scores = np.stack([np.full(17, k, np.float32) for _, _, k in people]) if people else \
        np.zeros((0, 17), np.float32)
    return Frame(boxes, kps, scores)


def test_people_keep_their_identity_across_frames_and_order_in_a_frame():
    frames = [frame((0, 0.9, 0.8), (50, 0.8, 0.7)),
              frame((52, 0.95, 0.7), (1, 0.6, 0.8)),   # listed in the other order
              frame((3, 0.9, 0.8))]                    # the second person is gone
    keypoints, scores = track_people(frames)
    assert keypoints.shape == (2, 3, 17, 2) and scores.shape == (2, 3, 17)
    assert list(keypoints[0, :, 0, 0]) == [0, 1, 3]
    assert list(keypoints[1, :, 0, 0]) == [50, 52, 0]
    assert list(scores[1, :, 0]) == [np.float32(0.7), np.float32(0.7), 0.0]


def test_only_the_best_two_tracks_are_kept():
    frames = [frame((0, 0.9, 1), (50, 0.9, 1), (100, 0.2, 1)) for _ in range(4)]
    keypoints, _ = track_people(frames, max_people=2)
    assert sorted(keypoints[:, 0, 0, 0].tolist()) == [0, 50]


def test_no_people_gives_empty_arrays():
    keypoints, scores = track_people([frame(), frame()])
    assert keypoints.shape == (0, 2, 17, 2) and scores.shape == (0, 2, 17)
