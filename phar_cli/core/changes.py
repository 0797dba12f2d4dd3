"""Where the sound or the picture clearly changes: cheap evidence of where an action may start or
end, found without the models.

Refinement (`core/refine.py`) places boundaries where the models' windows change their mind; a
window of several seconds cannot see a stretch that no window holds most of (a pause of a few
seconds between two actions), and a model that recognises an action from a glimpse of it says
"action" a little before and after it. Both are helped by knowing where the signal itself
changes: sound starting or stopping, a tone or voice giving way to another, motion starting or
stopping. Refinement looks at both sides of such a change with the models (so a change that
means nothing costs two windows and moves nothing), and a boundary the models placed near one
moves onto it, as onto a shot cut.

The signals come from passes phar already makes (`media.audio.sound_blocks`,
`media.scenes.scan_picture`). At each instant the blocks of the `half` seconds before and after
are compared; a change is a local peak of that difference, large enough on one of three scales:
- level: the mean level (dB, digital silence counted as `FLOOR_DB`) moves by `LEVEL_DB`;
- timbre: the mean mel spectra of two sounding sides have a cosine similarity under
  1 - `TIMBRE`, as when one tone or voice gives way to another;
- motion: the mean log of the frame differences moves by log(`MOTION_RATIO`).
Comparing side means makes the difference grow linearly towards the instant of a step change
and fall after it, so the peak sits on the step, to a block (0.1 s).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FLOOR_DB = -70.0      # quieter blocks count as this quiet (digital silence is -100)
SOUNDING_DB = -60.0   # a block this loud has a spectrum worth comparing
LEVEL_DB = 20.0       # a change of mean level this large counts
TIMBRE = 0.5          # 1 - cosine similarity of the two sides' spectra that counts
MOTION_RATIO = 4.0    # a change of mean motion by this factor counts
MOTION_FLOOR = 0.5    # grey levels added before the log: compression noise is not motion
HALF = 1.5            # seconds compared on each side
BLOCK = 0.1           # seconds a sound block: the resolution of a change


@dataclass(frozen=True)
class Change:
    time: float       # seconds
    strength: float   # >= 1: how many times the smallest change that counts


def change_points(level_db: np.ndarray | None = None, spectrum: np.ndarray | None = None,
                  frame_times: np.ndarray | None = None, motion: np.ndarray | None = None, *,
                  duration: float, block: float = BLOCK, half: float = HALF) -> list[Change]:
    """The changes in a video's sound blocks (`level_db`, `spectrum`, every `block` seconds) and
    picture (`motion` of the frames at `frame_times`), in time order."""
    n = int(np.ceil(duration / block - 1e-9))
    h = max(1, int(round(half / block)))
    if n < 2 * h + 1:
        return []
    novelty = np.zeros(n)
    if level_db is not None and len(level_db):
        level = _fit(np.maximum(np.asarray(level_db, float), FLOOR_DB), n)
        left, right = _sides(level[:, None], h)
        novelty = np.maximum(novelty, np.abs(left - right)[:, 0] / LEVEL_DB)
        if spectrum is not None and len(spectrum):
            novelty = np.maximum(novelty, _timbre(spectrum, level, n, h) / TIMBRE)
    if motion is not None and len(motion):
        per_block = _per_block(np.asarray(frame_times, float), np.asarray(motion, float), block, n)
        left, right = _sides(np.log(per_block + MOTION_FLOOR)[:, None], h)
        novelty = np.maximum(novelty, np.abs(left - right)[:, 0] / np.log(MOTION_RATIO))
    # Only instants with a full `half` on both sides: nearer the ends a side is mostly padding.
    return [Change(round(i * block, 6), round(float(novelty[i]), 3))
            for i in _peaks(novelty, h) if novelty[i] >= 1.0 and h <= i <= n - h]


def _fit(values: np.ndarray, n: int) -> np.ndarray:
    """`values` cut to n blocks, or padded with its last (a track a little shorter than the
    picture has not fallen silent)."""
    out = np.full(n, values[-1], float)
    out[:min(n, len(values))] = values[:n]
    return out


def _sides(values: np.ndarray, h: int) -> tuple[np.ndarray, np.ndarray]:
    """Means of the h rows before each row i and of the h rows from i on ((n, d) each); rows
    with fewer than h on a side get the side's edge rows repeated."""
    padded = np.concatenate([np.repeat(values[:1], h, 0), values, np.repeat(values[-1:], h, 0)])
    cum = np.concatenate([np.zeros((1, values.shape[1])), np.cumsum(padded, axis=0)])
    i = np.arange(len(values)) + h
    return (cum[i] - cum[i - h]) / h, (cum[i + h] - cum[i]) / h


def _timbre(spectrum: np.ndarray, level: np.ndarray, n: int, h: int) -> np.ndarray:
    """1 - cosine similarity of the mean spectral shapes before and after each block, where most
    blocks on both sides sound (silence against sound is a change of level, not of timbre)."""
    spectrum = np.asarray(spectrum, float)
    shape = np.zeros((n, spectrum.shape[1]))
    k = min(n, len(spectrum))
    total = spectrum[:k].sum(axis=1, keepdims=True)
    shape[:k] = np.divide(spectrum[:k], total, out=np.zeros_like(spectrum[:k]), where=total > 0)
    sounding = (level > SOUNDING_DB).astype(float)
    shape *= sounding[:, None]
    left, right = _sides(np.concatenate([shape, sounding[:, None]], axis=1), h)
    a, b = left[:, :-1], right[:, :-1]
    norms = np.sqrt((a * a).sum(axis=1) * (b * b).sum(axis=1))
    cosine = np.divide((a * b).sum(axis=1), norms, out=np.ones(n), where=norms > 0)
    both = (left[:, -1] > 0.5) & (right[:, -1] > 0.5)
    return np.where(both, 1.0 - cosine, 0.0)


def _per_block(times: np.ndarray, values: np.ndarray, block: float, n: int) -> np.ndarray:
    """Mean of the frame values in each block; a block without a frame takes the one before."""
    times, values = times[1:], values[1:]  # the first frame has no frame before it
    index = np.clip((times / block).astype(int), 0, n - 1)
    total, count = np.zeros(n), np.zeros(n)
    np.add.at(total, index, values)
    np.add.at(count, index, 1)
    out = np.divide(total, count, out=np.full(n, np.nan), where=count > 0)
    last = float(values[0]) if len(values) else 0.0
    for i in range(n):  # hold the last value across blocks between frames
        if np.isnan(out[i]):
            out[i] = last
        last = out[i]
    return out


def _peaks(novelty: np.ndarray, h: int) -> list[int]:
    """Blocks whose value is the largest within h blocks either side (the first of a tie)."""
    out = []
    for i in range(len(novelty)):
        lo, hi = max(0, i - h), min(len(novelty), i + h + 1)
        if novelty[i] > 0 and novelty[i] >= novelty[lo:hi].max() \
                and not np.any(novelty[lo:i] == novelty[i]):
            out.append(i)
    return out
