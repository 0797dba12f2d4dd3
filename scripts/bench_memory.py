#!/usr/bin/env python
"""Does memory stay flat as videos get longer? One run analyses a short and a long video of the
same picture size, each in a fresh process (`bench_pipeline.py --stages whole`: decode, every
stream on every window, refinement off), and prints each one's peak RSS and their ratio (the
target: long / short <= 2 for a 2-hour 1080p video against a 1-minute one).

    python scripts/bench_memory.py                                  # 1 min and 2 h, 1920x1080
    python scripts/bench_memory.py --long-minutes 10 --fps 5 --json mem.json

The long video is the short one looped with its packets copied (no re-encoding), so both have
the same frames and sound. On a CPU the models would take hours over two hours of 30 fps video,
so the default frame rate is low (2 fps: what is decoded, held and queued per window is then
fewer frames, each at the full size) and the models are the small configs with the synthetic
marker finder as the pose front end; --configs, --pose-backend and --fps change that.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--size", default="1920x1080")
    p.add_argument("--fps", type=float, default=2.0)
    p.add_argument("--short-minutes", type=float, default=1.0)
    p.add_argument("--long-minutes", type=float, default=120.0)
    p.add_argument("--configs", default="small", choices=("small", "seed"))
    p.add_argument("--pose-backend", default="markers")
    p.add_argument("--device", default="cpu")
    p.add_argument("--json", type=Path)
    args = p.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from phar_cli.media.ffmpeg import run_ffmpeg
    from phar_cli.synthetic.video import Scene, make_video

    report: dict = {"size": args.size, "fps": args.fps, "configs": args.configs,
                    "pose_backend": args.pose_backend, "runs": {}}
    with tempfile.TemporaryDirectory(prefix="phar-mem-") as tmp:
        width, height = (int(v) for v in args.size.lower().split("x"))
        short = Path(tmp) / "short.mp4"
        looks = [("blue", "circle", 440, "wave"), ("red", "left-right", 660, None),
                 ("green", "up-down", 880, "squat"), ("purple", "still", 550, None)]
        scenes, left, k = [], args.short_minutes * 60, 0
        while left > 1e-6:
            color, motion, tone, figure = looks[k % len(looks)]
            scenes.append(Scene(min(7.0, left), color, motion, tone, -14.0, figure=figure))
            left -= scenes[-1].duration
            k += 1
        make_video(short, segments=scenes, fps=args.fps, size=(width, height))
        long = Path(tmp) / "long.mp4"
        loops = max(1, round(args.long_minutes / args.short_minutes))
        run_ffmpeg(["-loglevel", "error", "-stream_loop", str(loops - 1), "-i", str(short),
                    "-c", "copy", "-y", str(long)], "looping the video")
        for name, video in (("short", short), ("long", long)):
            out = Path(tmp) / f"{name}.json"
            started = time.perf_counter()
            subprocess.run([sys.executable, str(ROOT / "scripts/bench_pipeline.py"),
                            "--video", str(video), "--stages", "whole", "--configs", args.configs,
                            "--pose-backend", args.pose_backend, "--device", args.device,
                            "--json", str(out)], check=True, stdout=subprocess.DEVNULL)
            run = json.loads(out.read_text())
            report["runs"][name] = {"seconds": run["video"]["seconds"],
                                    "windows": run["counts"]["windows"],
                                    "streams_ran": run["streams_ran"],
                                    "peak_rss_mib": run["peak_rss_mib"]["whole"],
                                    "analysis_seconds": round(run["seconds"]["whole"], 1),
                                    "wall_seconds": round(time.perf_counter() - started, 1)}
            print(f"{name}: {report['runs'][name]}", flush=True)
    runs = report["runs"]
    report["long_over_short_rss"] = round(runs["long"]["peak_rss_mib"]
                                          / runs["short"]["peak_rss_mib"], 3)
    print(f"peak RSS long / short: {report['long_over_short_rss']} (target <= 2)")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
