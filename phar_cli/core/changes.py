"""Where the sound, the picture or people's movement clearly changes: cheap evidence of where an
action may start or end, found without the action models.

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

Where the picture moves (`layout_changes`) is compared over `MOVING_HALF` seconds a side, more
than a cycle of a repeated movement: the same pass averages each frame's difference from the one
before over a 16 x 16 grid, and each side's motion is taken as shares of the cells; the share
that moves to other cells is the change (a disc going round giving way to one going side to
side, people moving to another part of the picture), not how much moves. Only where both sides
move nearly all through, and only a share that stands out against its median over the video:
people walking through a street move about the picture all the time, and no moment of that is
a change.

People's movement (`pose_changes`) is compared the same way, over the poses the skeleton stream
extracted on the grid's windows: each pose is centred on its joints' mean
and scaled by their spread, so where a person stands and how large they look do not count, and
the `MOVING_HALF` seconds before and after an instant are compared by the mean pose (a change of
position: standing to lying) and by how far each joint moves about its mean (a change of motion
pattern: arms that wave against hips that go up and down) — a change of `POSE_SHIFT` or
`POSE_MOTION` (in the pose's own size) counts. A window's poses are a few a second, and a
movement at rest looks like another at rest, so the peak places a change to a second at best;
`placed` then splits denser poses around it (the engine finds them for the purpose) where two
Gaussians fit them best.
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
MOVING_HALF = 2.5     # seconds of poses, or of where the picture moves, on each side: more than
                      # a cycle of a 0.5 Hz movement
COVER = 0.8           # share of a side's time its poses must span, or its picture must move in
POSE_MIN = 4          # poses a side needs to be compared
POSE_SHIFT = 0.29     # a change of the mean pose this large counts (in the pose's spread) ...
POSE_MOTION = 0.14    # ... or of the joints' movement about their mean (both: their hypot)
POSE_VAR_FLOOR = 1e-3 # variance of a still coordinate (pose units²): keypoints jitter
POSE_SCORE = 0.3      # a pose whose joints' mean score is lower is not used
LAYOUT_MOVING = 0.5   # mean grey levels a block's grid cells must differ by: the picture moves
LAYOUT_SHIFT = 0.3    # share of the motion that must move to other cells to count ...
LAYOUT_CONTRAST = 3.0 # ... and this many times the video's median share (scenes that always
                      # move about, like people walking through, do not count)


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


def layout_changes(frame_times: np.ndarray, layout: np.ndarray, *, duration: float,
                   block: float = BLOCK, half: float = MOVING_HALF) -> list[Change]:
    """The changes of where in the picture things move: `layout` (F, cells) holds each frame's
    difference from the one before in each cell of a grid (`media.scenes.scan_picture`), at
    `frame_times`. The `half` seconds before and after an instant are compared as shares of
    their motion over the cells: the share that moves to other cells (total variation) counts
    from `LAYOUT_SHIFT` and from `LAYOUT_CONTRAST` times its median over the video."""
    n = int(np.ceil(duration / block - 1e-9))
    h = max(1, int(round(half / block)))
    layout = np.asarray(layout)
    if n < 2 * h + 1 or len(layout) < 2:
        return []
    index = np.clip((np.asarray(frame_times, float)[1:] / block).astype(int), 0, n - 1)
    total, count = np.zeros((n, layout.shape[1]), np.float32), np.zeros(n)
    np.add.at(total, index, layout[1:])  # the first frame has no frame before it
    np.add.at(count, index, 1)
    framed = count > 0
    moving = framed & (total.sum(axis=1) >= LAYOUT_MOVING * layout.shape[1] * count)
    # sides[j]: the blocks j .. j+h-1 summed; an instant i compares sides[i-h] with sides[i]
    cum = np.concatenate([np.zeros((1, total.shape[1])), np.cumsum(total, axis=0, dtype=float)])
    sides = (cum[h:] - cum[:-h]).astype(np.float32)
    del cum
    shares = sides / np.maximum(sides.sum(axis=1, keepdims=True), 1e-9)
    m, step = len(shares) - h, 4096  # in steps: an hour's differences at once would be large
    shift = np.concatenate([0.5 * np.abs(shares[a:min(a + step, m)]
                                         - shares[a + h:min(a + step, m) + h]).sum(axis=1)
                            for a in range(0, m, step)])
    # Both sides move nearly all through: a side that is mostly stillness has no layout to compare
    # (motion starting or stopping is the motion scale's change).
    framed_in, moving_in = (np.concatenate([[0], np.cumsum(x)]) for x in (framed, moving))
    moved = (moving_in[h:] - moving_in[:-h]) >= COVER * np.maximum(framed_in[h:] - framed_in[:-h], 1)
    both = moved[:-h] & moved[h:]
    if not both.any():
        return []
    threshold = max(LAYOUT_SHIFT, LAYOUT_CONTRAST * float(np.median(shift[both])))
    novelty = np.zeros(n)
    novelty[h:n - h + 1] = np.where(both, shift, 0.0) / threshold
    return [Change(round(i * block, 6), round(float(novelty[i]), 3))
            for i in _peaks(novelty, h) if novelty[i] >= 1.0]


def pose_changes(times: np.ndarray, keypoints: np.ndarray, scores: np.ndarray, *,
                 duration: float, block: float = BLOCK, half: float = MOVING_HALF) -> list[Change]:
    """The changes in how the people move: `keypoints` (N, 17, 2) and `scores` (N, 17) of one
    person a frame (the surest) at `times` (s, any order), compared `half` seconds a side."""
    n = int(np.ceil(duration / block - 1e-9))
    h = max(1, int(round(half / block)))
    times, poses = _usable(times, keypoints, scores)
    if n < 2 * h + 1 or len(times) < 2 * POSE_MIN:
        return []
    novelty = pose_novelty(times, poses, n, block, half)
    return [Change(round(_located(times, poses, i * block, half), 6), round(float(novelty[i]), 3))
            for i in _peaks(novelty, h) if novelty[i] >= 1.0 and h <= i <= n - h]


def pose_novelty(times: np.ndarray, poses: np.ndarray, n: int, block: float,
                 half: float) -> np.ndarray:
    """At each of n instants, how differently the poses (N, D, in time order) lie and move in
    the `half` seconds before and after; 0 where a side holds too few poses or covers too
    little of its time (poses from windows the skeleton stream skipped are missing)."""
    # Running sums: any side's mean and spread in O(1).
    cum = np.concatenate([np.zeros((1, poses.shape[1])), np.cumsum(poses, axis=0)])
    cum2 = np.concatenate([np.zeros((1, poses.shape[1])), np.cumsum(poses * poses, axis=0)])
    at = np.arange(n) * block
    lo, mid, hi = (np.searchsorted(times, at + d) for d in (-half, 0.0, half))

    def side(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        count = np.maximum(b - a, 1)[:, None]
        mean = (cum[b] - cum[a]) / count
        return mean, np.sqrt(np.maximum((cum2[b] - cum2[a]) / count - mean * mean, 0.0))

    (mean_l, spread_l), (mean_r, spread_r) = side(lo, mid), side(mid, hi)
    d = poses.shape[1] / 2  # joints
    shift = np.sqrt(((mean_l - mean_r) ** 2).sum(axis=1) / d) / POSE_SHIFT
    motion = np.sqrt(((spread_l - spread_r) ** 2).sum(axis=1) / d) / POSE_MOTION
    # Both sides posed nearly all through: where people come into view (or the skeleton stream
    # skipped windows) a side holds a little of its time, and a little is noise, not a change.
    last, reach = len(times) - 1, COVER * half
    covered = ((mid - lo >= POSE_MIN) & (hi - mid >= POSE_MIN)
               & (times[np.minimum(lo, last)] <= at - reach)
               & (times[np.maximum(hi - 1, 0)] >= at + reach))
    return np.where(covered, np.hypot(shift, motion), 0.0)


def placed(change: Change, times: np.ndarray, keypoints: np.ndarray, scores: np.ndarray,
           half: float = MOVING_HALF) -> Change:
    """`change` moved to where the poses (`keypoints` (N, 17, 2), `scores` (N, 17) at `times`,
    denser than the grid's) split best within `half` of it; as it was where they are too few."""
    times, poses = _usable(times, keypoints, scores)
    if len(times) < 2 * POSE_MIN:
        return change
    return Change(round(_located(times, poses, change.time, half), 6), change.strength)


def _usable(times: np.ndarray, keypoints: np.ndarray,
            scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The times (in order) and normalised, flattened poses (N, 34) of the poses sure enough."""
    times, scores = np.asarray(times, float), np.asarray(scores, float)
    good = scores.mean(axis=1) >= POSE_SCORE if len(times) else np.zeros(0, bool)
    order = np.argsort(times[good], kind="stable")
    poses = _normalised(np.asarray(keypoints, float).reshape(-1, 17, 2)[good][order])
    return times[good][order], poses.reshape(len(poses), 2 * poses.shape[1])


def _located(times: np.ndarray, poses: np.ndarray, t: float, half: float) -> float:
    """The change near `t` placed between the two poses where splitting the poses within `half`
    of it into two Gaussians (a mean and a variance per coordinate each) fits them best: the
    novelty's peak is blurred by the sides' width, this split is as sharp as the poses are
    dense."""
    a, b = np.searchsorted(times, [t - half, t + half])
    x, at = poses[a:b], times[a:b]
    best, where = np.inf, t
    for k in range(POSE_MIN - 1, len(x) - POSE_MIN + 2):
        cost = sum(len(side) * np.log(side.var(axis=0) + POSE_VAR_FLOOR).sum()
                   for side in (x[:k], x[k:]))
        if cost < best:
            best, where = cost, (at[k - 1] + at[k]) / 2
    return float(where)


def _normalised(keypoints: np.ndarray) -> np.ndarray:
    """Poses (N, J, 2) centred on their joints' mean, in units of the joints' RMS distance from it."""
    centred = keypoints - keypoints.mean(axis=1, keepdims=True)
    size = np.sqrt((centred ** 2).sum(axis=2).mean(axis=1))
    return centred / np.maximum(size, 1e-6)[:, None, None]


def merged(*found: list[Change], apart: float = HALF) -> list[Change]:
    """Changes of several kinds as one list in time order; a change within `apart` of one of an
    earlier kind is the same change, placed less sharply, and left out (each costs the windows
    that look across it)."""
    out: list[Change] = []
    for changes in found:
        kept = list(out)
        out += [c for c in changes if all(abs(c.time - o.time) >= apart for o in kept)]
    return sorted(out, key=lambda c: c.time)


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
