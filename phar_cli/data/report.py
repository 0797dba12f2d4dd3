"""Class distribution of a prepared dataset: clips and minutes per class, train and val, per
stream; as numbers (for `dataset.json`) and a PNG bar chart (the CLI shows them as a table:
`phar_cli._cli.train.distribution_table`). matplotlib is imported only to draw the chart.
"""
from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from phar_cli.data.clips import Clip
from phar_cli.errors import PharError
from phar_cli.atomic import atomic_write_bytes

SPLITS = ("train", "val")


@dataclass(frozen=True)
class ClassCount:
    clips: int = 0
    seconds: float = 0.0

    @property
    def minutes(self) -> float:
        return self.seconds / 60

    def __add__(self, other: ClassCount) -> ClassCount:
        return ClassCount(self.clips + other.clips, self.seconds + other.seconds)


@dataclass(frozen=True)
class StreamStats:
    """One stream's counts; `labels` is the display order (the label map's, then any other)."""

    stream: str
    labels: tuple[str, ...]
    train: Mapping[str, ClassCount]
    val: Mapping[str, ClassCount]

    def split(self, name: str) -> Mapping[str, ClassCount]:
        return self.train if name == "train" else self.val

    def count(self, label: str, split: str | None = None) -> ClassCount:
        """The label's count on one split, or on both when `split` is None."""
        if split is not None:
            return self.split(split).get(label, ClassCount())
        return self.count(label, "train") + self.count(label, "val")

    def total(self, split: str | None = None) -> ClassCount:
        out = ClassCount()
        for label in self.labels:
            out = out + self.count(label, split)
        return out

    def to_dict(self, digits: int = 3) -> dict[str, Any]:
        """`{classes: {label: {train: {clips, seconds}, val: {...}}}, total: {...}}`."""
        def entry(c: ClassCount) -> dict[str, Any]:
            return {"clips": c.clips, "seconds": round(c.seconds, digits)}

        return {
            "classes": {label: {s: entry(self.count(label, s)) for s in SPLITS}
                        for label in self.labels},
            "total": {s: entry(self.total(s)) for s in SPLITS},
        }


def class_distribution(stream: str, train: Iterable[Clip], val: Iterable[Clip],
                       labels: Sequence[str] | None = None) -> StreamStats:
    """Count one stream's clips. Every label in `labels` gets a row, with zeros if it has no
    clip; a clip label outside `labels` is counted too, after them (sorted)."""
    counted: dict[str, dict[str, ClassCount]] = {}
    for name, clips in (("train", train), ("val", val)):
        per: dict[str, ClassCount] = {}
        for clip in clips:
            per[clip.label] = per.get(clip.label, ClassCount()) + ClassCount(1, clip.span.duration)
        counted[name] = per
    order = list(dict.fromkeys(labels or ()))
    seen = set(order)
    order += sorted({lab for per in counted.values() for lab in per} - seen)
    return StreamStats(stream, tuple(order), counted["train"], counted["val"])


def stream_list(stats: Mapping[str, StreamStats] | Iterable[StreamStats]) -> list[StreamStats]:
    return list(stats.values()) if isinstance(stats, Mapping) else list(stats)


def distribution_chart(stats: Mapping[str, StreamStats] | Iterable[StreamStats],
                       path: str | Path) -> None:
    """A PNG with two bar charts, clips and minutes per class: one bar per stream in each class's
    group, train solid with val stacked on it (hatched). Written atomically."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.patches import Patch
    except ImportError as ex:
        raise PharError("the class-distribution chart needs matplotlib "
                        "(pip install matplotlib)") from ex

    streams = stream_list(stats)
    classes = list(dict.fromkeys(label for s in streams for label in s.labels))
    width = 0.8 / max(1, len(streams))
    fig = Figure(figsize=(max(8.0, 0.7 * len(classes) + 2), 8), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(2, 1, sharex=True)
    colors = [f"C{i % 10}" for i in range(len(streams))]
    for ax, measure, unit in ((axes[0], "clips", "Clips"), (axes[1], "minutes", "Minutes")):
        for n, stream in enumerate(streams):
            xs = [i - 0.4 + width * (n + 0.5) for i, c in enumerate(classes) if c in stream.labels]
            mine = [c for c in classes if c in stream.labels]
            train = [getattr(stream.count(c, "train"), measure) for c in mine]
            val = [getattr(stream.count(c, "val"), measure) for c in mine]
            ax.bar(xs, train, width, color=colors[n], label=stream.stream)
            ax.bar(xs, val, width, bottom=train, color=colors[n], alpha=0.45, hatch="//",
                   edgecolor="white")
        ax.set_ylabel(unit)
        ax.set_title(f"{unit} per class")
        ax.grid(axis="y", alpha=0.3)
        ax.set_axisbelow(True)
        if not classes:
            ax.text(0.5, 0.5, "no clips", ha="center", va="center", transform=ax.transAxes)
    axes[1].set_xticks(range(len(classes)), classes, rotation=45, ha="right")
    handles = [Patch(color=colors[n], label=s.stream) for n, s in enumerate(streams)]
    handles.append(Patch(facecolor="lightgrey", hatch="//", edgecolor="white",
                         label="val (stacked on train)"))
    axes[0].legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.suptitle("Class distribution")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    atomic_write_bytes(path, buffer.getvalue())
