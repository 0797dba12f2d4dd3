"""`--profile`: named sets of the options that trade a little score for speed.

`reference` is the defaults (the seed's settings, the reference scores). `fast` runs the skeleton
stream's front end in one stage (RTMO-s instead of Faster R-CNN + HRNet, at 320 px on a CPU),
PoseC3D on one test clip instead of ten, TimeSformer on one view instead of three, the pose
model on every second sampled frame, bf16 where it pays (CUDA, or a CPU with AVX512-BF16/
AMX), and, where the content stream runs, skips the action models on content-free windows:
docs/performance.md measures each part. A profile only fills what was not given: every
option set explicitly wins. A bundle that analyses with a front end of its own (the synthetic
markers) keeps it.
"""
from __future__ import annotations

from typing import Any

from phar_cli.defaults import DEFAULT_POSE_BACKEND
from phar_cli.errors import InvalidOption

PROFILES = ("reference", "fast")
DEFAULT_PROFILE = PROFILES[0]  # the seed's settings: the reference scores
FAST_RTMO = "rtmo-s"
FAST_CPU_POSE_SIZE = 320  # RTMO's square input on a CPU (640 on CUDA: its trained size)


def check_profile(name: str) -> str:
    if name not in PROFILES:
        raise InvalidOption("profile", f"{name!r}: use {' or '.join(PROFILES)}")
    return name


def profile_options(name: str, device: str, pose_backend: str) -> dict[str, Any]:
    """The options `name` sets on `device` ('cpu' or 'cuda[:N]') for a front end that would be
    `pose_backend` without it."""
    if check_profile(name) == DEFAULT_PROFILE:
        return {}
    from phar_cli.models.accel import fast_bf16, is_cuda

    out: dict[str, Any] = {"skeleton_clips": 1, "rgb_views": 1, "pose_every": 2,
                           "precision": "bf16" if fast_bf16(device) else "fp32",
                           "content_gate": True}
    if pose_backend == DEFAULT_POSE_BACKEND:  # the seed's two stages: replaced by one
        out["pose_backend"] = FAST_RTMO
        out["det_size"] = None if is_cuda(device) else FAST_CPU_POSE_SIZE
    return out
