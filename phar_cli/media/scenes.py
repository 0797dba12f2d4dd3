"""Shot cuts: the instants where the picture changes at once (an editor's cut), found by ffmpeg's
scene-change filter (`scdet`) in one low-resolution pass; the same pass gives how much each
frame differs from the one before, in all and in each cell of a coarse grid (the motion, and
where in the picture it is, that `core/changes.py` looks for changes in).

Why ffmpeg's: it is the decoder phar already owns (one binary, no second video library), its
score is the mean absolute difference of consecutive frames corrected for gradual change (0 to
100; a hard cut scores far above a fade or a moving camera), and a pass at 160 px wide costs
little next to the models. A refined boundary near a cut moves onto it (`core/timeline.py`).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass

import numpy as np

from phar_cli.media.ffmpeg import passthrough, run_ffmpeg
from phar_cli.media.probe import VideoInfo

CUT_THRESHOLD = 10.0   # scdet's own default score (0-100)
SCAN_WIDTH = 160       # pixels: enough to tell a cut, cheap to scale to
LAYOUT_GRID = 16       # cells a side of the grid where motion is measured (16 x 16, 256 bytes a frame)

_FRAME = re.compile(r"^frame:\d+\s+pts:\S+\s+pts_time:(\S+)")
_TIME = re.compile(r"^lavfi\.scd\.time=(\S+)")
_MAFD = re.compile(r"^lavfi\.scd\.mafd=(\S+)")


@dataclass(frozen=True)
class PictureScan:
    """What one low-resolution pass over the picture found."""

    cuts: list[float]   # times (s) of the frames that start a new shot
    times: np.ndarray   # (F,) each frame's time (s)
    motion: np.ndarray  # (F,) mean absolute difference from the frame before (grey levels)
    # (F, LAYOUT_GRID ** 2) the same difference of grey frames, averaged over each cell, row by row
    layout: np.ndarray


def shot_cuts(path: str | os.PathLike[str], info: VideoInfo | None = None, *,
              threshold: float = CUT_THRESHOLD) -> list[float]:
    """Times (s) of the frames that start a new shot, in order (the first frame never counts)."""
    return scan_picture(path, info, threshold=threshold).cuts


def scan_picture(path: str | os.PathLike[str], info: VideoInfo | None = None, *,
                 threshold: float = CUT_THRESHOLD) -> PictureScan:
    """Shot cuts, per-frame motion and where it is, from one pass at `SCAN_WIDTH` pixels."""
    path = str(path)
    cells = LAYOUT_GRID * LAYOUT_GRID
    # One decode, two branches: scdet's per-frame metadata printed to stderr (`pipe:2`, its colon
    # escaped once for the option and once for the graph), the grey frames' differences (tblend)
    # averaged down to the grid and written raw to stdout.
    graph = (f"[0:V:0]scale={SCAN_WIDTH}:-2,split[cut][moved];"
             rf"[cut]scdet=threshold={threshold:g},metadata=mode=print:file=pipe\\:2,nullsink;"
             f"[moved]format=gray,tblend=all_mode=difference,"
             f"scale={LAYOUT_GRID}:{LAYOUT_GRID}:flags=area[layout]")
    proc = run_ffmpeg(["-loglevel", "error", "-i", "file:" + os.path.abspath(path),
                       "-filter_complex", graph, "-map", "[layout]", "-an", "-sn",
                       *passthrough(), "-f", "rawvideo", "pipe:1"],
                      f"{path}: looking for shot cuts")
    cuts: list[float] = []
    times: list[float] = []
    motion: list[float] = []
    frame_time = None
    for line in proc.stderr.decode("ascii", "replace").splitlines():
        if match := _FRAME.match(line):
            frame_time = float(match[1])
        elif frame_time is None:
            continue
        elif match := _MAFD.match(line):
            times.append(frame_time)
            motion.append(float(match[1]))
        elif (match := _TIME.match(line)) and frame_time > 0:
            cuts.append(round(frame_time, 6))
    layout = np.frombuffer(proc.stdout, np.uint8)
    layout = layout[:len(layout) // cells * cells].reshape(-1, cells)
    # A branch may hold one frame fewer (tblend needs two): the differences end with the frames.
    layout = layout[-len(times):] if times else layout[:0]
    layout = np.concatenate([np.zeros((len(times) - len(layout), cells), np.uint8), layout])
    duration = info.duration if info is not None else float("inf")
    return PictureScan(sorted({t for t in cuts if 0 < t < duration}),
                       np.asarray(times, np.float64), np.asarray(motion, np.float64), layout)
