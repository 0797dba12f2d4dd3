"""Reads the rows of a VIA 3 CSV export: `# ...` comment lines, then `metadata_id,file_list,flags,
temporal_coordinates,spatial_coordinates,metadata` rows; the `temporal_segments_csv` export, with
`temporal_segment_start,temporal_segment_end` columns, is read too. In the seed's folder layout
every row annotates the video the CSV is named after, and the name in `file_list` is tried only
when no video is named like the CSV."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from phar_cli.errors import AnnotationError
from phar_cli.data.annotations.common import (Problem, _cells, _data_rows, _Record, _row_problem,
                                              _RowError)
from phar_cli.data.annotations.via import _label, _Skip, _temporal

_VIA_COLUMNS = ("metadata_id", "file_list", "flags", "temporal_coordinates",
                "spatial_coordinates", "metadata")


def _via_rows(path: Path, lines: list[str], first: int, header: list[str],
              attributes: dict[str, dict[str, Any]], label_attribute: str | None,
              video: str | None) -> tuple[list[_Record], list[Problem]]:
    segments_export = "temporal_coordinates" not in header
    needed = ["file_list", "metadata"] + (
        ["temporal_segment_start", "temporal_segment_end"] if segments_export
        else ["temporal_coordinates"] + (["spatial_coordinates"] if "spatial_coordinates" in header
                                         else []))
    missing = [c for c in needed if c not in header and c != "file_list"]
    if missing:
        raise AnnotationError(f"{path}: VIA CSV export without column(s) {', '.join(missing)}")
    if "file_list" not in header and video is None:
        raise AnnotationError(f"{path}: VIA CSV export without a file_list column")
    needed = [c for c in needed if c in header]
    records: list[_Record] = []
    problems: list[Problem] = []
    for number, row in _data_rows(lines, first):
        source = f"{path}:{number}"
        try:
            cells = _cells(row, header, needed)
            named = _file_list(cells["file_list"]) if "file_list" in cells else None
            if segments_export:
                z: Any = [_json_number(cells["temporal_segment_start"]),
                          _json_number(cells["temporal_segment_end"])]
                xy: Any = []
            else:
                z = _json(cells["temporal_coordinates"], "temporal_coordinates")
                xy = _json(cells["spatial_coordinates"], "spatial_coordinates") \
                    if "spatial_coordinates" in cells else []
            start, end = _temporal(z, xy)
            label = _label(_json(cells["metadata"], "metadata"), attributes, label_attribute)
        except _Skip:
            continue
        except _RowError as ex:
            problems.append(_row_problem(source, str(ex)))
            continue
        if video is not None:
            parent = Path(video).parent.as_posix()
            records.append(_Record(video, start, end, label, source, fallback=named,
                                   near="" if parent == "." else parent))
        elif named:
            records.append(_Record(named, start, end, label, source))
        else:
            problems.append(_row_problem(source, "file_list names no video"))
    return records, problems


def _json(text: str, column: str) -> Any:
    try:
        return json.loads(text) if text.strip() else None
    except json.JSONDecodeError:
        raise _RowError(f"{column} is not valid JSON: {text!r}") from None


def _json_number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise _RowError(f"not a number: {text!r}") from None


def _file_list(text: str) -> str | None:
    value = _json(text, "file_list")
    if value is None or value == []:
        return None
    if isinstance(value, str):
        return value
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _RowError(f"file_list is not a list of file names: {text!r}")
    if len(value) != 1:
        raise _RowError(f"file_list names {len(value)} files, not one video")
    return value[0]
