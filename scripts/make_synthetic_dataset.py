#!/usr/bin/env python
"""Write the synthetic multimodal action dataset (abstract shapes, a stick figure, tones).

    python scripts/make_synthetic_dataset.py data/synthetic
    python scripts/make_synthetic_dataset.py data/synthetic --videos-per-class 2 --seconds 14 \\
        --size 320x240 --fps 15 --seed 1 --format csv --format via
    python scripts/make_synthetic_dataset.py composed.mp4 --compose alpha:14,delta:14,beta:14
    python scripts/make_synthetic_dataset.py c.mp4 --compose=-:5,alpha:12.5 --truth c.csv
Classes, what each stream can tell apart, and the layout: phar_cli/synthetic/dataset.py.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from phar_cli.synthetic.dataset import (BACKGROUND_SECONDS, CLASSES, FORMATS, composed_segments,
                                             make_composed_video, make_dataset, write_plain_csv)
from phar_cli.errors import PharError


def parse_size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must look like 160x120, not {text!r}") from None
    return width, height


def parse_parts(text: str) -> list[tuple[str | None, float]]:
    """'alpha:14,-:3,delta:14' ('-' is nothing)."""
    parts = []
    for item in text.split(","):
        try:
            label, seconds = item.split(":")
            parts.append((None if label.strip() == "-" else label.strip(), float(seconds)))
        except ValueError:
            raise argparse.ArgumentTypeError(f"a part looks like alpha:14, not {item!r}") from None
    return parts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", help="dataset folder (or, with --compose, the video to write)")
    parser.add_argument("--videos-per-class", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=21, help="length of each video")
    parser.add_argument("--size", type=parse_size, default=(160, 120), help="WxH")
    parser.add_argument("--fps", type=float, default=15)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--format", dest="formats", action="append", choices=FORMATS,
                        help="annotation format, repeatable (default: csv)")
    parser.add_argument("--compose", type=parse_parts, metavar="PARTS",
                        help=f"write one video of consecutive parts instead, e.g. "
                        f"alpha:14,-:3,delta:14 ('-' = nothing); classes {', '.join(CLASSES)}")
    parser.add_argument("--truth", metavar="CSV",
                        help="with --compose: also write its parts as annotations (video,start,"
                        "end,label: what phar prepare-data and phar eval read)")
    parser.add_argument("--background-seconds", type=float, default=BACKGROUND_SECONDS,
                        help="nothing at the end of every second dataset video (background clips)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        if args.compose:
            path = make_composed_video(args.output, args.compose, size=args.size, fps=args.fps,
                                       seed=args.seed)
            if args.truth:
                write_plain_csv(Path(args.truth), composed_segments(path.name, args.compose))
            print(path)
            return 0
        dataset = make_dataset(args.output, videos_per_class=args.videos_per_class,
                               seconds_per_video=args.seconds, size=args.size, fps=args.fps,
                               seed=args.seed, formats=tuple(args.formats or ("csv",)),
                               background_seconds=args.background_seconds)
    except (PharError, ValueError) as ex:
        print(f"error: {ex}", file=sys.stderr)
        return 1
    print(f"{len(dataset.videos)} videos, {len(dataset.segments)} segments in {dataset.folder} "
          f"({time.perf_counter() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
