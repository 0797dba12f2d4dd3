"""The demo video: every frame of the input with the analysis drawn on it, the audio kept.

Why streamed: frames go decoder pipe -> overlay -> encoder pipe one at a time, so a two-hour
video needs no more memory than a two-second one and nothing but the output touches the disk.
"""
from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from phar_cli.core.predictions import Analysis
from phar_cli.media.frame_stream import stream_frames
from phar_cli.media.probe import VideoInfo, probe
from phar_cli.media.video_writer import EncoderOptions, VideoWriter, sample_aspect_ratio
from phar_cli.outputs.overlay import Overlay

Progress = Callable[[str, int, int], None]
STEP = "Demo video"


@dataclass(frozen=True)
class DemoOptions:
    topk: int = 3
    encoder: EncoderOptions = field(default_factory=EncoderOptions)


@dataclass(frozen=True)
class DemoResult:
    path: Path
    frames: int
    seconds: float      # wall-clock time spent
    audio: str          # 'copied', 're-encoded' or 'none'

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0


def write_demo(video: str | os.PathLike[str], analysis: Analysis, output: str | os.PathLike[str],
               options: DemoOptions = DemoOptions(), *, info: VideoInfo | None = None,
               progress: Progress | None = None) -> DemoResult:
    """Write `output`: `video` with `analysis` overlaid (see `overlay`), same frames, fps, size
    and audio. Nothing is left at `output` if anything fails."""
    info = info or probe(video)
    overlay = Overlay(analysis, info.width, info.height, info.duration, options.topk)
    sar = sample_aspect_ratio(video)
    if sar and info.rotation in (90, 270):  # frames come out turned: so do their pixels
        sar = 1 / sar
    report = progress or (lambda step, done, total: None)
    started = time.perf_counter()
    step = max(1, info.frame_count // 200)
    with VideoWriter(output, info.width, info.height, info.fps,
                     audio_from=video if info.has_audio else None,
                     encoder=options.encoder, sar=sar) as writer, \
            contextlib.closing(stream_frames(info)) as frames:  # a failure stops the decoder too
        report(STEP, 0, info.frame_count)
        for i, frame in enumerate(frames):
            overlay.draw(frame, float(i / info.fps))
            writer.write(frame)
            if i % step == 0:
                report(STEP, i + 1, max(info.frame_count, i + 1))
    report(STEP, writer.frames, max(info.frame_count, writer.frames))
    return DemoResult(Path(output), writer.frames, time.perf_counter() - started, writer.audio)
