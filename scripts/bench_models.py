#!/usr/bin/env python
"""Per-call cost of each model of phar at each precision, and what bf16/fp16 does to its output.

Why: the pipeline benchmark says where a whole run's time goes; this one says what one forward
of each model costs on this machine (a window of TimeSformer, PoseC3D, the audio ResNet; a frame
of the detector at its config's input size and at --det-size; a box of HRNet) in fp32 and with
autocast, and how far the autocast output is from fp32 (the largest probability difference for
the recognizers, box and keypoint shifts in pixels for det and pose), on one generated video.

    python scripts/bench_models.py --configs seed --precisions fp32,bf16 --det-sizes 480
    python scripts/bench_models.py --configs seed --pose-backends rtmo-s,rtmo-m \
        --rgb-views 1 --skeleton-clips 1          # the fast profile's candidates beside them

RTMO's figure is a frame (its people and keypoints together); compare it with the detector's
frame plus two of HRNet's boxes (`front_end` rows: the two-person scene the benchmark caps at).
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_pipeline as pipeline  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--configs", choices=("small", "seed"), default="small")
    p.add_argument("--device", default="cpu")
    p.add_argument("--precisions", default="fp32,bf16")
    p.add_argument("--det-sizes", default="", help="comma-separated short sides to try")
    p.add_argument("--frames", type=int, default=4, help="detector frames per measure")
    p.add_argument("--size", default="854x480")
    p.add_argument("--pose-backends", default="",
                   help="comma-separated RTMO front ends to measure per frame (rtmo-s,rtmo-m,...)")
    p.add_argument("--rtmo-sizes", default="", help="RTMO input sizes besides the config's 640")
    p.add_argument("--rgb-views", default="", help="TimeSformer views besides the config's")
    p.add_argument("--skeleton-clips", default="", help="PoseC3D clips besides the config's")
    p.add_argument("--threads", type=int, default=None,
                   help="torch threads (1: steady figures on a machine another job shares)")
    p.add_argument("--repeat", type=int, default=REPEAT, help="best of N timings (default 2)")
    p.add_argument("--json", type=Path)
    args = p.parse_args(argv)
    globals()["REPEAT"] = max(1, args.repeat)
    precisions = [x for x in args.precisions.split(",") if x]
    det_sizes = [None] + [int(x) for x in args.det_sizes.split(",") if x]
    backends = [x for x in args.pose_backends.split(",") if x]
    variants = [("rgb", "views", int(v)) for v in args.rgb_views.split(",") if v]
    variants += [("skeleton", "clips", int(c)) for c in args.skeleton_clips.split(",") if c]
    rtmo_sizes = [None] + [int(x) for x in args.rtmo_sizes.split(",") if x]
    out: dict = {"configs": args.configs, "device": args.device, "threads": args.threads,
                 "load_average_start": pipeline.stages.load_average(), "rows": []}
    with tempfile.TemporaryDirectory(prefix="phar-bench-models-") as tmp:
        tmp = Path(tmp)
        video = pipeline.make_video(tmp / "v.mp4", pipeline.parse_args(
            ["--seconds", "7", "--size", args.size]))
        files = pipeline.random_bundle(tmp / "models", args.configs, 2, backends)
        inputs = None
        reference: dict = {}
        for precision in precisions:
            for det_size in det_sizes:
                engine = pipeline.build_engine(files, pipeline.parse_args(
                    ["--device", args.device, "--precision", precision]
                    + (["--threads", str(args.threads)] if args.threads else [])
                    + (["--det-size", str(det_size)] if det_size else [])))
                inputs = inputs or window_inputs(engine, str(video), args.frames)
                rows = measure(engine, inputs, skip_recognizers=det_size is not None)
                if det_size is None:
                    rows += measure_variants(engine, files, inputs, variants, precision)
                    rows += front_ends(rows)
                    for backend in backends:
                        rows += [measure_rtmo(files, backend, size, args.device, precision,
                                              inputs["frames"]) for size in rtmo_sizes]
                for row in rows:
                    row.update(precision=precision, det_size=det_size)
                    key = (row["model"], row.get("variant"), det_size)
                    output = row.pop("output", None)
                    if precision == precisions[0]:
                        reference[key] = output
                    elif output is not None:
                        row["diff_vs_" + precisions[0]] = difference(reference[key], output)
                    out["rows"].append(row)
                    print(json.dumps(row), flush=True)
    out["load_average_end"] = pipeline.stages.load_average()
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")
    return 0


def window_inputs(engine, video: str, frames: int) -> dict:
    from phar_cli.media.decode import FrameReader
    from phar_cli.media.audio import load_waveform, log_mel
    from phar_cli.models.recognizer import audio_params

    rgb = engine.model("rgb")
    reader = FrameReader(video, short_side=rgb.short_side)
    sample = rgb.sample(210)
    imgs = reader.frames(sample["frame_inds"])
    sample.update(imgs=list(imgs), img_shape=imgs.shape[1:3], original_shape=imgs.shape[1:3],
                  modality="RGB")
    full = FrameReader(video).frames(np.arange(0, 210, 210 // frames)[:frames])
    h, w = full.shape[1:3]
    skel = engine.model("skeleton").sample(210)
    rng = np.random.default_rng(0)
    skel.update(keypoint=(rng.random((2, 210, 17, 2)) * [w, h]).astype(np.float32),
                keypoint_score=rng.random((2, 210, 17)).astype(np.float32), img_shape=(h, w),
                original_shape=(h, w), total_frames=210, modality="Pose", label=-1)
    audio = engine.model("audio")
    params = audio_params(audio)
    feats = log_mel(load_waveform(video, params["sample_rate"]), **params)
    aud = audio.sample(210)
    aud.update(audios=feats, length=len(feats), total_frames=210)
    boxes = [np.array([[w * 0.2, h * 0.1, w * 0.45, h * 0.95, 0.9],
                       [w * 0.55, h * 0.1, w * 0.8, h * 0.95, 0.9]], np.float32)] * len(full)
    return {"rgb": sample, "skeleton": skel, "audio": aud, "frames": full, "boxes": boxes}


def measure(engine, inputs: dict, *, skip_recognizers: bool) -> list[dict]:
    rows = []
    if not skip_recognizers:
        for stream in ("rgb", "skeleton", "audio"):
            rec = engine.model(stream)
            item = rec.prepare(inputs[stream])
            rec.forward([item])  # first call: kernel choices
            seconds, probs = timed(lambda: rec.forward([item]))
            rows.append({"model": stream, "per": "window", "seconds": seconds, "output": probs[0]})
    est = engine.model("poses")
    frames = inputs["frames"]
    det_in = est.det_inputs(frames)
    est.det_forward(det_in[:1])
    seconds, _ = timed(lambda: est.det_forward(det_in))
    # the same boxes as the det_size=None run need a common input for the difference: the
    # detector's own boxes are compared as their coordinates (random weights: many boxes)
    boxes = est.det_forward(det_in)
    rows.append({"model": "det", "per": "frame", "seconds": seconds / len(frames),
                 "input": list(det_in[0]["inputs"].shape), "output": boxes[0][:2, :4]})
    if not skip_recognizers:
        boxes = [(i, b) for i, frame_boxes in enumerate(inputs["boxes"]) for b in frame_boxes]
        items = est.pose_inputs(frames, boxes)
        est.pose_forward(items[:1])
        seconds, (kp, _) = timed(lambda: est.pose_forward(items))
        rows.append({"model": "pose", "per": "box", "seconds": seconds / len(items),
                     "output": kp})
    return rows


def measure_variants(engine, files, inputs: dict, variants, precision: str) -> list[dict]:
    """A window of TimeSformer at other views, of PoseC3D at other clip counts (same weights)."""
    from phar_cli.models.recognizer import Recognizer

    rows = []
    for stream, option, value in variants:
        f = files[stream]
        rec = Recognizer(stream, f.config, f.checkpoint, engine.labels[stream], engine.device,
                         precision=precision, **{option: value})
        sample = dict(inputs[stream])
        sample.update({k: v for k, v in rec.sample(210).items()})  # this sampler's indices
        item = rec.prepare(sample)
        rec.forward([item])
        seconds, probs = timed(lambda: rec.forward([item]))
        prep, _ = timed(lambda: rec.prepare(sample))
        rows.append({"model": stream, "variant": f"{option}={value}", "per": "window",
                     "seconds": seconds, "prep_seconds": prep,
                     "views": int(item["inputs"].shape[0]), "output": probs[0]})
        del rec
    return rows


def front_ends(rows: list[dict]) -> list[dict]:
    """The two-stage front end per frame of a two-person scene: a detector frame + two boxes."""
    det = next((r for r in rows if r["model"] == "det"), None)
    pose = next((r for r in rows if r["model"] == "pose"), None)
    if det is None or pose is None:
        return []
    return [{"model": "front_end", "variant": "faster-rcnn+hrnet", "per": "frame (2 people)",
             "seconds": round(det["seconds"] + 2 * pose["seconds"], 4)}]


def measure_rtmo(files, backend: str, size, device: str, precision: str, frames) -> dict:
    """A frame of RTMO (at its config's 640, or `size`), its people and keypoints together."""
    from phar_cli.models.pose_backends import load_pose_estimator

    est = load_pose_estimator(backend, files, device, det_size=size, precision=precision)
    inputs = est.frame_inputs(frames)
    est.frame_forward(inputs)  # first call: kernel choices for this batch
    seconds, poses = timed(lambda: est.frame_forward(inputs))
    prep, _ = timed(lambda: est.frame_inputs(frames))
    return {"model": "front_end", "variant": f"{backend}@{size or 640}", "per": "frame",
            "seconds": round(seconds / len(frames), 4),
            "prep_seconds": round(prep / len(frames), 4),
            "output": poses[0].keypoints[:1]}


REPEAT = 2  # best of: the machine is shared, the slower run is the one another job slowed


def timed(fn):
    best, result = float("inf"), None
    for _ in range(REPEAT):
        started = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - started)
    return round(best, 4), result


def difference(a, b) -> float:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape:
        return float("nan")
    return round(float(np.max(np.abs(a - b))) if a.size else 0.0, 5)


if __name__ == "__main__":
    sys.exit(main())
