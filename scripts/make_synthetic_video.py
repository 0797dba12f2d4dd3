#!/usr/bin/env python
"""Write an abstract synthetic test video (coloured scenes, a moving disc, sine tones).

    python scripts/make_synthetic_video.py demo.mp4 --duration 10
    python scripts/make_synthetic_video.py parts.mkv --fps 30000/1001 --size 320x240 \\
        --scene 3:red:left-right:440:-10 --scene 4:green:circle:1000:-30 --scene 2:blue:still::
A scene is DURATION:COLOR:MOTION:TONE_HZ:DB (empty tone = silence).
"""
from __future__ import annotations

import argparse
import sys

from phar_cli.errors import PharError
from phar_cli.synthetic.video import COLORS, MOTIONS, Scene, make_video


def parse_scene(text: str) -> Scene:
    parts = (text.split(":") + [""] * 5)[:5]
    duration, color, motion, tone, db = parts
    try:
        return Scene(float(duration), color or "blue", motion or "left-right",
                     float(tone) if tone else None, float(db) if db else -20.0)
    except ValueError as ex:
        raise argparse.ArgumentTypeError(f"bad scene {text!r}: {ex}") from ex


def parse_size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must look like 320x240, not {text!r}") from None
    return width, height


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", help="file to write; the extension picks the container")
    parser.add_argument("--duration", type=float, help="seconds (default: the scenes' total, "
                        "or 10 without scenes)")
    parser.add_argument("--fps", default="30", help="frame rate, e.g. 25, 59.94, 30000/1001")
    parser.add_argument("--size", type=parse_size, default=(320, 240), help="display WxH")
    parser.add_argument("--rotation", type=int, default=0, choices=(0, 90, 180, 270),
                        help="clockwise display rotation stored in the file")
    parser.add_argument("--no-audio", action="store_true")
    parser.add_argument("--codec", default="libx264")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--scene", type=parse_scene, action="append", metavar="SPEC",
                        help=f"DURATION:COLOR:MOTION:TONE_HZ:DB; colours {', '.join(COLORS)}; "
                        f"motions {', '.join(MOTIONS)}")
    args = parser.parse_args(argv)
    duration = args.duration if args.duration or args.scene else 10.0
    try:
        path = make_video(args.output, duration, fps=args.fps, size=args.size,
                          audio=not args.no_audio, rotation=args.rotation, segments=args.scene,
                          codec=args.codec, seed=args.seed)
    except (PharError, ValueError) as ex:
        print(f"error: {ex}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
