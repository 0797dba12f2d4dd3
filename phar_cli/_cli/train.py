"""`phar prepare-data` and `phar train`: datasets from annotated videos, models from datasets."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.table import Table

from phar_cli.core.load import parse_label_maps
from phar_cli._cli.common import Bars, err, out, progress_bars
from phar_cli.core.fusion import FIT_RULE
from phar_cli.data.prepare import PrepareOptions
from phar_cli.data.report import ClassCount, StreamStats, stream_list
from phar_cli.defaults import DEFAULT_PATIENCE
from phar_cli.errors import UsageError

_PREPARE = PrepareOptions(labels={})


def distribution_table(stats: Mapping[str, StreamStats] | Iterable[StreamStats]) -> Table:
    """One row per stream and class (clips and minutes on train, val and both), a total row
    per stream."""
    table = Table(title="Class distribution")
    table.add_column("Stream")
    table.add_column("Class")
    for head in ("Train clips", "Train min", "Val clips", "Val min", "Clips", "Min"):
        table.add_column(head, justify="right")
    for n, stream in enumerate(stream_list(stats)):
        if n:
            table.add_section()
        for i, label in enumerate(stream.labels):
            table.add_row(stream.stream if i == 0 else "", label,
                          *_cells(stream.count(label, "train"), stream.count(label, "val")))
        table.add_row(stream.stream if not stream.labels else "", "total",
                      *_cells(stream.total("train"), stream.total("val")), style="bold")
    return table


def _cells(train: ClassCount, val: ClassCount) -> list[str]:
    both = train + val
    return [str(train.clips), f"{train.minutes:.1f}", str(val.clips), f"{val.minutes:.1f}",
            str(both.clips), f"{both.minutes:.1f}"]


def prepare_data(
    videos: Annotated[Path, typer.Argument(help="Folder of videos.")],
    annotations: Annotated[Path, typer.Argument(help="VIA 3 project JSON, a VIA CSV or a folder of them (one per video), or a plain CSV video,start,end,label.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Dataset folder to write.")] = Path("dataset"),
    clip_len: Annotated[float, typer.Option(help="Clip length in seconds (the seed's models saw 7 s).")] = _PREPARE.clip_len,
    overlap: Annotated[float, typer.Option(help="Seconds consecutive clips overlap.")] = _PREPARE.overlap,
    val_ratio: Annotated[float, typer.Option(help="Share of videos in the validation split.")] = _PREPARE.val_ratio,
    seed: Annotated[int, typer.Option(help="Seed of the split by video.")] = _PREPARE.seed,
    label_maps: Annotated[Optional[str], typer.Option(help="'rgb=FILE,skeleton=FILE,audio=FILE' or three files (default: the seed's maps).")] = None,
    pose_backend: Annotated[str, typer.Option("--pose-backend", "--pose-model", help=(
        "The front end poses come from, as analysis will see them: mmpose (faster-rcnn+hrnet, "
        "the seed's), rtmo-s, rtmo-m, rtmo-l, or markers (synthetic media)."))] = _PREPARE.pose_backend,
    pose_score_thr: Annotated[float, typer.Option(help="A frame's pose is good when its person's mean keypoint score reaches this.")] = _PREPARE.pose_score_thr,
    pose_frame_rate: Annotated[float, typer.Option(help="Share of good frames a clip needs to enter the skeleton dataset.")] = _PREPARE.pose_frame_rate,
    audio_prune: Annotated[float, typer.Option(help="Share of the quietest audio clips dropped.")] = _PREPARE.audio_prune,
    det_score_thr: Annotated[float, typer.Option(help="Person detection score threshold.")] = _PREPARE.det_score_thr,
    det_config: Annotated[Optional[Path], typer.Option(help="Person detector config.")] = None,
    det_checkpoint: Annotated[Optional[Path], typer.Option(help="Person detector checkpoint.")] = None,
    pose_config: Annotated[Optional[Path], typer.Option(help="Pose model config.")] = None,
    pose_checkpoint: Annotated[Optional[Path], typer.Option(help="Pose model checkpoint.")] = None,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda or cuda:N (pose extraction).")] = _PREPARE.device,
    background: Annotated[str, typer.Option(help=(
        "Label of the background class: clips of the time no annotation covers, so the models "
        "learn when nothing happens."), rich_help_panel="Background")] = _PREPARE.background,
    no_background: Annotated[bool, typer.Option("--no-background", help=(
        "No background clips (only the annotated actions)."), rich_help_panel="Background")] = False,
    background_ratio: Annotated[float, typer.Option(help=(
        "Background clips at most this many times the mean clips of an action class."),
        rich_help_panel="Background")] = _PREPARE.background_ratio,
    background_margin: Annotated[float, typer.Option(help=(
        "Seconds between a background clip and any annotation."),
        rich_help_panel="Background")] = _PREPARE.background_margin,
) -> None:
    """Turn annotated videos into RGB, skeleton and audio datasets for `phar train`.

    Example: phar prepare-data videos/ annotations.csv -o dataset
    """
    from phar_cli.core.labels import DEFAULT_LABEL_FILES, read_label_map
    from phar_cli.data.prepare import prepare_dataset
    from phar_cli.models.bundle import ModelOverrides

    files = {**{s: str(p) for s, p in DEFAULT_LABEL_FILES.items()}, **parse_label_maps(label_maps)}
    options = PrepareOptions(
        labels={s: read_label_map(p) for s, p in files.items()}, clip_len=clip_len,
        overlap=overlap, val_ratio=val_ratio, seed=seed, pose_score_thr=pose_score_thr,
        pose_frame_rate=pose_frame_rate, audio_prune=audio_prune, pose_backend=pose_backend,
        device=device, det_score_thr=det_score_thr,
        background=None if no_background else background, background_ratio=background_ratio,
        background_margin=background_margin,
        pose_models=ModelOverrides(configs={"det": det_config, "pose": pose_config},
                                   checkpoints={"det": det_checkpoint, "pose": pose_checkpoint}))
    with progress_bars() as progress:
        result = prepare_dataset(videos, annotations, output, options, progress=Bars(progress))
    if result.problems:
        table = Table(title=f"{len(result.problems)} annotation problems (the rest was used)")
        for col in ("where", "problem", "detail"):
            table.add_column(col, overflow="fold")
        for p in result.problems:
            table.add_row(p.source, p.kind, p.detail)
        err.print(table)
    out.print(distribution_table(result.stats))
    out.print(f"wrote {result.layout.root} (dataset.json, report.png)")


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
    epochs: Annotated[Optional[int], typer.Option("--max-epochs", "--epochs", min=1, help=(
        "The most epochs to train (default: the config's); training stops earlier when "
        "validation stops improving (--patience)."), rich_help_panel="Early stopping")] = None,
    patience: Annotated[Optional[int], typer.Option(min=1, help=(
        "Stop after this many validations without a better one (top-1, then a lower NLL); "
        f"default: the config's, else {DEFAULT_PATIENCE}. <stream>.pth is the best validation's "
        "weights."), rich_help_panel="Early stopping")] = None,
    val_interval: Annotated[Optional[int], typer.Option(min=1, help=(
        "Validate every this many epochs (default: the config's; 1 for --small)."),
        rich_help_panel="Early stopping")] = None,
    max_minutes: Annotated[Optional[float], typer.Option(min=0.01, help=(
        "Stop after this many minutes of training (the epoch under way finishes and is "
        "validated)."), rich_help_panel="Early stopping")] = None,
    topk: Annotated[int, typer.Option(min=1, max=5, help="fusion: the top-k accuracy to maximise.")] = 2,
    bundle_name: Annotated[Optional[str], typer.Option(help="fusion: the name of the bundle written.")] = None,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda or cuda:N.")] = "auto",
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    fusion_rule: Annotated[str, typer.Option(help=(
        "fusion: the rule the weights are fitted under and the bundle uses (nested, known or "
        "seed; all are reported)."))] = FIT_RULE,
    calibrate: Annotated[bool, typer.Option(help=(
        "fusion: fit a calibration (temperature scaling of each stream and of the fused scores)."))] = True,
) -> None:
    """Train a stream's model on a prepared dataset, or fit the late-fusion weights (fusion).

    Example: phar train rgb dataset --work-dir work_dirs/rgb
    """
    stream = stream.strip().lower()
    if stream == "fusion":
        _train_fusion(dataset, work_dir or Path("work_dirs"), topk, bundle_name, device, fusion_rule,
                      calibrate)
        return
    from phar_cli.data.layout import DatasetLayout
    from phar_cli.train.runner import SMALL_CONFIGS, TRAINABLE, train_stream

    if stream not in TRAINABLE:
        raise UsageError(f"cannot train {stream!r}: choose {', '.join(TRAINABLE)} (or fusion)")
    if small and config:
        raise UsageError("give --config or --small, not both")
    DatasetLayout.open(dataset)  # a bad dataset is one line, before any progress bar
    with progress_bars() as progress:
        task = progress.add_task(f"Training {stream}", total=None)

        def report(phase: str, done: int, total: int, scalars: dict) -> None:
            if phase == "train":
                progress.update(task, completed=done, total=total,
                                description=f"Training {stream} (epoch {scalars.get('epoch')}, "
                                            f"loss {scalars.get('loss', float('nan')):.3f})")
            elif "acc/top1" in scalars:
                nll = f", NLL {scalars['acc/nll']:.3f}" if "acc/nll" in scalars else ""
                progress.console.print(f"epoch {done}/{total}: val top-1 "
                                       f"{scalars['acc/top1']:.3f}{nll}")

        result = train_stream(stream, dataset, config=SMALL_CONFIGS[stream] if small else config,
                              work_dir=work_dir, resume=resume, device=device, load_from=load_from,
                              max_epochs=epochs, seed=seed, progress=report, patience=patience,
                              val_interval=val_interval, max_minutes=max_minutes)
    m = result.metrics
    best = f"best epoch {m['best_epoch']}, " if m.get("best_epoch") else ""
    table = Table(title=f"{stream}: validation ({m['val_clips']} clips; {best}stopped at epoch "
                        f"{m['stopped_epoch']}: {_why(m)})")
    for col in ("top-1", "top-2", "top-3", "mean class acc", "NLL"):
        table.add_column(col, justify="right")
    fmt = lambda v: "-" if v is None else f"{v:.3f}"  # noqa: E731
    table.add_row(fmt(m.get("top1")), fmt(m.get("top2")), fmt(m.get("top3")),
                  fmt(m.get("mean_class_accuracy")), fmt(m.get("nll")))
    out.print(table)
    out.print(f"wrote {result.checkpoint} (use: phar timestamps --{stream}-checkpoint "
              f"{result.checkpoint} --{stream}-config {result.config}), "
              f"{result.work_dir / 'metrics.json'}, {result.plot or '(no plot)'}")


def _why(m: dict) -> str:
    why = m["stopped_because"]
    if why == "patience":
        return f"no better validation in {m['patience']}"
    return f"{m['max_minutes']:g} minutes passed" if why == "time" else "the most epochs"


def _train_fusion(dataset: Path, models_dir: Path, topk: int, bundle_name: str | None,
                  device: str, rule: str, calibrate: bool) -> None:
    from phar_cli.train.fusion import train_fusion

    with progress_bars() as progress:
        done: Any = train_fusion(dataset, models_dir, topk=topk, bundle_name=bundle_name,
                                 device=device, rule=rule, calibrate=calibrate,
                                 progress=Bars(progress))
    weights = ", ".join(f"{k}={v:g}" for k, v in done.weights.items())
    table = Table(title=f"{done.name}: late fusion on {done.val_clips} validation clips "
                        f"({rule} rule, fitted weights {weights})")
    table.add_column("model")
    for k in (1, 2, 3):
        table.add_column(f"top-{k}", justify="right")
    table.add_column("top-1 on its own labels (clips)", justify="right")
    for row, acc in done.table.items():
        own = done.own_labels.get(row.removesuffix(" alone")) if row.endswith(" alone") else None
        table.add_row(row, *(f"{acc[f'top{k}']:.3f}" for k in (1, 2, 3)),
                      f"{own['top1']:.3f} ({own['clips']})" if own else "")
    out.print(table)
    if done.ece:
        ece = Table(title="calibration: expected calibration error on the validation clips")
        for col in ("scores", "before", "after"):
            ece.add_column(col, justify="left" if col == "scores" else "right")
        for name, row in done.ece.items():
            ece.add_row(name, f"{row['before']:.3f}", f"{row['after']:.3f}")
        out.print(ece)
    out.print(f"wrote {done.fusion_path} and {done.bundle_path} "
              f"(use: phar timestamps VIDEO --bundle {models_dir})")
