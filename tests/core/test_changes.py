"""Changes of the sound or picture: found where a step happens, to a block; nothing found where
the signal only fluctuates; nothing claimed near the ends, where one side is padding."""
from __future__ import annotations

import numpy as np
import pytest

from phar_cli.core.changes import BLOCK, change_points

BANDS = 40


def tone(band: int, n: int, level_db: float = -20.0) -> tuple[np.ndarray, np.ndarray]:
    spectrum = np.full((n, BANDS), 1e-9)
    spectrum[:, band] = 10 ** (level_db / 10)
    return np.full(n, level_db), spectrum


def silence(n: int) -> tuple[np.ndarray, np.ndarray]:
    return np.full(n, -100.0), np.zeros((n, BANDS))


def joined(*parts):
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def times(changes):
    return [c.time for c in changes]


@pytest.mark.parametrize("step", [4.3, 6.0, 9.7])
def test_sound_starting_and_stopping_is_found_to_a_block(step):
    level, spectrum = joined(silence(int(step * 10)), tone(5, 50), silence(40))
    found = change_points(level, spectrum, duration=len(level) * BLOCK)
    assert times(found) == pytest.approx([step, step + 5.0], abs=BLOCK + 1e-9)
    assert all(c.strength >= 1 for c in found)


def test_one_tone_giving_way_to_another_is_a_change_of_timbre():
    level, spectrum = joined(tone(5, 80), tone(20, 80))  # the same level throughout
    assert times(change_points(level, spectrum, duration=16.0)) == pytest.approx([8.0])


def test_motion_starting_is_found_from_the_frames():
    frame_times = np.arange(0, 12, 1 / 15)
    motion = np.where(frame_times < 7.4, 0.1, 3.0)  # a still picture, then movement
    found = change_points(frame_times=frame_times, motion=motion, duration=12.0)
    assert times(found) == pytest.approx([7.4], abs=BLOCK + 1e-9)


def test_fluctuating_sound_and_motion_are_no_change():
    rng = np.random.default_rng(5)
    n = 600
    level = -25 + rng.normal(0, 3, n)                       # a voice rising and falling
    spectrum = rng.gamma(2.0, 1.0, (n, BANDS)) * 10 ** (level[:, None] / 10)
    frame_times = np.arange(0, 60, 1 / 30)
    motion = rng.gamma(4.0, 0.5, len(frame_times))          # people walking about
    assert change_points(level, spectrum, frame_times, motion, duration=60.0) == []


def test_the_ends_are_not_changes():
    level, spectrum = joined(silence(5), tone(5, 100), silence(5))  # sound 0.5 s from each end
    assert change_points(level, spectrum, duration=11.0) == []
    # a sound track a little shorter than the picture has not fallen silent at its end
    level, spectrum = tone(5, 95)
    assert change_points(level, spectrum, duration=10.0) == []


def test_a_video_shorter_than_both_sides_has_none():
    level, spectrum = joined(silence(10), tone(5, 10))
    assert change_points(level, spectrum, duration=2.0) == []


# -- changes in how people move (pose_changes, placed) ----------------------------------------

SIZE = (320, 240)


def poses(parts, *, per_second: float = 3.4, seed: int = 0, jitter: float = 1.0,
          gaps=()) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A figure's keypoints at `per_second` irregular times (one at random in each 1 /
    `per_second` s, as PoseC3D's sampler spreads a window's frames), parts of (motion, seconds,
    centre, scale); 1 px of seeded jitter; none in `gaps`."""
    from phar_cli.synthetic.figure import figure_keypoints

    rng = np.random.default_rng(seed)
    duration = sum(p[1] for p in parts)
    t = (np.arange(int(per_second * duration)) + rng.uniform(0, 1, int(per_second * duration))
         ) / per_second
    t = t[[not any(a <= x < b for a, b in gaps) for x in t]]
    kp = []
    for x in t:
        start = 0.0
        for motion, seconds, centre, scale in parts:
            if x < start + seconds or (motion, seconds) == parts[-1][:2]:
                kp.append(figure_keypoints(motion, x, SIZE, center=centre, scale=scale,
                                           phase=0.37))
                break
            start += seconds
    kp = np.array(kp) + rng.normal(0, jitter, (len(t), 17, 2))
    return t, kp, np.full((len(t), 17), 0.9)


@pytest.mark.parametrize("first,second", [("wave", "squat"), ("squat", "wave"), ("sway", "wave")])
@pytest.mark.parametrize("at", [10.3, 17.9, 25.6])
def test_a_change_of_movement_alone_is_found_within_a_second(first, second, at):
    """Same place, same size, same everything but how the figure moves."""
    from phar_cli.core.changes import pose_changes

    t, kp, sc = poses([(first, at, (0.5, 0.55), 0.8), (second, 40 - at, (0.5, 0.55), 0.8)])
    found = pose_changes(t, kp, sc, duration=40.0)
    assert len(found) == 1 and abs(found[0].time - at) <= 1.0, found


@pytest.mark.parametrize("at", [10.3, 17.9, 25.6])
def test_denser_poses_place_the_change_closer(at):
    from phar_cli.core.changes import placed, pose_changes

    parts = [("wave", at, (0.5, 0.5), 1.0), ("squat", 40 - at, (0.5, 0.5), 1.0)]
    found = pose_changes(*poses(parts), duration=40.0)
    assert len(found) == 1
    near = poses(parts, per_second=10.0, seed=1)
    keep = np.abs(near[0] - found[0].time) <= 2.0
    better = placed(found[0], near[0][keep], near[1][keep], near[2][keep])
    assert abs(better.time - at) <= 0.75 and better.strength == found[0].strength


def test_where_or_how_large_people_are_is_not_a_change_of_movement():
    """A cut to another camera: the same waving figure elsewhere, larger; and a long run of one
    movement with missing stretches (windows the skeleton stream skipped)."""
    from phar_cli.core.changes import pose_changes

    moved = [("wave", 18.3, (0.3, 0.5), 0.7), ("wave", 21.7, (0.7, 0.6), 1.2)]
    assert pose_changes(*poses(moved, seed=2), duration=40.0) == []
    gapped = poses([("squat", 60.0, (0.5, 0.5), 1.0)], seed=3, gaps=[(14.0, 21.0), (35, 49)])
    assert pose_changes(*gapped, duration=60.0) == []


def test_unsure_or_too_few_poses_give_no_change():
    from phar_cli.core.changes import pose_changes

    t, kp, sc = poses([("wave", 12.0, (0.5, 0.5), 1.0), ("squat", 12.0, (0.5, 0.5), 1.0)])
    assert pose_changes(t, kp, sc * 0.2, duration=24.0) == []  # below POSE_SCORE
    assert pose_changes(t[:6], kp[:6], sc[:6], duration=24.0) == []
    assert pose_changes(t[:0], kp[:0], sc[:0], duration=24.0) == []


def test_a_change_found_twice_is_kept_where_it_is_sharpest():
    from phar_cli.core.changes import Change, merged

    sound = [Change(10.0, 1.2), Change(30.0, 3.0)]
    movement = [Change(10.6, 2.5), Change(20.0, 1.1), Change(31.6, 1.0)]
    assert merged(sound, movement) == [Change(10.0, 1.2), Change(20.0, 1.1), Change(30.0, 3.0),
                                       Change(31.6, 1.0)]


# -- changes of where the picture moves (layout_changes) --------------------------------------

GRID = 16


def layouts(parts, *, fps: float = 15.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Each frame's difference from the one before in each cell of a 16 x 16 grid: parts of
    (path, seconds), a moving thing going along its path once every 2 s (as a figure's cycle
    does; a path of None: nothing moves), over seeded compression noise in every cell."""
    rng = np.random.default_rng(seed)
    duration = sum(seconds for _, seconds in parts)
    times = np.arange(0, duration, 1 / fps)
    grid = rng.gamma(2.0, 0.15, (len(times), GRID, GRID))
    start = 0.0
    for path, seconds in parts:
        for k in np.flatnonzero((times >= start) & (times < start + seconds) & bool(path)):
            row, col = path(times[k])
            grid[k, row:row + 2, col:col + 2] += 40.0
        start += seconds
    return times, grid.reshape(len(times), GRID * GRID)


def sideways(t: float) -> tuple[int, int]:
    return 7, int(round(7 - 6 * np.cos(np.pi * t)))


def round_about(t: float) -> tuple[int, int]:
    return int(round(7 + 6 * np.sin(np.pi * t))), int(round(7 + 6 * np.cos(np.pi * t)))


@pytest.mark.parametrize("at", [10.3, 17.9, 25.6])
@pytest.mark.parametrize("first,second", [(sideways, round_about), (round_about, sideways)])
def test_a_change_of_where_the_picture_moves_is_found_to_half_a_second(first, second, at):
    """As much motion on both sides, only its path differs: no change of the motion scale."""
    from phar_cli.core.changes import layout_changes

    frame_times, layout = layouts([(first, at), (second, 40 - at)], seed=int(at))
    found = layout_changes(frame_times, layout, duration=40.0)
    assert len(found) == 1 and abs(found[0].time - at) <= 0.5, found
    assert change_points(frame_times=frame_times, motion=layout.mean(axis=1), duration=40.0) == []


def test_a_sparse_frame_rate_still_finds_it():
    from phar_cli.core.changes import layout_changes

    frame_times, layout = layouts([(sideways, 14.2), (round_about, 15.8)], fps=4.0, seed=4)
    assert [round(c.time) for c in layout_changes(frame_times, layout, duration=30.0)] == [14]


def test_motion_that_always_moves_about_is_no_change_of_layout():
    """People walking through: where the motion is drifts all the time, so no moment stands
    out (the median share moved sets the bar)."""
    from phar_cli.core.changes import layout_changes

    rng = np.random.default_rng(7)
    walk = np.cumsum(rng.normal(0, 0.35, (900, 2)), axis=0)
    cells = np.abs((walk + 7) % 28 - 14).astype(int)  # bounces off the picture's edges

    def wandering(t: float) -> tuple[int, int]:
        return tuple(cells[min(int(t * 15), len(cells) - 1)])

    frame_times, layout = layouts([(wandering, 60.0)], seed=7)
    assert layout_changes(frame_times, layout, duration=60.0) == []


def test_stillness_beside_motion_is_left_to_the_motion_scale():
    from phar_cli.core.changes import layout_changes

    frame_times, layout = layouts([(None, 9.6), (sideways, 20.4)], seed=8)
    assert layout_changes(frame_times, layout, duration=30.0) == []
