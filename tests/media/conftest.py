"""Synthetic videos shared by the media tests, made once per session (each well under a second)."""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from phar_cli.media.ffmpeg import run_ffmpeg
from phar_cli.synthetic.video import Scene, make_video


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def basic_video(media_dir) -> Path:
    """4 s, 30 fps, 160x120, a 1 kHz tone at -20 dBFS."""
    return make_video(media_dir / "basic.mp4", segments=[Scene(4, "blue", "left-right", 1000, -20)],
                      fps=30, size=(160, 120))


@pytest.fixture(scope="session")
def two_scene_video(media_dir) -> Path:
    """2 s red then 2 s green at 25 fps; the red part loud (-10 dB), the green part quiet (-30)."""
    return make_video(media_dir / "scenes.mkv", fps=25, size=(160, 120),
                      segments=[Scene(2, "red", "left-right", 1000, -10),
                                Scene(2, "green", "up-down", 1000, -30)])


@pytest.fixture(scope="session")
def silent_video(media_dir) -> Path:
    """No audio stream at all; NTSC rate."""
    return make_video(media_dir / "silent.mp4", 2, fps=Fraction(30000, 1001), size=(160, 120),
                      audio=False)


@pytest.fixture(scope="session")
def rotated_videos(media_dir) -> dict[int, Path]:
    """Display 160x96 (landscape) stored rotated; the white marker sits in the display top-left."""
    return {r: make_video(media_dir / f"rot{r}.mp4", 1, size=(160, 96), rotation=r, audio=False,
                          segments=None)
            for r in (90, 180, 270)}


@pytest.fixture(scope="session")
def audio_only_file(media_dir) -> Path:
    path = media_dir / "tone.m4a"
    run_ffmpeg(["-y", "-f", "lavfi", "-i", "sine=frequency=1000:duration=1", str(path)],
               "making an audio-only file")
    return path
