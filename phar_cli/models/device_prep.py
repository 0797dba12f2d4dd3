"""Pre-processing on the model's device: the detector's resize, the pose crops and RTMO's input
warp (affine warps), and PoseC3D's heatmap volumes, as torch operations.

Why: on a GPU the OpenMMLab transforms (cv2 and NumPy on one CPU core) cost more than the models
(docs/performance.md, "CUDA plan": det resizing 13 ms a frame, HRNet crops 9 ms a box, heatmaps
1.56 s a window). Here only the pixels move to torch: the geometry (sizes, warp matrices, what
the data samples carry) still comes from the OpenMMLab helpers and transforms, and each function
is checked against its transform in CPU tests (`tests/models/test_device_prep.py`, tolerances
there). The OpenMMLab path stays the reference and the default on a CPU ("auto").
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from phar_cli.errors import InvalidOption
from phar_cli.models.accel import is_cuda

PREPROCESS = ("auto", "openmmlab", "device")  # auto: on the device when it is CUDA
DEFAULT_PREPROCESS = "auto"


def parse_preprocess(mode: str) -> str:
    mode = str(mode).strip().lower()
    if mode not in PREPROCESS:
        raise InvalidOption("preprocess", f"{mode!r}: choose from {', '.join(PREPROCESS)}")
    return mode


def on_device(mode: str, device: str) -> bool:
    """Whether pre-processing runs as torch on `device` ('auto': only on CUDA, where the CPU
    would stall the GPU; on a CPU the OpenMMLab transforms are as fast and are the reference)."""
    mode = parse_preprocess(mode)
    return mode == "device" or (mode == "auto" and is_cuda(device))


def frames_tensor(frames: np.ndarray, device: str) -> Any:
    """Frames (N, H, W, 3) uint8 as a (N, 3, H, W) uint8 tensor on `device` (one copy: pinned
    and non-blocking on CUDA)."""
    import torch

    t = torch.from_numpy(np.ascontiguousarray(frames))
    if is_cuda(device):
        t = t.pin_memory().to(device, non_blocking=True)
    return t.permute(0, 3, 1, 2)


def to_uint8(x: Any) -> Any:
    """Float pixels rounded and clamped to uint8, as cv2 writes a uint8 result (cv2 computes in
    fixed point, so about one pixel in ten lands one grey level apart: tests state it)."""
    import torch

    return x.round_().clamp_(0, 255).to(torch.uint8)


def resize_bilinear(images: Any, size: tuple[int, int]) -> Any:
    """(N, C, H, W) images resized to `size` (h, w) like cv2.resize INTER_LINEAR: pixel centres
    aligned (half-pixel), no antialiasing, uint8 out."""
    import torch.nn.functional as F

    out = F.interpolate(images.float(), size=size, mode="bilinear", align_corners=False,
                        antialias=False)
    return to_uint8(out)


def warp_affine(image: Any, matrices: np.ndarray, size: tuple[int, int],
                border: float = 0.0) -> Any:
    """One (C, H, W) image warped by each 2x3 matrix (K, 2, 3) (source -> destination pixels, as
    cv2.warpAffine takes them) into a (K, C, h, w) uint8 batch of `size` (w, h): bilinear, a
    constant `border` outside the image, as cv2.warpAffine INTER_LINEAR / BORDER_CONSTANT."""
    import torch
    import torch.nn.functional as F

    w, h = int(size[0]), int(size[1])
    mats = np.asarray(matrices, np.float64).reshape(-1, 2, 3)
    full = np.concatenate([mats, np.tile([[[0.0, 0.0, 1.0]]], (len(mats), 1, 1))], axis=1)
    inverse = np.linalg.inv(full)[:, :2]  # destination -> source, as cv2 computes it
    dev = image.device
    inv = torch.as_tensor(inverse, dtype=torch.float32, device=dev)
    ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float32, device=dev),
                            torch.arange(w, dtype=torch.float32, device=dev), indexing="ij")
    dst = torch.stack([xs, ys, torch.ones_like(xs)], dim=-1).reshape(-1, 3)  # (h*w, 3)
    src = torch.einsum("kij,pj->kpi", inv, dst)  # (K, h*w, 2) source pixel coordinates
    in_h, in_w = image.shape[-2:]
    # grid_sample's align_corners=False: pixel i's centre sits at (2 i + 1) / size - 1
    grid = torch.stack([(2 * src[..., 0] + 1) / in_w - 1, (2 * src[..., 1] + 1) / in_h - 1],
                       dim=-1).reshape(1, len(mats) * h, w, 2)
    # zeros outside, so a constant border is the image less that constant, added back after
    img = image.float()[None] - border
    out = F.grid_sample(img, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    out = out.reshape(image.shape[0], len(mats), h, w).permute(1, 0, 2, 3) + border
    return to_uint8(out.contiguous())


def pose_heatmaps(keypoints: Any, scores: Any, shape: tuple[int, int], sigma: float, *,
                  eps: float = 1e-4, flip_index: Sequence[int] | None = None) -> Any:
    """PoseC3D's keypoint heatmaps (T, V, h, w) float32 from keypoints (M, T, V, 2) and scores
    (M, T, V), as mmaction2's GeneratePoseTarget (with_kp, not with_limb) makes them: a Gaussian
    of `sigma` scaled by the score, cut to the integer window within 3 sigma it computes, the
    maximum over people, nothing for scores under `eps`. `flip_index` (its `double`): the
    horizontally flipped copy, left and right keypoints swapped, appended along T."""
    import torch

    h, w = int(shape[0]), int(shape[1])
    kp = torch.as_tensor(keypoints, dtype=torch.float32)
    sc = torch.as_tensor(scores, dtype=torch.float32, device=kp.device)
    dev = kp.device
    xs = torch.arange(w, dtype=torch.float32, device=dev)
    ys = torch.arange(h, dtype=torch.float32, device=dev)
    reach = 3 * sigma
    heat = torch.zeros((kp.shape[1], kp.shape[2], h, w), dtype=torch.float32, device=dev)

    def axis(mu: Any, grid: Any, size: int) -> Any:
        """exp(-d^2 / 2 sigma^2) along one axis, zero outside the transform's integer window
        (its int() truncates towards zero: trunc, then its clamps)."""
        start = torch.clamp(torch.trunc(mu - reach), min=0)
        end = torch.clamp(torch.trunc(mu + reach) + 1, max=size)
        inside = (grid >= start[..., None]) & (grid < end[..., None])
        g = torch.exp(-((grid - mu[..., None]) ** 2) / 2 / sigma ** 2)
        return torch.where(inside, g, torch.zeros((), device=dev))

    # The Gaussian is separable: exp(-(dx^2 + dy^2) / 2s^2) = exp(-dx^2 / 2s^2) exp(-dy^2 / 2s^2),
    # one product a pixel instead of one exp (the same values within float32 rounding).
    for m in range(kp.shape[0]):  # people one at a time: (T, V, h, w) at most in memory
        gx = axis(kp[m, ..., 0], xs, w)
        gy = axis(kp[m, ..., 1], ys, h) * torch.where(sc[m] >= eps, sc[m], 0.0)[..., None]
        heat = torch.maximum(heat, gy[..., :, None] * gx[..., None, :])
    if flip_index is not None:
        index = torch.as_tensor(list(flip_index), dtype=torch.long, device=dev)
        heat = torch.cat([heat, heat.flip(-1)[:, index]])
    return heat


def heatmap_clips(heat: Any, num_clips: int, clip_len: int) -> Any:
    """(crops x clips x T, V, h, w) heatmaps as PoseC3D's views (crops x clips, V, T, h, w), as
    FormatShape('NCTHW_Heatmap') arranges them."""
    v, h, w = heat.shape[1:]
    out = heat.reshape(-1, num_clips, clip_len, v, h, w).permute(0, 1, 3, 2, 4, 5)
    return out.reshape(-1, v, clip_len, h, w).contiguous()
