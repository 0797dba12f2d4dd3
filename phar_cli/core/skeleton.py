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
and keypoints interpolated as the two-stage path does. Several windows can go through together
(`group_poses`): each forward then takes frames, or people, from all of them.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor
from typing import Any, TypeVar

import numpy as np

from phar_cli.core.people import (NUM_KEYPOINTS, carry_boxes, detection_positions, track_boxes,
                                  track_people)

T = TypeVar("T")
K = TypeVar("K")
R = TypeVar("R")


Window = tuple[np.ndarray, Sequence[float]]  # a window's frames (T, H, W, 3) and their times
Poses = tuple[np.ndarray, np.ndarray]        # keypoints (M, T, 17, 2) and scores (M, T, 17)


def window_poses(estimator: Any, frames: np.ndarray, times: Sequence[float], pool: Executor, *,
                 max_people: int = 2, det_every: int = 1, pose_every: int = 1) -> Poses:
    """Keypoints (M, T, 17, 2) and scores (M, T, 17) of the M <= max_people people tracked over
    the T `frames` (shown at `times`: frame numbers)."""
    return group_poses(estimator, [(frames, times)], pool, max_people=max_people,
                       det_every=det_every, pose_every=pose_every)[0]


def group_poses(estimator: Any, windows: Sequence[Window], pool: Executor, *,
                max_people: int = 2, det_every: int = 1, pose_every: int = 1) -> list[Poses]:
    """`window_poses` of each window, the windows' frames (and then their people) going through
    each model together: a forward takes items from as many windows as its batch holds, so a
    GPU gets full batches whatever a window's length. Each window is tracked on its own."""
    batch = max(1, int(getattr(estimator, "batch_size", 16)))
    if not hasattr(estimator, "det_forward"):
        return one_step_poses(estimator, windows, pool, max_people=max_people,
                              every=max(det_every, pose_every), batch=batch)
    detected = [detection_positions(len(frames), det_every) for frames, _ in windows]
    boxes = split(chunked(pool, lambda part: estimator.det_inputs(gather(windows, part)),
                          estimator.det_forward, _items(detected), batch),
                  [len(d) for d in detected])
    plans = []
    for (_, times), window_boxes, positions in zip(windows, boxes, detected):
        tracks = track_boxes(window_boxes, max_people)
        carried = carry_boxes(tracks, window_boxes, positions, times)
        posed = [pose_positions(sorted(per_frame), pose_every) for per_frame in carried]
        plans.append((len(tracks), carried, posed,
                      sorted((t, m) for m, positions in enumerate(posed) for t in positions)))
    people = [(w, t, m) for w, plan in enumerate(plans) for t, m in plan[3]]

    def pose_inputs(part: list[tuple[int, int, int]]) -> list[dict]:
        inputs: list[dict] = []
        for w in sorted({w for w, _, _ in part}):  # part is in window order
            carried = plans[w][1]
            inputs += estimator.pose_inputs(windows[w][0], [(t, carried[m][t])
                                                            for v, t, m in part if v == w])
        return inputs

    results = iter(chunked(pool, pose_inputs,
                           lambda inputs: list(zip(*estimator.pose_forward(inputs))), people, batch))
    out = []
    for (frames, times), (count, carried, posed, items) in zip(windows, plans):
        keypoints, scores = _empty(count, len(frames))
        for (t, m), (kp, sc) in zip(items, results):
            keypoints[m, t] = kp
            scores[m, t] = sc
        if pose_every > 1:
            for m in range(count):
                fill_between(keypoints[m], scores[m], carried[m], posed[m], times)
        out.append((keypoints, scores))
    return out


def one_step_poses(estimator: Any, windows: Sequence[Window], pool: Executor, *,
                   max_people: int, every: int, batch: int) -> list[Poses]:
    """`group_poses` for a backend that gives boxes and keypoints in one call."""
    found_at = [detection_positions(len(frames), every) for frames, _ in windows]
    if hasattr(estimator, "frame_forward"):
        found = split(chunked(pool, lambda part: estimator.frame_inputs(gather(windows, part)),
                              estimator.frame_forward, _items(found_at), batch),
                      [len(f) for f in found_at])
    else:
        found = [estimator(frames if len(at) == len(frames) else frames[at])
                 for (frames, _), at in zip(windows, found_at)]
    return [_tracked(window_found, at, len(frames), times, max_people, every)
            for (frames, times), window_found, at in zip(windows, found, found_at)]


def _tracked(found: list, found_at: list[int], count: int, times: Sequence[float],
             max_people: int, every: int) -> Poses:
    """One window's people from a one-step backend's finds on its frames `found_at`."""
    if every == 1:
        return track_people(found, max_people)
    boxes = [p.boxes for p in found]
    tracks = track_boxes(boxes, max_people)
    carried = carry_boxes(tracks, boxes, found_at, times)
    keypoints, scores = _empty(len(tracks), count)
    for m, track in enumerate(tracks):
        for j, d in track.detections.items():
            keypoints[m, found_at[j]] = found[j].keypoints[d]
            scores[m, found_at[j]] = found[j].scores[d]
        # between two finds of this person only: a frame next to a single find stays empty
        for run in consecutive_runs(sorted(track.detections)):
            fill_between(keypoints[m], scores[m], carried[m], [found_at[j] for j in run], times)
    return keypoints, scores


def _empty(people: int, frames: int) -> Poses:
    return (np.zeros((people, frames, NUM_KEYPOINTS, 2), np.float32),
            np.zeros((people, frames, NUM_KEYPOINTS), np.float32))


def _items(positions: Sequence[Sequence[int]]) -> list[tuple[int, int]]:
    """(window, frame) of each position of each window, in window order."""
    return [(w, t) for w, window_positions in enumerate(positions) for t in window_positions]


def gather(windows: Sequence[Window], part: Sequence[tuple[int, int]]) -> np.ndarray:
    """The frames of (window, frame) items, stacked."""
    if len({w for w, _ in part}) == 1:
        return windows[part[0][0]][0][[t for _, t in part]]
    return np.stack([windows[w][0][t] for w, t in part])


def split(values: Sequence[R], sizes: Sequence[int]) -> list[list[R]]:
    """`values` cut into consecutive runs of `sizes`."""
    out, start = [], 0
    for size in sizes:
        out.append(list(values[start:start + size]))
        start += size
    return out


def pose_groups(windows: Iterable[tuple[K, np.ndarray]], frames: int,
                max_bytes: int) -> Iterator[list[tuple[K, np.ndarray]]]:
    """Consecutive (key, frames) windows gathered into groups that give the front end `frames`
    frames (or more), or hold `max_bytes` of frames (at least one window a group)."""
    group: list[tuple[K, np.ndarray]] = []
    count = size = 0
    for key, window in windows:
        if group and size + window.nbytes > max_bytes:
            yield group
            group, count, size = [], 0, 0
        group.append((key, window))
        count += len(window)
        size += window.nbytes
        if count >= frames:
            yield group
            group, count, size = [], 0, 0
    if group:
        yield group


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
