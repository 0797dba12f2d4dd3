"""The predictions JSON (the hub every other command reads) with the segments added."""
from __future__ import annotations

import orjson

from phar_cli.core.predictions import Analysis
from phar_cli.core.segments import Segment
from phar_cli.outputs.base import Writer


class JsonWriter(Writer):
    name = "json"
    extension = "json"

    def render(self, analysis: Analysis, segments: list[Segment]) -> bytes:
        data = analysis.to_dict()
        data["segments"] = [s.to_dict() for s in segments]
        return orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n"
