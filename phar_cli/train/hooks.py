"""mmengine hooks of `phar train`: progress reported to a callback (the CLI draws a Rich bar), and
early stopping that keeps the best validation's weights."""
from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

from phar_cli.models.compat import import_openmmlab

import_openmmlab()

from mmengine.hooks import Hook  # noqa: E402
from mmengine.registry import HOOKS  # noqa: E402

TrainProgress = Callable[[str, int, int, dict], None]  # (phase, done, total, latest scalars)

BEST_CHECKPOINT = "best.pth"
MIN_NLL_DELTA = 0.005   # a validation NLL must drop this much to count as better at equal top-1
STATE_KEY = "phar_early_stopping"  # where the hook's state rides in a checkpoint's meta


@HOOKS.register_module(force=True)
class PharProgressHook(Hook):
    priority = "VERY_LOW"

    def __init__(self, callback: TrainProgress | None = None) -> None:
        self.callback = callback

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        if self.callback is None:
            return
        scalars = {k: float(v.detach()) for k, v in (outputs or {}).items() if hasattr(v, "detach")}
        scalars["epoch"] = runner.epoch + 1
        self.callback("train", runner.iter + 1, runner.max_iters, scalars)

    def after_val_epoch(self, runner, metrics=None) -> None:
        if self.callback is not None:
            self.callback("val", runner.epoch, runner.max_epochs, dict(metrics or {}))


def better(a: dict, b: dict | None, min_delta: float = MIN_NLL_DELTA) -> bool:
    """Is validation `a` better than `b`: higher top-1, or the same top-1 and an NLL lower by at
    least `min_delta` (tiny validation sets tie on top-1 a lot and reach 1.0 early)."""
    if b is None:
        return True
    if not math.isclose(a["top1"], b["top1"], abs_tol=1e-9):
        return a["top1"] > b["top1"]
    return a["nll"] is not None and (b["nll"] is None or a["nll"] < b["nll"] - min_delta)


@HOOKS.register_module(force=True)
class PharEarlyStoppingHook(Hook):
    """Saves `best.pth` at each validation better than the best so far (see `better`), stops
    training after `patience` validations without one (not before epoch `min_epochs`: a model
    from scratch may sit at chance for a while before it learns), or once `max_minutes` have
    passed.

    mmengine's CheckpointHook(save_best) and EarlyStoppingHook compare one scalar; on validation
    sets of 6-12 clips top-1 ties and saturates, so the ranking needs a second key (the NLL), and
    EarlyStoppingHook has no time cap. The state (the curve, the best, validations since) rides in
    every checkpoint's meta, so `--resume` goes on counting where the run stopped."""

    priority = "LOW"  # after the logger has seen the validation

    def __init__(self, patience: int, max_minutes: float | None = None, resume: bool = False,
                 min_delta: float = MIN_NLL_DELTA, min_epochs: int = 0) -> None:
        self.patience, self.max_minutes, self.min_delta = patience, max_minutes, min_delta
        self.min_epochs = min_epochs
        self.resume = resume
        self.curve: list[dict] = []        # per validation: epoch, top1, nll
        self.best: dict | None = None      # the best validation, with all its metrics
        self.since = 0                     # validations since the best
        self.stopped_because: str | None = None
        self._started = 0.0
        self._training = False
        self._unvalidated: int | None = None  # a resumed epoch whose validation came after its save

    def before_train(self, runner) -> None:
        self._started, self._training = time.monotonic(), True
        loop, epoch = runner.train_loop, self._unvalidated
        if epoch and runner.val_loop is not None and epoch >= loop.val_begin \
                and epoch % loop.val_interval == 0:
            runner.val_loop.run()  # checkpoints are saved before their epoch's validation

    def after_train(self, runner) -> None:
        self._training = False

    def after_train_epoch(self, runner) -> None:
        if self.max_minutes is not None and time.monotonic() - self._started >= self.max_minutes * 60:
            self._stop(runner, "time")  # the loop still validates this epoch

    def after_val_epoch(self, runner, metrics=None) -> None:
        if not self._training or not metrics or "acc/top1" not in metrics:
            return
        nll = metrics.get("acc/nll")
        point = {"epoch": int(runner.epoch), "top1": float(metrics["acc/top1"]),
                 "nll": None if nll is None else float(nll)}
        self.curve = [p for p in self.curve if p["epoch"] != point["epoch"]] + [point]
        if better(point, self.best, self.min_delta):
            self.best = {**point, "metrics": {k: float(v) for k, v in metrics.items()}}
            self.since = 0
            runner.save_checkpoint(runner.work_dir, BEST_CHECKPOINT, save_optimizer=False,
                                   save_param_scheduler=False,
                                   meta=dict(epoch=runner.epoch, iter=runner.iter))
        else:
            self.since += 1
            if self.since >= self.patience and runner.epoch >= self.min_epochs:
                self._stop(runner, "patience")

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint.setdefault("meta", {})[STATE_KEY] = self.state()

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        state = (checkpoint.get("meta") or {}).get(STATE_KEY)
        if not self.resume or state is None:  # --load-from starts a new run
            return
        self.curve, self.best, self.since = state["curve"], state["best"], int(state["since"])
        epoch = int(checkpoint["meta"].get("epoch", 0))
        self._unvalidated = epoch if all(p["epoch"] != epoch for p in self.curve) else None

    def state(self) -> dict[str, Any]:
        return {"curve": list(self.curve), "best": self.best, "since": self.since}

    def _stop(self, runner, why: str) -> None:
        runner.train_loop.stop_training = True
        self.stopped_because = self.stopped_because or why
