"""Stereo VR: which names and shapes are stereo, and only the left or top eye is analysed."""
from __future__ import annotations

import numpy as np
import pytest

from phar_cli.synthetic.dataset import class_scene, random_look
from phar_cli.errors import InvalidOption
from phar_cli.media.decode import FrameReader
from phar_cli.media.ffmpeg import run_ffmpeg
from phar_cli.synthetic.video import make_video
from phar_cli.media.vr import stereo_layout
from tests.e2e.test_speed_options import engine


@pytest.mark.parametrize("name,size,layout", [
    ("scene_180_LR.mp4", (3840, 1920), "sbs"), ("Scene.3dh.mkv", (1920, 1080), "sbs"),
    ("clip_SBS.mp4", (1920, 960), "sbs"), ("clip_TB.mp4", (1920, 1920), "tb"),
    ("a-OU-b.mp4", (1920, 1920), "tb"), ("dome_180.mp4", (4096, 2048), "sbs"),
    ("dome_180.mp4", (2048, 2048), "tb"), ("vr360_mono.mp4", (3840, 1920), None),
    ("panorama.mp4", (3840, 1920), None),     # 2:1 without a marker: not stereo unless asked
    ("holiday_2018.mp4", (3840, 1920), None),  # digits that are no marker
    ("colour.mp4", (1920, 1080), None),
])
def test_auto_reads_the_markers_and_the_shape(name, size, layout):
    assert stereo_layout(name, *size, "auto") == layout


def test_explicit_modes_win():
    assert stereo_layout("panorama.mp4", 3840, 1920, "sbs") == "sbs"
    assert stereo_layout("scene_LR.mp4", 3840, 1920, "off") is None
    assert stereo_layout("x.mp4", 100, 100, "tb") == "tb"
    with pytest.raises(InvalidOption, match="vr 'left'"):
        stereo_layout("x.mp4", 100, 100, "left")


def stereo(tmp_path, name, stack, left_label, right_label):
    """Two synthetic eyes joined side by side (hstack) or top and bottom (vstack)."""
    look = random_look(np.random.default_rng(3))
    eyes = []
    for i, label in enumerate((left_label, right_label)):
        eyes.append(make_video(tmp_path / f"eye{i}.mp4", fps=15, size=(160, 120),
                               segments=[class_scene(label, 8.0, look)], seed=i))
    out = tmp_path / name
    run_ffmpeg(["-i", str(eyes[0]), "-i", str(eyes[1]), "-filter_complex",
                f"[0:v][1:v]{stack}=inputs=2[v]", "-map", "[v]", "-map", "0:a", "-c:v", "libx264",
                "-crf", "18", "-c:a", "aac", str(out)], "joining the eyes")
    return out


def test_the_reader_crops_the_left_eye_at_its_own_size(tmp_path):
    video = stereo(tmp_path, "x_LR.mp4", "hstack", "gamma", None)
    full = FrameReader(video).frames([10])[0]
    left = FrameReader(video, eye="sbs").frames([10])[0]
    assert full.shape[:2] == (120, 320) and left.shape[:2] == (120, 160)
    assert np.abs(left.astype(int) - full[:, :160].astype(int)).mean() < 2
    small = FrameReader(video, eye="sbs", short_side=60).frames([10])
    assert small.shape[1:3] == (60, 80)


@pytest.mark.parametrize("name,stack", [("scene_180_LR.mp4", "hstack"), ("scene_TB.mp4", "vstack")])
def test_only_the_first_eye_reaches_the_models(tmp_path, small_bundle, name, stack):
    """The stick figure is only in the second eye: with VR detected nobody is seen."""
    video = stereo(tmp_path, name, stack, None, "gamma")
    vr = engine(small_bundle, streams=("rgb", "skeleton"), pose_backend="markers",
                refine=False).analyse(video)
    flat = engine(small_bundle, streams=("rgb", "skeleton"), pose_backend="markers",
                  refine=False, vr="off").analyse(video)
    assert vr.config["vr"] == ("sbs" if stack == "hstack" else "tb") and "vr" not in flat.config
    assert all(w.measures["people"] == 0 for w in vr.windows)
    assert all(w.measures["people"] == 1 for w in flat.windows)
