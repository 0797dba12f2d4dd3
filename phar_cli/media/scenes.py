"""Shot cuts: the instants where the picture changes at once (an editor's cut), found by ffmpeg's
scene-change filter (`scdet`) in one low-resolution pass.

Why ffmpeg's: it is the decoder phar already owns (one binary, no second video library), its
score is the mean absolute difference of consecutive frames corrected for gradual change (0 to
100; a hard cut scores far above a fade or a moving camera), and a pass at 160 px wide costs
little next to the models. A refined boundary near a cut moves onto it (`core/timeline.py`).
"""
from __future__ import annotations

import os
import re

from phar_cli.media.ffmpeg import run_ffmpeg
from phar_cli.media.probe import VideoInfo

CUT_THRESHOLD = 10.0   # scdet's own default score (0-100)
SCAN_WIDTH = 160       # pixels: enough to tell a cut, cheap to scale to

_FRAME = re.compile(r"^frame:\d+\s+pts:\S+\s+pts_time:(\S+)")
_TIME = re.compile(r"^lavfi\.scd\.time=(\S+)")


def shot_cuts(path: str | os.PathLike[str], info: VideoInfo | None = None, *,
              threshold: float = CUT_THRESHOLD) -> list[float]:
    """Times (s) of the frames that start a new shot, in order (the first frame never counts)."""
    path = str(path)
    proc = run_ffmpeg(["-loglevel", "error", "-i", "file:" + os.path.abspath(path), "-map", "0:V:0",
                       "-an", "-sn", "-vf", f"scale={SCAN_WIDTH}:-2,scdet=threshold={threshold:g},"
                       "metadata=mode=print:file=-", "-f", "null", "-"],
                      f"{path}: looking for shot cuts")
    cuts: list[float] = []
    frame_time = None
    for line in proc.stdout.decode("ascii", "replace").splitlines():
        if match := _FRAME.match(line):
            frame_time = float(match[1])
        elif (match := _TIME.match(line)) and frame_time is not None and frame_time > 0:
            cuts.append(round(frame_time, 6))
    duration = info.duration if info is not None else float("inf")
    return sorted({t for t in cuts if 0 < t < duration})
