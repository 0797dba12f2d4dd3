"""The skeleton stream's people: detection on the sampled frames (or every N-th), tracking first,
then pose on the kept people only; checked with a counting stand-in for det and pose."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pytest

from phar_cli.core.people import detection_positions, track_people
from phar_cli.core.skeleton import (chunked, group_poses, pose_groups, pose_positions,
                                   window_poses)


@dataclass
class Poses:
    boxes: np.ndarray
    keypoints: np.ndarray
    scores: np.ndarray


class CountingEstimator:
    """Frame t holds people at x = 10 * k + t (k < people), scores falling with k; a person's
    keypoints are their box's x1, so the test can tell whose pose it got."""

    def __init__(self, people: int = 4, batch_size: int = 3) -> None:
        self.people, self.batch_size = people, batch_size
        self.detected: list[int] = []
        self.posed: list[tuple[int, float]] = []

    def _boxes(self, t: int) -> np.ndarray:
        return np.array([[100 * k + t, 0, 100 * k + t + 10, 20, 0.9 - 0.1 * k]
                         for k in range(self.people)], np.float32)

    def det_inputs(self, frames):
        return [int(f[0, 0, 0]) for f in frames]  # each frame carries its number

    def det_forward(self, inputs):
        self.detected += inputs
        return [self._boxes(t) for t in inputs]

    def pose_inputs(self, frames, items):
        return [(int(frames[t][0, 0, 0]), b) for t, b in items]

    def pose_forward(self, inputs):
        self.posed += [(t, float(b[0])) for t, b in inputs]
        kp = np.stack([np.full((17, 2), b[0], np.float32) for _, b in inputs])
        return kp, np.full((len(inputs), 17), 0.5, np.float32)

    def __call__(self, frames):  # what a plain det -> pose over everyone gives
        out = []
        for f in frames:
            b = self._boxes(int(f[0, 0, 0]))
            out.append(Poses(b, np.stack([np.full((17, 2), x, np.float32) for x in b[:, 0]]),
                             np.full((len(b), 17), 0.5, np.float32)))
        return out


def frames_numbered(n):
    frames = np.zeros((n, 4, 4, 3), np.uint8)
    frames[:, 0, 0, 0] = np.arange(n)
    return frames


@pytest.fixture
def pool():
    with ThreadPoolExecutor(1) as p:
        yield p


def test_pose_runs_on_the_kept_people_only_and_gives_the_same_keypoints(pool):
    est, frames = CountingEstimator(people=4), frames_numbered(7)
    keypoints, scores = window_poses(est, frames, range(7), pool, max_people=2)
    expected_kp, expected_sc = track_people(est(frames), max_people=2)
    np.testing.assert_array_equal(keypoints, expected_kp)
    np.testing.assert_array_equal(scores, expected_sc)
    assert est.detected == list(range(7))
    assert len(est.posed) == 2 * 7  # not 4 * 7


def test_detection_every_third_frame_carries_boxes_to_the_rest(pool):
    est, frames = CountingEstimator(people=2), frames_numbered(8)
    keypoints, _ = window_poses(est, frames, range(8), pool, max_people=2, det_every=3)
    assert est.detected == [0, 3, 6, 7]
    # every frame still gets both people, at the interpolated place (x = 100 k + t)
    assert len(est.posed) == 2 * 8
    np.testing.assert_allclose(keypoints[:, :, 0, 0], [[t for t in range(8)],
                                                       [100 + t for t in range(8)]])


def test_pose_every_third_frame_interpolates_the_rest_inside_each_box(pool):
    est, frames = CountingEstimator(people=2), frames_numbered(8)
    reference, ref_scores = window_poses(CountingEstimator(people=2), frames, range(8), pool)
    keypoints, scores = window_poses(est, frames, range(8), pool, pose_every=3)
    assert sorted(t for t, x in est.posed if x < 100) == [0, 3, 6, 7]
    assert len(est.posed) == 2 * 4
    # the stand-in's keypoints sit at a fixed place in the box: interpolation recovers them
    np.testing.assert_allclose(keypoints, reference, atol=1e-4)
    np.testing.assert_allclose(scores, ref_scores)


def test_interpolated_keypoints_follow_the_box_not_a_straight_line(pool):
    class Accelerating(CountingEstimator):
        def _boxes(self, t):  # one person, moving faster and faster
            return np.array([[t * t, 0, t * t + 100, 20, 0.9]], np.float32)

    frames = frames_numbered(9)
    keypoints, _ = window_poses(Accelerating(people=1), frames, range(9), pool, pose_every=4)
    np.testing.assert_allclose(keypoints[0, :, 0, 0], [t * t for t in range(9)], atol=1e-4)


def test_pose_every_other_frame_leaves_a_persons_missing_frames_empty(pool):
    class Hiding(CountingEstimator):
        def _boxes(self, t):  # one person, gone from frames 3 and 4
            return super()._boxes(t)[:0] if t in (3, 4) else super()._boxes(t)

    frames = frames_numbered(10)
    keypoints, scores = window_poses(Hiding(people=1), frames, range(10), pool, pose_every=2)
    reference, ref_scores = window_poses(Hiding(people=1), frames, range(10), pool)
    np.testing.assert_allclose(keypoints, reference, atol=1e-4)
    np.testing.assert_array_equal(scores[0, 3:5], 0)
    np.testing.assert_allclose(scores, ref_scores)


def test_pose_positions_keep_each_run_of_frames_closed():
    assert pose_positions([0, 1, 2, 5, 6, 7, 8, 9], 3) == [0, 2, 5, 8, 9]
    assert pose_positions([4], 3) == [4]
    assert pose_positions([], 2) == []
    assert pose_positions(list(range(6)), 1) == list(range(6))


def test_a_one_step_backend_is_called_on_all_frames(pool):
    class OneStep:
        def __call__(self, frames):
            return CountingEstimator(people=3)(frames)

    keypoints, _ = window_poses(OneStep(), frames_numbered(5), range(5), pool, max_people=2)
    assert keypoints.shape == (2, 5, 17, 2)


class OneStepCounting:
    """A one-step backend (boxes and keypoints together, as RTMO): the stand-in's people, with
    its pre-processing apart so the engine can prepare ahead; records the frames it sees."""

    def __init__(self, people=2, hidden=()):
        self.stand_in, self.hidden = CountingEstimator(people=people), set(hidden)
        self.batch_size = 3
        self.seen: list[int] = []

    def frame_inputs(self, frames):
        return frames

    def frame_forward(self, frames):
        self.seen += [int(f[0, 0, 0]) for f in frames]
        out = self.stand_in(frames)
        for p, f in zip(out, frames):
            if int(f[0, 0, 0]) in self.hidden:
                p.boxes, p.keypoints, p.scores = p.boxes[:0], p.keypoints[:0], p.scores[:0]
        return out


def test_a_one_step_backend_prepared_apart_runs_in_chunks_on_every_frame(pool):
    est, frames = OneStepCounting(people=3), frames_numbered(7)
    keypoints, scores = window_poses(est, frames, range(7), pool, max_people=2)
    assert est.seen == list(range(7))
    expected_kp, expected_sc = track_people(CountingEstimator(people=3)(frames), max_people=2)
    np.testing.assert_array_equal(keypoints, expected_kp)
    np.testing.assert_array_equal(scores, expected_sc)


def test_a_one_step_backend_every_other_frame_interpolates_between_its_finds(pool):
    est, frames = OneStepCounting(people=2), frames_numbered(8)
    reference, ref_scores = window_poses(OneStepCounting(people=2), frames, range(8), pool)
    keypoints, scores = window_poses(est, frames, range(8), pool, pose_every=2, det_every=1)
    assert est.seen == [0, 2, 4, 6, 7]
    np.testing.assert_allclose(keypoints, reference, atol=1e-4)  # the stand-in moves linearly
    np.testing.assert_allclose(scores, ref_scores)
    # a person missed at a find leaves the frames beside it empty, not bridged
    hiding = OneStepCounting(people=1, hidden={4})
    keypoints, scores = window_poses(hiding, frames_numbered(9), range(9), pool, det_every=2)
    assert hiding.seen == [0, 2, 4, 6, 8]
    assert (scores[0, [0, 1, 2, 6, 7, 8]] > 0).all()
    np.testing.assert_array_equal(scores[0, 3:6], 0)


def test_nobody_found_gives_empty_arrays(pool):
    est, frames = CountingEstimator(people=0), frames_numbered(4)
    keypoints, scores = window_poses(est, frames, range(4), pool, det_every=2)
    assert keypoints.shape == (0, 4, 17, 2) and scores.shape == (0, 4, 17)
    assert est.posed == []


def test_chunked_prepares_each_chunk_once_in_order(pool):
    prepared = []

    def prepare(chunk):
        prepared.append(list(chunk))
        return [x * 10 for x in chunk]

    assert chunked(pool, prepare, lambda xs: [x + 1 for x in xs], list(range(7)), 3) == \
        [1, 11, 21, 31, 41, 51, 61]
    assert prepared == [[0, 1, 2], [3, 4, 5], [6]]
    assert chunked(pool, prepare, lambda xs: xs, [], 3) == []


class BatchRecording(CountingEstimator):
    """The counting stand-in, recording how many items each forward got."""

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.det_batches: list[int] = []
        self.pose_batches: list[int] = []

    def det_forward(self, inputs):
        self.det_batches.append(len(inputs))
        return super().det_forward(inputs)

    def pose_forward(self, inputs):
        self.pose_batches.append(len(inputs))
        return super().pose_forward(inputs)


def window_frames(start: int, n: int) -> np.ndarray:
    """n frames numbered from `start` (each window's frames are distinct)."""
    frames = frames_numbered(n)
    frames[:, 0, 0, 0] += start
    return frames


@pytest.mark.parametrize("speed", [{}, {"det_every": 2, "pose_every": 3}])
def test_windows_grouped_fill_each_forward_and_keep_their_own_people(pool, speed):
    windows = [(window_frames(10 * w, n), range(n)) for w, n in enumerate((5, 7, 3))]
    alone = [window_poses(CountingEstimator(people=3, batch_size=4), f, t, pool, max_people=2,
                          **speed) for f, t in windows]
    est = BatchRecording(people=3, batch_size=4)
    grouped = group_poses(est, windows, pool, max_people=2, **speed)
    for (kp, sc), (ref_kp, ref_sc) in zip(grouped, alone):
        np.testing.assert_array_equal(kp, ref_kp)
        np.testing.assert_array_equal(sc, ref_sc)
    # full batches across window boundaries: only the last forward of each model is short
    detected = sum(len(detection_positions(len(f), speed.get("det_every", 1)))
                   for f, _ in windows)
    assert est.det_batches == [4] * (detected // 4) + [detected % 4] * (detected % 4 > 0)
    assert all(b == 4 for b in est.pose_batches[:-1]) and len(est.pose_batches) > 1


def test_a_one_step_backend_grouped_matches_each_window_alone(pool):
    windows = [(window_frames(10 * w, n), range(n)) for w, n in enumerate((4, 6))]
    alone = [window_poses(OneStepCounting(people=2), f, t, pool, pose_every=2) for f, t in windows]
    est = OneStepCounting(people=2)
    grouped = group_poses(est, windows, pool, pose_every=2)
    for (kp, sc), (ref_kp, ref_sc) in zip(grouped, alone):
        np.testing.assert_array_equal(kp, ref_kp)
        np.testing.assert_array_equal(sc, ref_sc)
    assert est.seen == [0, 2, 3, 10, 12, 14, 15]


def test_pose_groups_gather_windows_until_a_batch_or_the_byte_limit():
    windows = [(k, np.zeros((n, 2, 2, 3), np.uint8)) for k, n in enumerate((3, 3, 3, 10, 2))]
    keys = lambda groups: [[k for k, _ in g] for g in groups]  # noqa: E731
    assert keys(pose_groups(windows, 6, 10**9)) == [[0, 1], [2, 3], [4]]
    assert keys(pose_groups(windows, 100, 6 * 12)) == [[0, 1], [2], [3], [4]]
    assert keys(pose_groups(windows, 1, 10**9)) == [[0], [1], [2], [3], [4]]
