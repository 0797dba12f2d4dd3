"""`phar timestamps` and `phar tags`: an analysis as timestamps in a format, and as tags."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from phar_cli._cli.analysis_options import AnalysisArgs, analyse, with_analysis_options
from phar_cli._cli.common import STATE, check_output, err, out
from phar_cli.defaults import DEFAULT_SUBCLIP_LEN


@with_analysis_options
def timestamps(
    video: Annotated[Path, typer.Argument(help="The video to analyse.")],
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help=(
        "Output file (default: VIDEO's name with the format's extension, in the current folder)."))] = None,
    format: Annotated[str, typer.Option("--format", "-f", help=(
        "json (predictions + segments), csv, srt, vtt, ffmetadata or edl."))] = "json",
    min_score: Annotated[float, typer.Option(help="Windows whose best fused score is lower are left out of segments.")] = 0.0,
    max_gap: Annotated[float, typer.Option(help="Join segments of one label across gaps up to this many seconds.")] = 0.0,
    from_json: Annotated[Optional[Path], typer.Option(help="Reuse a predictions JSON instead of analysing again.")] = None,
    predictions_out: Annotated[Optional[Path], typer.Option(help="Also write the predictions JSON here (for non-json formats).")] = None,
    background_segments: Annotated[bool, typer.Option(help="Also write segments of the background class (nothing happens).")] = False,
    *,
    analysis: AnalysisArgs,
) -> None:
    """When each action starts and ends: predictions JSON and segments, or subtitles/chapters/EDL.

    Example: phar timestamps in.mp4 -f srt -o in.srt
    """
    from phar_cli.core.predictions import load_predictions
    from phar_cli.core.segments import segments_of
    from phar_cli.outputs import get_writer

    writer = get_writer(format)
    output = output or Path(f"{video.stem}.{writer.extension}")
    check_output(output, video)
    if predictions_out:
        check_output(predictions_out, video)
    result = (load_predictions(from_json, subclip_len=analysis.subclip_len) if from_json
              else analyse(video, analysis))
    found = segments_of(result, min_score=min_score, max_gap=max_gap,
                        background=background_segments)
    writer.write(result, found, output)
    if predictions_out:
        get_writer("json").write(result, found, predictions_out)
    if not STATE.quiet:
        if result.config.get("refine") and not from_json:
            err.print(f"boundaries refined with {len(result.extra)} extra windows "
                      f"({len(result.windows)} on the grid); shot cuts found: "
                      f"{len(result.cuts)}, changes of sound, picture or movement: {len(result.changes)}",
                      highlight=False)
        table = Table(title=f"{len(found)} segments in {video.name}")
        for col in ("start", "end", "label", "score", "coverage"):
            table.add_column(col, justify="left" if col == "label" else "right")
        for s in found:
            table.add_row(f"{s.start:.2f}", f"{s.end:.2f}", s.label, f"{s.score:.2f}", f"{s.coverage:.2f}")
        err.print(table)
    out.print(f"wrote {output}")


def tags(
    predictions: Annotated[Path, typer.Argument(help="A predictions JSON (phar's, or the seed's list of dicts).")],
    topk: Annotated[int, typer.Option(min=1, help="How many tags.")] = 3,
    min_score: Annotated[float, typer.Option(help="Ignore windows whose best fused score is lower.")] = 0.0,
    subclip_len: Annotated[float, typer.Option(help="Window length of a seed JSON (it does not record it).")] = DEFAULT_SUBCLIP_LEN,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines instead of a table.")] = False,
) -> None:
    """Tags for the whole video: per label, seconds covered and mean confidence; top-k by seconds.

    Example: phar tags in.json --topk 3
    """
    import orjson

    from phar_cli.core.predictions import load_predictions
    from phar_cli.core.tags import tags_document, video_tags

    result = load_predictions(predictions, subclip_len=subclip_len)
    found = video_tags(result, topk=topk, min_score=min_score)
    if as_json:
        sys.stdout.write(orjson.dumps(tags_document(result, found)).decode() + "\n")
        return
    table = Table(title=f"Top {topk} tags of {Path(result.video.path).name}")
    table.add_column("label")
    table.add_column("seconds", justify="right")
    table.add_column("mean confidence", justify="right")
    for t in found:
        table.add_row(t.label, f"{t.seconds:.1f}", f"{t.mean_confidence:.2f}")
    out.print(table)
