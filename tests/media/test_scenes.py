"""Shot cuts from ffmpeg's scene-change filter: hard cuts found to the frame, nothing else."""
from __future__ import annotations

import numpy as np
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


def test_the_same_pass_maps_where_the_picture_moves(tmp_path):
    """A disc going side to side moves only the picture's middle rows; one going round moves
    its top and bottom too. A grid of 16 x 16 cells a frame, the first frame all still."""
    from phar_cli.media.scenes import LAYOUT_GRID, scan_picture

    video = make_video(tmp_path / "paths.mp4", size=(160, 120), fps=25, segments=[
        Scene(3.0, (20, 20, 60), "left-right", None), Scene(3.0, (20, 20, 60), "circle", None)])
    scan = scan_picture(video, probe(video))
    assert scan.layout.shape == (150, LAYOUT_GRID * LAYOUT_GRID) and not scan.layout[0].any()
    grid = scan.layout.reshape(-1, LAYOUT_GRID, LAYOUT_GRID).astype(float)

    def outer_rows(frames):  # the share of the motion in the top and bottom quarters
        return (frames[:, :4].sum() + frames[:, -4:].sum()) / frames.sum()

    assert outer_rows(grid[(scan.times > 0.2) & (scan.times < 2.8)]) < 0.05
    assert outer_rows(grid[scan.times > 3.2]) > 0.3
    assert np.corrcoef(grid.mean(axis=(1, 2)), scan.motion)[0, 1] > 0.95  # the same motion
