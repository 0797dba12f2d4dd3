"""`phar filter`: a cut of the video without the non-sexual parts (or with only chosen labels)."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.table import Table

from phar_cli._cli.analysis_options import AnalysisArgs, analysis_for, with_analysis_options
from phar_cli._cli.common import STATE, Bars, check_output, err, out, progress_bars, split_list
from phar_cli._cli.demo import encoder_for
from phar_cli.core.cutlist import CutOptions
from phar_cli.errors import UsageError
from phar_cli.media.cut import MODES, SNAP_RULES
from phar_cli.media.video_writer import EncoderOptions

_CUT = CutOptions()
_ENCODER = EncoderOptions()


def _kept_table(video: Path, done: Any) -> Table:
    cut, kept, planned = done.cut, done.kept, done.plan.ranges
    how = {"exact": "exact cuts, re-encoded", "copy": "cuts on keyframes, streams copied",
           "whole": "everything kept, streams copied"}[cut.mode]
    table = Table(title=f"{len(kept)} kept segments of {video.name}: {cut.seconds:.1f} s of "
                        f"{done.duration:.1f} s ({how})")
    for col in ("start", "end", "seconds", "labels", "score", "coverage"):
        table.add_column(col, justify="left" if col == "labels" else "right")
    if cut.mode == "copy":
        table.add_column("planned", justify="right")
    for k in kept:
        row = [f"{k.span.start:.3f}", f"{k.span.end:.3f}", f"{k.span.duration:.2f}",
               ", ".join(k.labels) or "-", f"{k.score:.2f}", f"{k.coverage:.2f}"]
        if cut.mode == "copy":
            row.append(" ".join(f"{p.span.start:.2f}-{p.span.end:.2f}" for p in planned
                                if p.span.overlap(k.span) > 0))
        table.add_row(*row)
    return table


@with_analysis_options
def filter_(
    video: Annotated[Path, typer.Argument(help="The video to cut.")],
    output: Annotated[Path, typer.Argument(help="The cut video to write.")],
    keep: Annotated[Optional[str], typer.Option(help="Keep only these labels (comma-separated).")] = None,
    drop: Annotated[Optional[str], typer.Option(help="Drop these labels (comma-separated).")] = None,
    threshold: Annotated[float, typer.Option(help="Drop windows whose best fused score is lower.")] = _CUT.threshold,
    mode: Annotated[str, typer.Option(help="exact (re-encode at cut points) or copy (cut on keyframes).")] = MODES[0],
    min_segment: Annotated[float, typer.Option(help="Drop kept segments shorter than this (s).")] = _CUT.min_segment,
    max_gap: Annotated[float, typer.Option(help="Fill gaps shorter than this between kept segments (s).")] = _CUT.max_gap,
    margin: Annotated[float, typer.Option(help="Pad each kept segment by this many seconds.")] = _CUT.margin,
    segments_out: Annotated[Optional[Path], typer.Option(help="Write the kept segments (json/csv/edl).")] = None,
    from_json: Annotated[Optional[Path], typer.Option(help="Reuse a predictions JSON instead of analysing again.")] = None,
    drop_nonsexual: Annotated[bool, typer.Option(help=(
        "Drop windows under --threshold and windows whose top label is in --nonsexual."))] = _CUT.drop_nonsexual,
    nonsexual: Annotated[str, typer.Option(help="Labels counted as non-sexual (comma-separated; those the label map lacks are ignored).")] = ",".join(_CUT.nonsexual),
    snap: Annotated[str, typer.Option(help=(
        "copy mode: move cut points to keyframes outward (keep every kept second), inward "
        "(keep no dropped second) or nearest."))] = SNAP_RULES[0],
    codec: Annotated[str, typer.Option(help="exact mode: video encoder.")] = _ENCODER.codec,
    crf: Annotated[int, typer.Option(help="exact mode: encoder quality (lower is better).")] = _ENCODER.crf,
    preset: Annotated[str, typer.Option(help="exact mode: encoder preset.")] = _ENCODER.preset,
    *,
    analysis: AnalysisArgs,
) -> None:
    """A cut of the video without the non-sexual parts (or with only chosen labels).

    Nothing to keep: an error (exit 1), nothing written. Everything kept: the output is the
    whole video with its streams copied (no re-encoding), and phar says so.

    Example: phar filter in.mp4 cut.mp4 --from-json in.json --segments-out kept.edl
    """
    from phar_cli.media.cut import check_cut_options
    from phar_cli.media.probe import probe
    from phar_cli.media.video_writer import container_of
    from phar_cli.outputs.cut_segments import segments_format
    from phar_cli.outputs.cut_video import write_cut

    check_cut_options(mode, snap)
    sources = [video, *([from_json] if from_json else [])]
    check_output(output, *sources)
    container_of(output)
    if segments_out:
        check_output(segments_out, output, *sources)
        if segments_out.resolve() == output.resolve():
            raise UsageError(f"{segments_out}: --segments-out is the output video")
        segments_format(segments_out)
    encoder = encoder_for(codec, crf, preset, output) if mode == "exact" else EncoderOptions()
    options = CutOptions(keep=split_list(keep), drop=split_list(drop),
                         drop_nonsexual=drop_nonsexual, threshold=threshold,
                         nonsexual=split_list(nonsexual), min_segment=min_segment,
                         max_gap=max_gap, margin=margin)
    info = probe(video)
    result = analysis_for(video, from_json, analysis)
    with progress_bars() as progress:
        done = write_cut(video, result, output, options, mode=mode, snap=snap, encoder=encoder,
                         segments_out=segments_out, info=info, progress=Bars(progress))
    if not STATE.quiet:
        err.print(_kept_table(video, done))
    cut = done.cut
    if done.everything_kept:
        why = "no window is dropped" if done.plan.everything_kept else "cut points snapped to keyframes"
        how = "streams copied" if cut.mode == "whole" else "re-encoded"
        out.print(f"everything is kept ({why}): {output} is the whole video, {how}",
                  highlight=False, soft_wrap=True)
    out.print(f"wrote {output} ({cut.seconds:.1f} s of {info.duration:.1f} s kept, "
              f"{len(cut.spans)} segment{'s' if len(cut.spans) != 1 else ''})",
              highlight=False, soft_wrap=True)
    if segments_out:
        out.print(f"wrote {segments_out}", highlight=False, soft_wrap=True)
