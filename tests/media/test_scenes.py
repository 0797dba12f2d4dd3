"""Shot cuts from ffmpeg's scene-change filter: hard cuts found to the frame, nothing else."""
from __future__ import annotations

import pytest

from phar_cli.media.probe import probe
from phar_cli.media.scenes import shot_cuts
from phar_cli.synthetic.video import Scene, make_video


def test_hard_cuts_are_found_at_their_frame(tmp_path):
    video = make_video(tmp_path / "cuts.mp4", size=(160, 120), fps=25, segments=[
        Scene(4.0, (20, 20, 60), "circle", 440.0), Scene(3.0, (210, 200, 150), "left-right", 440.0),
        Scene(3.0, (20, 60, 20), "circle", 440.0)])
    assert shot_cuts(video, probe(video)) == pytest.approx([4.0, 7.0], abs=1 / 25)


def test_one_shot_has_no_cut(tmp_path):
    video = make_video(tmp_path / "one.mp4", 6.0, size=(160, 120), fps=25)
    assert shot_cuts(video) == []


def test_the_same_pass_measures_motion_frame_by_frame(tmp_path):
    from phar_cli.media.scenes import scan_picture

    video = make_video(tmp_path / "still-then-moving.mp4", size=(160, 120), fps=25, segments=[
        Scene(3.0, (20, 20, 60), "still", None), Scene(3.0, (20, 20, 60), "circle", None)])
    scan = scan_picture(video, probe(video))
    assert len(scan.times) == len(scan.motion) == 150
    assert scan.times[0] == 0 and scan.times[-1] == pytest.approx(149 / 25)
    still, moving = scan.motion[(scan.times > 0.5) & (scan.times < 2.9)], scan.motion[scan.times > 3.1]
    assert still.max() < 0.5 < moving.min()  # compression noise against a disc in motion
    assert scan.cuts == []
