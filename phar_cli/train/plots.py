"""The training plot: loss per iteration and validation accuracy per epoch, from the scalars that
mmengine's LocalVisBackend writes (`<work_dir>/<run>/vis_data/scalars.json`)."""
from __future__ import annotations

import io
from pathlib import Path

import orjson

from phar_cli.atomic import atomic_write_bytes


def read_scalars(work_dir: Path) -> list[dict]:
    """The newest run's scalars (one JSON object a line); resumed runs append a new run folder."""
    runs = sorted(work_dir.glob("*/vis_data/scalars.json"), key=lambda p: p.stat().st_mtime)
    rows: list[dict] = []
    for path in runs:
        rows += [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]
    return rows


def plot_training(work_dir: Path, out: Path, title: str = "") -> Path | None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = read_scalars(work_dir)
    losses = [(r["iter"], r["loss"]) for r in rows if "loss" in r and "iter" in r]
    accs = [(r["step"], r[k]) for r in rows for k in ("acc/top1",) if k in r and "step" in r]
    if not losses:
        return None
    fig, ax = plt.subplots(1, 2, figsize=(10, 3.5))
    ax[0].plot(*zip(*losses), color="tab:blue")
    ax[0].set(title="training loss", xlabel="iteration", ylabel="loss")
    if accs:
        ax[1].plot(*zip(*accs), marker="o", color="tab:green")
        ax[1].set(title="validation top-1", xlabel="epoch", ylabel="accuracy", ylim=(0, 1.02))
    else:
        ax[1].set_axis_off()
    fig.suptitle(title)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    atomic_write_bytes(out, buf.getvalue())
    return out
