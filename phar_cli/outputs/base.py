"""The writer interface: one class per format, chosen by name (whisper's `get_writer` shape)."""
from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from phar_cli.core.predictions import Analysis
from phar_cli.core.segments import Segment
from phar_cli.atomic import atomic_write_bytes


class Writer:
    """Renders an analysis and its segments to bytes; `write` stores them atomically."""

    name: ClassVar[str]
    extension: ClassVar[str]  # without the dot

    def render(self, analysis: Analysis, segments: list[Segment]) -> bytes:
        raise NotImplementedError

    def write(self, analysis: Analysis, segments: list[Segment], path: str | Path) -> None:
        atomic_write_bytes(path, self.render(analysis, segments))
