"""The audio stream's training-time pitch shift: a clip's log-mel bins move up or down by up to
`max_bins` as one (the time axis untouched), the gap filled with the edge bin."""
from __future__ import annotations

import numpy as np

from phar_cli.train.datasets import PharPitchShift


def tone_clips(clips: int = 40, frames: int = 128, mels: int = 80, at: int = 30) -> np.ndarray:
    audios = np.full((clips, frames, mels), 0.1, np.float32)
    audios[:, :, at] = 0.9
    audios[:, :, 0] = 0.3  # the lowest bin differs: the filled gap shows which edge repeats
    return audios


def test_each_clip_moves_as_one_by_up_to_max_bins():
    np.random.seed(3)
    audios = tone_clips()
    out = PharPitchShift(max_bins=2)(dict(audios=audios.copy()))["audios"]
    assert out.shape == audios.shape and out.dtype == audios.dtype
    peaks = out.argmax(axis=2)                          # (clips, frames)
    assert (peaks == peaks[:, :1]).all()                # every frame of a clip moved alike
    moved = peaks[:, 0] - 30
    assert set(moved.tolist()) == {-2, -1, 0, 1, 2}     # 40 seeded draws reach every shift
    for clip, shift in zip(out, moved):
        if shift > 0:  # moved up: the lowest bin repeated into the gap
            assert np.allclose(clip[:, :shift + 1], 0.3)
        assert set(np.unique(clip).tolist()) <= set(np.unique(audios).tolist())  # moved, not made


def test_no_shift_leaves_the_clips_as_they_were():
    audios = tone_clips(clips=3)
    out = PharPitchShift(max_bins=0)(dict(audios=audios.copy()))["audios"]
    assert np.array_equal(out, audios)
