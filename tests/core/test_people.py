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


# -- tracking before pose, and detection on every N-th frame ------------------------------------

from phar_cli.core.people import carry_boxes, detection_positions, track_boxes  # noqa: E402


def box(x, score=0.9):
    return [x, 0, x + 10, 20, score]


def test_track_boxes_keeps_the_people_track_people_keeps():
    frames = [frame((0, 0.9, 1), (50, 0.8, 1), (100, 0.2, 1)),
              frame((52, 0.95, 1), (2, 0.6, 1)),
              frame((4, 0.9, 1))]
    tracks = track_boxes([f.boxes for f in frames], max_people=2)
    keypoints, _ = track_people(frames, max_people=2)
    for m, track in enumerate(tracks):
        for t, d in track.detections.items():
            assert keypoints[m, t, 0, 0] == frames[t].keypoints[d, 0, 0]
    assert [sorted(tr.detections) for tr in tracks] == [[0, 1, 2], [0, 1]]


def test_detection_positions_include_the_first_and_the_last_frame():
    assert detection_positions(10, 1) == list(range(10))
    assert detection_positions(10, 4) == [0, 4, 8, 9]
    assert detection_positions(9, 4) == [0, 4, 8]
    assert detection_positions(1, 3) == [0]
    assert detection_positions(0, 3) == []


def test_carried_boxes_are_interpolated_in_time_between_two_detections():
    boxes = [np.array([box(0)], np.float32), np.array([box(20)], np.float32)]
    tracks = track_boxes(boxes)  # IoU of boxes 20 apart is 0: two tracks, one per detection
    assert len(tracks) == 2
    # the same person moving slowly: boxes overlap, one track
    boxes = [np.array([box(0)], np.float32), np.array([box(4)], np.float32)]
    (track,) = track_boxes(boxes)
    carried = carry_boxes([track], boxes, detected=[0, 4], times=[0, 1, 2, 3, 4])
    (mine,) = carried
    assert sorted(mine) == [0, 1, 2, 3, 4]
    assert [float(mine[t][0]) for t in range(5)] == [0.0, 1.0, 2.0, 3.0, 4.0]


def test_interpolation_follows_frame_times_not_positions():
    boxes = [np.array([box(0)], np.float32), np.array([box(3)], np.float32)]
    (track,) = track_boxes(boxes)
    (mine,) = carry_boxes([track], boxes, detected=[0, 2], times=[10, 12, 16])
    assert float(mine[1][0]) == 1.0


def test_a_person_seen_by_one_detection_is_held_until_the_next():
    boxes = [np.array([box(0)], np.float32), np.zeros((0, 5), np.float32),
             np.array([box(40)], np.float32)]
    tracks = track_boxes(boxes)
    carried = carry_boxes(tracks, boxes, detected=[0, 3, 6], times=range(7))
    by_start = {min(c): c for c in carried}
    assert sorted(by_start[0]) == [0, 1, 2]          # held after frame 0, gone by frame 3
    assert sorted(by_start[4]) == [4, 5, 6]          # held back before frame 6
    assert float(by_start[4][4][0]) == 40.0


def test_carrying_with_every_frame_detected_changes_nothing():
    frames = [frame((0, 0.9, 1), (50, 0.8, 1)), frame((1, 0.9, 1), (51, 0.8, 1))]
    boxes = [f.boxes for f in frames]
    tracks = track_boxes(boxes)
    carried = carry_boxes(tracks, boxes, detected=[0, 1], times=[0, 1])
    for track, mine in zip(tracks, carried):
        assert {t: boxes[t][d].tolist() for t, d in track.detections.items()} == \
            {t: b.tolist() for t, b in mine.items()}
