"""Reads the rows of a plain annotation CSV: a header naming at least `video,start,end,label` (any
order, more columns allowed); times in seconds or `[[HH:]MM:]SS(.fff)`."""
from __future__ import annotations

from pathlib import Path

from phar_cli.core.labels import canonical
from phar_cli.data.annotations.common import (Problem, _cells, _data_rows, _Record, _row_problem,
                                              _RowError, parse_time)

_PLAIN_COLUMNS = ("video", "start", "end", "label")


def _plain_rows(path: Path, lines: list[str], first: int, header: list[str]
                ) -> tuple[list[_Record], list[Problem]]:
    records: list[_Record] = []
    problems: list[Problem] = []
    for number, row in _data_rows(lines, first):
        source = f"{path}:{number}"
        try:
            cells = _cells(row, header, _PLAIN_COLUMNS)
            video = cells["video"].strip()
            if not video:
                raise _RowError("no video")
            try:
                start, end = parse_time(cells["start"]), parse_time(cells["end"])
            except ValueError as ex:
                raise _RowError(str(ex)) from None
            label = canonical(cells["label"])
            if not label:
                raise _RowError("no label")
        except _RowError as ex:
            problems.append(_row_problem(source, str(ex)))
            continue
        records.append(_Record(video, start, end, label, source))
    return records, problems
