"""`phar filter` on harder media: B-frames (copy mode splits whole GOPs), rotated video."""
from __future__ import annotations

import subprocess

import numpy as np
import pytest

from phar_cli.media.decode import FrameReader
from phar_cli.media.ffmpeg import ffmpeg_cmd
from phar_cli.media.probe import probe

from tests.conftest import run_phar
from tests.filter.conftest import LABELS, MARKS, expected_colours, expected_tones
from tests.mediacheck import (decode_audio, decode_frames, hand_analysis, runs, scene_colours,
                              tones_per_second)


@pytest.fixture(scope="module")
def bframes(scenes, tmp_path_factory):
    """The scenes video re-encoded with B-frames (decode order differs from display order)."""
    out = tmp_path_factory.mktemp("bframes") / "bframes.mp4"
    subprocess.run(ffmpeg_cmd(["-loglevel", "error", "-i", str(scenes), "-c:v", "libx264",
                               "-preset", "veryfast", "-bf", "3", "-g", "30", "-sc_threshold", "0",
                               "-c:a", "copy", str(out)]), check=True)
    return out


@pytest.mark.parametrize("mode", ["copy", "exact"])
def test_b_frames_are_cut_cleanly(mode, bframes, tmp_path, capsys):
    preds = tmp_path / "preds.json"
    preds.write_bytes(hand_analysis(bframes, 12.0, [MARKS[m] for m in "KDDKDK"], 2.0,
                                    LABELS).to_json())
    out = tmp_path / "cut.mp4"
    code, _, err = run_phar(["-q", "filter", bframes, out, "--from-json", preds, "--mode", mode,
                             "--preset", "ultrafast"], capsys)
    assert code == 0, err
    keep = [(0.0, 2.0), (6.0, 8.0), (10.0, 12.0)]
    frames = decode_frames(out, 160, 120)
    assert runs(scene_colours(frames)) == expected_colours(keep)   # no frame of a dropped GOP
    assert tones_per_second(decode_audio(out)) == expected_tones(keep)


@pytest.mark.parametrize("mode", ["copy", "exact"])
def test_rotated_video_stays_upright(mode, tmp_path, capsys):
    from phar_cli.synthetic.video import Scene, make_video

    video = make_video(tmp_path / "rotated.mp4", size=(160, 120), rotation=90, segments=[
        Scene(2, "red", "still", 300, -12), Scene(2, "blue", "still", 700, -12)])
    preds = tmp_path / "preds.json"
    preds.write_bytes(hand_analysis(video, 4.0, [MARKS["D"], MARKS["K"]], 2.0, LABELS).to_json())
    out = tmp_path / f"cut-{mode}.mp4"
    code, _, err = run_phar(["-q", "filter", video, out, "--from-json", preds, "--mode", mode,
                             "--crf", "0", "--preset", "ultrafast"], capsys)
    assert code == 0, err
    info = probe(out)
    assert (info.width, info.height, info.frame_count) == (160, 120, 60)
    # copy keeps the stored frames and the rotation tag; exact stores them upright
    assert (info.rotation, info.coded_width) == ((90, 120) if mode == "copy" else (0, 160))
    ours = FrameReader(out).frames(range(60))
    theirs = FrameReader(video).frames(range(60, 120))
    assert ours.shape == theirs.shape == (60, 120, 160, 3)
    assert np.abs(ours.astype(int) - theirs).mean() < 2
    assert ours[:, :8, :8].mean() > 200            # the white marker: top-left, as displayed


@pytest.mark.parametrize("mode", ["copy", "exact"])
def test_video_without_sound(mode, tmp_path, capsys):
    from phar_cli.synthetic.video import Scene, make_video

    video = make_video(tmp_path / "silent.mp4", size=(160, 120), audio=False, segments=[
        Scene(2, "red", "still"), Scene(2, "blue", "still"), Scene(2, "green", "still")])
    preds = tmp_path / "preds.json"
    preds.write_bytes(hand_analysis(video, 6.0, [MARKS[m] for m in "KDK"], 2.0, LABELS).to_json())
    out = tmp_path / "cut.mp4"
    code, _, err = run_phar(["-q", "filter", video, out, "--from-json", preds, "--mode", mode,
                             "--preset", "ultrafast"], capsys)
    assert code == 0, err
    assert not probe(out).has_audio
    assert runs(scene_colours(decode_frames(out, 160, 120))) == [("red", 60), ("green", 60)]
