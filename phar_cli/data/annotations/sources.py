"""Which reader a path goes to: a `.json` file is a VIA 3 project; another file is a CSV, a VIA
export or a plain CSV as its header says; a folder is the seed's layout, its CSV files searched
recursively, one VIA CSV export per video, named after the video's base name (`12.csv` annotates
`12.mp4`). A CSV in a folder that cannot be read at all is reported (malformed, file skipped);
only a folder where none can be read raises."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from phar_cli.errors import AnnotationError
from phar_cli.data.annotations.common import Problem, _read_text, _Record, _split_row
from phar_cli.data.annotations.plain_csv import _PLAIN_COLUMNS, _plain_rows
from phar_cli.data.annotations.via import _attributes
from phar_cli.data.annotations.via_csv import _VIA_COLUMNS, _via_rows
from phar_cli.data.annotations.via_project import _parse_via_project


def _parse(path: Path, label_attribute: str | None
           ) -> tuple[list[_Record], list[Problem], list[Path]]:
    if path.is_dir():
        return _parse_folder(path, label_attribute)
    if not path.exists():
        raise AnnotationError(f"{path}: annotation file not found")
    if path.suffix.lower() == ".json":
        records, problems = _parse_via_project(path, label_attribute)
    else:
        records, problems = _parse_csv(path, label_attribute, video=None)
    return records, problems, [path]


def _parse_folder(folder: Path, label_attribute: str | None
                  ) -> tuple[list[_Record], list[Problem], list[Path]]:
    """The seed's layout: one CSV per video, named after the video's base name.

    A file that cannot be read is reported and skipped; only a folder where no CSV can be read
    raises.
    """
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() == ".csv" and p.is_file()
                   and not any(part.startswith(".") for part in p.relative_to(folder).parts))
    if not files:
        raise AnnotationError(f"{folder}: no CSV annotation files in this folder")
    records: list[_Record] = []
    problems: list[Problem] = []
    sources: list[Path] = []
    failures: list[AnnotationError] = []
    for file in files:
        rel = file.relative_to(folder)
        try:
            recs, probs = _parse_csv(file, label_attribute, video=rel.with_suffix("").as_posix())
        except AnnotationError as ex:
            failures.append(ex)
            problems.append(Problem("malformed", str(file),
                                    f"{_strip_prefix(ex, file)}; file skipped"))
            continue
        records += recs
        problems += probs
        sources.append(file)
    if not sources:
        raise AnnotationError(f"{folder}: no CSV file in this folder could be read "
                              f"(first: {failures[0]})")
    return records, problems, sources


def _strip_prefix(ex: Exception, file: Path) -> str:
    text = str(ex)
    prefix = f"{file}: "
    return text[len(prefix):] if text.startswith(prefix) else text


def _parse_csv(path: Path, label_attribute: str | None, video: str | None
               ) -> tuple[list[_Record], list[Problem]]:
    """A VIA CSV export or a plain `video,start,end,label` CSV. `video`: the video every row
    annotates (folder mode: the CSV's own name), else each row names its video."""
    lines = _read_text(path).splitlines()
    header: list[str] | None = None
    attributes: dict[str, dict[str, Any]] = {}
    first_data = None
    for number, line in enumerate(lines, 1):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            body = stripped.lstrip("#").strip()
            key, _, value = body.partition("=")
            key = key.strip().upper()
            if key == "CSV_HEADER":
                header = [c.strip().lower() for c in value.split(",") if c.strip()]
            elif key in ("ATTRIBUTE", "ATTRIBUTES"):
                try:
                    attributes = _attributes(json.loads(value))
                except json.JSONDecodeError:
                    pass  # only needed to turn option ids into names; rows say if it matters
            continue
        first_data = number
        break
    if first_data is None:
        if header is not None:
            return [], []  # a VIA export of a video without segments
        raise AnnotationError(f"{path}: empty CSV file")
    if header is None:
        header = [c.strip().lower() for c in _split_row(lines[first_data - 1])]
        first_data += 1
    if "temporal_coordinates" in header or "temporal_segment_start" in header:
        return _via_rows(path, lines, first_data, header, attributes, label_attribute, video)
    if all(c in header for c in _PLAIN_COLUMNS):
        return _plain_rows(path, lines, first_data, header)
    raise AnnotationError(
        f"{path}: neither a VIA CSV export (columns {','.join(_VIA_COLUMNS)}) nor a plain "
        f"annotation CSV (header {','.join(_PLAIN_COLUMNS)}); its columns are: "
        f"{','.join(header) or '(none)'}")
