"""The skeleton stream's front end, chosen by name: what finds people and their 17 COCO
keypoints in frames. One factory for analysis and for `prepare-data`, so a model is trained on
the poses it will be analysed with.

- `mmpose`: the seed's two stages, Faster R-CNN person boxes then HRNet on each kept box (the
  default: the poses the seed's skeleton model was trained on);
- `rtmo-s`, `rtmo-m`, `rtmo-l`: mmpose's one-stage RTMO (boxes and keypoints in one forward);
- `markers`: the synthetic figure's coloured joints (no model file).
"""
from __future__ import annotations

from typing import Any

from phar_cli.defaults import DEFAULT_DET_SCORE_THR, DEFAULT_POSE_BACKEND, POSE_MODELS
from phar_cli.errors import InvalidOption
from phar_cli.models.device_prep import DEFAULT_PREPROCESS

RTMO_BACKENDS = ("rtmo-s", "rtmo-m", "rtmo-l")
POSE_BACKENDS = (DEFAULT_POSE_BACKEND, "markers") + RTMO_BACKENDS
# The manifest names of the model files each backend loads (configs/models.json)
BACKEND_MODELS: dict[str, tuple[str, ...]] = {
    DEFAULT_POSE_BACKEND: POSE_MODELS, "markers": (), **{b: (b,) for b in RTMO_BACKENDS}}


# The names `--pose-model` takes beside the backends' own
POSE_MODEL_NAMES = {"faster-rcnn+hrnet": DEFAULT_POSE_BACKEND}


def check_backend(backend: str) -> str:
    """A backend name (or a `--pose-model` name for one), as the backend's name."""
    backend = POSE_MODEL_NAMES.get(backend, backend)
    if backend not in POSE_BACKENDS:
        raise InvalidOption("pose_backend", f"{backend!r}: use mmpose (faster-rcnn+hrnet), "
                                            f"{', '.join(RTMO_BACKENDS)} or markers")
    return backend


def pose_model_names(backend: str) -> tuple[str, ...]:
    """The model files (manifest names) the backend loads: det and pose, rtmo-*, or none."""
    return BACKEND_MODELS[check_backend(backend)]


def needs_model_files(backend: str) -> bool:
    """Whether the backend loads the det and pose model files (the two-stage front end); see
    `pose_model_names` for every backend's files."""
    return pose_model_names(backend) == POSE_MODELS


def load_pose_estimator(backend: str, files: dict[str, Any], device: str, *,
                        det_score_thr: float = DEFAULT_DET_SCORE_THR, det_size: int | None = None,
                        det_proposals: int | None = None, precision: str = "fp32",
                        preprocess: str = DEFAULT_PREPROCESS, batch_size: int | None = None) -> Any:
    """A callable frames (N, H, W, 3) -> one `FramePoses` per frame.

    `files` holds `ModelFiles` by manifest name: det and pose for mmpose, rtmo-s (or -m, -l)
    for RTMO, none for markers; an RTMO file not in it is looked up in $PHAR_HOME/models (for
    callers that resolve only the two-stage files). `det_score_thr` is the person score a box
    needs (RTMO's person score for RTMO); `det_size` the detector's input short side (RTMO's
    square input size, a multiple of 32); `det_proposals` applies to the two-stage detector only;
    `preprocess` where resizing and cropping run (`device_prep.PREPROCESS`); `batch_size` the
    frames (or people) per forward (default: `batching.frame_batch`).
    """
    from phar_cli.models.batching import frame_batch

    batch_size = batch_size or frame_batch(device)
    names = pose_model_names(backend)
    if not names:
        from phar_cli.synthetic.marker_poses import MarkerPoseEstimator

        return MarkerPoseEstimator()
    if backend in RTMO_BACKENDS:
        from phar_cli.models.rtmo import RTMOEstimator

        if det_proposals is not None:
            raise InvalidOption("det_proposals", f"{{option}} applies to the two-stage detector "
                                                 f"(mmpose), not {backend}")
        config, checkpoint = _files(files, backend)
        return RTMOEstimator(config, checkpoint, device, score_thr=det_score_thr,
                             input_size=det_size, precision=precision, preprocess=preprocess,
                             batch_size=batch_size)
    from phar_cli.models.poses import PoseEstimator

    det, pose = files["det"], files["pose"]
    return PoseEstimator(det.config, det.checkpoint, pose.config, pose.checkpoint, device,
                         det_score_thr=det_score_thr, det_size=det_size,
                         det_proposals=det_proposals, precision=precision, preprocess=preprocess,
                         batch_size=batch_size)


def _files(files: dict[str, Any], name: str) -> tuple[Any, Any]:
    """(config, checkpoint) of model `name`: from `files`, else the manifest's config and its
    file in $PHAR_HOME/models (a one-line error saying how to fetch it)."""
    if name in files:
        return files[name].config, files[name].checkpoint
    from phar_cli.models.registry import find_model_file, get_entry

    entry = get_entry(name)
    return entry.config_path, find_model_file(name, entry=entry)
