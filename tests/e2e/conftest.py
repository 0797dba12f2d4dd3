"""Synthetic videos for the end-to-end tests (the model bundle is in tests/conftest.py)."""
from __future__ import annotations

from pathlib import Path

import pytest

from phar_cli.synthetic.video import Scene, make_video


@pytest.fixture(scope="session")
def videos(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("videos")
    size = (160, 120)
    return {
        # 30 s: loud tones for 14 s, then 16 s of silence (the audio gate's two sides)
        "loud_then_silent": make_video(folder / "loud_then_silent.mp4", size=size, segments=[
            Scene(7, "blue", "left-right", 1000, -12), Scene(7, "red", "circle", 500, -12),
            Scene(16, "green", "up-down", None)]),
        "loud9": make_video(folder / "loud9.mp4", size=size,
                            segments=[Scene(9, "yellow", "circle", 1000, -12)]),
        "no_audio": make_video(folder / "no_audio.mp4", 9, size=size, audio=False),
        "short": make_video(folder / "short.mp4", 1.5, size=size),
    }
