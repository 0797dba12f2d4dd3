"""A pose backend for synthetic media: find the stick figure's coloured joint discs.

Why: the offline demo bundle trains its skeleton stream on `phar_cli.synthetic.figure` videos in a
few CPU minutes, where training a person detector and HRNet is out of reach. This backend reads
each joint straight off the frame by its palette colour and answers like the real det + HRNet
backend (`PoseEstimator`): one `FramePoses` per frame, at most one person. It knows nothing but
numpy, so it never imports torch or OpenMMLab.

Per frame: pixels with a bright channel (>= `bright`) that are saturated (max - min channel >=
`saturation`) are the only candidates, a cheap test that drops the dark background, the grey
limbs and the grey/white shapes; each candidate goes to the nearest palette colour within
`tolerance` (RGB distance). A joint's centre is first the median of its purest pixels (within
half the tolerance: a neighbour's blurred edge can come near another colour, never that near),
then the mean of its pixels within one disc radius (+1 px) of that median. Its score is the
pixel count over `fill` times the disc area, capped at 1: a disc that survived encoding scores
1, a half-hidden one less, a missing one 0 (keypoint (0, 0)). A frame with fewer than
`min_joints` joints found has nobody in it.
"""
from __future__ import annotations

import numpy as np

from phar_cli.synthetic.figure import JOINT_COLORS, NUM_JOINTS, joint_radius
from phar_cli.models.poses import FramePoses


class MarkerPoseEstimator:
    """Keypoints of the synthetic stick figure, found by the colours of its joint discs.

    Called like `PoseEstimator`: frames (N, H, W, 3) uint8 RGB at any size in, one `FramePoses`
    per frame out (P = 1 person or 0). The disc radius it expects follows the frame size
    (`phar_cli.synthetic.figure.joint_radius`), so frames must be at the size they were drawn.
    """

    def __init__(self, min_pixels: int = 3, tolerance: float = 70.0, *, min_joints: int = 5,
                 fill: float = 0.5, bright: int = 180, saturation: int = 90) -> None:
        self.min_pixels = min_pixels
        self.tolerance = tolerance
        self.min_joints = min_joints
        self.fill = fill
        self.bright = bright
        self.saturation = saturation
        self._palette = np.asarray(JOINT_COLORS, np.float32)
        self._palette_sq = (self._palette ** 2).sum(1)[None, :]

    def __call__(self, frames: np.ndarray) -> list[FramePoses]:
        """Poses for each frame of `frames` (N, H, W, 3) uint8 RGB; keypoints in pixels."""
        frames = np.asarray(frames)
        if frames.ndim == 3:
            frames = frames[None]
        if frames.ndim != 4 or frames.shape[-1] != 3:
            raise ValueError(f"expected frames of shape (N, H, W, 3), got {frames.shape}")
        n, height, width = frames.shape[:3]
        if n == 0:
            return []
        radius = joint_radius((width, height))
        counts, centres = self._find(frames, radius)
        area = np.pi * radius * radius
        found = counts >= self.min_pixels
        scores = np.where(found, np.minimum(1.0, counts / (self.fill * area)), 0.0)
        keypoints = np.where(found[..., None], centres, 0.0)
        out = []
        for f in range(n):
            if found[f].sum() < self.min_joints:
                out.append(FramePoses(np.zeros((0, 5), np.float32),
                                      np.zeros((0, NUM_JOINTS, 2), np.float32),
                                      np.zeros((0, NUM_JOINTS), np.float32)))
                continue
            pts = keypoints[f][found[f]]
            pad = radius + 0.1 * (pts.max(0) - pts.min(0))
            x1, y1 = np.maximum(pts.min(0) - pad, 0)
            x2, y2 = np.minimum(pts.max(0) + pad, (width - 1, height - 1))
            box = np.array([[x1, y1, x2, y2, scores[f].mean()]], np.float32)
            out.append(FramePoses(box, keypoints[f][None].astype(np.float32),
                                  scores[f][None].astype(np.float32)))
        return out

    def _find(self, frames: np.ndarray, radius: int) -> tuple[np.ndarray, np.ndarray]:
        """Pixel counts (N, 17) and centroids (N, 17, 2) of each joint colour in each frame."""
        n, height, width = frames.shape[:3]
        flat = np.ascontiguousarray(frames).reshape(-1, 3)
        # Candidates: pixels with a bright channel (a flat byte scan, the cheapest test), then
        # saturated ones only (greys and white out), then those near a palette colour.
        idx = np.flatnonzero(flat.reshape(-1) >= self.bright) // 3
        if len(idx):
            idx = idx[np.r_[True, idx[1:] != idx[:-1]]]
        pix = flat[idx]
        r, g, b = pix[:, 0], pix[:, 1], pix[:, 2]
        spread = np.maximum(np.maximum(r, g), b) - np.minimum(np.minimum(r, g), b)
        keep = spread >= self.saturation
        idx, pix = idx[keep], pix[keep].astype(np.float32)
        # squared distances to the palette, |p|^2 - 2 p.c + |c|^2, as one matrix product
        dist = ((pix * pix).sum(1, keepdims=True) - 2 * pix @ self._palette.T
                + self._palette_sq)
        joint = dist.argmin(1)
        best = dist[np.arange(len(joint)), joint]
        keep = best <= self.tolerance ** 2
        idx, joint, best = idx[keep], joint[keep], best[keep]
        f, rest = np.divmod(idx, height * width)
        y, x = np.divmod(rest, width)
        slot = f * NUM_JOINTS + joint
        size = n * NUM_JOINTS
        # The disc's centre: the median of its purest pixels (edge pixels of a neighbour's disc
        # can fall within tolerance of another colour; they never are pure).
        core = best <= (self.tolerance / 2) ** 2
        mx = _median(slot[core], x[core], size)
        my = _median(slot[core], y[core], size)
        # Then the mean of every matching pixel within a radius (+1) of that centre: other
        # joints' discs lie at least radius + 2 away.
        near = (x - mx[slot]) ** 2 + (y - my[slot]) ** 2 <= (radius + 1) ** 2
        counts, centres = _centroids(slot[near], x[near], y[near], size)
        return counts.reshape(n, NUM_JOINTS), centres.reshape(n, NUM_JOINTS, 2)


def _median(slot: np.ndarray, v: np.ndarray, size: int) -> np.ndarray:
    """Per-slot (lower) median of v; NaN where a slot has no values."""
    order = np.lexsort((v, slot))
    slot, v = slot[order], v[order]
    starts = np.searchsorted(slot, np.arange(size))
    counts = np.bincount(slot, minlength=size)
    out = np.full(size, np.nan)
    has = counts > 0
    out[has] = v[starts[has] + (counts[has] - 1) // 2]
    return out


def _centroids(slot: np.ndarray, x: np.ndarray, y: np.ndarray,
               size: int) -> tuple[np.ndarray, np.ndarray]:
    counts = np.bincount(slot, minlength=size).astype(np.float64)
    sx = np.bincount(slot, weights=x, minlength=size)
    sy = np.bincount(slot, weights=y, minlength=size)
    safe = np.maximum(counts, 1)
    return counts, np.stack([sx / safe, sy / safe], axis=1)
