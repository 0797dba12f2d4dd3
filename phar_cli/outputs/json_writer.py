"""The predictions JSON (the hub every other command reads) with the segments and the profile
they make (`core/action_profile.py`) added."""
from __future__ import annotations

import orjson

from phar_cli.core.action_profile import profile_of
from phar_cli.core.predictions import Analysis
from phar_cli.core.segments import Segment
from phar_cli.outputs.base import Writer


class JsonWriter(Writer):
    name = "json"
    extension = "json"

    def render(self, analysis: Analysis, segments: list[Segment]) -> bytes:
        data = analysis.to_dict()
        data["segments"] = [s.to_dict() for s in segments]
        data["profile"] = profile_of(analysis, segments).to_dict()
        return orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n"
