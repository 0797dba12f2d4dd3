"""The cut video (`phar filter`): what the analysis keeps, cut out of the video, and the kept
segments written beside it.

The order: decide and smooth the windows (`core.cutlist.plan_cut`), refuse an empty cut before
anything is written, cut (`media.cut.cut_video`: exact, copy, or the whole video when everything
is kept), then describe the parts as actually cut (`regroup`) and write them where asked.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from phar_cli.core.cutlist import CutOptions, CutPlan, KeptRange, check_labels, plan_cut, regroup
from phar_cli.core.predictions import Analysis, VideoMeta
from phar_cli.errors import NothingToKeep
from phar_cli.media.cut import CutResult, cut_video
from phar_cli.media.probe import VideoInfo, probe
from phar_cli.media.video_writer import EncoderOptions
from phar_cli.outputs.cut_segments import segments_format, write_kept_segments
from phar_cli.spans import Span

Progress = Callable[[str, float, float], None]


@dataclass(frozen=True)
class CutOutcome:
    plan: CutPlan               # the decisions and the planned ranges
    cut: CutResult              # the times actually kept and how
    kept: list[KeptRange]       # the planned ranges as actually cut
    duration: float             # the input's

    @property
    def everything_kept(self) -> bool:
        return self.plan.everything_kept or self.cut.mode == "whole"


def write_cut(video: str | os.PathLike[str], analysis: Analysis, output: str | os.PathLike[str],
              options: CutOptions = CutOptions(), *, mode: str = "exact", snap: str = "outward",
              encoder: EncoderOptions = EncoderOptions(), segments_out: str | Path | None = None,
              info: VideoInfo | None = None, progress: Progress | None = None) -> CutOutcome:
    """Write `output`: the parts of `video` that `options` keep. Nothing to keep raises
    `NothingToKeep` (nothing written); `segments_out` (.json/.csv/.edl) gets the kept parts."""
    if segments_out is not None:
        segments_format(segments_out)
    info = info or probe(video)
    check_labels(options, analysis.labels)
    plan = plan_cut(analysis, options, duration=info.duration)
    if plan.nothing_kept:
        raise NothingToKeep(f"{video}: nothing to keep ({plan.why_nothing()}); nothing written")
    spans = [Span(0.0, info.duration)] if plan.everything_kept else [r.span for r in plan.ranges]
    cut = cut_video(info, spans, output, mode=mode, snap=snap, encoder=encoder, progress=progress)
    kept = regroup(plan.ranges, cut.spans)
    if segments_out is not None:
        meta = VideoMeta(str(video), info.duration, float(info.fps), info.width, info.height)
        write_kept_segments(segments_out, analysis, meta, kept, plan.ranges,
                            {"output": str(output), "mode": cut.mode,
                             "snap": snap if cut.mode == "copy" else None})
    return CutOutcome(plan, cut, kept, info.duration)
