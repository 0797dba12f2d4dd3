"""`phar batch`: a whole video library, resumable, on a local pool or Ray."""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from phar_cli._cli.analysis_options import AnalysisArgs, build_options, with_analysis_options
from phar_cli._cli.common import STATE, err, out, split_list
from phar_cli.batch.outputs import CutOptions, OutputOptions
from phar_cli.errors import PharError, UsageError

_CUT = CutOptions()
_OUTPUTS = OutputOptions()


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
    min_score: Annotated[float, typer.Option(help="Windows whose best fused score is lower are left out of segments.")] = _OUTPUTS.min_score,
    max_gap: Annotated[float, typer.Option(help="Join segments of one label across gaps up to this many seconds.")] = _OUTPUTS.max_gap,
    background_segments: Annotated[bool, typer.Option(help="Also write segments of the background class (nothing happens).")] = False,
    tags: Annotated[bool, typer.Option("--tags", help="Also write VIDEO.tags.json (labels by seconds covered).")] = False,
    tags_topk: Annotated[int, typer.Option(min=1, help="How many tags in VIDEO.tags.json.")] = 3,
    filter_: Annotated[bool, typer.Option("--filter", help=(
        "Also write VIDEO.cuts.json: the parts a cut would keep (the cut itself: phar filter).")),
    ] = False,
    keep: Annotated[Optional[str], typer.Option(help="--filter: keep only these labels (comma-separated).")] = None,
    drop: Annotated[Optional[str], typer.Option(help="--filter: drop these labels (comma-separated).")] = None,
    threshold: Annotated[float, typer.Option(help="--filter: drop windows whose best fused score is lower.")] = _CUT.threshold,
    margin: Annotated[float, typer.Option(help="--filter: pad each kept part by this many seconds.")] = _CUT.margin,
    min_segment: Annotated[float, typer.Option(help="--filter: drop kept parts shorter than this (s).")] = _CUT.min_segment,
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
    stash: Annotated[Optional[str], typer.Option(help=(
        "Push each video to this Stash server as it finishes (see phar stash push; a rerun "
        "pushes only what is new or changed)."), rich_help_panel="Stash")] = None,
    stash_api_key_file: Annotated[Optional[Path], typer.Option(help=(
        "A file holding Stash's API key (default $PHAR_STASH_API_KEY)."),
        rich_help_panel="Stash")] = None,
    stash_settings: Annotated[Optional[Path], typer.Option(help=(
        "Per-label rules for Stash, a .csv or .toml file (README: Stash)."),
        rich_help_panel="Stash")] = None,
    stash_path_map: Annotated[Optional[list[str]], typer.Option(help=(
        "LOCAL=REMOTE: a folder here as the Stash server sees it (repeatable)."),
        rich_help_panel="Stash")] = None,
    *,
    analysis: AnalysisArgs,
) -> None:
    """A whole video library: what `timestamps` writes, for every video, resumable (local or Ray).

    Example: phar batch ~/videos -o ~/phar-out -f srt --tags
    """
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
    from phar_cli.batch.runner import BatchRunner
    from phar_cli.batch.worker import WorkerSetup
    from phar_cli.core.cutlist import check_labels
    from phar_cli.core.engine import Engine
    from phar_cli.models.registry import config_dir, models_home

    cuts = (CutOptions(keep=split_list(keep), drop=split_list(drop), threshold=threshold,
                       margin=margin, min_segment=min_segment) if filter_ else None)
    outputs = OutputOptions(split_list(format.lower()) or ("json",), min_score, max_gap,
                            tags_topk if tags else None, cuts, background_segments)
    inputs = find_inputs(input, exclude=output)
    if not inputs:
        raise PharError(f"{input}: no videos found (looked for .mp4, .mkv, .mov, .avi, .webm, ...)")
    # The driver checks every option and finds the model files before anything starts; on Ray the
    # device is each actor's to resolve (the driver may have no GPU), and each worker makes the
    # profile's presets for its own device (`for_device`).
    device = analysis.options["device"]
    if executor.strip().lower() == "ray":
        analysis = AnalysisArgs(analysis.bundle, {**analysis.options, "device": "cpu"})
    engine = Engine(build_options(analysis))  # checks the device and reads the label maps
    if cuts is not None:
        check_labels(cuts, engine.analysis_labels)
    engine_options = dataclasses.replace(engine.options, device=device)
    setup = WorkerSetup(engine_options, project_root=str(config_dir().parent),
                        models_home=str(models_home()))
    streams = engine_options.streams
    pool = make_executor(executor, setup, workers=workers, ray_address=ray_address,
                         ray_cpus=parse_resources(ray_cpus, streams, "ray_cpus"),
                         ray_gpus=parse_resources(ray_gpus, streams, "ray_gpus"),
                         verbose=STATE.verbose)
    pusher = _stash_pusher(stash, stash_api_key_file, stash_settings, stash_path_map)
    with BatchView(err, quiet=STATE.quiet, verbose=STATE.verbose) as view:
        runner = BatchRunner(engine_options, outputs, output, pool, rehash=rehash, on_event=view,
                             stash=pusher)
        with stop_on_signals(runner) as signals:
            summary = runner.run(inputs)
    print_summary(out, summary)
    if signals:
        raise typer.Exit(128 + signals[0])
    if summary.failed:
        raise typer.Exit(1)


def _stash_pusher(url: str | None, key_file: Path | None, settings: Path | None,
                  path_maps: list[str] | None) -> Any:
    """The Stash side of `--stash`, checked (server reachable, key accepted) before any video is
    analysed; None without `--stash`."""
    if url is None:
        if key_file or settings or path_maps:
            raise UsageError("--stash-api-key-file, --stash-settings and --stash-path-map need "
                             "--stash URL")
        return None
    from phar_cli.stash.api import StashApi
    from phar_cli.stash.client import StashClient, api_key
    from phar_cli.stash.paths import parse_path_maps
    from phar_cli.stash.push import BatchPusher, PushOptions
    from phar_cli.stash.settings import load_settings

    api = StashApi(StashClient(url, api_key(key_file)))
    api.end_seconds  # the first request: an unreachable server or a wrong key is one line now
    return BatchPusher(api, PushOptions(load_settings(settings), parse_path_maps(path_maps or [])))
