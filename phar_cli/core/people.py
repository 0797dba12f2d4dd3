"""Turn per-frame person poses into PoseC3D's input: at most `max_people` tracked people.

The seed's training data tracked detection boxes into at most two people; phar uses the same
extraction for training and inference (the seed did not, a train/test mismatch). Tracking is
greedy IoU matching frame to frame; the people kept are the tracks with the highest summed
detection score.
"""
from __future__ import annotations

from collections.abc import Sequence
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


def track_people(frames: Sequence[PosesLike], max_people: int = 2,
                 iou_thr: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    """Keypoints (M, T, 17, 2) and scores (M, T, 17) of the M <= max_people best tracks over the
    T frames (zeros where a person was not found in a frame)."""
    tracks: list[dict] = []
    for t, fp in enumerate(frames):
        taken: set[int] = set()
        for d in np.argsort(-fp.boxes[:, 4]) if len(fp.boxes) else []:
            box = fp.boxes[d]
            best, best_iou = None, iou_thr
            for k, tr in enumerate(tracks):
                if k in taken or tr["last_t"] == t:
                    continue
                overlap = iou(tr["box"], box)
                if overlap >= best_iou:
                    best, best_iou = k, overlap
            if best is None:
                tracks.append({"box": box, "last_t": -1, "score": 0.0, "frames": {}})
                best = len(tracks) - 1
            tr = tracks[best]
            tr.update(box=box, last_t=t)
            tr["score"] += float(box[4])
            tr["frames"][t] = (fp.keypoints[d], fp.scores[d])
            taken.add(best)
    kept = sorted(tracks, key=lambda tr: -tr["score"])[:max_people]
    keypoints = np.zeros((len(kept), len(frames), NUM_KEYPOINTS, 2), np.float32)
    scores = np.zeros((len(kept), len(frames), NUM_KEYPOINTS), np.float32)
    for m, tr in enumerate(kept):
        for t, (kp, sc) in tr["frames"].items():
            keypoints[m, t] = kp
            scores[m, t] = sc
    return keypoints, scores
