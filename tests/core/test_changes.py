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
