"""A video of six 2-second scenes, each its own colour and tone, with a keyframe every second,
and predictions JSONs written by hand that mark which 2-second windows to keep."""
from __future__ import annotations

from pathlib import Path

import pytest

from phar_cli.synthetic.video import Scene, make_video

from tests.mediacheck import hand_analysis

COLOURS = ["red", "green", "blue", "yellow", "cyan", "magenta"]
TONES = [300, 500, 700, 900, 1100, 1300]
LABELS = ["doggy", "kissing", "blowjob", "other"]
MARKS = {"K": ("doggy", 0.9), "B": ("blowjob", 0.8), "D": ("doggy", 0.2), "O": ("other", 0.9)}


@pytest.fixture(scope="session")
def scenes(tmp_path_factory) -> Path:
    """12 s, 160x120, 30 fps, GOP 30 (make_video's -g fps; ultrafast has no scene-cut keyframes)."""
    folder = tmp_path_factory.mktemp("filter-media")
    return make_video(folder / "scenes.mp4", size=(160, 120), fps=30, segments=[
        Scene(2, colour, "still", tone, -12) for colour, tone in zip(COLOURS, TONES)])


@pytest.fixture
def marked(scenes, tmp_path):
    """marked("KDKKDK") -> a predictions JSON whose window i (2 s) has mark i's top label."""
    def write(marks: str, name: str = "preds.json") -> Path:
        analysis = hand_analysis(scenes, 12.0, [MARKS[m] for m in marks], 2.0, LABELS)
        path = tmp_path / name
        path.write_bytes(analysis.to_json())
        return path
    return write


def expected_colours(seconds: list[tuple[float, float]], fps: int = 30) -> list[tuple[str, int]]:
    """The (colour, frames) runs of the scenes video cut to `seconds`."""
    from tests.mediacheck import runs

    frames = [COLOURS[i // (2 * fps)] for a, b in seconds
              for i in range(round(a * fps), round(b * fps))]
    return runs(frames)


def expected_tones(seconds: list[tuple[float, float]]) -> list[int]:
    """Each whole output second's tone, for cuts on whole seconds."""
    return [TONES[int(t) // 2] for a, b in seconds for t in range(int(a), int(b))]
