#!/usr/bin/env python
"""How close is phar to what the machine allows, and how far from the seed's way? One run
measures, side by side, on one generated video with the same random-weight models:

  decode   the frames and audio features the streams need, and nothing else
  model    the same forward passes as the whole run, on inputs made beforehand
  whole    Engine.analyse (what `phar timestamps` runs)
  seed     the seed's way: re-encoded subclips on disk, JPEG frames, det + pose on every frame,
           always at the seed's settings (full-size detector, fp32) whatever the options

and prints per-stage seconds, whole / (decode + model), seed / whole, x real time and peak RSS,
and writes them as JSON (--json) so runs can be compared. Random weights are fine for speed; the
gates are opened (the RGB head is biased towards 'doggy', pose and loudness thresholds are off)
so all three streams really run, and the streams that ran are reported.

    python scripts/bench_pipeline.py --seconds 30                 # quick, small configs
    python scripts/bench_pipeline.py --configs seed --seconds 7 --seed-style-windows 1
    python scripts/bench_pipeline.py --stages whole --seconds 1800 --size 320x180 --fps 15
    python scripts/bench_pipeline.py --configs seed --seconds 7 --pose-backend rtmo-s \
        --skeleton-clips 1 --rgb-views 1 --pose-every 2 --precision bf16   # the fast settings

Random-weight detectors find "people" everywhere (a biased 'person' logit scores ~1 on every
proposal), so the detector's output is capped at --people boxes a frame, as in a two-person
scene; without the cap the seed-style path would pose 100 boxes a frame. RTMO is steered the same
way (a constant person score, fixed box sizes, at most --people candidates a frame).

Each stage also reports its process CPU time over its wall time (`cpu_share`: 1.0 is one core
busy throughout; what a GPU run leaves on the CPU) and, on CUDA, its peak GPU memory.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_stages as stages  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = {
    "small": {"rgb": "rgb/timesformer_small.py", "skeleton": "skeleton/posec3d_small.py",
              "audio": "audio/resnet_audio_small.py", "det": "det/faster_rcnn_small.py",
              "pose": "pose/hrnet_small.py"},
    "seed": {"rgb": "rgb/timesformer.py", "skeleton": "skeleton/posec3d.py",
             "audio": "audio/resnet101_audio.py", "det": "det/faster_rcnn_r50_fpn_2x_coco.py",
             "pose": "pose/hrnet_w32_coco_256x192.py"},
}
RTMO = {name: f"pose/{name}.py" for name in ("rtmo-s", "rtmo-m", "rtmo-l")}  # the same in both
LABELS = {"rgb": "annotations.txt", "skeleton": "annotations_pose.txt",
          "audio": "annotations_audio.txt"}
STAGES = ("decode", "model", "whole", "ungated", "seed")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="phar-bench-") as tmp:
        tmp = Path(tmp)
        video = args.video or (
            half_ordinary_video(args.half_ordinary, tmp / "half.mp4", args.seconds / 2)
            if args.half_ordinary else make_video(tmp / "bench.mp4", args))
        rtmo = args.pose_backend or ("rtmo-s" if args.profile == "fast" else "mmpose")
        files = random_bundle(tmp / "models", args.configs, args.people, (rtmo,))
        engine = build_engine(files, args)
        report = run(engine, str(video), tmp, args, files)
    print_report(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
        print(f"figures written to {args.json}")
    return 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seconds", type=float, default=180.0, help="video length (default 180)")
    p.add_argument("--size", default="854x480", help="WIDTHxHEIGHT (default 854x480)")
    p.add_argument("--fps", type=float, default=30.0)
    p.add_argument("--no-audio", action="store_true", help="a video without an audio track")
    p.add_argument("--video", type=Path, help="use this video instead of generating one")
    p.add_argument("--half-ordinary", type=Path, metavar="FOOTAGE",
                   help="the video: --seconds/2 of this ordinary footage, then as long a flat "
                        "colour the content model is unsure of (the content gate's case)")
    p.add_argument("--content", choices=("auto", "on", "off"), default="auto",
                   help="the content stream (auto: as phar decides; the random bundle's "
                        "prototype label maps have no background class, so on where installed)")
    p.add_argument("--configs", choices=tuple(CONFIGS), default="small")
    p.add_argument("--stages", default=",".join(STAGES),
                   help="comma-separated: " + ",".join(STAGES))
    p.add_argument("--seed-style-windows", type=int, default=None,
                   help="seed-style path on the first N windows only, extrapolated to all "
                        "(default: all windows with small configs, 1 with seed configs)")
    p.add_argument("--no-warm-up", action="store_true",
                   help="skip running the first window once before the stages")
    p.add_argument("--people", type=int, default=2, help="detections kept per frame (default 2)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--batch-size", type=int, default=None,
                   help="windows per recognizer forward (default: the device's)")
    p.add_argument("--frame-batch", type=int, default=None,
                   help="frames per detector/pose forward (default: the device's)")
    p.add_argument("--decode-workers", type=int, default=None,
                   help="decoders at once in the runs (default: half the cores, at most 8)")
    p.add_argument("--decode-scaling", default=None,
                   help="comma-separated worker counts the decode stage also measures frames/s "
                        "for (default: 1, 2, 4, ... up to the cores)")
    p.add_argument("--prefetch", type=int, default=2)
    p.add_argument("--threads", type=int, default=None, help="torch intra-op threads")
    p.add_argument("--det-size", type=int, default=None)
    p.add_argument("--det-proposals", type=int, default=None)
    p.add_argument("--det-every", type=int, default=1)
    p.add_argument("--pose-every", type=int, default=None)
    p.add_argument("--precision", default=None, choices=("fp32", "bf16", "fp16"))
    p.add_argument("--profile", default="reference", choices=("reference", "fast"),
                   help="fills the options not given (phar_cli/core/profiles.py)")
    p.add_argument("--pose-backend", default=None,
                   choices=("mmpose", "rtmo-s", "rtmo-m", "rtmo-l", "markers"),
                   help="the skeleton front end (default: mmpose, Faster R-CNN + HRNet; "
                        "the fast profile's rtmo-s)")
    p.add_argument("--skeleton-clips", type=int, default=None,
                   help="PoseC3D test clips (default: the config's, the seed's 10)")
    p.add_argument("--rgb-views", type=int, default=None, choices=(1, 3),
                   help="TimeSformer views (default: the config's, the seed's 3 crops)")
    p.add_argument("--preprocess", default="auto", choices=("auto", "openmmlab", "device"),
                   help="where resizing, crops and heatmaps run (auto: on CUDA only)")
    p.add_argument("--reference", type=Path,
                   help="a predictions JSON of the same video (--predictions of another run): "
                        "report how far this run's scores are from it")
    p.add_argument("--predictions", type=Path, help="write the whole run's predictions here")
    p.add_argument("--json", type=Path, help="write the figures here")
    args = p.parse_args(argv)
    args.stages = [s.strip() for s in args.stages.split(",") if s.strip()]
    if unknown := [s for s in args.stages if s not in STAGES]:
        p.error(f"unknown stage(s) {unknown}")
    if args.seed_style_windows is None and args.configs == "seed" and args.device == "cpu":
        args.seed_style_windows = 1
    return args


def make_video(path: Path, args: argparse.Namespace) -> Path:
    """Abstract scenes (colours, a moving disc, a stick figure, loud tones), 7 s each."""
    from phar_cli.synthetic.video import Scene, make_video as write

    width, height = (int(v) for v in args.size.lower().split("x"))
    looks = [("blue", "left-right", 440), ("red", "circle", 660), ("green", "up-down", 880),
             ("purple", "still", 550)]
    scenes, left, k = [], args.seconds, 0
    while left > 1e-6:
        color, motion, tone = looks[k % len(looks)]
        scenes.append(Scene(min(7.0, left), color, motion, tone, -14.0, figure="wave"
                            if k % 2 else None, noise_db=-40.0))
        left -= scenes[-1].duration
        k += 1
    started = time.perf_counter()
    write(path, segments=scenes, fps=args.fps, size=(width, height), audio=not args.no_audio)
    print(f"video: {args.seconds:g} s {width}x{height} {args.fps:g} fps, written in "
          f"{time.perf_counter() - started:.1f} s")
    return path


# A flat colour open_nsfw scores about 0.5, inside its uncertain band (0.2 to 0.8): the gate
# never skips it, and it is never content-free. An abstract field: no imagery.
UNCERTAIN_COLOUR = "0xA58782"  # RGB (165, 135, 130)


def half_ordinary_video(footage: Path, path: Path, seconds: float, fps: float = 25.0) -> Path:
    """`seconds` of ordinary real footage, then as long a flat field of UNCERTAIN_COLOUR, at
    the footage's size, without sound: a video the content gate can skip half of."""
    from phar_cli.media.ffmpeg import ffmpeg_cmd
    from phar_cli.media.probe import probe

    info = probe(footage)
    size = f"{info.width}x{info.height}"
    graph = (f"[0:v]trim=duration={seconds},fps={fps},setpts=PTS-STARTPTS,format=yuv420p[a];"
             f"color=c={UNCERTAIN_COLOUR}:s={size}:r={fps}:d={seconds},format=yuv420p[b];"
             "[a][b]concat=n=2:v=1:a=0[v]")
    subprocess.run(ffmpeg_cmd(["-y", "-loglevel", "error", "-i", str(footage),
                               "-filter_complex", graph, "-map", "[v]", "-c:v", "libx264",
                               "-preset", "veryfast", "-crf", "18", str(path)]), check=True)
    return path


def random_bundle(folder: Path, configs: str, people: int, pose_backends=("mmpose",)) -> dict:
    """Random-weight checkpoints of the chosen configs, saved as MMAction2/MMDet/MMPose files,
    biased as tests/conftest.py does so the gates open (and of each RTMO in `pose_backends`)."""
    import torch

    from phar_cli.models.bundle import ModelFiles
    from phar_cli.core.labels import read_label_map
    from phar_cli.models.poses import PoseEstimator
    from phar_cli.models.recognizer import Recognizer

    folder.mkdir(parents=True)
    started = time.perf_counter()
    torch.manual_seed(0)
    cfg = {name: ROOT / "configs" / rel for name, rel in CONFIGS[configs].items()}
    det_cfg = folder / "det_capped.py"  # the same detector, at most `people` boxes a frame
    det_cfg.write_text(f"_base_ = [{str(cfg['det'])!r}]\n"
                       f"model = dict(test_cfg=dict(rcnn=dict(max_per_img={people})))\n")
    cfg["det"] = det_cfg
    labels = {s: ROOT / "configs/labels" / f for s, f in LABELS.items()}

    def save(model, name: str) -> Path:
        path = folder / f"{name}.pth"
        torch.save({"meta": {"note": "random weights (benchmark)"},
                    "state_dict": model.state_dict()}, path)
        return path

    names = {s: read_label_map(p) for s, p in labels.items()}
    rgb = Recognizer("rgb", cfg["rgb"], None, names["rgb"], "cpu")
    with torch.no_grad():
        bias = rgb.model.cls_head.fc_cls.bias
        bias.zero_()
        bias[names["rgb"].index("doggy")] = 30.0   # a skeleton label top, an audio label top 2
        bias[names["rgb"].index("kissing")] = 20.0
    files = {"rgb": ModelFiles(cfg["rgb"], save(rgb.model, "rgb"), labels["rgb"])}
    del rgb
    for s in ("skeleton", "audio"):
        model = Recognizer(s, cfg[s], None, names[s], "cpu").model
        files[s] = ModelFiles(cfg[s], save(model, s), labels[s])
        del model
    poses = PoseEstimator(cfg["det"], None, cfg["pose"], None, "cpu")
    with torch.no_grad():
        poses.detector.roi_head.bbox_head.fc_cls.bias[0] = 12.0  # 'person'
    files["det"] = ModelFiles(cfg["det"], save(poses.detector, "det"))
    files["pose"] = ModelFiles(cfg["pose"], save(poses.pose_model, "pose"))
    del poses
    for name in pose_backends:
        if name in RTMO:
            files[name] = random_rtmo(folder, name, people, save)
    print(f"models: {configs} configs, random weights, saved in "
          f"{time.perf_counter() - started:.1f} s")
    return files


def random_rtmo(folder: Path, name: str, people: int, save) -> Any:
    """RTMO with random weights steered as test_rtmo.py does: a constant person score on every
    location, boxes of 6 x 10 strides, at most `people` candidates a frame (its nms_pre)."""
    import torch

    from phar_cli.models.bundle import ModelFiles
    from phar_cli.models.rtmo import RTMOEstimator

    config = folder / f"{name}_capped.py"
    config.write_text(f"_base_ = [{str(ROOT / 'configs' / RTMO[name])!r}]\n"
                      f"model = dict(test_cfg=dict(nms_pre={people}))\n")
    rtmo = RTMOEstimator(config, None, "cpu")
    head = rtmo.model.head.head_module
    with torch.no_grad():
        for conv in head.out_cls:
            conv.weight.zero_()
            conv.bias.fill_(3.0)
        for conv in head.out_bbox:
            conv.weight.zero_()
            conv.bias.copy_(torch.tensor([0.0, 0.0, math.log(6), math.log(10)]))
    return ModelFiles(config, save(rtmo.model, name))


def build_engine(files: dict, args: argparse.Namespace):
    import phar_cli as phar

    engine = phar.load_engine(
        None, device=args.device, configs={n: f.config for n, f in files.items()},
        checkpoints={n: f.checkpoint for n, f in files.items()},
        label_maps={n: f.labels for n, f in files.items() if f.labels},
        pose_score_thr=0.0, correct_rate=0.0, loudness=-1000.0,  # every stream on every window
        batch_size=args.batch_size, frame_batch=args.frame_batch,
        decode_workers=args.decode_workers, prefetch=args.prefetch, threads=args.threads,
        det_size=args.det_size, det_proposals=args.det_proposals, det_every=args.det_every,
        pose_every=args.pose_every, precision=args.precision, pose_backend=args.pose_backend,
        skeleton_clips=args.skeleton_clips, rgb_views=args.rgb_views, preprocess=args.preprocess,
        profile=args.profile, refine=False,  # the grid: the same windows as the seed-style path
        content={"auto": None, "on": True, "off": False}[args.content])
    started = time.perf_counter()
    engine.load()
    o = engine.options
    print(f"models loaded in {time.perf_counter() - started:.1f} s on {engine.device} "
          f"({args.profile} profile: {o.pose_backend} poses; content stream "
          f"{'on' if o.content else 'off'}{', gate on' if o.content and o.content_gate else ''})")
    return engine


REFERENCE = {"pose_backend": "mmpose", "skeleton_clips": None, "rgb_views": None,
             "det_size": None, "det_proposals": None, "det_every": 1, "pose_every": None,
             "precision": None, "profile": "reference"}  # what the seed-style stage runs


def reference_engine(engine, files: dict, args: argparse.Namespace):
    """`engine`, or one like it at the seed's settings (Faster R-CNN + HRNet, the configs' clips
    and views, full-size detector, fp32): the seed-style path runs those whatever the options of
    the run it is compared with."""
    if all(getattr(args, k) == v for k, v in REFERENCE.items()):
        return engine
    return build_engine(files, argparse.Namespace(**{**vars(args), **REFERENCE}))


def run(engine, video: str, tmp: Path, args: argparse.Namespace, files: dict) -> dict:
    from phar_cli.media.probe import probe

    import torch

    info = probe(video)
    report: dict = {
        "machine": {"cpu": stages.cpu_model(), "cores": __import__("os").cpu_count(),
                    "cpu_flags": stages.cpu_flags(), "torch": torch.__version__,
                    "torch_threads": torch.get_num_threads(), "device": engine.device,
                    "gpu": torch.cuda.get_device_name(0) if engine.device.startswith("cuda")
                    else None, "python": platform.python_version(),
                    "ffmpeg": stages.ffmpeg_version(), "load_average_start": stages.load_average()},
        "video": {"seconds": info.duration, "width": info.width, "height": info.height,
                  "fps": float(info.fps), "audio": info.has_audio},
        "options": {"configs": args.configs, "people": args.people,
                    "batch_size": engine.batch_size, "decode_workers": engine.decode_workers,
                    "prefetch": args.prefetch, "threads": args.threads,
                    "det_size": engine.options.det_size, "det_proposals": args.det_proposals,
                    "det_every": args.det_every, "pose_every": engine.options.pose_every,
                    "precision": engine.options.precision, "profile": args.profile,
                    "pose_backend": engine.options.pose_backend,
                    "skeleton_clips": engine.options.skeleton_clips,
                    "rgb_views": engine.options.rgb_views, "preprocess": args.preprocess,
                    "content": engine.options.content,
                    "content_gate": engine.options.content and engine.options.content_gate},
        "seconds": {}, "peak_rss_mib": {}, "counts": {}, "cpu_seconds": {}, "cpu_share": {},
    }
    cuda = engine.device.startswith("cuda")
    if cuda:
        report["gpu_peak_mib"] = {}
    sec = report["seconds"]
    if not args.no_warm_up:
        report["warm_up_seconds"] = round(stages.warm_up(engine, video), 2)
    for stage in args.stages:
        print(f"-- {stage} ...", flush=True)
        if cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        cpu_before, wall_before = cpu_seconds(), time.perf_counter()
        with stages.PeakRSS() as peak:
            if stage == "decode":
                parts = stages.decode_only(engine, video)
                sec.update(parts)
                sec["decode"] = sum(parts.values())
            elif stage == "model":
                parts = stages.model_only(engine, video)
                counts = {k.removeprefix("count."): int(parts.pop(k))
                          for k in [k for k in parts if k.startswith("count.")]}
                report["counts"].update(counts)
                sec.update(parts)
                sec["model"] = sum(v for k, v in parts.items() if k.startswith("model."))
                report["models"] = model_rates(engine, parts, counts)
            elif stage == "whole":
                with stages.GpuBusy(engine) as busy:
                    parts, analysis = stages.whole(engine, video)
                sec.update(parts)
                if busy.seconds is not None:
                    report["gpu_busy_share_whole"] = round(busy.seconds / parts["whole"], 3)
                report["streams_ran"] = {
                    s: sum(s in w.used for w in analysis.windows) for s in engine.options.streams}
                report["counts"]["windows"] = len(analysis.windows)
                report["counts"]["skipped_by_content_gate"] = sum(
                    w.measures.get("skipped") == "content" for w in analysis.windows)
                if analysis.content is not None and parts.get("stream.content"):
                    frames = len(analysis.content.scores)
                    report["counts"]["content_frames"] = frames
                    report["content_frames_per_s"] = round(frames / parts["stream.content"], 2)
                if args.predictions:
                    args.predictions.write_bytes(analysis.to_json())
                if args.reference:
                    report["vs_reference"] = score_difference(args.reference, analysis)
            elif stage == "ungated":  # the whole run again, every window to the action models
                if not engine.options.content:
                    print("   (no content stream: nothing to gate)")
                    continue
                with stages.without_content_gate(engine):
                    parts, _ = stages.whole(engine, video)
                sec["ungated"] = parts["whole"]
            else:
                seed = stages.seed_style(reference_engine(engine, files, args), video,
                                         tmp / "seed", args.seed_style_windows)
                sec.update(seed["seconds"])
                report["seed_style"] = {k: v for k, v in seed.items() if k != "seconds"}
        if cuda:
            torch.cuda.synchronize()
            report["gpu_peak_mib"][stage] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
        if stage == "decode":  # apart from the stage's time: frames/s by number of workers
            report["decode_frames_per_s"] = stages.decode_scaling(
                engine, video, worker_counts(args.decode_scaling))
        used, wall = cpu_seconds() - cpu_before, time.perf_counter() - wall_before
        report["cpu_seconds"][stage] = round(used, 2)
        report["cpu_share"][stage] = round(used / max(wall, 1e-9), 3)
        report["peak_rss_mib"][stage] = round(peak.mib, 1)
        print(f"   {stage}: {sec.get(stage, 0.0):.2f} s, peak RSS {peak.mib:.0f} MiB", flush=True)
    report["machine"]["load_average_end"] = stages.load_average()
    report["ratios"] = ratios(sec, info.duration)
    return report


def worker_counts(given: str | None) -> list[int]:
    """The decode worker counts to compare: the given ones, else 1, 2, 4, ... up to the cores."""
    if given:
        return [int(v) for v in given.split(",") if v.strip()]
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    counts, n = [], 1
    while n < (cores or 1):
        counts.append(n)
        n *= 2
    return counts + [cores or 1]


MODEL_COUNTS = {"rgb": ("rgb", "windows"), "skeleton": ("skeleton", "windows"),
                "audio": ("audio", "windows"), "poses": ("pose_frames", "frames"),
                "det": ("det_frames", "frames"), "pose": ("pose_boxes", "people")}


def model_rates(engine, seconds: dict, counts: dict) -> dict:
    """Each model's items/s in the model stage and the batch it was given."""
    out = {}
    for name, (count, unit) in MODEL_COUNTS.items():
        took = seconds.get(f"model.{name}")
        if not took or not counts.get(count):
            continue
        batch = (engine.batch_size if name in ("rgb", "skeleton", "audio")
                 else getattr(engine.model("poses"), "batch_size", None))
        out[name] = {unit: counts[count], "seconds": round(took, 3),
                     f"{unit}_per_s": round(counts[count] / took, 2), "batch_size": batch}
    return out


def cpu_seconds() -> float:
    """User + system CPU seconds of this process so far (all its threads)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def ratios(sec: dict, duration: float) -> dict:
    out = {}
    if {"whole", "decode", "model"} <= sec.keys():
        out["whole_over_decode_plus_model"] = sec["whole"] / (sec["decode"] + sec["model"])
    if {"whole", "seed"} <= sec.keys():
        out["seed_over_whole"] = sec["seed"] / sec["whole"]
    if {"whole", "ungated"} <= sec.keys():
        out["ungated_over_whole"] = sec["ungated"] / sec["whole"]
    if sec.get("stream.content") and sec.get("whole"):
        out["content_share_of_whole"] = sec["stream.content"] / sec["whole"]
    for name in ("whole", "ungated", "seed", "model"):
        if sec.get(name):
            out[f"x_real_time_{name}"] = duration / sec[name]
    for stream in ("content", "rgb", "skeleton", "audio"):
        if sec.get(f"stream.{stream}"):
            out[f"x_real_time_{stream}_stream"] = duration / sec[f"stream.{stream}"]
    return {k: round(v, 3) for k, v in out.items()}


def score_difference(reference: Path, analysis) -> dict:
    """How far the fused and per-stream scores are from a reference run's (same video)."""
    ref = json.loads(reference.read_text())["windows"]
    got = json.loads(analysis.to_json())["windows"]
    if len(ref) != len(got):
        return {"error": f"{len(ref)} reference windows, {len(got)} here"}
    diffs: dict[str, float] = {}
    top1 = 0
    for a, b in zip(ref, got):
        top1 += a["scores"][0]["label"] == b["scores"][0]["label"]
        pairs = [("fused", a["scores"], b["scores"])]
        pairs += [(s, a["streams"][s], b["streams"][s]) for s in a["streams"] if s in b["streams"]]
        for name, x, y in pairs:
            ya = {d["label"]: d["score"] for d in y}
            d = max(abs(d["score"] - ya.get(d["label"], 0.0)) for d in x)
            diffs[name] = max(diffs.get(name, 0.0), d)
    return {"max_abs_diff": {k: float(f"{v:.3g}") for k, v in diffs.items()},
            "top1_agree": f"{top1}/{len(ref)}"}


def print_report(r: dict) -> None:
    m, v, sec = r["machine"], r["video"], r["seconds"]
    print(f"\nmachine: {m['cpu']}, {m['cores']} cores, torch {m['torch']} "
          f"({m['torch_threads']} threads), device {m['device']}"
          + (f" ({m['gpu']})" if m["gpu"] else "")
          + f"; load average {m['load_average_start']:.2f} -> {m['load_average_end']:.2f}")
    print(f"video: {v['seconds']:g} s {v['width']}x{v['height']} {v['fps']:g} fps; "
          f"options {r['options']}")
    if "streams_ran" in r:
        print(f"streams ran (windows of {r['counts']['windows']}): {r['streams_ran']}")
    print(f"\n{'stage':<28}{'seconds':>10}")
    for k in sorted(sec, key=lambda k: (k.split('.')[0] not in STAGES, k)):
        print(f"{k:<28}{sec[k]:>10.2f}")
    print(f"\n{'ratio':<36}{'value':>10}")
    for k, val in r["ratios"].items():
        print(f"{k:<36}{val:>10.3f}")
    if "seed_style" in r and r["seed_style"]["extrapolated"]:
        s = r["seed_style"]
        print(f"(seed-style measured on {s['windows_measured']} of {s['windows']} windows, "
              "extrapolated)")
    print("peak RSS MiB per stage: " + ", ".join(f"{k} {val:.0f}"
                                                  for k, val in r["peak_rss_mib"].items()))
    print("CPU share per stage (CPU s / wall s): " + ", ".join(
        f"{k} {val:.2f}" for k, val in r["cpu_share"].items()))
    for workers, streams in r.get("decode_frames_per_s", {}).items():
        print(f"decode with {workers} worker(s): " + ", ".join(
            f"{s} {v['frames_per_s']:.0f} frames/s" for s, v in streams.items()))
    for name, m in r.get("models", {}).items():
        unit = next(k for k in m if k.endswith("_per_s"))
        print(f"model {name}: {m[unit]:.2f} {unit.replace('_per_s', '')}/s, batch {m['batch_size']}")
    if "content_frames_per_s" in r:
        print(f"content stream: {r['content_frames_per_s']:.1f} frames/s; windows the gate "
              f"skipped: {r['counts']['skipped_by_content_gate']} of {r['counts']['windows']}")
    if "gpu_busy_share_whole" in r:
        print(f"GPU busy share, whole (CUDA events over wall time): {r['gpu_busy_share_whole']}")
    if "gpu_peak_mib" in r:
        print("peak GPU memory MiB per stage: " + ", ".join(
            f"{k} {val:.0f}" for k, val in r["gpu_peak_mib"].items()))
    if "vs_reference" in r:
        print(f"scores vs reference: {r['vs_reference']}")


if __name__ == "__main__":
    sys.exit(main())
