from __future__ import annotations

import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from phar_cli.media.audio import load_waveform
from phar_cli.media.decode import FrameReader
from phar_cli.media.probe import probe
from phar_cli.synthetic.video import COLORS, Scene, make_video

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "make_synthetic_video.py"


def _disc_centre(frame: np.ndarray, background) -> tuple[float, float]:
    """Centroid of the pixels far from the background colour (the marker corner excluded)."""
    diff = np.abs(frame.astype(int) - np.asarray(background)).sum(axis=2) > 150
    h, w = diff.shape
    diff[: h // 6, : w // 6] = False
    ys, xs = np.nonzero(diff)
    return float(xs.mean()), float(ys.mean())


def test_scenes_come_out_in_order_with_their_colours(two_scene_video):
    reader = FrameReader(two_scene_video, short_side=30)
    red, green = reader.frames([25, 75])
    assert np.abs(np.median(red.reshape(-1, 3), axis=0) - COLORS["red"]).max() < 30
    assert np.abs(np.median(green.reshape(-1, 3), axis=0) - COLORS["green"]).max() < 30


@pytest.mark.parametrize("motion, moves_x, moves_y", [
    ("left-right", True, False), ("up-down", False, True), ("circle", True, True),
    ("still", False, False),
])
def test_motion_patterns(tmp_path, motion, moves_x, moves_y):
    path = make_video(tmp_path / "m.mp4", segments=[Scene(1, "black", motion, None)], fps=10,
                      size=(160, 120), audio=False)
    frames = FrameReader(path).frames([0, 5])  # half a swing apart
    (x0, y0), (x1, y1) = (_disc_centre(f, COLORS["black"]) for f in frames)
    assert (abs(x1 - x0) > 20) is moves_x
    assert (abs(y1 - y0) > 20) is moves_y


@pytest.mark.parametrize("fps", [25, 60, Fraction(30000, 1001), "24000/1001", 12.5])
def test_frame_rates_are_exact(tmp_path, fps):
    info = probe(make_video(tmp_path / "r.mkv", 1, fps=fps, size=(64, 48), audio=False))
    assert info.fps == Fraction(fps)
    assert info.frame_count == round(Fraction(fps))


def test_duration_from_segments_and_audio_length(tmp_path):
    path = make_video(tmp_path / "s.mp4", segments=[Scene(1.5), Scene(1.0, "red")],
                      size=(64, 48))
    info = probe(path)
    assert info.duration == pytest.approx(2.5, abs=0.05)
    assert info.has_audio


def test_same_seed_same_media(tmp_path):
    scene = [Scene(1, "cyan", "circle", 300, -20, noise_db=-30)]
    a, b, c = (make_video(tmp_path / f"{name}.mp4", segments=scene, size=(64, 48), seed=seed)
               for name, seed in (("a", 3), ("b", 3), ("c", 4)))
    assert np.array_equal(FrameReader(a).frames([0, 9]), FrameReader(b).frames([0, 9]))
    assert np.array_equal(load_waveform(a), load_waveform(b))
    assert not np.array_equal(load_waveform(a), load_waveform(c))  # the noise follows the seed


@pytest.mark.parametrize("kwargs, message", [
    ({"duration": 1, "rotation": 45}, "rotation"),
    ({"duration": 1, "size": (161, 120)}, "even"),
    ({"duration": None}, "duration"),
    ({"duration": 3, "segments": [Scene(1)]}, "differs"),
])
def test_bad_arguments(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_video(tmp_path / "x.mp4", **kwargs)


def test_bad_scenes():
    with pytest.raises(ValueError, match="motion"):
        Scene(1, motion="zigzag")
    with pytest.raises(ValueError, match="colour"):
        Scene(1, color="chartreuse-ish")
    with pytest.raises(ValueError, match="positive"):
        Scene(0)


def test_cli_script(tmp_path):
    out = tmp_path / "cli.mp4"
    proc = subprocess.run([sys.executable, str(SCRIPT), str(out), "--size", "96x64",
                           "--fps", "25", "--rotation", "90",
                           "--scene", "1:red:left-right:440:-10", "--scene", "1:green:still::"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(out)
    info = probe(out)
    assert (info.width, info.height, info.rotation, info.fps) == (96, 64, 90, 25)
    assert info.frame_count == 50


def test_cli_script_reports_bad_input(tmp_path):
    proc = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path / "x.mp4"),
                           "--scene", "1:red:wobble"], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode != 0
    assert "wobble" in proc.stderr
