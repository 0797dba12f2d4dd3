"""`phar train rgb|skeleton|audio DATASET`: one stream trained through mmengine's Runner on a
dataset made by `phar prepare-data`, with the shipped configs. Validates every `val_interval`
epochs, keeps the best validation (top-1, then NLL) in `best.pth` and stops after `patience`
validations without a better one, at `max_epochs` or after `max_minutes`. Writes, in the work dir,
mmengine's checkpoints, `<stream>.pth` (the best weights, loadable by `phar timestamps
--<stream>-checkpoint`), `metrics.json` (top-1..top-5 and mean class accuracy of the best
checkpoint on the validation split, its epoch, why training stopped and the validation curve) and
`training.png` (loss, and the validation curve with the best epoch)."""
from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from phar_cli.data.layout import DatasetLayout
from phar_cli.defaults import DEFAULT_PATIENCE, STREAMS
from phar_cli.errors import PharError, UsageError
from phar_cli.models.registry import config_dir
from phar_cli.atomic import atomic_write_bytes

log = logging.getLogger("phar")

TRAINABLE = STREAMS
DEFAULT_CONFIGS = {
    "rgb": config_dir() / "rgb/timesformer.py",
    "skeleton": config_dir() / "skeleton/posec3d.py",
    "audio": config_dir() / "audio/resnet101_audio.py",
}
SMALL_CONFIGS = {
    "rgb": config_dir() / "rgb/timesformer_small.py",
    "skeleton": config_dir() / "skeleton/posec3d_small.py",
    "audio": config_dir() / "audio/resnet_audio_small.py",
}
TOPK = (1, 2, 3, 4, 5)


class TrainingError(PharError):
    """A dataset or config that cannot be trained on."""


@dataclass
class TrainResult:
    stream: str
    work_dir: Path
    checkpoint: Path
    config: Path
    metrics: dict[str, Any] = field(default_factory=dict)
    plot: Path | None = None


def train_stream(stream: str, dataset: str | Path, *, config: str | Path | None = None,
                 work_dir: str | Path | None = None, resume: bool = False, device: str = "auto",
                 load_from: str | Path | None = None, max_epochs: int | None = None,
                 seed: int = 0, progress: Any = None, patience: int | None = None,
                 val_interval: int | None = None, max_minutes: float | None = None) -> TrainResult:
    """`patience` (validations without improvement) defaults to the config's `early_stopping`
    (which may also set `min_epochs`, before which patience stops nothing), else
    DEFAULT_PATIENCE; `max_epochs` and `val_interval` to its `train_cfg`; no time cap."""
    if stream not in TRAINABLE:
        raise UsageError(f"cannot train {stream!r}: choose rgb, skeleton, audio (or fusion)")
    for name, value in (("max_epochs", max_epochs), ("patience", patience),
                        ("val_interval", val_interval), ("max_minutes", max_minutes)):
        if value is not None and value <= 0:
            raise UsageError(f"{name} must be positive, not {value}")
    layout = DatasetLayout.open(dataset)
    config = Path(config) if config else DEFAULT_CONFIGS[stream]
    work_dir = Path(work_dir) if work_dir else Path("work_dirs") / stream
    train_n, val_n = layout.clip_counts(stream)
    if train_n == 0:
        raise TrainingError(f"{layout.root}: no {stream} training clips in this dataset")
    _select_device(device)

    from phar_cli.models.recognizer import load_config
    from phar_cli.train import datasets, hooks, metrics  # noqa: F401  (registers phar's classes)

    cfg = load_config(config)
    labels = layout.labels(stream)
    cfg.model.cls_head.num_classes = len(labels)
    _point_at_dataset(cfg, stream, layout, has_val=val_n > 0)
    if max_epochs:
        cfg.train_cfg.max_epochs = max_epochs
    if val_interval:
        cfg.train_cfg.val_interval = val_interval
    early = cfg.get("early_stopping", {})
    if patience is None:
        patience = int(early.get("patience", DEFAULT_PATIENCE))
    if val_n and cfg.val_evaluator.get("type") == "AccMetric":
        cfg.val_evaluator.type = "PharAccMetric"  # adds the NLL that breaks top-1 ties
    _runtime(cfg, work_dir, resume=resume, load_from=load_from, seed=seed, has_val=val_n > 0)

    from mmengine.runner import Runner

    from phar_cli.models.safe_load import allow_in_this_process

    # --resume and --load-from read checkpoints through mmengine's own torch.load (weights_only
    # by default): it may read what phar's loader reads (numpy and message-hub data), no more.
    allow_in_this_process()
    work_dir.mkdir(parents=True, exist_ok=True)
    try:
        runner = Runner.from_cfg(cfg)
    except Exception as ex:  # noqa: BLE001 - mmengine raises many kinds for a bad config
        raise TrainingError(f"{config}: cannot set up training ({type(ex).__name__}: {ex})") from ex
    runner.register_hook(hooks.PharProgressHook(progress))
    stopper = hooks.PharEarlyStoppingHook(patience, max_minutes, resume=resume,
                                          min_epochs=int(early.get("min_epochs", 0)))
    runner.register_hook(stopper)
    runner.train()
    checkpoint = work_dir / f"{stream}.pth"
    best = stopper.best
    if best is not None:
        metrics = _round(best["metrics"])
        _copy(work_dir / hooks.BEST_CHECKPOINT, checkpoint)
    else:  # no validation split, or a finished run resumed from a checkpoint without the state
        metrics = _round(runner.val()) if val_n else {}
        _copy(_last_checkpoint(work_dir), checkpoint)
    summary = {
        "stream": stream, "config": str(config), "checkpoint": str(checkpoint),
        "labels": labels, "train_clips": train_n, "val_clips": val_n,
        "epochs": int(cfg.train_cfg.max_epochs),
        **{f"top{k}": metrics.get(f"acc/top{k}") for k in TOPK if f"acc/top{k}" in metrics},
        "mean_class_accuracy": metrics.get("acc/mean1"),
        "nll": metrics.get("acc/nll"),
        "best_epoch": best["epoch"] if best else None,
        "stopped_epoch": int(runner.train_loop.epoch),
        "stopped_because": stopper.stopped_because or "max epochs",
        "patience": patience, "val_interval": int(cfg.train_cfg.get("val_interval", 1)),
        "max_minutes": max_minutes,
        "val_curve": [{**p, "nll": None if p["nll"] is None else round(p["nll"], 4)}
                      for p in stopper.curve],
    }
    atomic_write_bytes(work_dir / "metrics.json", orjson.dumps(summary, option=orjson.OPT_INDENT_2))
    from phar_cli.train.plots import plot_training

    plot = plot_training(work_dir, work_dir / "training.png", title=f"{stream} ({config.name})",
                         summary=summary)
    return TrainResult(stream, work_dir, checkpoint, config, summary, plot)


def _select_device(device: str) -> None:
    """mmengine's Runner puts the model on CUDA whenever torch sees a GPU; steer it."""
    device = device.strip().lower()
    if device == "cpu":
        os.environ["CUDA_VISIBLE_DEVICES"] = ""  # before torch initialises CUDA
        return
    from phar_cli.models.devices import resolve_device

    resolved = resolve_device(device)
    if resolved.startswith("cuda:"):
        import torch

        torch.cuda.set_device(int(resolved.split(":")[1]))


def _point_at_dataset(cfg: Any, stream: str, layout: DatasetLayout, has_val: bool) -> None:
    train, val = cfg.train_dataloader.dataset, cfg.val_dataloader.dataset
    if stream == "rgb":
        train.ann_file, val.ann_file = str(layout.rgb_list("train")), str(layout.rgb_list("val"))
    elif stream == "skeleton":
        train.ann_file = val.ann_file = str(layout.skeleton_pickle)
        train.split, val.split = "train", "val"
    else:
        train.ann_file, val.ann_file = str(layout.audio_list("train")), str(layout.audio_list("val"))
        train.data_prefix = val.data_prefix = dict(audio=str(layout.audio_dir))
    if not has_val:
        cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None


def _runtime(cfg: Any, work_dir: Path, *, resume: bool, load_from: Any, seed: int,
             has_val: bool) -> None:
    cfg.work_dir = str(work_dir)
    cfg.default_scope = "mmaction"
    cfg.launcher = "none"
    cfg.resume = bool(resume)
    if load_from:
        cfg.load_from = str(load_from)
    cfg.randomness = dict(seed=seed, deterministic=False)
    cfg.log_level = "INFO" if log.isEnabledFor(logging.INFO) else "ERROR"
    cfg.env_cfg = dict(cudnn_benchmark=False, dist_cfg=dict(backend="nccl"),
                       mp_cfg=dict(mp_start_method="fork", opencv_num_threads=0))
    cfg.default_hooks = dict(
        runtime_info=dict(type="RuntimeInfoHook"),
        timer=dict(type="IterTimerHook"),
        logger=dict(type="LoggerHook", interval=20, ignore_last=False),
        param_scheduler=dict(type="ParamSchedulerHook"),
        # every epoch: a run that stops early resumes from where it stopped (best.pth is apart)
        checkpoint=dict(type="CheckpointHook", interval=1, max_keep_ckpts=1, save_last=True),
        sampler_seed=dict(type="DistSamplerSeedHook"),
    )
    cfg.log_processor = dict(type="LogProcessor", window_size=10, by_epoch=True)
    cfg.visualizer = dict(type="ActionVisualizer", vis_backends=[dict(type="LocalVisBackend")])
    if not has_val and "train_cfg" in cfg:
        cfg.train_cfg.pop("val_begin", None)
        cfg.train_cfg.pop("val_interval", None)


def _last_checkpoint(work_dir: Path) -> Path:
    pointer = work_dir / "last_checkpoint"
    if not pointer.is_file():
        raise TrainingError(f"{work_dir}: training wrote no checkpoint")
    return Path(pointer.read_text().strip())


def _copy(source: Path, target: Path) -> None:
    tmp = target.with_name(f".{target.name}.tmp")
    shutil.copyfile(source, tmp)
    os.replace(tmp, target)


def _round(metrics: dict[str, Any]) -> dict[str, float]:
    return {k: round(float(v), 4) for k, v in (metrics or {}).items()}
