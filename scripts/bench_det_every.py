#!/usr/bin/env python
"""What `--det-every N` does to the person boxes the pose model crops: carried boxes against
the boxes found on every frame.

Why: random-weight models (all the benchmarks have offline) put boxes anywhere, so their scores
say little about carrying boxes between detections. Here the detector is the synthetic marker
finder (`phar_cli.models.markers`): its box follows the stick figure as a trained detector follows
a person. On the frames PoseC3D samples (the seed's 10 clips of 54, or the small config's), the
box of every frame is compared with the box `--det-every N` gives it (detected, interpolated or
held): mean and worst IoU, mean centre shift in pixels.

    python scripts/bench_det_every.py --every 2,4,8 --size 854x480
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

from phar_cli.core.people import carry_boxes, detection_positions, iou, track_boxes
from phar_cli.media.decode import FrameReader, uniform_indices, window_frame_range
from phar_cli.media.probe import probe
from phar_cli.core.windows import plan_windows
from phar_cli.media.synthetic import Scene, make_video
from phar_cli.models.markers import MarkerPoseEstimator


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--every", default="2,4,8")
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
            boxes = [fp.boxes for fp in finder(reader.frames(unique + start))]
            windows.append((unique, boxes))
    for every in [int(x) for x in args.every.split(",")]:
        ious, shifts, frames = [], [], 0
        for unique, boxes in windows:
            detected = detection_positions(len(boxes), every)
            seen = [boxes[t] for t in detected]
            tracks = track_boxes(seen, max_people=1)
            for carried in carry_boxes(tracks, seen, detected, unique):
                for t, box in carried.items():
                    if len(boxes[t]):
                        truth = boxes[t][0]
                        ious.append(iou(box, truth))
                        shifts.append(float(np.hypot(*((box[:2] + box[2:4]) / 2
                                                        - (truth[:2] + truth[2:4]) / 2))))
            frames += len(detected)
        row = {"det_every": every, "detected_frames_per_window": round(frames / len(windows), 1),
               "mean_iou": round(float(np.mean(ious)), 4), "min_iou": round(float(np.min(ious)), 4),
               "mean_centre_shift_px": round(float(np.mean(shifts)), 2),
               "max_centre_shift_px": round(float(np.max(shifts)), 2)}
        out["rows"].append(row)
        print(json.dumps(row))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
