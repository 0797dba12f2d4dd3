"""Synthetic videos and hand-written predictions for the demo tests."""
from __future__ import annotations

from pathlib import Path

import pytest

from phar_cli.synthetic.video import Scene, make_video

from tests.mediacheck import hand_analysis

LABELS = ["doggy", "kissing", "blowjob", "other"]
TOPS = [("doggy", 0.8), ("kissing", 0.6), ("blowjob", 0.7)]


@pytest.fixture(scope="session")
def demo_media(tmp_path_factory) -> dict[str, Path]:
    """A 6 s clip with sound and a moving disc, and the same turned 90 degrees (stored sideways,
    tagged to be shown upright), each with a predictions JSON of three 2 s windows."""
    folder = tmp_path_factory.mktemp("demo-media")
    scenes = [Scene(2, "blue", "circle", 440, -12), Scene(2, "white", "left-right", 660, -12),
              Scene(2, "black", "up-down", 880, -12)]
    media = {"plain": make_video(folder / "plain.mp4", size=(160, 120), segments=scenes),
             "rotated": make_video(folder / "rotated.mp4", size=(160, 120), rotation=90,
                                   segments=scenes)}
    for name, path in list(media.items()):
        json_path = folder / f"{name}.json"
        json_path.write_bytes(hand_analysis(path, 6.0, TOPS, 2.0, LABELS,
                                            used=["rgb", "audio"]).to_json())
        media[f"{name}.json"] = json_path
    return media
