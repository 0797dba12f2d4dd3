"""Decode only the frames a model uses, straight to the size it wants, once per video.

decord decodes and scales in one step (`VideoReader(width=, height=)`), so a 4K video costs no
4K frames in memory, and nothing is written to disk. The index helpers reproduce mmaction2
1.2.0's test-mode samplers (`mmaction/datasets/transforms/loading.py`) on a window of frames,
so a window sees the frames the seed's models were evaluated on.
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from fractions import Fraction

import numpy as np

from phar_cli.spans import Span
from phar_cli.errors import VideoOpenError
from phar_cli.media.probe import VideoInfo, probe
from phar_cli.media.vr import eye_size

UNIFORM_TEST_SEED = 255  # UniformSampleFrames(seed=255): test mode reseeds before every call


class FrameReader:
    """One open video at one target size; `frames(indices)` returns upright RGB frames.

    `short_side` scales so the display short side equals it, keeping the aspect ratio; None
    decodes at the native size. `eye` ('sbs' or 'tb', see `media/vr.py`) returns only the left
    or top half of a stereo frame, `short_side` then applying to that eye.
    """

    def __init__(self, path: str | os.PathLike[str], *, short_side: int | None = None,
                 num_threads: int = 1, info: VideoInfo | None = None,
                 eye: str | None = None) -> None:
        self.path = str(path)
        self.info = info if info is not None else probe(self.path)
        self.eye = eye
        eye_w, eye_h = target_size(*eye_size(eye, self.info.width, self.info.height), short_side)
        # decode both eyes at the size that gives this eye its size, then keep the one
        self.width = eye_w * 2 if eye == "sbs" else eye_w
        self.height = eye_h * 2 if eye == "tb" else eye_h
        self.eye_width, self.eye_height = eye_w, eye_h
        try:
            from decord import VideoReader
        except ImportError as ex:
            raise VideoOpenError(f"{self.path}: cannot decode video: decord is not installed") \
                from ex
        try:
            # decord 0.6.0 takes width/height in display orientation and rotates for us.
            self._reader = VideoReader(self.path, width=self.width, height=self.height,
                                       num_threads=num_threads)
            self.frame_count = len(self._reader)
        except Exception as ex:
            raise VideoOpenError(f"{self.path}: cannot decode video ({_short(ex)})") from ex

    def __len__(self) -> int:
        return self.frame_count

    def frames(self, indices: Sequence[int]) -> np.ndarray:
        """Frames at `indices` (clamped into the video) as (N, H, W, 3) uint8 RGB."""
        if len(indices) == 0:
            return np.empty((0, self.eye_height, self.eye_width, 3), np.uint8)
        safe = np.clip(np.asarray(indices, dtype=np.int64), 0, self.frame_count - 1)
        try:
            batch = self._reader.get_batch(safe.tolist()).asnumpy()
        except Exception as ex:
            raise VideoOpenError(f"{self.path}: decoding frames failed ({_short(ex)})") from ex
        batch = self._upright(batch)
        if self.eye is None:
            return batch
        return np.ascontiguousarray(batch[:, :self.eye_height, :self.eye_width])

    def park(self) -> None:
        """Stop decoding ahead: between reads decord's decoder thread goes on decoding frames
        into memory (a second of waiting on 1080p: gigabytes; dmlc/decord#208). Call it when the
        reader will wait; the next read seeks to its frames."""
        try:
            self._reader.seek(0)
        except Exception as ex:
            raise VideoOpenError(f"{self.path}: seeking failed ({_short(ex)})") from ex

    def _upright(self, batch: np.ndarray) -> np.ndarray:
        """A decord that returns coded (unrotated) frames gets them turned here."""
        if batch.shape[1:3] == (self.height, self.width):
            return batch
        if batch.shape[1:3] == (self.width, self.height) and self.info.rotation in (90, 270):
            return np.ascontiguousarray(np.rot90(batch, k=-self.info.rotation // 90, axes=(1, 2)))
        raise VideoOpenError(f"{self.path}: decoder returned frames of shape {batch.shape[1:]}, "
                             f"expected {self.height}x{self.width}")


def target_size(width: int, height: int, short_side: int | None) -> tuple[int, int]:
    """(width, height) with the short side scaled to `short_side`, aspect kept.

    The long side rounds as mmcv's `rescale_size` does (int(x + 0.5)), so frames come out the
    size mmaction2's `Resize(scale=(-1, short_side))` would have made them.
    """
    if short_side is None:
        return width, height
    if short_side < 1:
        raise ValueError(f"short side must be positive: {short_side}")
    scale = short_side / min(width, height)
    if width <= height:
        return short_side, max(1, int(height * scale + 0.5))
    return max(1, int(width * scale + 0.5)), short_side


def sample_indices(start_frame: int, end_frame: int, clip_len: int, frame_interval: int = 1,
                   num_clips: int = 1, *, out_of_bound: str = "clamp") -> list[list[int]]:
    """mmaction2 `SampleFrames(test_mode=True)` on the frames [start_frame, end_frame).

    Clips are spread evenly (one clip: centred). Indices past the window are clamped to its last
    frame ("clamp"), replaced by the clip's last in-window index ("repeat_last", SampleFrames'
    out_of_bound_opt of that name), or wrapped round the window ("loop", SampleFrames' default,
    which the seed's configs used: pass it to see exactly the seed's frames).
    """
    total = _window_len(start_frame, end_frame)
    span = (clip_len - 1) * frame_interval + 1
    max_offset = max(total - span, 0)
    if num_clips > 1:
        offsets = np.round(np.arange(num_clips) * (max_offset / float(num_clips - 1)))
        offsets = offsets.astype(np.int64)
    else:
        offsets = np.array([max_offset // 2])
    inds = offsets[:, None] + np.arange(clip_len)[None, :] * frame_interval
    return (_bound(inds, total, out_of_bound) + start_frame).tolist()


def uniform_indices(start_frame: int, end_frame: int, clip_len: int,
                    num_clips: int = 1, *, seed: int = UNIFORM_TEST_SEED) -> list[list[int]]:
    """mmaction2 `UniformSampleFrames(test_mode=True)` (PoseC3D) on [start_frame, end_frame).

    One frame from each of `clip_len` equal segments, the choice drawn from a generator seeded
    with 255 on every call (mmaction2 reseeds numpy's global generator; a private RandomState
    with the same seed draws the same numbers without touching global state). Out-of-range
    indices wrap round the window, as UniformSampleFrames' 'loop' does.
    """
    total = _window_len(start_frame, end_frame)
    rng = np.random.RandomState(seed)
    if total < clip_len:
        starts = (list(range(num_clips)) if total < num_clips
                  else [i * total // num_clips for i in range(num_clips)])
        clips = [np.arange(s, s + clip_len) for s in starts]
    elif total < 2 * clip_len:
        clips = []
        for _ in range(num_clips):
            chosen = rng.choice(clip_len + 1, total - clip_len, replace=False)
            offset = np.zeros(clip_len + 1, dtype=np.int64)
            offset[chosen] = 1
            clips.append(np.arange(clip_len) + np.cumsum(offset)[:-1])
    else:
        bids = np.array([i * total // clip_len for i in range(clip_len + 1)])
        bsize, bst = np.diff(bids), bids[:clip_len]
        clips = [bst + rng.randint(bsize) for _ in range(num_clips)]
    return (np.mod(np.stack(clips), total) + start_frame).tolist()


def window_frame_range(span: Span, fps: Fraction | float, frame_count: int) -> tuple[int, int]:
    """Frames [start, end) of a window in seconds: frame i is shown from i/fps.

    Both ends round to the nearest frame, so back-to-back windows share no frame and skip none;
    the range is clamped to the video and holds at least one frame when the video has any.
    """
    rate = Fraction(fps) if not isinstance(fps, Fraction) else fps
    start = _round_half_up(Fraction(span.start) * rate)
    end = _round_half_up(Fraction(span.end) * rate)
    start = min(max(start, 0), max(frame_count - 1, 0))
    end = min(max(end, start + 1), frame_count)
    return start, end


def _window_len(start_frame: int, end_frame: int) -> int:
    if end_frame <= start_frame or start_frame < 0:
        raise ValueError(f"empty or negative frame range [{start_frame}, {end_frame})")
    return end_frame - start_frame


def _bound(inds: np.ndarray, total: int, mode: str) -> np.ndarray:
    if mode == "clamp":
        return np.minimum(inds, total - 1)
    if mode == "loop":
        return np.mod(inds, total)
    if mode == "repeat_last":
        inside = inds < total
        last = np.max(np.where(inside, inds, 0), axis=1, keepdims=True)
        return np.where(inside, inds, last)
    raise ValueError(f"out_of_bound must be 'clamp', 'repeat_last' or 'loop', not {mode!r}")


def _round_half_up(x: Fraction) -> int:
    return int((x + Fraction(1, 2)).__floor__())


def _short(ex: BaseException) -> str:
    lines = [line.strip() for line in str(ex).splitlines() if line.strip()]
    return (lines[0] if lines else type(ex).__name__)[:160]
