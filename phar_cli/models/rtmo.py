"""People and their 17 COCO keypoints in one forward: mmpose's one-stage RTMO (rtmo-s/m/l).

Why: the seed's front end runs a two-stage detector on every sampled frame and HRNet on every
kept box (docs/performance.md: most of a seed-sized window's time); RTMO finds the people and
their keypoints together, at one fixed input size, and is strong where people are close
together. It answers like `PoseEstimator`: frames (N, H, W, 3) uint8 RGB in, one `FramePoses`
per frame out (boxes in frame pixels with their person score, keypoints in frame pixels, scores
in [0, 1]), people under the score threshold dropped. The pre-processing (`frame_inputs`: mmpose's
BottomupResize, a letterboxing warp to the input size) is apart from the forward
(`frame_forward`), so the engine prepares one chunk while the model runs the one before; on CUDA
the warp runs on the GPU (`device_prep`).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from phar_cli.defaults import DEFAULT_DET_SCORE_THR
from phar_cli.errors import InvalidOption, ModelLoadError
from phar_cli.models.accel import autocast_method, check_precision, enable_async_copies, pin
from phar_cli.models.checkpoint import load_weights
from phar_cli.models.compat import import_openmmlab, quiet_warnings
from phar_cli.models.device_prep import (DEFAULT_PREPROCESS, frames_tensor, on_device,
                                         parse_preprocess, warp_affine)
from phar_cli.models.poses import NUM_KEYPOINTS, FramePoses
from phar_cli.models.recognizer import load_config

RESIZE = "BottomupResize"


class RTMOEstimator:
    """A built, weight-loaded, eval-mode RTMO on one device, called like `PoseEstimator`."""

    def __init__(self, config: str | Path, checkpoint: str | Path | None, device: str, *,
                 score_thr: float = DEFAULT_DET_SCORE_THR, batch_size: int = 16, input_size: int | None = None,
                 precision: str = "fp32", preprocess: str = DEFAULT_PREPROCESS) -> None:
        import_openmmlab()
        from mmengine.dataset import Compose
        from mmengine.registry import DefaultScope
        from mmpose.apis import init_model

        preprocess = parse_preprocess(preprocess)
        self.score_thr = score_thr
        self.batch_size = batch_size
        self.device = device
        self.precision = check_precision(precision, device)
        cfg = load_config(config)
        if input_size is not None:
            set_input_size(cfg, input_size)
        try:
            with quiet_warnings():  # it warns that it was built without a checkpoint
                self.model = init_model(cfg, None, device=device)
        except Exception as ex:  # noqa: BLE001
            raise ModelLoadError(f"{config}: cannot build the RTMO pose model "
                                 f"({type(ex).__name__}: {ex})") from ex
        keypoints = getattr(self.model.head, "num_keypoints", None)
        if keypoints != NUM_KEYPOINTS:
            raise ModelLoadError(f"{config}: the pose model gives {keypoints} keypoints; the "
                                 f"skeleton stream needs the {NUM_KEYPOINTS} COCO keypoints")
        if checkpoint is not None:
            self.meta = load_weights(self.model, checkpoint, what="RTMO pose")
        self.model.eval()
        enable_async_copies(self.model, device)
        # Backbone, neck and the head's convolutions at `precision`; the keypoint decoding
        # (NMS, the coordinate classifier's soft-argmax) and the NumPy results stay in fp32.
        autocast_method(self.model, "extract_feat", self.precision, device)
        autocast_method(self.model.head, "forward", self.precision, device)
        pipeline = [dict(t) for t in cfg.test_dataloader.dataset.pipeline]
        with DefaultScope.overwrite_default_scope("mmpose"):
            self.pipeline = Compose(pipeline)
            self._pack = Compose([pipeline[-1]])
        self._resize = _letterbox(pipeline)
        self.on_device = on_device(preprocess, device) and self._resize is not None
        if preprocess == "device" and self._resize is None:
            raise InvalidOption("preprocess", f"device: {config}'s test pipeline is not the "
                                "LoadImage, BottomupResize (fit), PackPoseInputs phar can run on "
                                "the device")

    def __call__(self, frames: np.ndarray) -> list[FramePoses]:
        """Poses for each frame of `frames` (N, H, W, 3) uint8 RGB, in batches."""
        out: list[FramePoses] = []
        for start in range(0, len(frames), self.batch_size):
            out += self.frame_forward(self.frame_inputs(frames[start:start + self.batch_size]))
        return out

    def frame_inputs(self, frames: np.ndarray) -> list[dict]:
        """The model's input of each frame: letterboxed to the input size, BGR as mmpose's
        LoadImage gives it."""
        from mmengine.registry import DefaultScope

        if self.on_device:
            return self._device_inputs(frames)
        with DefaultScope.overwrite_default_scope("mmpose"):
            return [pin(self.pipeline(dict(img=np.ascontiguousarray(f[..., ::-1]))), self.device)
                    for f in frames]

    def frame_forward(self, inputs: list[dict]) -> list[FramePoses]:
        """The people of each input frame above the score threshold, in frame pixels."""
        import torch
        from mmengine.dataset import pseudo_collate
        from mmengine.registry import DefaultScope

        out: list[FramePoses] = []
        with DefaultScope.overwrite_default_scope("mmpose"), torch.no_grad():
            for start in range(0, len(inputs), self.batch_size):
                for result in self.model.test_step(
                        pseudo_collate(inputs[start:start + self.batch_size])):
                    out.append(self._poses(result))
        return out

    def _poses(self, result: Any) -> FramePoses:
        inst = result.pred_instances
        height, width = result.metainfo["ori_shape"][:2]
        scores = np.asarray(inst.bbox_scores, np.float32).reshape(-1)
        keep = scores >= self.score_thr
        boxes = np.asarray(inst.bboxes, np.float32).reshape(-1, 4)[keep]
        # RTMO clips boxes to its letterboxed input; the padding lies outside the frame
        boxes[:, 0::2] = boxes[:, 0::2].clip(0, width)
        boxes[:, 1::2] = boxes[:, 1::2].clip(0, height)
        keypoints = np.asarray(inst.keypoints, np.float32).reshape(-1, NUM_KEYPOINTS, 2)[keep]
        kp_scores = np.asarray(inst.keypoint_scores, np.float32).reshape(-1, NUM_KEYPOINTS)[keep]
        return FramePoses(np.concatenate([boxes, scores[keep, None]], axis=1), keypoints,
                          kp_scores.clip(0.0, 1.0))

    def _device_inputs(self, frames: np.ndarray) -> list[dict]:
        """BottomupResize's letterbox as one warp per frame on the device; its geometry and
        data sample as the transform makes them."""
        from mmengine.registry import DefaultScope
        from mmpose.structures.bbox import get_warp_matrix

        input_w, input_h = self._resize["input_size"]
        tensors = frames_tensor(frames, self.device)
        height, width = frames.shape[1:3]
        ratio = width / height
        fit_w, fit_h = min(input_w, input_h * ratio), min(input_h, input_w / ratio)
        center = np.array([width / 2, height / 2], dtype=np.float32)
        scale = np.array([width * input_w / fit_w, height * input_h / fit_h], dtype=np.float32)
        warp = get_warp_matrix(center=center, scale=scale, rot=0, output_size=(input_w, input_h))
        pad = self._resize["pad_val"]
        out = []
        with DefaultScope.overwrite_default_scope("mmpose"):
            for k in range(len(frames)):
                image = warp_affine(tensors[k].flip(0), warp[None], (input_w, input_h), pad)[0]
                packed = self._pack(dict(
                    img=_PLACEHOLDER, img_path=None, ori_shape=(height, width),
                    img_shape=(input_h, input_w), input_center=center, input_scale=scale,
                    input_size=(input_w, input_h)))
                packed["inputs"] = image
                out.append(packed)
        return out


_PLACEHOLDER = np.zeros((1, 1, 3), np.uint8)  # packed in place of the image the device warps


def _letterbox(pipeline: list[dict]) -> dict | None:
    """The BottomupResize settings when the pipeline is the one the device path reproduces
    (LoadImage, BottomupResize 'fit' without UDP or extra scales, PackPoseInputs)."""
    types = [t["type"].split(".")[-1] for t in pipeline]
    if types != ["LoadImage", RESIZE, "PackPoseInputs"]:
        return None
    resize = pipeline[1]
    if (resize.get("resize_mode", "fit") != "fit" or resize.get("use_udp")
            or resize.get("aug_scales")):
        return None
    pad = resize.get("pad_val", (0, 0, 0))
    pads = set(pad) if isinstance(pad, (tuple, list)) else {pad}
    if len(pads) != 1:
        return None
    return {"input_size": tuple(int(v) for v in resize["input_size"]), "pad_val": float(pads.pop())}


def set_input_size(cfg: Any, size: int) -> None:
    """RTMO at a square input of `size` pixels instead of its config's 640 (a speed option, as
    `det_size` is for the two-stage detector): its BottomupResize and its head's test size."""
    if size < 32 or size % 32:
        raise InvalidOption("det_size", f"{size}: RTMO's input is a multiple of 32 pixels")
    found = False
    for t in cfg.test_dataloader.dataset.pipeline:
        if t["type"].split(".")[-1] == RESIZE:
            t["input_size"] = (size, size)
            found = True
    test_cfg = cfg.model.get("test_cfg")
    if not found or test_cfg is None or "input_size" not in test_cfg:
        raise InvalidOption("det_size", "{option}: the pose model's config has no RTMO input "
                            "size (BottomupResize, model.test_cfg.input_size)")
    test_cfg["input_size"] = (size, size)
