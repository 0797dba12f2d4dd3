"""One MMAction2 recognizer (rgb, skeleton or audio) with its label map and in-memory pipeline.

phar decodes frames and computes features itself (once per video), so the config's loading and
decoding transforms are dropped; its sampler (SampleFrames / UniformSampleFrames) is run by phar
to learn which frames to decode, and the remaining transforms run on the data in memory.
`prepare` (the transforms) and `forward` (the model) are separate so the Engine can run the
first on its decode thread while the model works on the previous batch.

Two test-time settings can be changed from the config's (the seed's values are the configs'):
`clips`, how many clips the sampler draws (PoseC3D's 10: fewer clips sample fewer frames, so
detection and pose run on fewer), and `views`, TimeSformer's spatial crops (1: the centre crop,
3: the seed's ThreeCrop). On CUDA, PoseC3D's heatmap volumes are drawn on the GPU
(`device_prep`; `preprocess` chooses).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from phar_cli.errors import InvalidOption, ModelLoadError
from phar_cli.media.audio import AUDIO_FEATURES
from phar_cli.models.accel import autocast, check_precision, enable_async_copies, pin
from phar_cli.models.checkpoint import load_weights
from phar_cli.models.compat import import_openmmlab
from phar_cli.models.device_prep import (DEFAULT_PREPROCESS, heatmap_clips, on_device,
                                         parse_preprocess, pose_heatmaps)

SAMPLERS = {"SampleFrames", "UniformSampleFrames"}
LOADERS = {"DecordInit", "DecordDecode", "OpenCVInit", "OpenCVDecode", "PyAVInit", "PyAVDecode",
           "RawFrameDecode", "LoadAudioFeature", "AudioDecodeInit", "AudioDecode", "LoadRGBFromFile",
           "RawFrameDecode", "PIMSInit", "PIMSDecode", "Fuse"}
CROPS = {1: "CenterCrop", 3: "ThreeCrop"}  # views -> the test-time crop transform
HEATMAPS = "GeneratePoseTarget"


def load_config(path: str | Path) -> Any:
    from mmengine.config import Config

    path = Path(path)
    if not path.is_file():
        raise ModelLoadError(f"{path}: config file not found")
    try:
        return Config.fromfile(str(path))
    except Exception as ex:  # noqa: BLE001 - mmengine raises many kinds for a bad config
        raise ModelLoadError(f"{path}: cannot read config ({type(ex).__name__}: {ex})") from ex


class Recognizer:
    """A built, weight-loaded, eval-mode mmaction2 recognizer on one device."""

    def __init__(self, stream: str, config: str | Path, checkpoint: str | Path | None,
                 labels: list[str], device: str, precision: str = "fp32", *,
                 clips: int | None = None, views: int | None = None,
                 preprocess: str = DEFAULT_PREPROCESS) -> None:
        """`clips`, `views`: None keeps the config's test pipeline (see the module's doc)."""
        import_openmmlab()
        import torch
        from mmaction.registry import MODELS, TRANSFORMS
        from mmengine.dataset import Compose
        from mmengine.registry import DefaultScope

        preprocess = parse_preprocess(preprocess)
        self.stream = stream
        self.labels = list(labels)
        self.device = device
        self.precision = check_precision(precision, device)
        cfg = load_config(config)
        self.config_path = str(config)
        cfg.model.cls_head.num_classes = len(self.labels)
        with DefaultScope.overwrite_default_scope("mmaction"):
            try:
                model = MODELS.build(cfg.model)
            except Exception as ex:  # noqa: BLE001
                raise ModelLoadError(f"{config}: cannot build the {stream} model "
                                     f"({type(ex).__name__}: {ex})") from ex
            if checkpoint is not None:
                self.meta = load_weights(model, checkpoint, what=stream)
            pipeline = [dict(t) for t in cfg.test_pipeline if t["type"] not in LOADERS]
            samplers = [t for t in pipeline if t["type"] in SAMPLERS]
            if len(samplers) != 1:
                raise ModelLoadError(f"{config}: test_pipeline needs exactly one frame sampler")
            if clips is not None:
                with_clips(samplers[0], clips, stream)
            if views is not None:
                pipeline = with_views(pipeline, views, stream)
            self.sampler_cfg = samplers[0]
            self.sampler = TRANSFORMS.build(dict(self.sampler_cfg))
            rest = [t for t in pipeline if t["type"] not in SAMPLERS]
            self.transforms = Compose([TRANSFORMS.build(t) for t in rest])
            self._heatmaps = (_heatmap_steps(rest, TRANSFORMS, Compose)
                              if on_device(preprocess, device) else None)
            if preprocess == "device" and self._heatmaps is None and _has(rest, HEATMAPS):
                raise InvalidOption("preprocess", f"device: {config}'s heatmap steps are not "
                                    "the GeneratePoseTarget (keypoints only), FormatShape "
                                    "NCTHW_Heatmap, PackActionInputs phar can run on the device")
            self.short_side = _resize_short_side(pipeline)
        self.model = model.to(torch.device(device)).eval()
        enable_async_copies(self.model, device)
        self._torch = torch
        # The RGB model's head input, kept by a hook on each forward: the pooled features a
        # "look" is made of, at no extra pass (`core/look.py`).
        self.last_features: np.ndarray | None = None
        self._features: Any = None
        fc = getattr(getattr(self.model, "cls_head", None), "fc_cls", None)
        if stream == "rgb" and fc is not None:
            fc.register_forward_pre_hook(self._keep_features)

    def _keep_features(self, module: Any, inputs: tuple[Any, ...]) -> None:
        self._features = inputs[0]

    @property
    def clip_len(self) -> int:
        return int(self.sampler_cfg["clip_len"])

    def sample(self, total_frames: int) -> dict[str, Any]:
        """The config's own sampler on a window of `total_frames` frames (indices from 0)."""
        results = self.sampler(dict(total_frames=int(total_frames), start_index=0))
        results["frame_inds"] = np.asarray(results["frame_inds"], dtype=np.int64)
        return results

    def prepare(self, sample: dict[str, Any]) -> dict[str, Any]:
        """The config's remaining transforms on one sample in memory: the model's input."""
        from mmengine.registry import DefaultScope

        with DefaultScope.overwrite_default_scope("mmaction"):
            if self._heatmaps is not None:
                return self._prepare_heatmaps_on_device(dict(sample))
            return pin(self.transforms(dict(sample)), self.device)

    def _prepare_heatmaps_on_device(self, sample: dict[str, Any]) -> dict[str, Any]:
        """The keypoint transforms (decode, compact, resize, crop: coordinates only) as the
        config has them, then the heatmap volumes drawn on the device and packed as the config
        packs them."""
        before, target, pack = self._heatmaps
        results = before(sample)
        flip = None
        if target.double:
            flip = np.arange(results["keypoint"].shape[2])
            for left, right in zip(target.left_kp, target.right_kp):
                flip[left], flip[right] = right, left
        torch = self._torch
        kp = torch.from_numpy(np.ascontiguousarray(results["keypoint"], np.float32))
        scores = results.get("keypoint_score")
        if scores is None or not target.use_score:
            scores = np.ones(kp.shape[:-1], np.float32)
        device = torch.device(self.device)
        heat = pose_heatmaps(kp.to(device),
                             torch.from_numpy(np.ascontiguousarray(scores, np.float32)).to(device),
                             results["img_shape"], target.sigma, eps=target.eps,
                             flip_index=flip)
        results["imgs"] = heatmap_clips(heat, results["num_clips"], results["clip_len"])
        results["input_shape"] = tuple(results["imgs"].shape)
        return pack(results)

    def forward(self, items: list[dict[str, Any]]) -> np.ndarray:
        """Class probabilities, one row per prepared item (one batch through the model)."""
        from mmengine.dataset import pseudo_collate
        from mmengine.registry import DefaultScope

        self._features = None
        with DefaultScope.overwrite_default_scope("mmaction"), self._torch.no_grad(), \
                autocast(self.precision, self.device):
            outputs = self.model.test_step(pseudo_collate(items))
        self.last_features = _per_item(self._features, len(items))
        return np.stack([o.pred_score.float().cpu().numpy() for o in outputs])

    def predict(self, samples: list[dict[str, Any]]) -> np.ndarray:
        """Class probabilities, one row per sample (a batch of windows through the model once)."""
        return self.forward([self.prepare(s) for s in samples])


def _per_item(features: Any, items: int) -> np.ndarray | None:
    """The head's input as one row per item: views and clips (rows of one item, in order, as
    the recognizer reshapes them) averaged, as the head averages their scores."""
    if features is None or features.ndim != 2 or features.shape[0] % items:
        return None
    rows = features.float().cpu().numpy()
    return rows.reshape(items, -1, rows.shape[1]).mean(axis=1)


def with_clips(sampler: dict[str, Any], clips: int, stream: str) -> None:
    """The sampler drawing `clips` test clips (UniformSampleFrames or SampleFrames num_clips)."""
    if isinstance(clips, bool) or not isinstance(clips, int) or clips < 1:
        raise InvalidOption(f"{stream}_clips", f"must be a whole number of at least 1 (got {clips})")
    sampler["num_clips"] = clips


def with_views(pipeline: list[dict[str, Any]], views: int, stream: str) -> list[dict[str, Any]]:
    """The pipeline with its test-time crop giving `views` spatial views: 1 the centre crop,
    3 three crops along the long side (the crop size kept)."""
    if views not in CROPS:
        raise InvalidOption(f"{stream}_views", f"{views!r}: use 1 (centre crop) or 3 (three crops)")
    if _has(pipeline, HEATMAPS):
        raise InvalidOption(f"{stream}_views", "{option}: views are the RGB model's crops; a "
                                               "skeleton model has none")
    crops = [k for k, t in enumerate(pipeline) if t["type"] in set(CROPS.values()) | {"TenCrop"}]
    if len(crops) != 1:
        raise InvalidOption(f"{stream}_views", "{option}: the config's test pipeline has no "
                                               "single crop (CenterCrop, ThreeCrop) to change")
    out = [dict(t) for t in pipeline]
    out[crops[0]] = dict(type=CROPS[views], crop_size=pipeline[crops[0]]["crop_size"])
    return out


def _has(pipeline: list[dict[str, Any]], kind: str) -> bool:
    return any(t["type"] == kind for t in pipeline)


def _heatmap_steps(rest: list[dict[str, Any]], registry: Any, compose: Any) -> tuple | None:
    """(the transforms before the heatmaps, the GeneratePoseTarget, the PackActionInputs) when
    the pipeline ends as the device path reproduces it; None otherwise."""
    types = [t["type"] for t in rest]
    if types[-3:] != [HEATMAPS, "FormatShape", "PackActionInputs"]:
        return None
    target, shape = rest[-3], rest[-2]
    if target.get("with_limb") or not target.get("with_kp", True) \
            or target.get("scaling", 1.0) != 1.0 or shape.get("input_format") != "NCTHW_Heatmap" \
            or shape.get("collapse"):
        return None
    return (compose([registry.build(t) for t in rest[:-3]]), registry.build(target),
            compose([registry.build(rest[-1])]))


def _resize_short_side(pipeline: list[dict[str, Any]]) -> int | None:
    """The short side the pipeline resizes frames to (Resize scale (-1, S)), if any."""
    for t in pipeline:
        if t["type"] == "Resize":
            scale = t.get("scale")
            if isinstance(scale, (tuple, list)) and len(scale) == 2 and scale[0] == -1:
                return int(scale[1])
    return None


def with_frames(sample: dict[str, Any], frames: np.ndarray) -> dict[str, Any]:
    """An RGB sampler's result with the frames (T, H, W, 3) it asked for, as the config's
    remaining transforms expect them."""
    h, w = frames.shape[1:3]
    sample.update(imgs=list(frames), img_shape=(h, w), original_shape=(h, w), modality="RGB")
    return sample


def with_poses(sample: dict[str, Any], keypoints: np.ndarray, scores: np.ndarray,
               positions: np.ndarray, total: int, frame_size: tuple[int, int]) -> dict[str, Any]:
    """A PoseC3D sampler's result with the people's keypoints (M, T, 17, 2) and scores found on
    the window's frames `positions`: zeros on the frames it will not sample."""
    full_kp = np.zeros((keypoints.shape[0], total, 17, 2), np.float32)
    full_sc = np.zeros((keypoints.shape[0], total, 17), np.float32)
    full_kp[:, positions], full_sc[:, positions] = keypoints, scores
    h, w = frame_size
    sample.update(keypoint=full_kp, keypoint_score=full_sc, img_shape=(h, w),
                  original_shape=(h, w), total_frames=total, modality="Pose", label=-1)
    return sample


def audio_params(rec: Recognizer) -> dict[str, int]:
    """The log-mel settings an audio model was trained on: its config's `audio_features`, the
    rest from the seed's (`AUDIO_FEATURES`)."""
    params = dict(AUDIO_FEATURES)
    params.update(dict(load_config(rec.config_path).get("audio_features", {})))
    return params
