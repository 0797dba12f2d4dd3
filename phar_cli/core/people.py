"""Turn per-frame person poses into PoseC3D's input: at most `max_people` tracked people.

The seed's training data tracked detection boxes into at most two people; phar uses the same
extraction for training and inference (the seed did not, a train/test mismatch). Tracking is
greedy IoU matching frame to frame; the people kept are the tracks with the highest summed
detection score.

Tracking needs only the boxes, so the Engine tracks first and runs the pose model on the kept
people's boxes only (`track_boxes`): the same keypoints as posing everyone, for a fraction of the
work when a frame holds many people. With detection on every k-th frame only (a speed option),
`carry_boxes` gives each kept person a box in the frames between: interpolated between two
detections of that person, else held from the one beside it.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

NUM_KEYPOINTS = 17


class PosesLike(Protocol):
    boxes: np.ndarray       # (P, 5) x1, y1, x2, y2, score
    keypoints: np.ndarray   # (P, 17, 2)
    scores: np.ndarray      # (P, 17)


def iou(a: np.ndarray, b: np.ndarray) -> float:
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x2 - x1) * max(0.0, y2 - y1)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


@dataclass
class Track:
    """One person over frames: frame -> index of their box in that frame's detections."""

    detections: dict[int, int] = field(default_factory=dict)
    score: float = 0.0


def track_boxes(boxes: Sequence[np.ndarray], max_people: int = 2,
                iou_thr: float = 0.3) -> list[Track]:
    """The `max_people` best tracks (highest summed box score) over frames of boxes (P, 5)."""
    tracks: list[Track] = []
    last: list[tuple[np.ndarray, int]] = []  # per track: its latest box and frame
    for t, frame_boxes in enumerate(boxes):
        taken: set[int] = set()
        for d in np.argsort(-frame_boxes[:, 4]) if len(frame_boxes) else []:
            box = frame_boxes[d]
            best, best_iou = None, iou_thr
            for k, (prev, prev_t) in enumerate(last):
                if k in taken or prev_t == t:
                    continue
                overlap = iou(prev, box)
                if overlap >= best_iou:
                    best, best_iou = k, overlap
            if best is None:
                tracks.append(Track())
                last.append((box, -1))
                best = len(tracks) - 1
            last[best] = (box, t)
            tracks[best].score += float(box[4])
            tracks[best].detections[t] = int(d)
            taken.add(best)
    return sorted(tracks, key=lambda tr: -tr.score)[:max_people]


def track_people(frames: Sequence[PosesLike], max_people: int = 2,
                 iou_thr: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    """Keypoints (M, T, 17, 2) and scores (M, T, 17) of the M <= max_people best tracks over the
    T frames (zeros where a person was not found in a frame)."""
    kept = track_boxes([fp.boxes for fp in frames], max_people, iou_thr)
    keypoints = np.zeros((len(kept), len(frames), NUM_KEYPOINTS, 2), np.float32)
    scores = np.zeros((len(kept), len(frames), NUM_KEYPOINTS), np.float32)
    for m, tr in enumerate(kept):
        for t, d in tr.detections.items():
            keypoints[m, t] = frames[t].keypoints[d]
            scores[m, t] = frames[t].scores[d]
    return keypoints, scores


def detection_positions(count: int, every: int) -> list[int]:
    """Which of `count` frames the detector sees when it runs on every `every`-th: the first,
    every `every`-th after it, and always the last (so no frame is past the last detection)."""
    if every < 1:
        raise ValueError(f"detect every N frames needs N >= 1, not {every}")
    if count <= 0:
        return []
    positions = list(range(0, count, every))
    if positions[-1] != count - 1:
        positions.append(count - 1)
    return positions


def carry_boxes(tracks: Sequence[Track], boxes: Sequence[np.ndarray], detected: Sequence[int],
                times: Sequence[float]) -> list[dict[int, np.ndarray]]:
    """Each track's box (5,) at every frame from its first to its last neighbouring detection.

    `boxes[j]` are the detections of frame `detected[j]` (tracks index them by j); `times` are
    all frames' times (frame numbers), `detected` sorted positions into them. A frame between two
    detections gets the person's box interpolated in time when both found them, the box of the
    one that did otherwise, and no box when neither did. Detected frames keep their own box.
    """
    out: list[dict[int, np.ndarray]] = []
    times = np.asarray(times, np.float64)
    for tr in tracks:
        at = {detected[j]: boxes[j][d] for j, d in tr.detections.items()}
        mine: dict[int, np.ndarray] = dict(at)
        for a, b in zip(detected[:-1], detected[1:]):
            if a not in at and b not in at:
                continue
            for t in range(a + 1, b):
                if a in at and b in at:
                    w = (times[t] - times[a]) / max(times[b] - times[a], 1e-9)
                    mine[t] = ((1 - w) * at[a] + w * at[b]).astype(np.float32)
                else:
                    mine[t] = at[a] if a in at else at[b]
        out.append(dict(sorted(mine.items())))
    return out
