#!/usr/bin/env python
"""What `--det-every N` and `--pose-every N` do to the skeleton stream's input: boxes and
keypoints carried between frames against the ones found on every frame.

Why: random-weight models (all the benchmarks have offline) put boxes and keypoints anywhere, so
their scores say little about carrying. Here the synthetic marker finder
(`phar_cli.synthetic.marker_poses`) stands in for both models: its box follows the stick figure as a
trained detector follows a person, and its keypoints are the figure's joints on every frame. On
the frames PoseC3D samples (the seed's 10 clips of 54, or `--clips/--clip-len`), each setting runs
phar's own `window_poses` (tracking, box carrying, keypoint interpolation) and is compared with
the every-frame result: box IoU and centre shift, keypoint distance in pixels (joints found on
both), and how many detector frames and pose boxes a window costs.

    python scripts/bench_carry.py --settings 1x1,4x1,4x2,8x2 --size 854x480 --json carry.json
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from phar_cli.core.people import iou
from phar_cli.core.skeleton import window_poses
from phar_cli.core.windows import plan_windows
from phar_cli.media.decode import FrameReader, uniform_indices, window_frame_range
from phar_cli.media.probe import probe
from phar_cli.synthetic.video import Scene, make_video
from phar_cli.synthetic.marker_poses import MarkerPoseEstimator


class FoundPoses:
    """The marker finder's per-frame results, answered as the two-step det + pose backend does,
    counting its calls. Its keypoints do not depend on the box (a real crop would): this measures
    what carrying and interpolation cost, not how HRNet reacts to a shifted box."""

    batch_size = 16

    def __init__(self, found: list) -> None:
        self.found, self.detected, self.posed = found, 0, 0
        self.boxes_used: dict[int, np.ndarray] = {}

    def det_inputs(self, frames):
        return [int(i) for i in frames]

    def det_forward(self, inputs):
        self.detected += len(inputs)
        return [self.found[i].boxes for i in inputs]

    def pose_inputs(self, frames, items):
        return [(int(frames[t]), box) for t, box in items]

    def pose_forward(self, inputs):
        self.posed += len(inputs)
        for t, box in inputs:
            self.boxes_used[t] = box
        kp = np.stack([self.found[t].keypoints[0] for t, _ in inputs])
        return kp, np.stack([self.found[t].scores[0] for t, _ in inputs])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--settings", default="1x1,2x1,4x1,8x1,1x2,4x2,8x2,4x3",
                   help="comma-separated DETxPOSE: detect on every DET-th, pose every POSE-th")
    p.add_argument("--size", default="854x480")
    p.add_argument("--clips", type=int, default=10, help="PoseC3D test clips (seed: 10)")
    p.add_argument("--clip-len", type=int, default=54, help="PoseC3D clip length (seed: 54)")
    p.add_argument("--json", type=Path)
    args = p.parse_args(argv)
    width, height = (int(v) for v in args.size.split("x"))
    out = {"size": args.size, "clips": args.clips, "clip_len": args.clip_len, "rows": []}
    with tempfile.TemporaryDirectory() as tmp:
        video = make_video(Path(tmp) / "figure.mp4", size=(width, height), fps=30, segments=[
            Scene(7, "blue", "still", 440, figure=motion) for motion in ("sway", "jump", "squat",
                                                                         "wave")])
        info = probe(str(video))
        reader = FrameReader(str(video), info=info)
        finder = MarkerPoseEstimator()
        windows = []
        for span in plan_windows(info.duration):
            start, end = window_frame_range(span, info.fps, info.frame_count)
            unique = np.unique(uniform_indices(start, end, args.clip_len, args.clips)) - start
            windows.append((unique, finder(reader.frames(unique + start))))
    with ThreadPoolExecutor(1) as pool:
        for setting in args.settings.split(","):
            det_every, pose_every = (int(v) for v in setting.split("x"))
            ious, shifts, errors, detected, posed = [], [], [], 0, 0
            for unique, found in windows:
                est = FoundPoses(found)
                # frames are passed as their positions: FoundPoses looks its answers up by them
                kp, sc = window_poses(est, np.arange(len(found)), unique, pool, max_people=1,
                                      det_every=det_every, pose_every=pose_every)
                detected, posed = detected + est.detected, posed + est.posed
                for t, box in est.boxes_used.items():
                    if len(found[t].boxes):
                        truth = found[t].boxes[0]
                        ious.append(iou(box, truth))
                        shifts.append(float(np.hypot(*((box[:2] + box[2:4]) / 2
                                                        - (truth[:2] + truth[2:4]) / 2))))
                for t, f in enumerate(found):
                    if len(f.boxes) and kp.shape[0]:
                        both = (f.scores[0] > 0) & (sc[0, t] > 0)
                        errors += list(np.hypot(*(kp[0, t, both] - f.keypoints[0, both]).T))
            n = len(windows)
            row = {"det_every": det_every, "pose_every": pose_every,
                   "detector_frames_per_window": round(detected / n, 1),
                   "pose_boxes_per_window": round(posed / n, 1),
                   "box_mean_iou": round(float(np.mean(ious)), 4),
                   "box_min_iou": round(float(np.min(ious)), 4),
                   "box_mean_centre_shift_px": round(float(np.mean(shifts)), 2),
                   "box_max_centre_shift_px": round(float(np.max(shifts)), 2),
                   "keypoint_mean_error_px": round(float(np.mean(errors)), 2),
                   "keypoint_p99_error_px": round(float(np.percentile(errors, 99)), 2),
                   "keypoint_max_error_px": round(float(np.max(errors)), 2)}
            out["rows"].append(row)
            print(json.dumps(row), flush=True)
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
