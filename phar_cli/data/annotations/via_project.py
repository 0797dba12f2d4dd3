"""Reads a VIA 3 project JSON (`project`, `attribute`, `file`, `view`, `metadata`): each metadata
entry with `z = [start, end]` is a temporal segment of the video its `vid` views (spatial regions
and whole-file attributes are passed over). VIA 2 projects are not supported."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from phar_cli.errors import AnnotationError
from phar_cli.data.annotations.common import Problem, _read_text, _Record, _row_problem, _RowError
from phar_cli.data.annotations.via import _attributes, _label, _Skip, _temporal


def _parse_via_project(path: Path, label_attribute: str | None
                       ) -> tuple[list[_Record], list[Problem]]:
    try:
        project = json.loads(_read_text(path))
    except json.JSONDecodeError as ex:
        raise AnnotationError(f"{path}: not JSON ({ex.msg} at line {ex.lineno})") from ex
    if not isinstance(project, dict) or not all(
            isinstance(project.get(key), dict) for key in ("metadata", "view", "file")):
        raise AnnotationError(f"{path}: not a VIA 3 project (needs 'metadata', 'view' and 'file' "
                              f"objects; VIA 2 projects are not supported)")
    attributes = _attributes(project.get("attribute"))
    views: dict[str, Any] = project["view"]
    files: dict[str, Any] = project["file"]
    records: list[_Record] = []
    problems: list[Problem] = []
    for mid, meta in project["metadata"].items():
        source = f"{path}: metadata {mid}"
        try:
            if not isinstance(meta, dict):
                raise _RowError("not an object")
            video = _view_file(str(meta.get("vid")), views, files)
            start, end = _temporal(meta.get("z"), meta.get("xy"))
            label = _label(meta.get("av"), attributes, label_attribute)
        except _Skip:
            continue
        except _RowError as ex:
            problems.append(_row_problem(source, str(ex)))
            continue
        records.append(_Record(video, start, end, label, source))
    return records, problems


def _view_file(vid: str, views: dict[str, Any], files: dict[str, Any]) -> str:
    view = views.get(vid)
    if not isinstance(view, dict) or not view.get("fid_list"):
        raise _RowError(f"view {vid!r} is not in the project")
    fids = view["fid_list"]
    if len(fids) != 1:
        raise _RowError(f"view {vid!r} shows {len(fids)} files, not one video")
    entry = files.get(str(fids[0]))
    if not isinstance(entry, dict) or not entry.get("fname"):
        raise _RowError(f"file {fids[0]!r} of view {vid!r} is not in the project")
    return str(entry["fname"])
