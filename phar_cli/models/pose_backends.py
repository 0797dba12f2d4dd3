"""The skeleton stream's front end, chosen by name: what finds people and their 17 COCO
keypoints in frames. One factory for analysis and for `prepare-data`, so a model is trained on
the poses it will be analysed with."""
from __future__ import annotations

from typing import Any

from phar_cli.errors import InvalidOption

POSE_BACKENDS = ("mmpose", "markers")  # det + top-down pose (the seed's), or synthetic markers


def needs_model_files(backend: str) -> bool:
    """Whether the backend loads the det and pose model files."""
    return check_backend(backend) == "mmpose"


def check_backend(backend: str) -> str:
    if backend not in POSE_BACKENDS:
        raise InvalidOption("pose_backend", f"{backend!r}: use {' or '.join(POSE_BACKENDS)}")
    return backend


def load_pose_estimator(backend: str, files: dict[str, Any], device: str, *,
                        det_score_thr: float = 0.5, det_size: int | None = None,
                        det_proposals: int | None = None, precision: str = "fp32") -> Any:
    """A callable frames (N, H, W, 3) -> one `FramePoses` per frame. `files` holds the det and
    pose `ModelFiles` for the mmpose backend (the markers backend needs none)."""
    if not needs_model_files(backend):
        from phar_cli.models.markers import MarkerPoseEstimator

        return MarkerPoseEstimator()
    from phar_cli.models.poses import PoseEstimator

    det, pose = files["det"], files["pose"]
    return PoseEstimator(det.config, det.checkpoint, pose.config, pose.checkpoint, device,
                         det_score_thr=det_score_thr, det_size=det_size,
                         det_proposals=det_proposals, precision=precision)
