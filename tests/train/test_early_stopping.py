"""Early stopping in `phar train`: the best validation (top-1, then NLL) is kept, patience and the
time cap stop the run, and the state rides through a checkpoint into `--resume`. The hook is
driven by a scripted runner; one tiny real training checks that `<stream>.pth` is `best.pth`."""
from __future__ import annotations

import pickle
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import orjson
import pytest

from phar_cli.train import hooks
from phar_cli.train.hooks import PharEarlyStoppingHook, better


class ScriptedRunner:
    """What the hook touches of mmengine's Runner: the epoch, the loop's stop flag, checkpoints."""

    def __init__(self, hook: PharEarlyStoppingHook, work_dir: str = "/nowhere") -> None:
        self.hook, self.work_dir = hook, work_dir
        self.epoch = self.iter = 0
        self.train_loop = SimpleNamespace(stop_training=False, val_begin=1, val_interval=1)
        self.val_loop = None
        self.saved: list[tuple[str, int]] = []   # (filename, epoch of the weights)

    def save_checkpoint(self, out_dir, filename, meta=None, **_) -> None:
        checkpoint = {"meta": dict(meta or {})}
        self.hook.before_save_checkpoint(self, checkpoint)
        self.saved.append((filename, checkpoint["meta"]["epoch"]))

    def run(self, script: list[tuple[float, float]], max_epochs: int = 100) -> None:
        """Train epochs and validate each with the scripted (top-1, NLL), as EpochBasedTrainLoop."""
        self.hook.before_train(self)
        for top1, nll in script[:max_epochs]:
            if self.train_loop.stop_training:
                break
            self.epoch += 1
            self.iter += 3
            self.hook.after_train_epoch(self)
            self.hook.after_val_epoch(self, {"acc/top1": top1, "acc/nll": nll, "acc/top2": 1.0})
        self.hook.after_train(self)


def test_a_run_that_gets_worse_after_epoch_k_keeps_k_and_patience_stops_it():
    hook = PharEarlyStoppingHook(patience=3)
    runner = ScriptedRunner(hook)
    script = [(0.4, 1.2), (0.6, 1.0), (0.8, 0.7), (0.6, 0.9), (0.6, 1.1), (0.4, 1.3), (0.2, 2.0)]
    runner.run(script)
    assert hook.best["epoch"] == 3 and hook.best["metrics"]["acc/top2"] == 1.0
    assert runner.epoch == 6 and hook.stopped_because == "patience"  # 3 validations after the best
    assert [e for name, e in runner.saved if name == hooks.BEST_CHECKPOINT] == [1, 2, 3]
    assert [p["epoch"] for p in hook.curve] == [1, 2, 3, 4, 5, 6]


def test_equal_top1_is_ranked_by_nll_with_a_min_delta():
    hook = PharEarlyStoppingHook(patience=2)
    runner = ScriptedRunner(hook)
    # top-1 saturates at 1.0; the NLL goes on falling, then by less than the min delta
    runner.run([(1.0, 0.5), (1.0, 0.2), (1.0, 0.2 - hooks.MIN_NLL_DELTA / 2), (1.0, 0.3),
                (1.0, 0.1)])
    assert hook.best["epoch"] == 2 and hook.stopped_because == "patience" and runner.epoch == 4
    assert better({"top1": 0.8, "nll": 2.0}, {"top1": 0.6, "nll": 0.1})  # top-1 first
    assert not better({"top1": 0.6, "nll": None}, {"top1": 0.6, "nll": 0.5})


def test_without_patience_running_out_the_cap_stops_it():
    hook = PharEarlyStoppingHook(patience=10)
    runner = ScriptedRunner(hook)
    runner.run([(0.1 * i, 1.0) for i in range(1, 6)], max_epochs=5)
    assert hook.best["epoch"] == 5 and hook.stopped_because is None  # the runner says "max epochs"


def test_the_time_cap_stops_the_run(monkeypatch):
    clock = iter(range(0, 10_000, 40))  # each look at the clock: 40 s later
    monkeypatch.setattr(hooks.time, "monotonic", lambda: next(clock))
    hook = PharEarlyStoppingHook(patience=50, max_minutes=2)
    runner = ScriptedRunner(hook)
    runner.run([(0.1 + 0.01 * i, 1.0) for i in range(20)])
    assert hook.stopped_because == "time" and runner.epoch == 3   # 40, 80, 120 s: stop
    assert hook.best["epoch"] == 3  # the epoch under way is still validated


def test_the_state_survives_a_resume_and_load_from_starts_afresh():
    hook = PharEarlyStoppingHook(patience=3)
    runner = ScriptedRunner(hook)
    runner.run([(0.5, 1.0), (0.7, 0.8), (0.6, 0.9)])
    checkpoint = {"meta": {"epoch": 3, "iter": 9}}
    hook.before_save_checkpoint(runner, checkpoint)
    checkpoint = pickle.loads(pickle.dumps(checkpoint))  # plain data: torch's weights_only reads it

    fresh = PharEarlyStoppingHook(patience=3)  # --load-from: weights only, a new run
    fresh.after_load_checkpoint(runner, checkpoint)
    assert fresh.best is None and fresh.curve == []

    resumed = PharEarlyStoppingHook(patience=3, resume=True)
    resumed.after_load_checkpoint(runner, checkpoint)
    assert resumed.state() == hook.state() and resumed.since == 1 and resumed.best["epoch"] == 2
    again = ScriptedRunner(resumed)
    again.epoch, again.iter = 3, 9
    again.run([(0.6, 0.9), (0.6, 0.9)])  # two more without improvement: 3 since the best
    assert resumed.stopped_because == "patience" and again.epoch == 5
    assert resumed.best["epoch"] == 2


def test_a_checkpoint_saved_before_its_validation_is_validated_on_resume():
    hook = PharEarlyStoppingHook(patience=3)
    runner = ScriptedRunner(hook)
    runner.run([(0.5, 1.0), (0.7, 0.8)])
    checkpoint = {"meta": {"epoch": 3, "iter": 9}}  # epoch 3 was saved, then the run died
    hook.before_save_checkpoint(runner, checkpoint)
    resumed = PharEarlyStoppingHook(patience=3, resume=True)
    resumed.after_load_checkpoint(runner, checkpoint)
    validated = []
    again = ScriptedRunner(resumed)
    again.epoch = 3
    again.val_loop = SimpleNamespace(run=lambda: validated.append(again.epoch))
    resumed.before_train(again)
    assert validated == [3]


# -- one real training --------------------------------------------------------------------------

def _tiny_skeleton_dataset(root: Path, seed: int = 0) -> Path:
    """Two classes of 17 keypoints drifting left or right: a dataset.json, a label map and a
    skeleton.pkl, as `phar prepare-data` writes them."""
    rng = np.random.default_rng(seed)
    annotations, split = [], {"train": [], "val": []}
    for i in range(16):
        label, frames = i % 2, 16
        drift = np.linspace(0, 40, frames)[:, None] * (1 if label else -1)
        keypoint = 80 + rng.normal(0, 10, (1, 1, 17, 2)) + np.stack([drift, 0 * drift], -1)
        name = f"clip{i:02d}"
        annotations.append({"frame_dir": name, "label": label, "img_shape": (120, 160),
                            "original_shape": (120, 160), "total_frames": frames,
                            "keypoint": keypoint.astype(np.float32),
                            "keypoint_score": np.ones((1, frames, 17), np.float32)})
        split["val" if i >= 12 else "train"].append(name)
    (root / "labels").mkdir(parents=True)
    (root / "labels" / "skeleton.txt").write_text("gamma\ndelta\n")
    (root / "skeleton.pkl").write_bytes(pickle.dumps({"split": split, "annotations": annotations}))
    manifest = {"schema": "phar.dataset/1", "labels": {"skeleton": ["gamma", "delta"]},
                "streams": {"skeleton": {"train": 12, "val": 4}}}
    (root / "dataset.json").write_bytes(orjson.dumps(manifest))
    return root


def test_a_real_training_writes_the_best_checkpoint_and_the_report(tmp_path):
    import torch

    from phar_cli.train.runner import SMALL_CONFIGS, train_stream

    dataset = _tiny_skeleton_dataset(tmp_path / "dataset")
    work = tmp_path / "skeleton"
    result = train_stream("skeleton", dataset, config=SMALL_CONFIGS["skeleton"], work_dir=work,
                          device="cpu", max_epochs=4, patience=2, seed=0)
    m = orjson.loads((work / "metrics.json").read_bytes())
    assert m["stopped_because"] in ("patience", "max epochs") and m["patience"] == 2
    assert 1 <= m["best_epoch"] <= m["stopped_epoch"] <= 4
    assert [p["epoch"] for p in m["val_curve"]] == list(range(1, m["stopped_epoch"] + 1))
    best = next(p for p in m["val_curve"] if p["epoch"] == m["best_epoch"])
    assert m["top1"] == best["top1"] and m["nll"] == best["nll"]
    assert all(k in m for k in ("top1", "top2", "mean_class_accuracy"))
    final = torch.load(result.checkpoint, map_location="cpu")
    kept = torch.load(work / hooks.BEST_CHECKPOINT, map_location="cpu")
    assert final["meta"]["epoch"] == m["best_epoch"]
    for name, weights in kept["state_dict"].items():
        assert torch.equal(final["state_dict"][name], weights)
    assert (work / "training.png").read_bytes()[:4] == b"\x89PNG"


def test_bad_early_stopping_options_are_one_line(tmp_path):
    from phar_cli.errors import UsageError
    from phar_cli.train.runner import train_stream

    dataset = _tiny_skeleton_dataset(tmp_path / "dataset")
    with pytest.raises(UsageError, match="patience"):
        train_stream("skeleton", dataset, work_dir=tmp_path / "w", patience=0)


def test_patience_stops_nothing_before_min_epochs():
    hook = PharEarlyStoppingHook(patience=2, min_epochs=6)
    runner = ScriptedRunner(hook)
    runner.run([(0.5, 0.69)] * 5 + [(1.0, 0.3)] + [(1.0, 0.3)] * 5)  # at chance, then it learns
    assert hook.best["epoch"] == 6 and runner.epoch == 8 and hook.stopped_because == "patience"
