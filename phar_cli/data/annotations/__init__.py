"""Annotated time ranges per label: read from what annotators write, checked against the videos.

Inputs `read_annotations` accepts (chosen by what the path is; `sources`):
- a VIA 3 project JSON: each metadata entry with `z = [start, end]` is a temporal segment
  (`via_project`);
- a folder of CSV files, searched recursively: the seed's input, one VIA CSV export per video,
  named after the video's base name (`sources`);
- one VIA CSV export, the `temporal_segments_csv` export too (`via_csv`);
- a plain CSV with a header naming at least `video,start,end,label` (`plain_csv`).

A label is the value of the segment's label attribute, an option id or free text (`via`); it is
stored in its canonical spelling ('_' and '-' are one label).

Nothing in the data is fatal: every row that cannot be used becomes a `Problem` and the rest is
kept. Only a file that cannot be read at all raises `AnnotationError`.

Checks, in this order (what happens to each: `checks`): malformed, empty, unknown-label,
missing-video, unreadable-video, out-of-range, overlapping. Videos are found by `videos`; the
records, row errors, time parsing and CSV row helpers the readers share are in `common`.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from phar_cli.core.labels import canonical
from phar_cli.defaults import VIDEO_EXTENSIONS
from phar_cli.errors import UsageError
from phar_cli.data.annotations.checks import RANGE_TOLERANCE, OverlapPolicy, _check
from phar_cli.data.annotations.common import (PROBLEM_KINDS, Annotation, AnnotationSet, Problem,
                                              parse_time)
from phar_cli.data.annotations.sources import _parse
from phar_cli.data.annotations.via import LABEL_ATTRIBUTE_NAMES, VIA_TEMPORAL_ANCHOR


def read_annotations(path: str | Path, videos_dir: str | Path | None, *,
                     labels: Iterable[str] | None = None,
                     duration_of: Callable[[Path], float] | None = None,
                     overlap: OverlapPolicy = "trim",
                     range_tolerance: float = RANGE_TOLERANCE,
                     label_attribute: str | None = None) -> AnnotationSet:
    """Read annotations from `path` and check them against the videos under `videos_dir`.

    `labels`: the label map (any spelling); None accepts every label. `duration_of(path)` gives a
    video's duration in seconds (phar's probe), called once per video; None (or no `videos_dir`)
    skips the range check. `label_attribute`
    names (or ids) the VIA attribute that holds the label when a segment carries several.
    Raises AnnotationError when a file cannot be read at all, UsageError when `videos_dir` is not
    a folder; everything else is reported in `AnnotationSet.problems`.
    """
    if overlap not in ("trim", "keep"):
        raise ValueError(f"overlap policy must be 'trim' or 'keep', not {overlap!r}")
    path = Path(path)
    records, problems, sources = _parse(path, label_attribute)
    videos_root = None
    if videos_dir is not None:
        videos_root = Path(videos_dir)
        if not videos_root.is_dir():
            raise UsageError(f"{videos_root}: videos folder not found")
    label_set = None if labels is None else {canonical(lab) for lab in labels}
    result = _check(records, problems, videos_root, label_set, duration_of, overlap,
                    range_tolerance)
    result.sources = sources
    return result


__all__ = ["LABEL_ATTRIBUTE_NAMES", "PROBLEM_KINDS", "RANGE_TOLERANCE", "VIA_TEMPORAL_ANCHOR",
           "VIDEO_EXTENSIONS", "Annotation", "AnnotationSet", "OverlapPolicy", "Problem",
           "parse_time", "read_annotations"]
