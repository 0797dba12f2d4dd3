"""2D poses of the people in a set of frames: MMDet person detection, then MMPose top-down pose.

Both models see all requested frames (and all person boxes) as one batch each, not one image at a
time. The frames come from phar's single decode; nothing is written to disk.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from phar_cli.errors import ModelLoadError
from phar_cli.models.checkpoint import load_weights
from phar_cli.models.compat import import_openmmlab, quiet_warnings
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
                 det_score_thr: float = 0.5, batch_size: int = 16) -> None:
        import_openmmlab()
        from mmdet.apis import init_detector
        from mmengine.dataset import Compose
        from mmengine.registry import DefaultScope
        from mmpose.apis import init_model

        self.det_score_thr = det_score_thr
        self.batch_size = batch_size
        det_cfg = load_config(det_config)
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
        det_pipeline = [dict(t) for t in det_cfg.test_dataloader.dataset.pipeline]
        det_pipeline[0] = dict(type="mmdet.LoadImageFromNDArray")
        with DefaultScope.overwrite_default_scope("mmdet"):
            self.det_pipeline = Compose(det_pipeline)
        with DefaultScope.overwrite_default_scope("mmpose"):
            self.pose_pipeline = Compose(pose_cfg.test_dataloader.dataset.pipeline)
        self.pose_meta = dict(self.pose_model.dataset_meta or {})

    def __call__(self, frames: np.ndarray) -> list[FramePoses]:
        """Poses for each frame of `frames` (N,H,W,3) uint8 RGB."""
        boxes = self.detect(frames)
        return self.estimate(frames, boxes)

    def detect(self, frames: np.ndarray) -> list[np.ndarray]:
        import torch
        from mmengine.dataset import pseudo_collate
        from mmengine.registry import DefaultScope

        out: list[np.ndarray] = []
        with DefaultScope.overwrite_default_scope("mmdet"), torch.no_grad():
            for start in range(0, len(frames), self.batch_size):
                chunk = frames[start:start + self.batch_size]
                # mmdet's pipelines expect OpenCV's BGR order
                data = pseudo_collate([self.det_pipeline(dict(img=np.ascontiguousarray(f[..., ::-1]),
                                                              img_id=i))
                                       for i, f in enumerate(chunk)])
                for result in self.detector.test_step(data):
                    inst = result.pred_instances
                    keep = (inst.labels == PERSON_CLASS) & (inst.scores >= self.det_score_thr)
                    b = torch.cat([inst.bboxes[keep], inst.scores[keep, None]], dim=1)
                    out.append(b.float().cpu().numpy().reshape(-1, 5))
        return out

    def estimate(self, frames: np.ndarray, boxes: list[np.ndarray]) -> list[FramePoses]:
        import torch
        from mmengine.dataset import pseudo_collate
        from mmengine.registry import DefaultScope

        items = [(i, b) for i, frame_boxes in enumerate(boxes) for b in frame_boxes]
        keypoints = [np.zeros((len(b), NUM_KEYPOINTS, 2), np.float32) for b in boxes]
        scores = [np.zeros((len(b), NUM_KEYPOINTS), np.float32) for b in boxes]
        seen = [0] * len(boxes)
        with DefaultScope.overwrite_default_scope("mmpose"), torch.no_grad():
            for start in range(0, len(items), self.batch_size):
                chunk = items[start:start + self.batch_size]
                data = []
                for i, box in chunk:
                    info = dict(img=np.ascontiguousarray(frames[i][..., ::-1]),
                                bbox=box[None, :4].astype(np.float32),
                                bbox_score=box[None, 4].astype(np.float32))
                    info.update(self.pose_meta)
                    data.append(self.pose_pipeline(info))
                for (i, _), result in zip(chunk, self.pose_model.test_step(pseudo_collate(data))):
                    j = seen[i]
                    keypoints[i][j] = result.pred_instances.keypoints[0]
                    scores[i][j] = result.pred_instances.keypoint_scores[0]
                    seen[i] += 1
        return [FramePoses(b, k, s) for b, k, s in zip(boxes, keypoints, scores)]
