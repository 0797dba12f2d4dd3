"""`phar eval`: predictions measured against annotated truth (seconds, boundaries, segments)."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.table import Table

from phar_cli._cli.common import STATE, err, out
from phar_cli.errors import UsageError

_SIDECARS = (".tags.json", ".cuts.json")  # what `phar batch` writes beside each predictions file


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def predictions_files(path: Path) -> list[Path]:
    """A predictions JSON, or every one under a folder (`phar batch`'s sidecars left out)."""
    if path.is_dir():
        return sorted(p for p in path.rglob("*.json")
                      if not p.name.endswith(_SIDECARS) and not p.name.startswith("."))
    if not path.is_file():
        raise UsageError(f"{path}: no such predictions file or folder")
    return [path]


def _table(title: str, rows: list[tuple[str, Any]]) -> Table:
    table = Table(title=title, caption="right: share of the annotated seconds labelled right; "
                  "P, R, F1: segments; boundary error (s): mean, median and max over the "
                  "boundaries found, each to the nearest true one; missed: the largest of each "
                  "true one to the nearest found one")
    table.add_column("video", no_wrap=True)
    for col in ("right", "P", "R", "F1", "mean", "median", "max", "missed"):
        table.add_column(col, justify="right")
    for name, e in rows:
        seg, b, missed = e.segments, e.boundary_errors, e.missed_boundary_errors
        table.add_row(name, *map(_num, (e.labelled_right, seg.precision, seg.recall, seg.f1,
                                        b.mean, b.median, b.max, missed.max)))
    return table


def eval_(
    predictions: Annotated[Path, typer.Argument(help="A predictions JSON, or a folder of them (e.g. phar batch's output).")],
    annotations: Annotated[Path, typer.Argument(help="The truth: a plain CSV video,start,end,label, a VIA CSV (or a folder of them) or a VIA 3 project JSON.")],
    video: Annotated[Optional[str], typer.Option(help="The annotated video a single predictions file describes (default: matched by file name).")] = None,
    iou: Annotated[float, typer.Option(help="Segment IoU a detection needs to count (THUMOS/ActivityNet style).")] = 0.5,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines instead of tables.")] = False,
) -> None:
    """How right the predictions are: annotated seconds labelled right, per-class precision and
    recall per second, boundary errors, segment precision/recall/F1 at an IoU.

    Example: phar eval phar-out/ annotations.csv
    """
    import orjson

    from phar_cli.data.evaluation import evaluate_files

    result = evaluate_files(predictions_files(predictions), annotations, video=video, iou=iou)
    if as_json:
        sys.stdout.write(orjson.dumps(result.to_dict()).decode() + "\n")
        return
    rows = [(v.video, v.evaluation) for v in result.videos]
    if len(rows) > 1:
        rows.append(("all", result.overall))
    out.print(_table(f"{len(result.videos)} video(s) against {annotations.name} (IoU {iou:g})", rows))
    classes = Table(title="per class, per second")
    for col in ("label", "true s", "predicted s", "precision", "recall", "segments F1"):
        classes.add_column(col, justify="left" if col == "label" else "right")
    for label, c in result.overall.classes.items():
        classes.add_row(label, f"{c.seconds.truth:.1f}", f"{c.seconds.predicted:.1f}",
                        _pct(c.seconds.precision), _pct(c.seconds.recall), _pct(c.segments.f1))
    out.print(classes)
    for skipped in result.skipped:
        err.print(f"skipped {skipped}", highlight=False, soft_wrap=True)
    if result.unpredicted and STATE.verbose:
        err.print(f"annotated, no predictions: {', '.join(result.unpredicted)}", highlight=False)
