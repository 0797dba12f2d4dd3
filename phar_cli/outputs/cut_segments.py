"""The kept segments of a cut (`phar filter --segments-out`): json, csv or edl, by extension.

csv and edl reuse the timestamps writers (the EDL's record side then describes the cut file);
the json also records the planned times next to the ones actually cut, and the options.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson

from phar_cli.core.cutlist import KeptRange
from phar_cli.core.predictions import Analysis, VideoMeta
from phar_cli.errors import InvalidOption, UsageError
from phar_cli.outputs import get_writer
from phar_cli.atomic import atomic_write_bytes

SCHEMA = "phar.cut/1"
FORMATS = ("json", "csv", "edl")


def segments_format(path: str | Path) -> str:
    fmt = Path(path).suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise InvalidOption("segments_out", f"{path}: use a .json, .csv or .edl file")
    return fmt


def write_kept_segments(path: str | Path, analysis: Analysis, video: VideoMeta,
                        kept: list[KeptRange], planned: list[KeptRange],
                        info: dict[str, Any]) -> None:
    """`kept`: the segments as cut; `planned`: as decided before rounding/snapping."""
    fmt = segments_format(path)
    if fmt != "json":
        get_writer(fmt).write(replace(analysis, video=video), [k.segment() for k in kept], path)
        return
    data = {
        "schema": SCHEMA, "video": dict(vars(video)), **info,
        "kept_seconds": round(sum(k.span.duration for k in kept), 6),
        "segments": [_entry(k) for k in kept],
        "planned": [_entry(p) for p in planned],
    }
    atomic_write_bytes(path, orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n")


def _entry(r: KeptRange) -> dict[str, Any]:
    return {"start": round(r.span.start, 6), "end": round(r.span.end, 6), "labels": list(r.labels),
            "score": round(r.score, 6), "coverage": round(r.coverage, 6)}
