"""The training plot: loss per iteration from the scalars that mmengine's LocalVisBackend writes
(`<work_dir>/<run>/vis_data/scalars.json`), and the validation curve (top-1 and NLL per epoch,
the best epoch and where training stopped) from the run's summary."""
from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import orjson

from phar_cli.atomic import atomic_write_bytes


def read_scalars(work_dir: Path) -> list[dict]:
    """The newest run's scalars (one JSON object a line); resumed runs append a new run folder."""
    runs = sorted(work_dir.glob("*/vis_data/scalars.json"), key=lambda p: p.stat().st_mtime)
    rows: list[dict] = []
    for path in runs:
        rows += [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]
    return rows


def plot_training(work_dir: Path, out: Path, title: str = "",
                  summary: dict[str, Any] | None = None) -> Path | None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = read_scalars(work_dir)
    losses = [(r["iter"], r["loss"]) for r in rows if "loss" in r and "iter" in r]
    if not losses:
        return None
    summary = summary or {}
    curve = summary.get("val_curve") or [{"epoch": r["step"], "top1": r["acc/top1"], "nll": None}
                                         for r in rows if "acc/top1" in r and "step" in r]
    fig, ax = plt.subplots(1, 2, figsize=(10, 3.5))
    ax[0].plot(*zip(*losses), color="tab:blue")
    ax[0].set(title="training loss", xlabel="iteration", ylabel="loss")
    if curve:
        epochs = [p["epoch"] for p in curve]
        ax[1].plot(epochs, [p["top1"] for p in curve], marker="o", ms=3, color="tab:green",
                   label="top-1")
        ax[1].set(title="validation", xlabel="epoch", ylabel="top-1", ylim=(0, 1.02))
        nll = [(p["epoch"], p["nll"]) for p in curve if p["nll"] is not None]
        if nll:
            right = ax[1].twinx()
            right.plot(*zip(*nll), marker=".", ms=3, color="tab:red", label="NLL")
            right.set_ylabel("NLL (-log score of the true class)")
            right.set_ylim(bottom=0)
            ax[1].plot([], [], marker=".", color="tab:red", label="NLL")  # one legend for both
        best, stopped = summary.get("best_epoch"), summary.get("stopped_epoch")
        if best:
            ax[1].axvline(best, color="tab:purple", ls="--", label=f"best (epoch {best})")
        if stopped:
            why = summary.get("stopped_because", "")
            ax[1].axvline(stopped, color="grey", ls=":", label=f"stopped ({why}, epoch {stopped})")
        ax[1].legend(loc="lower left", fontsize=7)
    else:
        ax[1].set_axis_off()
    fig.suptitle(title)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    atomic_write_bytes(out, buf.getvalue())
    return out
