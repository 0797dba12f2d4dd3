"""The `phar` command: parse and validate options, call the library, hand results to writers.

Thin on purpose (PySceneDetect's shape): everything here can be done from Python through
`phar_cli.core.engine.Engine` and `phar_cli.outputs`. Errors become one red line and an exit code
(2 for usage, 1 for failed input); tracebacks only with --debug.
"""
from __future__ import annotations

import functools
import inspect
import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Callable, Optional

import typer
from typer.exceptions import Abort, Exit, TyperException
from rich.console import Console
from rich.progress import (BarColumn, DownloadColumn, MofNCompleteColumn, Progress, TextColumn,
                           TimeRemainingColumn, TransferSpeedColumn)
from rich.table import Table

from phar_cli import __version__
from phar_cli._cli import stash
from phar_cli.errors import PharError, UsageError

app = typer.Typer(
    name="phar", add_completion=False, pretty_exceptions_enable=False, no_args_is_help=True,
    help="What happens in a video, and when: RGB + skeleton + audio action recognition.")
models_app = typer.Typer(help="The model bundle: list, verify and fetch model files.",
                         no_args_is_help=True)
app.add_typer(models_app, name="models")
app.add_typer(stash.app, name="stash")

err = Console(stderr=True)
out = Console()


@dataclass
class GlobalState:
    quiet: bool = False
    verbose: bool = False
    debug: bool = False


STATE = GlobalState()


def _version(value: bool) -> None:
    if value:
        out.print(f"phar {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars, only results and errors.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Say more about each step.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")] = False,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    STATE.quiet, STATE.verbose, STATE.debug = quiet, verbose, debug
    logging.basicConfig(level=logging.DEBUG if debug else logging.INFO if verbose else logging.WARNING,
                        format="%(message)s")


# -- the analysis options shared by timestamps, demo and filter --------------------------------

@dataclass
class AnalysisArgs:
    streams: str
    device: str
    subclip_len: float
    coefficients: str
    pose_score_thr: float
    correct_rate: float
    loudness_weights: Optional[str]
    det_score_thr: float
    batch_size: int
    num_processes: int
    label_maps: Optional[str]
    rgb_config: Optional[Path]
    rgb_checkpoint: Optional[Path]
    skeleton_config: Optional[Path]
    skeleton_checkpoint: Optional[Path]
    audio_config: Optional[Path]
    audio_checkpoint: Optional[Path]
    det_config: Optional[Path]
    det_checkpoint: Optional[Path]
    pose_config: Optional[Path]
    pose_checkpoint: Optional[Path]
    bundle: Optional[Path] = None
    fusion: Optional[Path] = None
    threads: Optional[int] = None
    det_size: Optional[int] = None
    det_proposals: Optional[int] = None
    det_every: int = 1
    pose_every: int = 1
    precision: str = "fp32"


_P = inspect.Parameter
_ANALYSIS_PARAMS = [
    _P("streams", _P.KEYWORD_ONLY, default="rgb,skeleton,audio", annotation=Annotated[str, typer.Option(
        help="Streams to run, comma-separated: rgb, skeleton, audio.", rich_help_panel="Analysis")]),
    _P("device", _P.KEYWORD_ONLY, default="auto", annotation=Annotated[str, typer.Option(
        help="auto, cpu, cuda or cuda:N (auto: CUDA when present).", rich_help_panel="Analysis")]),
    _P("subclip_len", _P.KEYWORD_ONLY, default=7.0, annotation=Annotated[float, typer.Option(
        help="Window length in seconds (the last partial window is kept if >= 2 s).",
        rich_help_panel="Analysis")]),
    _P("coefficients", _P.KEYWORD_ONLY, default=None,
       annotation=Annotated[Optional[str], typer.Option(
           help="Late-fusion weights: 'rgb=W,skeleton=W,audio=W' or three numbers (rgb skeleton "
                "audio). Default: --fusion's, else the seed's rgb=0.4,skeleton=0.8,audio=1.0.",
           rich_help_panel="Fusion and gates")]),
    _P("fusion", _P.KEYWORD_ONLY, default=None, annotation=Annotated[Optional[Path], typer.Option(
        help="Fusion weights fitted by `phar train fusion` (a fusion.json).",
        rich_help_panel="Fusion and gates")]),
    _P("bundle", _P.KEYWORD_ONLY, default=None, annotation=Annotated[Optional[Path], typer.Option(
        help="A model bundle folder (bundle.json), e.g. the one `phar train fusion` writes.",
        rich_help_panel="Models")]),
    _P("pose_score_thr", _P.KEYWORD_ONLY, default=0.4, annotation=Annotated[float, typer.Option(
        help="Keypoint score counted as a good keypoint (skeleton gate).",
        rich_help_panel="Fusion and gates")]),
    _P("correct_rate", _P.KEYWORD_ONLY, default=0.35, annotation=Annotated[float, typer.Option(
        help="Fraction of good keypoints a window needs for the skeleton stream.",
        rich_help_panel="Fusion and gates")]),
    _P("loudness_weights", _P.KEYWORD_ONLY, default=None, annotation=Annotated[Optional[str], typer.Option(
        help="Audio gate in LUFS: one number (default -48.445, the seed's mean), 'seed' for its "
             "per-class table, or 'label=LUFS,...'.", rich_help_panel="Fusion and gates")]),
    _P("det_score_thr", _P.KEYWORD_ONLY, default=0.5, annotation=Annotated[float, typer.Option(
        help="Person detection score threshold (the seed's training setting).",
        rich_help_panel="Fusion and gates")]),
    _P("batch_size", _P.KEYWORD_ONLY, default=4, annotation=Annotated[int, typer.Option(
        min=1, help="Windows per model batch.", rich_help_panel="Analysis")]),
    _P("num_processes", _P.KEYWORD_ONLY, default=2, annotation=Annotated[int, typer.Option(
        min=0, help="Windows decoded ahead of the models (0: no overlap).", rich_help_panel="Analysis")]),
    _P("threads", _P.KEYWORD_ONLY, default=None, annotation=Annotated[Optional[int], typer.Option(
        min=1, help="Torch threads for the models (default: torch's, one per core).",
        rich_help_panel="Speed")]),
    _P("det_size", _P.KEYWORD_ONLY, default=None, annotation=Annotated[Optional[int], typer.Option(
        min=32, help="Run the person detector at this short side instead of its config's "
                     "(e.g. 480 for 800; faster, boxes a little coarser).",
        rich_help_panel="Speed")]),
    _P("det_proposals", _P.KEYWORD_ONLY, default=None, annotation=Annotated[Optional[int], typer.Option(
        min=1, help="Region proposals the person detector classifies per frame instead of its "
                    "config's (e.g. 300 for 1000; faster, may miss a person in a crowd).",
        rich_help_panel="Speed")]),
    _P("det_every", _P.KEYWORD_ONLY, default=1, annotation=Annotated[int, typer.Option(
        min=1, help="Detect people on every N-th pose frame and carry their boxes between "
                    "(faster; 1: every frame, the reference).", rich_help_panel="Speed")]),
    _P("pose_every", _P.KEYWORD_ONLY, default=1, annotation=Annotated[int, typer.Option(
        min=1, help="Run the pose model on every N-th frame of each person and interpolate the "
                    "keypoints between, inside the person's box (faster; 1: every frame).",
        rich_help_panel="Speed")]),
    _P("precision", _P.KEYWORD_ONLY, default="fp32", annotation=Annotated[str, typer.Option(
        help="Model arithmetic: fp32 (reference), bf16 autocast (CPU or CUDA), fp16 (CUDA).",
        rich_help_panel="Speed")]),
    _P("label_maps", _P.KEYWORD_ONLY, default=None, annotation=Annotated[Optional[str], typer.Option(
        help="Label maps: 'rgb=FILE,skeleton=FILE,audio=FILE' or three files (rgb,skeleton,audio).",
        rich_help_panel="Models")]),
] + [
    _P(f"{name}_{kind}", _P.KEYWORD_ONLY, default=None, annotation=Annotated[Optional[Path], typer.Option(
        help=f"{title} {kind} (default: the bundle's).", rich_help_panel="Models")])
    for name, title in (("rgb", "RGB model"), ("skeleton", "Skeleton model"), ("audio", "Audio model"),
                        ("det", "Person detector"), ("pose", "Pose model"))
    for kind in ("config", "checkpoint")
]


def with_analysis_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Give a command the shared analysis options; it receives them as `analysis: AnalysisArgs`."""
    names = [p.name for p in _ANALYSIS_PARAMS]

    @functools.wraps(func)
    def wrapper(**kwargs: Any) -> Any:
        analysis = AnalysisArgs(**{n: kwargs.pop(n) for n in names})
        return func(analysis=analysis, **kwargs)

    own = [p for p in inspect.signature(func, eval_str=True).parameters.values() if p.name != "analysis"]
    wrapper.__signature__ = inspect.Signature(own + _ANALYSIS_PARAMS)  # type: ignore[attr-defined]
    return wrapper


def _parse_label_maps(text: str | None) -> dict[str, str]:
    if not text:
        return {}
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if all("=" in p for p in parts):
        maps = dict(p.split("=", 1) for p in parts)
        unknown = set(maps) - {"rgb", "skeleton", "audio"}
        if unknown:
            raise UsageError(f"--label-maps: unknown stream {', '.join(sorted(unknown))}")
        return maps
    if len(parts) == 3 and not any("=" in p for p in parts):
        return dict(zip(("rgb", "skeleton", "audio"), parts))
    raise UsageError("--label-maps: give 'rgb=FILE,skeleton=FILE,audio=FILE' or three files")


def build_engine(a: AnalysisArgs) -> Any:
    from phar_cli.core.engine import Engine, EngineOptions
    from phar_cli.core.fusion import parse_weights
    from phar_cli.core.gates import GateOptions, parse_loudness
    from phar_cli.models.bundle import ModelOverrides, load_bundle, merged, resolve_models
    from phar_cli.train.fusion import read_fusion

    streams = tuple(s.strip().lower() for s in a.streams.split(",") if s.strip())
    bundle = load_bundle(a.bundle) if a.bundle else None
    fusion = a.fusion or (bundle.fusion if bundle else None)
    try:
        weights = parse_weights(a.coefficients) if a.coefficients else (
            read_fusion(fusion) if fusion else parse_weights(""))
        loudness, per_class = parse_loudness(a.loudness_weights)
    except ValueError as ex:
        raise UsageError(f"--coefficients/--loudness-weights: {ex}") from ex
    for name, value in (("--pose-score-thr", a.pose_score_thr), ("--correct-rate", a.correct_rate),
                        ("--det-score-thr", a.det_score_thr)):
        if not 0.0 <= value <= 1.0:
            raise UsageError(f"{name} must be between 0 and 1 (got {value})")
    if a.subclip_len <= 0:
        raise UsageError("--subclip-len must be positive")
    gates = GateOptions(pose_score_thr=a.pose_score_thr, correct_rate=a.correct_rate,
                        loudness_thr=loudness, per_class_loudness=per_class)
    overrides = ModelOverrides(
        configs={n: getattr(a, f"{n}_config") for n in ("rgb", "skeleton", "audio", "det", "pose")},
        checkpoints={n: getattr(a, f"{n}_checkpoint") for n in ("rgb", "skeleton", "audio", "det", "pose")},
        labels=_parse_label_maps(a.label_maps))
    pose_backend = bundle.pose_backend if bundle else "mmpose"
    if bundle:
        overrides = merged(overrides, bundle.overrides)
        if not STATE.quiet:
            err.print(f"models: {bundle.name} ({bundle.folder})", highlight=False)
    options = EngineOptions(models={}, streams=streams, device=a.device, subclip_len=a.subclip_len,
                            weights=weights, gates=gates, det_score_thr=a.det_score_thr,
                            pose_backend=pose_backend, batch_size=a.batch_size,
                            prefetch=a.num_processes, threads=a.threads, det_size=a.det_size,
                            det_proposals=a.det_proposals,
                            det_every=a.det_every, pose_every=a.pose_every,
                            precision=a.precision)
    options.models = resolve_models(streams, overrides, pose_backend)
    return Engine(options)


class _Bars:
    """Rich progress bars for the engine's (step, done, total) callback."""

    NAMES = {"rgb": "RGB stream", "poses": "Person poses", "skeleton": "Skeleton stream",
             "audio": "Audio stream"}

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[str, Any] = {}

    def __call__(self, step: str, done: int, total: int) -> None:
        if step not in self.tasks:
            self.tasks[step] = self.progress.add_task(self.NAMES.get(step, step), total=total)
        self.progress.update(self.tasks[step], completed=done, total=total)


def _progress(transfer: bool = False) -> Progress:
    columns: list[Any] = [TextColumn("[bold]{task.description}"), BarColumn()]
    columns += [DownloadColumn(), TransferSpeedColumn()] if transfer else [MofNCompleteColumn()]
    columns.append(TimeRemainingColumn())
    return Progress(*columns, console=err, disable=STATE.quiet, transient=False)


def analyse(video: Path, a: AnalysisArgs) -> Any:
    engine = build_engine(a)
    with _progress() as progress:
        return engine.analyse(video, progress=_Bars(progress))


def _check_output(path: Path, *inputs: Path) -> None:
    for source in inputs:
        if source.exists() and path.exists() and path.resolve() == source.resolve():
            raise UsageError(f"{path}: output would overwrite the input; choose another path")
    if path.is_dir():
        raise UsageError(f"{path}: output is a directory")
    if not path.parent.exists():
        raise UsageError(f"{path}: folder {path.parent} does not exist")


# -- commands ---------------------------------------------------------------------------------

@app.command()
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
    *,
    analysis: AnalysisArgs,
) -> None:
    """When each action starts and ends: predictions JSON and segments, or subtitles/chapters/EDL."""
    from phar_cli.core.predictions import load_predictions
    from phar_cli.core.segments import merge_segments
    from phar_cli.outputs import get_writer

    writer = get_writer(format)
    output = output or Path(f"{video.stem}.{writer.extension}")
    _check_output(output, video)
    if predictions_out:
        _check_output(predictions_out, video)
    result = (load_predictions(from_json, subclip_len=analysis.subclip_len) if from_json
              else analyse(video, analysis))
    segments = merge_segments(result.windows, min_score=min_score, max_gap=max_gap)
    writer.write(result, segments, output)
    if predictions_out:
        get_writer("json").write(result, segments, predictions_out)
    if not STATE.quiet:
        table = Table(title=f"{len(segments)} segments in {video.name}")
        for col in ("start", "end", "label", "score", "coverage"):
            table.add_column(col, justify="left" if col == "label" else "right")
        for s in segments:
            table.add_row(f"{s.start:.2f}", f"{s.end:.2f}", s.label, f"{s.score:.2f}", f"{s.coverage:.2f}")
        err.print(table)
    out.print(f"wrote {output}")


@app.command()
def tags(
    predictions: Annotated[Path, typer.Argument(help="A predictions JSON (phar's, or the seed's list of dicts).")],
    topk: Annotated[int, typer.Option(min=1, help="How many tags.")] = 3,
    min_score: Annotated[float, typer.Option(help="Ignore windows whose best fused score is lower.")] = 0.0,
    subclip_len: Annotated[float, typer.Option(help="Window length of a seed JSON (it does not record it).")] = 7.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines instead of a table.")] = False,
) -> None:
    """Tags for the whole video: per label, seconds covered and mean confidence; top-k by seconds."""
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


def _analysis_for(video: Path, from_json: Optional[Path], a: AnalysisArgs, info: Any) -> Any:
    """The analysis of `video`: run as `timestamps` runs it, or read from --from-json, which must
    describe a video of this length (a JSON of another video would cut or label nonsense)."""
    from phar_cli.core.predictions import load_predictions

    if from_json is None:
        return analyse(video, a)
    result = load_predictions(from_json, subclip_len=a.subclip_len)
    slack = max(0.5, 2 / float(info.fps))
    if result.config.get("source") == "seed-json":  # its duration is only the last window's end
        slack += max((w.span.duration for w in result.windows), default=0.0)
    if abs(result.video.duration - info.duration) > slack:
        raise UsageError(f"{from_json}: describes a {result.video.duration:.2f} s video, but "
                         f"{video} is {info.duration:.2f} s long; analyse it again")
    return result


def _encoder(codec: str, crf: int, preset: str, output: Path) -> Any:
    from phar_cli.media.video_writer import EncoderOptions, check_encoder

    encoder = EncoderOptions(codec=codec, crf=crf, preset=preset)
    check_encoder(encoder, output)  # before the analysis, which may take long
    return encoder


def _label_list(text: Optional[str]) -> tuple[str, ...]:
    return tuple(p.strip() for p in (text or "").split(",") if p.strip())


def _kept_table(video: Path, kept: list[Any], planned: list[Any], cut: Any, duration: float) -> Table:
    how = {"exact": "exact cuts, re-encoded", "copy": "cuts on keyframes, streams copied",
           "whole": "everything kept, streams copied"}[cut.mode]
    table = Table(title=f"{len(kept)} kept segments of {video.name}: {cut.seconds:.1f} s of "
                        f"{duration:.1f} s ({how})")
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


@app.command()
@with_analysis_options
def demo(
    video: Annotated[Path, typer.Argument(help="The video to annotate.")],
    output: Annotated[Path, typer.Argument(help="The annotated video to write (.mp4, .mkv, .mov, .m4v, .avi, .webm).")],
    topk: Annotated[int, typer.Option(min=1, help="Labels shown per window.")] = 3,
    from_json: Annotated[Optional[Path], typer.Option(help="Reuse a predictions JSON instead of analysing again.")] = None,
    codec: Annotated[str, typer.Option(help="Video encoder (any ffmpeg encoder; libx264, libx265, libvpx-vp9, ...).")] = "libx264",
    crf: Annotated[int, typer.Option(help="Encoder quality (lower is better; 0 is lossless for libx264).")] = 20,
    preset: Annotated[str, typer.Option(help="Encoder preset (libx264/libx265: ultrafast ... veryslow).")] = "medium",
    *,
    analysis: AnalysisArgs,
) -> None:
    """An annotated copy of the video: top labels per window and a timeline strip."""
    from phar_cli.media.probe import probe
    from phar_cli.outputs.demo_video import DemoOptions, write_demo

    _check_output(output, video, *([from_json] if from_json else []))
    encoder = _encoder(codec, crf, preset, output)
    info = probe(video)
    result = _analysis_for(video, from_json, analysis, info)
    with _progress() as progress:
        done = write_demo(video, result, output, DemoOptions(topk=topk, encoder=encoder),
                          info=info, progress=_Bars(progress))
    if not STATE.quiet:
        err.print(f"{done.frames} frames in {done.seconds:.1f} s ({done.fps:.0f} frames/s), "
                  f"audio {done.audio}", highlight=False)
    out.print(f"wrote {output}")


@app.command(name="filter")
@with_analysis_options
def filter_(
    video: Annotated[Path, typer.Argument(help="The video to cut.")],
    output: Annotated[Path, typer.Argument(help="The cut video to write.")],
    keep: Annotated[Optional[str], typer.Option(help="Keep only these labels (comma-separated).")] = None,
    drop: Annotated[Optional[str], typer.Option(help="Drop these labels (comma-separated).")] = None,
    threshold: Annotated[float, typer.Option(help="Drop windows whose best fused score is lower.")] = 0.5,
    mode: Annotated[str, typer.Option(help="exact (re-encode at cut points) or copy (cut on keyframes).")] = "exact",
    min_segment: Annotated[float, typer.Option(help="Drop kept segments shorter than this (s).")] = 0.0,
    max_gap: Annotated[float, typer.Option(help="Fill gaps shorter than this between kept segments (s).")] = 0.0,
    margin: Annotated[float, typer.Option(help="Pad each kept segment by this many seconds.")] = 0.0,
    segments_out: Annotated[Optional[Path], typer.Option(help="Write the kept segments (json/csv/edl).")] = None,
    from_json: Annotated[Optional[Path], typer.Option(help="Reuse a predictions JSON instead of analysing again.")] = None,
    drop_nonsexual: Annotated[bool, typer.Option(help=(
        "Drop windows under --threshold and windows whose top label is in --nonsexual."))] = True,
    nonsexual: Annotated[str, typer.Option(help="Labels counted as non-sexual (comma-separated; those the label map lacks are ignored).")] = "other,miscellaneous,non-sexual",
    snap: Annotated[str, typer.Option(help=(
        "copy mode: move cut points to keyframes outward (keep every kept second), inward "
        "(keep no dropped second) or nearest."))] = "outward",
    codec: Annotated[str, typer.Option(help="exact mode: video encoder.")] = "libx264",
    crf: Annotated[int, typer.Option(help="exact mode: encoder quality (lower is better).")] = 20,
    preset: Annotated[str, typer.Option(help="exact mode: encoder preset.")] = "medium",
    *,
    analysis: AnalysisArgs,
) -> None:
    """A cut of the video without the non-sexual parts (or with only chosen labels).

    Nothing to keep: an error (exit 1), nothing written. Everything kept: the output is the
    whole video with its streams copied (no re-encoding), and phar says so.
    """
    from phar_cli.core.cutlist import (SNAP_RULES, CutOptions, NothingToKeep, check_labels,
                                       plan_cut, regroup)
    from phar_cli.core.predictions import VideoMeta
    from phar_cli.spans import Span
    from phar_cli.media.cut import MODES, cut_video
    from phar_cli.media.probe import probe
    from phar_cli.media.video_writer import container_of
    from phar_cli.outputs.cut_segments import segments_format, write_kept_segments

    if mode not in MODES:
        raise UsageError(f"--mode {mode!r}: use exact or copy")
    if snap not in SNAP_RULES:
        raise UsageError(f"--snap {snap!r}: use one of {', '.join(SNAP_RULES)}")
    _check_output(output, video, *([from_json] if from_json else []))
    container_of(output)
    if segments_out:
        _check_output(segments_out, video, output, *([from_json] if from_json else []))
        if segments_out.resolve() == output.resolve():
            raise UsageError(f"{segments_out}: --segments-out is the output video")
        segments_format(segments_out)
    encoder = _encoder(codec, crf, preset, output) if mode == "exact" else None
    options = CutOptions(keep=_label_list(keep), drop=_label_list(drop),
                         drop_nonsexual=drop_nonsexual, threshold=threshold,
                         nonsexual=_label_list(nonsexual), min_segment=min_segment,
                         max_gap=max_gap, margin=margin)
    info = probe(video)
    result = _analysis_for(video, from_json, analysis, info)
    check_labels(options, result.labels)
    plan = plan_cut(result, options, duration=info.duration)
    if plan.nothing_kept:
        raise NothingToKeep(f"{video}: nothing to keep ({plan.why_nothing()}); nothing written")
    spans = [Span(0.0, info.duration)] if plan.everything_kept else [r.span for r in plan.ranges]
    with _progress() as progress:
        cut = cut_video(info, spans, output, mode=mode, snap=snap, encoder=encoder,
                        progress=_Bars(progress))
    kept = regroup(plan.ranges, cut.spans)
    if segments_out:
        meta = VideoMeta(str(video), info.duration, float(info.fps), info.width, info.height)
        write_kept_segments(segments_out, result, meta, kept, plan.ranges,
                            {"output": str(output), "mode": cut.mode,
                             "snap": snap if cut.mode == "copy" else None})
    if not STATE.quiet:
        err.print(_kept_table(video, kept, plan.ranges, cut, info.duration))
    if plan.everything_kept or cut.mode == "whole":
        why = "no window is dropped" if plan.everything_kept else "cut points snapped to keyframes"
        how = "streams copied" if cut.mode == "whole" else "re-encoded"
        out.print(f"everything is kept ({why}): {output} is the whole video, {how}",
                  highlight=False, soft_wrap=True)
    out.print(f"wrote {output} ({cut.seconds:.1f} s of {info.duration:.1f} s kept, "
              f"{len(cut.spans)} segment{'s' if len(cut.spans) != 1 else ''})",
              highlight=False, soft_wrap=True)
    if segments_out:
        out.print(f"wrote {segments_out}", highlight=False, soft_wrap=True)


@app.command()
def train(
    stream: Annotated[str, typer.Argument(help="rgb, skeleton, audio, or fusion (fit the late-fusion weights).")],
    dataset: Annotated[Path, typer.Argument(help="A dataset folder made by phar prepare-data.")],
    config: Annotated[Optional[Path], typer.Option(help="mmaction2 config (default: the stream's shipped seed config).")] = None,
    small: Annotated[bool, typer.Option(help="Use the stream's small config (*_small.py): CPU-sized.")] = False,
    work_dir: Annotated[Optional[Path], typer.Option(help=(
        "Where checkpoints, logs, metrics.json and training.png go (default work_dirs/STREAM). "
        "For fusion: the folder holding rgb/, skeleton/, audio/ (default work_dirs)."))] = None,
    resume: Annotated[bool, typer.Option(help="Resume from the last checkpoint in --work-dir.")] = False,
    load_from: Annotated[Optional[Path], typer.Option(help="Start from these weights (fine-tuning).")] = None,
    epochs: Annotated[Optional[int], typer.Option(min=1, help="Override the config's number of epochs.")] = None,
    topk: Annotated[int, typer.Option(min=1, max=5, help="fusion: the top-k accuracy to maximise.")] = 2,
    bundle_name: Annotated[Optional[str], typer.Option(help="fusion: the name of the bundle written.")] = None,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda or cuda:N.")] = "auto",
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
) -> None:
    """Train a stream's model on a prepared dataset, or fit the late-fusion weights (fusion)."""
    stream = stream.strip().lower()
    if stream == "fusion":
        _train_fusion(dataset, work_dir or Path("work_dirs"), topk, bundle_name, device)
        return
    from phar_cli.data.layout import DatasetLayout
    from phar_cli.train.runner import SMALL_CONFIGS, TRAINABLE, train_stream

    if stream not in TRAINABLE:
        raise UsageError(f"cannot train {stream!r}: choose rgb, skeleton, audio (or fusion)")
    if small and config:
        raise UsageError("give --config or --small, not both")
    DatasetLayout.open(dataset)  # a bad dataset is one line, before any progress bar
    with _progress() as progress:
        task = progress.add_task(f"Training {stream}", total=None)

        def report(phase: str, done: int, total: int, scalars: dict) -> None:
            if phase == "train":
                progress.update(task, completed=done, total=total,
                                description=f"Training {stream} (epoch {scalars.get('epoch')}, "
                                            f"loss {scalars.get('loss', float('nan')):.3f})")
            elif "acc/top1" in scalars:
                progress.console.print(f"epoch {done}/{total}: val top-1 {scalars['acc/top1']:.3f}")

        result = train_stream(stream, dataset, config=SMALL_CONFIGS[stream] if small else config,
                              work_dir=work_dir, resume=resume, device=device, load_from=load_from,
                              max_epochs=epochs, seed=seed, progress=report)
    m = result.metrics
    table = Table(title=f"{stream}: validation ({m['val_clips']} clips)")
    for col in ("top-1", "top-2", "top-3", "mean class acc"):
        table.add_column(col, justify="right")
    fmt = lambda v: "-" if v is None else f"{v:.3f}"  # noqa: E731
    table.add_row(fmt(m.get("top1")), fmt(m.get("top2")), fmt(m.get("top3")),
                  fmt(m.get("mean_class_accuracy")))
    out.print(table)
    out.print(f"wrote {result.checkpoint} (use: phar timestamps --{stream}-checkpoint "
              f"{result.checkpoint} --{stream}-config {result.config}), "
              f"{result.work_dir / 'metrics.json'}, {result.plot or '(no plot)'}")


def _train_fusion(dataset: Path, models_dir: Path, topk: int, bundle_name: str | None,
                  device: str) -> None:
    from phar_cli.core.engine import Engine, EngineOptions, ModelFiles
    from phar_cli.data.layout import DatasetLayout
    from phar_cli.models.bundle import ModelOverrides, resolve_files, write_bundle
    from phar_cli.train.fusion import collect_scores, evaluate, fit_weights, write_fusion

    layout = DatasetLayout.open(dataset)
    trained = {}
    for stream in ("rgb", "skeleton", "audio"):
        metrics = models_dir / stream / "metrics.json"
        if metrics.is_file():
            import orjson

            m = orjson.loads(metrics.read_bytes())
            trained[stream] = ModelFiles(Path(m["config"]), Path(m["checkpoint"]),
                                         layout.label_path(stream))
    if "rgb" not in trained:
        raise UsageError(f"{models_dir}: no trained rgb model (run phar train rgb first; fusion "
                         "fits weights around the RGB stream)")
    streams = tuple(trained)
    pose_backend = layout.manifest.get("pose_backend", "mmpose")
    models = dict(trained)
    if "skeleton" in streams and pose_backend == "mmpose":
        models.update(resolve_files(["det", "pose"], ModelOverrides()))
    engine = Engine(EngineOptions(models=models, streams=streams, device=device,
                                  pose_backend=pose_backend))
    with _progress() as progress:
        data = collect_scores(engine, layout, progress=_Bars(progress))
    weights, best = fit_weights(data, topk)
    table_data = evaluate(data, weights)
    fusion_path = models_dir / "fusion.json"
    write_fusion(fusion_path, weights, topk, table_data, data, engine.options.gates)
    name = bundle_name or f"phar bundle trained on {layout.root.name}"
    bundle_path = write_bundle(models_dir, name, trained, pose_backend, fusion_path)
    table = Table(title=f"{name}: late fusion on {len(data.truth)} validation clips "
                        f"(fitted weights {', '.join(f'{k}={v:g}' for k, v in weights.items())})")
    table.add_column("model")
    for k in (1, 2, 3):
        table.add_column(f"top-{k}", justify="right")
    for row, acc in table_data.items():
        table.add_row(row, *(f"{acc[f'top{k}']:.3f}" for k in (1, 2, 3)))
    out.print(table)
    out.print(f"wrote {fusion_path} and {bundle_path} (use: phar timestamps VIDEO --bundle {models_dir})")


@app.command(name="prepare-data")
def prepare_data(
    videos: Annotated[Path, typer.Argument(help="Folder of videos.")],
    annotations: Annotated[Path, typer.Argument(help="VIA 3 project JSON, a VIA CSV or a folder of them (one per video), or a plain CSV video,start,end,label.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Dataset folder to write.")] = Path("dataset"),
    clip_len: Annotated[float, typer.Option(help="Clip length in seconds (the seed's models saw 7 s).")] = 7.0,
    overlap: Annotated[float, typer.Option(help="Seconds consecutive clips overlap.")] = 0.0,
    val_ratio: Annotated[float, typer.Option(help="Share of videos in the validation split.")] = 0.2,
    seed: Annotated[int, typer.Option(help="Seed of the split by video.")] = 0,
    label_maps: Annotated[Optional[str], typer.Option(help="'rgb=FILE,skeleton=FILE,audio=FILE' or three files (default: the seed's maps).")] = None,
    pose_backend: Annotated[str, typer.Option(help="mmpose (Faster R-CNN + HRNet, as inference) or markers (synthetic media).")] = "mmpose",
    pose_score_thr: Annotated[float, typer.Option(help="A frame's pose is good when its person's mean keypoint score reaches this.")] = 0.4,
    pose_frame_rate: Annotated[float, typer.Option(help="Share of good frames a clip needs to enter the skeleton dataset.")] = 0.4,
    audio_prune: Annotated[float, typer.Option(help="Share of the quietest audio clips dropped.")] = 0.2,
    det_score_thr: Annotated[float, typer.Option(help="Person detection score threshold.")] = 0.5,
    det_config: Annotated[Optional[Path], typer.Option(help="Person detector config.")] = None,
    det_checkpoint: Annotated[Optional[Path], typer.Option(help="Person detector checkpoint.")] = None,
    pose_config: Annotated[Optional[Path], typer.Option(help="Pose model config.")] = None,
    pose_checkpoint: Annotated[Optional[Path], typer.Option(help="Pose model checkpoint.")] = None,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda or cuda:N (pose extraction).")] = "auto",
) -> None:
    """Turn annotated videos into RGB, skeleton and audio datasets for `phar train`."""
    from phar_cli.core.labels import DEFAULT_LABEL_FILES, read_label_map
    from phar_cli.data.prepare import PrepareOptions, prepare_dataset
    from phar_cli.data.report import distribution_table

    if pose_backend not in ("mmpose", "markers"):
        raise UsageError(f"--pose-backend {pose_backend!r}: use mmpose or markers")
    for name, value in (("--val-ratio", val_ratio), ("--audio-prune", audio_prune),
                        ("--pose-score-thr", pose_score_thr), ("--pose-frame-rate", pose_frame_rate)):
        if not 0.0 <= value <= 1.0:
            raise UsageError(f"{name} must be between 0 and 1 (got {value})")
    if not videos.is_dir():
        raise UsageError(f"{videos}: videos folder not found")
    files = {**{s: str(p) for s, p in DEFAULT_LABEL_FILES.items()}, **_parse_label_maps(label_maps)}
    labels = {s: read_label_map(p) for s, p in files.items()}
    options = PrepareOptions(labels=labels, clip_len=clip_len, overlap=overlap, val_ratio=val_ratio,
                             seed=seed, pose_score_thr=pose_score_thr,
                             pose_frame_rate=pose_frame_rate, audio_prune=audio_prune,
                             pose_backend=pose_backend)

    def estimator() -> Any:
        from phar_cli.core.engine import resolve_device

        if pose_backend == "markers":
            from phar_cli.models.markers import MarkerPoseEstimator

            return MarkerPoseEstimator()
        from phar_cli.models.bundle import ModelOverrides, resolve_files
        from phar_cli.models.poses import PoseEstimator

        files = resolve_files(["det", "pose"], ModelOverrides(
            configs={"det": det_config, "pose": pose_config},
            checkpoints={"det": det_checkpoint, "pose": pose_checkpoint}))
        return PoseEstimator(files["det"].config, files["det"].checkpoint, files["pose"].config,
                             files["pose"].checkpoint, resolve_device(device),
                             det_score_thr=det_score_thr)

    with _progress() as progress:
        result = prepare_dataset(videos, annotations, output, options, estimator,
                                 progress=_Bars(progress))
    if result.problems:
        table = Table(title=f"{len(result.problems)} annotation problems (the rest was used)")
        for col in ("where", "problem", "detail"):
            table.add_column(col, overflow="fold")
        for p in result.problems:
            table.add_row(p.source, p.kind, p.detail)
        err.print(table)
    out.print(distribution_table(result.stats))
    out.print(f"wrote {result.layout.root} (dataset.json, report.png)")


# -- phar batch -------------------------------------------------------------------------------

@app.command()
@with_analysis_options
def batch(
    input: Annotated[Optional[Path], typer.Argument(help=(
        "A folder of videos (searched recursively) or a manifest: one path a line, or a CSV with "
        "a 'path' column (relative paths are read against the manifest's folder)."))] = None,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help=(
        "Output folder: each video's files mirror the input tree; the catalog "
        "(phar-catalog.sqlite) that makes reruns resume is kept here."))] = None,
    format: Annotated[str, typer.Option("--format", "-f", help=(
        "Formats written besides the predictions JSON, comma-separated: csv, srt, vtt, "
        "ffmetadata, edl."))] = "json",
    min_score: Annotated[float, typer.Option(help="Windows whose best fused score is lower are left out of segments.")] = 0.0,
    max_gap: Annotated[float, typer.Option(help="Join segments of one label across gaps up to this many seconds.")] = 0.0,
    tags: Annotated[bool, typer.Option("--tags", help="Also write VIDEO.tags.json (labels by seconds covered).")] = False,
    tags_topk: Annotated[int, typer.Option(min=1, help="How many tags in VIDEO.tags.json.")] = 3,
    filter_: Annotated[bool, typer.Option("--filter", help=(
        "Also write VIDEO.cuts.json: the parts a cut would keep (the cut itself: phar filter).")),
    ] = False,
    keep: Annotated[Optional[str], typer.Option(help="--filter: keep only these labels (comma-separated).")] = None,
    drop: Annotated[Optional[str], typer.Option(help="--filter: drop these labels (comma-separated).")] = None,
    threshold: Annotated[float, typer.Option(help="--filter: drop windows whose best fused score is lower.")] = 0.5,
    margin: Annotated[float, typer.Option(help="--filter: pad each kept part by this many seconds.")] = 0.0,
    min_segment: Annotated[float, typer.Option(help="--filter: drop kept parts shorter than this (s).")] = 0.0,
    executor: Annotated[str, typer.Option(help="local (a process pool on this machine) or ray.",
                                          rich_help_panel="Executor")] = "local",
    workers: Annotated[Optional[int], typer.Option(min=1, help=(
        "Worker processes (local) or model actors (ray), each with its own models (default: "
        "sized to the machine or the cluster)."), rich_help_panel="Executor")] = None,
    ray_address: Annotated[Optional[str], typer.Option(help=(
        "Ray cluster to run on ('auto', or the head's address); default: a local Ray for the run."),
        rich_help_panel="Executor")] = None,
    ray_gpus: Annotated[Optional[str], typer.Option(help=(
        "GPUs per actor: a number (0.5: two actors per GPU), or a share per stream "
        "'rgb=0.25,skeleton=0.5,audio=0.25' summed over --streams (default: 1 where the cluster "
        "has GPUs, else 0)."), rich_help_panel="Executor")] = None,
    ray_cpus: Annotated[Optional[str], typer.Option(help=(
        "CPUs per actor: a number, or a share per stream like --ray-gpus (default: 1)."),
        rich_help_panel="Executor")] = None,
    rehash: Annotated[bool, typer.Option(help=(
        "Hash the first and last MiB of every video, not only of those whose size or mtime moved."))] = False,
    report: Annotated[bool, typer.Option("--report", help=(
        "Print OUTDIR's summary from its catalog (done, failed with reasons, hours of video, "
        "throughput) and exit."))] = False,
    *,
    analysis: AnalysisArgs,
) -> None:
    """A whole video library: what `timestamps` writes, for every video, resumable (local or Ray)."""
    import dataclasses

    from phar_cli._cli.batch_view import BatchView, print_report, print_summary, stop_on_signals

    if output is None:
        raise UsageError("phar batch needs an output folder: -o OUTDIR")
    if report:
        from phar_cli.batch.report import read_report

        print_report(out, read_report(output))
        return
    if input is None:
        raise UsageError("phar batch needs INPUT: a folder of videos or a manifest")
    from phar_cli.batch.executors import make_executor, parse_resources
    from phar_cli.batch.inputs import find_inputs
    from phar_cli.batch.outputs import CutOptions, OutputOptions
    from phar_cli.batch.runner import BatchRunner
    from phar_cli.batch.worker import WorkerSetup
    from phar_cli.models.registry import PROJECT_ROOT, models_home

    split = lambda text: tuple(x.strip() for x in (text or "").split(",") if x.strip())  # noqa: E731
    cuts = (CutOptions(keep=split(keep), drop=split(drop), threshold=threshold, margin=margin,
                       min_segment=min_segment) if filter_ else None)
    outputs = OutputOptions(split(format.lower()) or ("json",), min_score, max_gap,
                            tags_topk if tags else None, cuts)
    inputs = find_inputs(input, exclude=output)
    if not inputs:
        raise PharError(f"{input}: no videos found (looked for .mp4, .mkv, .mov, .avi, .webm, ...)")
    # The driver checks every option and finds the model files before anything starts; on Ray the
    # device is each actor's to resolve (the driver may have no GPU).
    device = analysis.device
    if executor.strip().lower() == "ray":
        analysis = dataclasses.replace(analysis, device="cpu")
    engine = build_engine(analysis)
    if cuts is not None:
        from phar_cli.core.cutlist import check_labels

        check_labels(cuts, engine.analysis_labels)
    engine_options = dataclasses.replace(engine.options, device=device)
    setup = WorkerSetup(engine_options, project_root=str(PROJECT_ROOT), models_home=str(models_home()))
    streams = engine_options.streams
    pool = make_executor(executor, setup, workers=workers, ray_address=ray_address,
                         ray_cpus=parse_resources(ray_cpus, streams, "--ray-cpus"),
                         ray_gpus=parse_resources(ray_gpus, streams, "--ray-gpus"),
                         verbose=STATE.verbose)
    with BatchView(err, quiet=STATE.quiet, verbose=STATE.verbose) as view:
        runner = BatchRunner(engine_options, outputs, output, pool, rehash=rehash, on_event=view)
        with stop_on_signals(runner) as signals:
            summary = runner.run(inputs)
    print_summary(out, summary)
    if signals:
        raise typer.Exit(128 + signals[0])
    if summary.failed:
        raise typer.Exit(1)


# -- phar models ------------------------------------------------------------------------------

def _entries(names: list[str] | None) -> list[Any]:
    from phar_cli.models.registry import get_entry, load_manifest

    manifest = load_manifest()
    if not names or names == ["all"]:
        return list(manifest.values())
    return [get_entry(n, manifest) for n in names]


@models_app.command("list")
def models_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (with URLs) for machines.")] = False,
) -> None:
    """The bundle's model files, and whether each is present in $PHAR_HOME/models."""
    import orjson

    from phar_cli.models.registry import models_home

    home = models_home()
    rows = []
    for e in _entries(None):
        path = home / e.file
        rows.append({"name": e.name, "file": e.file, "present": path.is_file(),
                     "size": path.stat().st_size if path.is_file() else e.size,
                     "sha256": e.sha256, "sha256_prefix": e.sha256_prefix, "url": e.url,
                     "path": str(path)})
    if as_json:
        sys.stdout.write(orjson.dumps({"home": str(home), "models": rows}).decode() + "\n")
        return
    table = Table(title=f"phar model bundle ({home})")
    for col in ("name", "file", "present", "size", "sha256"):
        table.add_column(col, overflow="fold")
    for r in rows:
        digest = r["sha256"] or (f"{r['sha256_prefix']}… (prefix)" if r["sha256_prefix"]
                                 else "not published")
        table.add_row(r["name"], r["file"], "yes" if r["present"] else "no",
                      f"{r['size'] / 1e6:.1f} MB" if r["size"] else "?", digest)
    out.print(table)


@models_app.command("verify")
def models_verify(names: Annotated[Optional[list[str]], typer.Argument(help="Models to check (default: all).")] = None) -> None:
    """Which model files are present and sound (sha256 checked where one is published)."""
    from phar_cli.models.download import verify
    from phar_cli.models.registry import models_home

    home = models_home()
    bad = 0
    table = Table(title=f"phar models in {home}")
    for col in ("name", "file", "status", "detail"):
        table.add_column(col, overflow="fold")
    for e in _entries(names):
        result = verify(e, home)
        bad += not result.usable
        style = "green" if result.status == "ok" else "yellow" if result.usable else "red"
        table.add_row(e.name, e.file, f"[{style}]{result.status}[/]", result.message)
    out.print(table)
    if bad:
        raise typer.Exit(1)


@models_app.command("fetch")
def models_fetch(
    names: Annotated[Optional[list[str]], typer.Argument(help="Models to download (default: all).")] = None,
    force: Annotated[bool, typer.Option(help="Download again even if a sound copy is present.")] = False,
) -> None:
    """Download model files into $PHAR_HOME/models with progress, checking sha256, atomically."""
    from phar_cli.models.download import fetch
    from phar_cli.models.registry import models_home

    home = models_home()
    home.mkdir(parents=True, exist_ok=True)
    for e in _entries(names):
        with _progress(transfer=True) as progress:
            task = progress.add_task(f"{e.name} ({e.file})", total=e.size)
            result = fetch(e, home, force=force,
                           progress=lambda done, total: progress.update(task, completed=done, total=total))
        out.print(result.message)


# -- entry point ------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> None:
    """Console entry: one line per error, exit 1 (2 for usage, 130 on Ctrl-C)."""
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    try:
        code = app(args=argv, prog_name="phar", standalone_mode=False)
        sys.exit(code if isinstance(code, int) else 0)
    except Exit as ex:
        sys.exit(ex.exit_code)
    except TyperException as ex:  # usage errors of the vendored click
        if type(ex).__name__ == "NoArgsIsHelpError":
            ex.show()  # type: ignore[attr-defined]
            sys.exit(0)
        err.print("[red]error:[/] " + _escape(ex.format_message()) + " (see --help)",
                  highlight=False, soft_wrap=True)
        sys.exit(ex.exit_code)
    except (Abort, KeyboardInterrupt):
        err.print("Stopped.")
        sys.exit(130)
    except PharError as ex:
        if STATE.debug:
            raise
        err.print("[red]error:[/] " + _escape(str(ex)), highlight=False, soft_wrap=True)
        sys.exit(ex.exit_code)
    except Exception as ex:  # noqa: BLE001 - the last line of defence: one line, not a traceback
        if STATE.debug:
            raise
        err.print("[red]error:[/] " + _escape(f"internal error: {type(ex).__name__}: {ex} "
                                              "(run with --debug for the traceback)"),
                  highlight=False, soft_wrap=True)
        sys.exit(1)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(" ".join(text.split()))


if __name__ == "__main__":
    main()
