"""The people of one window, as PoseC3D wants them: detection on the sampled frames (or on every
N-th of them, a speed option), tracking, then the pose model on the kept people's boxes only (on
every frame, or on every N-th frame of each person with the keypoints between interpolated, the
other speed option).

Why this order: tracking needs only boxes, so posing everyone and then keeping two people (what a
plain det -> pose -> track does) wastes the pose model on every extra box; here the keypoints are
the same and the pose work is at most `max_people` boxes a frame. Each model's pre-processing
runs on a helper thread one chunk ahead of its forward, so resizing and cropping overlap the
model. A one-step backend (RTMO, the synthetic marker finder) finds boxes and keypoints together:
it runs on every N-th frame (N the larger of `det_every` and `pose_every`; every frame by
default), its pre-processing a chunk ahead when it offers it apart (`frame_inputs` /
`frame_forward`), and the frames between two finds of a person get that person's box carried
and keypoints interpolated as the two-stage path does.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from typing import Any, TypeVar

import numpy as np

from phar_cli.core.people import (NUM_KEYPOINTS, carry_boxes, detection_positions, track_boxes,
                                  track_people)

T = TypeVar("T")
R = TypeVar("R")


def window_poses(estimator: Any, frames: np.ndarray, times: Sequence[float], pool: Executor, *,
                 max_people: int = 2, det_every: int = 1,
                 pose_every: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Keypoints (M, T, 17, 2) and scores (M, T, 17) of the M <= max_people people tracked over
    the T `frames` (shown at `times`: frame numbers)."""
    batch = max(1, int(getattr(estimator, "batch_size", 16)))
    if not hasattr(estimator, "det_forward"):
        return one_step_poses(estimator, frames, times, pool, max_people=max_people,
                              every=max(det_every, pose_every), batch=batch)
    detected = detection_positions(len(frames), det_every)
    boxes = chunked(pool, lambda idx: estimator.det_inputs(frames[idx]), estimator.det_forward,
                    detected, batch)
    tracks = track_boxes(boxes, max_people)
    carried = carry_boxes(tracks, boxes, detected, times)
    posed = [pose_positions(sorted(per_frame), pose_every) for per_frame in carried]
    items = sorted((t, m) for m, positions in enumerate(posed) for t in positions)
    keypoints = np.zeros((len(tracks), len(frames), NUM_KEYPOINTS, 2), np.float32)
    scores = np.zeros((len(tracks), len(frames), NUM_KEYPOINTS), np.float32)
    if not items:
        return keypoints, scores
    results = chunked(pool,
                      lambda part: estimator.pose_inputs(frames,
                                                         [(t, carried[m][t]) for t, m in part]),
                      lambda inputs: list(zip(*estimator.pose_forward(inputs))), items, batch)
    for (t, m), (kp, sc) in zip(items, results):
        keypoints[m, t] = kp
        scores[m, t] = sc
    if pose_every > 1:
        for m in range(len(tracks)):
            fill_between(keypoints[m], scores[m], carried[m], posed[m], times)
    return keypoints, scores


def one_step_poses(estimator: Any, frames: np.ndarray, times: Sequence[float], pool: Executor, *,
                   max_people: int, every: int, batch: int) -> tuple[np.ndarray, np.ndarray]:
    """`window_poses` for a backend that gives boxes and keypoints in one call."""
    found_at = detection_positions(len(frames), every)
    if hasattr(estimator, "frame_forward"):
        found = chunked(pool, lambda idx: estimator.frame_inputs(frames[idx]),
                        estimator.frame_forward, found_at, batch)
    else:
        found = estimator(frames if len(found_at) == len(frames) else frames[found_at])
    if every == 1:
        return track_people(found, max_people)
    boxes = [p.boxes for p in found]
    tracks = track_boxes(boxes, max_people)
    carried = carry_boxes(tracks, boxes, found_at, times)
    keypoints = np.zeros((len(tracks), len(frames), NUM_KEYPOINTS, 2), np.float32)
    scores = np.zeros((len(tracks), len(frames), NUM_KEYPOINTS), np.float32)
    for m, track in enumerate(tracks):
        for j, d in track.detections.items():
            keypoints[m, found_at[j]] = found[j].keypoints[d]
            scores[m, found_at[j]] = found[j].scores[d]
        # between two finds of this person only: a frame next to a single find stays empty
        for run in consecutive_runs(sorted(track.detections)):
            fill_between(keypoints[m], scores[m], carried[m], [found_at[j] for j in run], times)
    return keypoints, scores


def consecutive_runs(values: Sequence[int]) -> list[list[int]]:
    """Sorted integers split where they stop being consecutive: [0, 1, 3] -> [[0, 1], [3]]."""
    runs: list[list[int]] = []
    for v in values:
        if runs and v == runs[-1][-1] + 1:
            runs[-1].append(v)
        else:
            runs.append([v])
    return runs


def pose_positions(frames: Sequence[int], every: int) -> list[int]:
    """Which of a person's frames (sorted) the pose model sees when it runs on every `every`-th:
    in each run of consecutive frames, the first, every `every`-th after it and the last, so
    every other frame lies between two posed frames of the same run."""
    out: list[int] = []
    start = 0
    for k in range(1, len(frames) + 1):
        if k == len(frames) or frames[k] != frames[k - 1] + 1:
            run = frames[start:k]
            out += [run[j] for j in detection_positions(len(run), every)]
            start = k
    return out


def fill_between(keypoints: np.ndarray, scores: np.ndarray, boxes: dict[int, np.ndarray],
                 posed: Sequence[int], times: Sequence[float]) -> None:
    """One person's keypoints (T,17,2) and scores (T,17) on the frames between two posed ones,
    in place: interpolated in time relative to the person's box, then placed in that frame's box
    (so they follow the box as the detector found or carried it, not a straight line)."""
    def relative(t: int) -> np.ndarray:
        box = boxes[t]
        return (keypoints[t] - box[:2]) / np.maximum(box[2:4] - box[:2], 1e-6)

    for a, b in zip(posed[:-1], posed[1:]):
        if b - a < 2 or a + 1 not in boxes:  # next to each other, or the ends of two runs
            continue
        rel_a, rel_b = relative(a), relative(b)
        for t in range(a + 1, b):
            w = (times[t] - times[a]) / max(times[b] - times[a], 1e-9)
            box = boxes[t]
            rel = (1 - w) * rel_a + w * rel_b
            keypoints[t] = box[:2] + rel * (box[2:4] - box[:2])
            scores[t] = (1 - w) * scores[a] + w * scores[b]


def chunked(pool: Executor, prepare: Callable[[list[T]], Any], forward: Callable[[Any], list[R]],
            items: Sequence[T], size: int) -> list[R]:
    """`forward(prepare(chunk))` over chunks of `size` items, concatenated; each chunk is
    prepared on `pool` while the one before it runs through the model."""
    chunks = [list(items[s:s + size]) for s in range(0, len(items), size)]
    out: list[R] = []
    if not chunks:
        return out
    ahead = pool.submit(prepare, chunks[0])
    for k in range(len(chunks)):
        ready = ahead.result()
        if k + 1 < len(chunks):
            ahead = pool.submit(prepare, chunks[k + 1])
        out.extend(forward(ready))
    return out
