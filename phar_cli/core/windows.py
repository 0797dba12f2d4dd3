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
