"""An mmengine hook that reports training progress to a callback (the CLI draws a Rich bar)."""
from __future__ import annotations

from collections.abc import Callable

from phar_cli.models.compat import import_openmmlab

import_openmmlab()

from mmengine.hooks import Hook  # noqa: E402
from mmengine.registry import HOOKS  # noqa: E402

TrainProgress = Callable[[str, int, int, dict], None]  # (phase, done, total, latest scalars)


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
