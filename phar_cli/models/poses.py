"""2D poses of the people in a set of frames: MMDet person detection, then MMPose top-down pose.

Both models see the requested frames (and person boxes) in batches, not one image at a time. The
frames come from phar's single decode; nothing is written to disk. Each model's pre-processing
(`det_inputs`, `pose_inputs`) is apart from its forward (`det_forward`, `pose_forward`), so the
Engine can prepare on its decode thread and a benchmark can time the forwards alone.
`det_size` runs the detector at a smaller input than its config's (a speed option: boxes are
mapped back to the frame, so everything after it is unchanged); `det_proposals` hands its RoI
head fewer region proposals (another: the head's two fully connected layers run on every
proposal whatever the input size). On CUDA the detector's resize and the pose crops run on the
GPU (`device_prep`; `preprocess` chooses), their geometry and data samples as the OpenMMLab
transforms make them.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from phar_cli.defaults import DEFAULT_DET_SCORE_THR
from phar_cli.errors import InvalidOption, ModelLoadError
from phar_cli.models.accel import (autocast_features, check_precision, enable_async_copies,
                                   is_cuda, pin)
from phar_cli.models.checkpoint import load_weights
from phar_cli.models.compat import import_openmmlab, quiet_warnings
from phar_cli.models.device_prep import (DEFAULT_PREPROCESS, frames_tensor, on_device,
                                         parse_preprocess, resize_bilinear, warp_affine)
from phar_cli.models.recognizer import load_config

PERSON_CLASS = 0  # COCO 'person'
NUM_KEYPOINTS = 17


@dataclass
class FramePoses:
    """People found in one frame: boxes (P,5: x1,y1,x2,y2,score), keypoints (P,17,2), scores (P,17)."""

    boxes: np.ndarray
    keypoints: np.ndarray
    scores: np.ndarray


class PoseEstimator:
    def __init__(self, det_config: str | Path, det_checkpoint: str | Path | None,
                 pose_config: str | Path, pose_checkpoint: str | Path | None, device: str,
                 det_score_thr: float = DEFAULT_DET_SCORE_THR, batch_size: int = 16, *, det_size: int | None = None,
                 det_proposals: int | None = None, precision: str = "fp32",
                 preprocess: str = DEFAULT_PREPROCESS) -> None:
        import_openmmlab()
        from mmdet.apis import init_detector
        from mmengine.dataset import Compose
        from mmengine.registry import DefaultScope
        from mmpose.apis import init_model

        preprocess = parse_preprocess(preprocess)
        self.det_score_thr = det_score_thr
        self.batch_size = batch_size
        self.device = device
        self.precision = check_precision(precision, device)
        det_cfg = load_config(det_config)
        if det_proposals is not None:
            set_det_proposals(det_cfg, det_proposals)
        pose_cfg = load_config(pose_config)
        try:
            with quiet_warnings():  # both warn that they were built without a checkpoint
                self.detector = init_detector(det_cfg, None, device=device)
                self.pose_model = init_model(pose_cfg, None, device=device)
        except Exception as ex:  # noqa: BLE001
            raise ModelLoadError(f"cannot build the person detector or pose model "
                                 f"({type(ex).__name__}: {ex})") from ex
        if det_checkpoint is not None:
            load_weights(self.detector, det_checkpoint, what="person detector")
        if pose_checkpoint is not None:
            load_weights(self.pose_model, pose_checkpoint, what="pose")
        self.detector.eval()
        self.pose_model.eval()
        for model in (self.detector, self.pose_model):
            enable_async_copies(model, device)
            autocast_features(model, self.precision, device)
        det_pipeline = [dict(t) for t in det_cfg.test_dataloader.dataset.pipeline]
        det_pipeline[0] = dict(type="mmdet.LoadImageFromNDArray")
        if det_size is not None:
            det_pipeline = with_det_size(det_pipeline, det_size)
        self.det_batch = det_batch_size(det_pipeline, batch_size, device)
        with DefaultScope.overwrite_default_scope("mmdet"):
            self.det_pipeline = Compose(det_pipeline)
        pose_pipeline = [dict(t) for t in pose_cfg.test_dataloader.dataset.pipeline]
        with DefaultScope.overwrite_default_scope("mmpose"):
            self.pose_pipeline = Compose(pose_pipeline)
            self._pose_pack = Compose(pose_pipeline[-1:])
        with DefaultScope.overwrite_default_scope("mmdet"):
            self._det_pack = Compose(det_pipeline[-1:])
        self.pose_meta = dict(self.pose_model.dataset_meta or {})
        self._det_resize = _det_resize(det_pipeline)
        self._crop = _topdown_crop(pose_pipeline)
        wanted = on_device(preprocess, device)
        if preprocess == "device" and (self._det_resize is None or self._crop is None):
            raise InvalidOption("preprocess", "device: the detector's or the pose model's test "
                                "pipeline is not one phar can run on the device (Resize with "
                                "keep_ratio; GetBBoxCenterScale, TopdownAffine without UDP)")
        self.det_on_device = wanted and self._det_resize is not None
        self.pose_on_device = wanted and self._crop is not None

    def __call__(self, frames: np.ndarray) -> list[FramePoses]:
        """Poses for each frame of `frames` (N,H,W,3) uint8 RGB."""
        boxes = self.detect(frames)
        return self.estimate(frames, boxes)

    def detect(self, frames: np.ndarray) -> list[np.ndarray]:
        """Person boxes (P,5) of each frame."""
        return self.det_forward(self.det_inputs(frames))

    def det_inputs(self, frames: np.ndarray) -> list[dict]:
        """The detector's pre-processed input of each frame (resized, BGR as mmdet expects)."""
        from mmengine.registry import DefaultScope

        if self.det_on_device:
            return self._det_inputs_on_device(frames)
        with DefaultScope.overwrite_default_scope("mmdet"):
            return [pin(self.det_pipeline(dict(img=np.ascontiguousarray(f[..., ::-1]), img_id=i)),
                        self.device) for i, f in enumerate(frames)]

    def det_forward(self, inputs: list[dict]) -> list[np.ndarray]:
        """Person boxes (P,5: x1,y1,x2,y2,score) in frame pixels, one array per input."""
        import torch
        from mmengine.dataset import pseudo_collate
        from mmengine.registry import DefaultScope

        out: list[np.ndarray] = []
        with DefaultScope.overwrite_default_scope("mmdet"), torch.no_grad():
            for start in range(0, len(inputs), self.det_batch):
                data = pseudo_collate(inputs[start:start + self.det_batch])
                for result in self.detector.test_step(data):
                    inst = result.pred_instances
                    keep = (inst.labels == PERSON_CLASS) & (inst.scores >= self.det_score_thr)
                    b = torch.cat([inst.bboxes[keep], inst.scores[keep, None]], dim=1)
                    out.append(b.float().cpu().numpy().reshape(-1, 5))
        return out

    def estimate(self, frames: np.ndarray, boxes: list[np.ndarray]) -> list[FramePoses]:
        """Keypoints of every box of every frame (`boxes[i]` belongs to `frames[i]`)."""
        items = [(i, b) for i, frame_boxes in enumerate(boxes) for b in frame_boxes]
        keypoints, scores = self.pose_forward(self.pose_inputs(frames, items))
        out, k = [], 0
        for b in boxes:
            out.append(FramePoses(b, keypoints[k:k + len(b)], scores[k:k + len(b)]))
            k += len(b)
        return out

    def pose_inputs(self, frames: np.ndarray, items: list[tuple[int, np.ndarray]]) -> list[dict]:
        """The pose model's input for each (frame index, box (5,)) item: the box's crop."""
        from mmengine.registry import DefaultScope

        if self.pose_on_device:
            return self._pose_inputs_on_device(frames, items)
        data = []
        bgr: dict[int, np.ndarray] = {}
        with DefaultScope.overwrite_default_scope("mmpose"):
            for i, box in items:
                if i not in bgr:
                    # items come frame by frame: one frame's BGR copy at a time
                    bgr = {i: np.ascontiguousarray(frames[i][..., ::-1])}
                info = dict(img=bgr[i], bbox=np.asarray(box[None, :4], np.float32),
                            bbox_score=np.asarray(box[None, 4], np.float32))
                info.update(self.pose_meta)
                data.append(pin(self.pose_pipeline(info), self.device))
        return data

    def pose_forward(self, inputs: list[dict]) -> tuple[np.ndarray, np.ndarray]:
        """Keypoints (K,17,2) in frame pixels and their scores (K,17), one row per input."""
        import torch
        from mmengine.dataset import pseudo_collate
        from mmengine.registry import DefaultScope

        keypoints = np.zeros((len(inputs), NUM_KEYPOINTS, 2), np.float32)
        scores = np.zeros((len(inputs), NUM_KEYPOINTS), np.float32)
        with DefaultScope.overwrite_default_scope("mmpose"), torch.no_grad():
            for start in range(0, len(inputs), self.batch_size):
                results = self.pose_model.test_step(
                    pseudo_collate(inputs[start:start + self.batch_size]))
                for k, result in enumerate(results, start):
                    keypoints[k] = result.pred_instances.keypoints[0]
                    scores[k] = result.pred_instances.keypoint_scores[0]
        return keypoints, scores

    def _det_inputs_on_device(self, frames: np.ndarray) -> list[dict]:
        """The detector's Resize as one bilinear resize of the frames on the device."""
        from mmcv import rescale_size
        from mmengine.registry import DefaultScope

        height, width = frames.shape[1:3]
        scale = self._det_resize
        new_w, new_h = rescale_size((width, height), scale)
        images = resize_bilinear(frames_tensor(frames, self.device), (new_h, new_w)).flip(1)
        out = []
        with DefaultScope.overwrite_default_scope("mmdet"):
            for i, image in enumerate(images):  # BGR, as mmdet's pipeline sees a frame
                packed = self._det_pack(dict(
                    img=_PLACEHOLDER, img_id=i, img_path=None, ori_shape=(height, width),
                    img_shape=(new_h, new_w), scale_factor=(new_w / width, new_h / height),
                    keep_ratio=True))
                packed["inputs"] = image
                out.append(packed)
        return out

    def _pose_inputs_on_device(self, frames: np.ndarray,
                               items: list[tuple[int, np.ndarray]]) -> list[dict]:
        """The pose model's crops as affine warps on the device, all boxes of a frame in one."""
        from mmengine.registry import DefaultScope
        from mmpose.structures.bbox import bbox_xyxy2cs, get_warp_matrix

        padding, (in_w, in_h) = self._crop
        height, width = frames.shape[1:3]
        out: list[dict] = [{} for _ in items]
        by_frame: dict[int, list[int]] = {}
        for k, (i, _) in enumerate(items):
            by_frame.setdefault(i, []).append(k)
        with DefaultScope.overwrite_default_scope("mmpose"):
            for i, ks in by_frame.items():
                boxes = np.stack([np.asarray(items[k][1], np.float32) for k in ks])
                centers, scales = bbox_xyxy2cs(boxes[:, :4], padding=padding)
                # TopdownAffine's fixed aspect ratio, then its warp matrix
                aspect = in_w / in_h
                w, h = scales[:, :1], scales[:, 1:]
                scales = np.where(w > h * aspect, np.hstack([w, w / aspect]),
                                  np.hstack([h * aspect, h]))
                warps = np.stack([get_warp_matrix(c, s, 0, output_size=(in_w, in_h))
                                  for c, s in zip(centers, scales)])
                frame = frames_tensor(frames[i:i + 1], self.device)[0].flip(0)  # BGR
                crops = warp_affine(frame, warps, (in_w, in_h))
                for j, k in enumerate(ks):
                    info = dict(img=_PLACEHOLDER, img_path=None, img_shape=(height, width),
                                ori_shape=(height, width), bbox=boxes[j:j + 1, :4],
                                bbox_score=boxes[j:j + 1, 4], bbox_center=centers[j:j + 1],
                                bbox_scale=scales[j:j + 1], input_size=(in_w, in_h),
                                input_center=centers[j], input_scale=scales[j],
                                keypoints_visible=_NO_KEYPOINTS)  # as TopdownAffine sets it
                    info.update(self.pose_meta)
                    packed = self._pose_pack(info)
                    packed["inputs"] = crops[j]
                    out[k] = packed
        return out


_PLACEHOLDER = np.zeros((1, 1, 3), np.uint8)  # packed in place of the image the device makes
_NO_KEYPOINTS = np.ones((1, 1, 1))


def _det_resize(pipeline: list[dict]) -> tuple[int, int] | None:
    """The detector's Resize scale when its pipeline is the one the device path reproduces
    (LoadImageFromNDArray, Resize keep_ratio to a (long, short) scale, PackDetInputs)."""
    types = [t["type"].split(".")[-1] for t in pipeline]
    if types != ["LoadImageFromNDArray", "Resize", "PackDetInputs"]:
        return None
    resize = pipeline[1]
    scale = resize.get("scale")
    if not resize.get("keep_ratio") or not isinstance(scale, (tuple, list)) or len(scale) != 2:
        return None
    if resize.get("interpolation", "bilinear") != "bilinear":
        return None
    return (int(scale[0]), int(scale[1]))


def _topdown_crop(pipeline: list[dict]) -> tuple[float, tuple[int, int]] | None:
    """(GetBBoxCenterScale padding, TopdownAffine input size (w, h)) when the pose pipeline is
    the one the device path reproduces (no UDP, no rotation)."""
    types = [t["type"].split(".")[-1] for t in pipeline]
    if types != ["LoadImage", "GetBBoxCenterScale", "TopdownAffine", "PackPoseInputs"]:
        return None
    affine = pipeline[2]
    if affine.get("use_udp"):
        return None
    w, h = affine["input_size"]
    return float(pipeline[1].get("padding", 1.25)), (int(w), int(h))


# On a CPU a batch of large detector inputs is slower than the same frames one at a time
# (docs/performance.md: 1.53 s a frame alone against 1.94 s in fours at 800x450, 3.68 against
# 4.25 s at 1333x749, the same boxes); small inputs still gain from batching.
CPU_BATCHED_DET_PIXELS = 200_000


def det_batch_size(pipeline: list[dict], batch_size: int, device: str) -> int:
    """Frames per detector forward: `batch_size`, or 1 on a CPU when its input is large."""
    if is_cuda(device):
        return batch_size
    for t in pipeline:
        scale = t.get("scale")
        if t.get("type") in ("Resize", "mmdet.Resize") and isinstance(scale, (tuple, list)):
            long_side, short_side = max(scale), min(scale)
            # keep_ratio: a 16:9 frame fills the long side; the short side is 9/16 of it
            pixels = min(short_side, long_side * 9 / 16) * long_side
            return 1 if pixels > CPU_BATCHED_DET_PIXELS else batch_size
    return batch_size


def set_det_proposals(cfg: Any, proposals: int) -> None:
    """The two-stage detector's test-time RPN output cut to `proposals` boxes a frame."""
    rpn = (cfg.get("model", {}).get("test_cfg") or {}).get("rpn")
    if not rpn or "max_per_img" not in rpn:
        raise InvalidOption("det_proposals", "{option}: the person detector's config has no region proposal "
                         "stage (model.test_cfg.rpn.max_per_img)")
    rpn["max_per_img"] = proposals


def with_det_size(pipeline: list[dict], det_size: int) -> list[dict]:
    """The detector's test pipeline with its Resize scaled so the short side is at most
    `det_size` (the config's aspect kept: (1333, 800) at 480 becomes (800, 480))."""
    if det_size < 32:
        raise InvalidOption("det_size", f"{det_size}: use at least 32 pixels")
    out = []
    for t in pipeline:
        t = dict(t)
        scale = t.get("scale")
        if t.get("type") in ("Resize", "mmdet.Resize") and isinstance(scale, (tuple, list)):
            long_side, short_side = max(t["scale"]), min(t["scale"])
            t["scale"] = (round(long_side * det_size / short_side), det_size)
        out.append(t)
    return out
