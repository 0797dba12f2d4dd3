"""Plan the analysis windows of a video: fixed-length, the last partial one kept if long enough."""
from __future__ import annotations

import math

from phar_cli.defaults import DEFAULT_SUBCLIP_LEN, MIN_LAST_WINDOW
from phar_cli.spans import Span
_EPS = 1e-6  # container durations are rounded; never make a window of a rounding error


def plan_windows(duration: float, subclip_len: float = DEFAULT_SUBCLIP_LEN,
                 min_last: float = MIN_LAST_WINDOW) -> list[Span]:
    """Windows [start, end) every `subclip_len` seconds that tile `duration` from 0.

    A trailing remainder shorter than `min_last` seconds is dropped (too little to recognise),
    so a video shorter than `min_last` has no window at all.
    """
    if subclip_len <= 0:
        raise ValueError("subclip length must be positive")
    full = math.floor(duration / subclip_len + _EPS)
    windows = [Span(round(i * subclip_len, 6), round((i + 1) * subclip_len, 6)) for i in range(full)]
    rest = duration - full * subclip_len
    if rest >= min_last - _EPS and rest > _EPS:
        windows.append(Span(round(full * subclip_len, 6), round(duration, 6)))
    return windows


def plan_strided(duration: float, subclip_len: float = DEFAULT_SUBCLIP_LEN, stride: float = 1.0,
                 min_last: float = MIN_LAST_WINDOW) -> list[Span]:
    """Overlapping windows of `subclip_len` every `stride` seconds (mmaction2's long-video demo
    style), the last one ending at the video's end so that no tail goes unseen. A video shorter
    than one window gets the grid's single window."""
    if not 0 < stride <= subclip_len:
        raise ValueError("stride must be above 0 and at most the window length")
    if duration < subclip_len - _EPS:
        return plan_windows(duration, subclip_len, min_last)
    count = math.floor((duration - subclip_len) / stride + _EPS) + 1
    windows = [Span(round(i * stride, 6), round(i * stride + subclip_len, 6)) for i in range(count)]
    if windows[-1].end < duration - _EPS:
        windows.append(Span(round(duration - subclip_len, 6), round(duration, 6)))
    return windows
