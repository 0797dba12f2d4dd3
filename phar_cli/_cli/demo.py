"""`phar demo`: an annotated copy of the video."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from phar_cli._cli.analysis_options import AnalysisArgs, analysis_for, with_analysis_options
from phar_cli._cli.common import Bars, check_output, out, progress_bars, say
from phar_cli.media.video_writer import EncoderOptions

_ENCODER = EncoderOptions()


def encoder_for(codec: str, crf: int, preset: str, output: Path) -> EncoderOptions:
    """The encoder options, checked against this ffmpeg and the output's container before the
    analysis (which may take long)."""
    from phar_cli.media.video_writer import check_encoder

    encoder = EncoderOptions(codec=codec, crf=crf, preset=preset)
    check_encoder(encoder, output)
    return encoder


@with_analysis_options
def demo(
    video: Annotated[Path, typer.Argument(help="The video to annotate.")],
    output: Annotated[Path, typer.Argument(help="The annotated video to write (.mp4, .mkv, .mov, .m4v, .avi, .webm).")],
    topk: Annotated[int, typer.Option(min=1, help="Labels shown per window.")] = 3,
    from_json: Annotated[Optional[Path], typer.Option(help="Reuse a predictions JSON instead of analysing again.")] = None,
    codec: Annotated[str, typer.Option(help="Video encoder (any ffmpeg encoder; libx264, libx265, libvpx-vp9, ...).")] = _ENCODER.codec,
    crf: Annotated[int, typer.Option(help="Encoder quality (lower is better; 0 is lossless for libx264).")] = _ENCODER.crf,
    preset: Annotated[str, typer.Option(help="Encoder preset (libx264/libx265: ultrafast ... veryslow).")] = _ENCODER.preset,
    *,
    analysis: AnalysisArgs,
) -> None:
    """An annotated copy of the video: top labels per window and a timeline strip.

    Example: phar demo in.mp4 demo.mp4 --from-json in.json
    """
    from phar_cli.media.probe import probe
    from phar_cli.outputs.demo_video import DemoOptions, write_demo

    check_output(output, video, *([from_json] if from_json else []))
    encoder = encoder_for(codec, crf, preset, output)
    info = probe(video)
    result = analysis_for(video, from_json, analysis)
    with progress_bars() as progress:
        done = write_demo(video, result, output, DemoOptions(topk=topk, encoder=encoder),
                          info=info, progress=Bars(progress))
    say(f"{done.frames} frames in {done.seconds:.1f} s ({done.fps:.0f} frames/s), audio {done.audio}")
    out.print(f"wrote {output}")
