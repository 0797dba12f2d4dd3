"""Read the seed prototype's (P-HAR) demo JSON, so results people already have stay usable.

The seed wrote a list with one dict per consecutive window. Each dict maps scores to labels
(`{"0.83": "doggy", ...}`, its own bug: equal scores collapsed) or, in some versions, labels to
scores; either may be wrapped under one timestamp key (`{"0:00:07": {...}}`, `{"7": {...}}`).
The timestamps are not trusted: window i is [i * subclip_len, (i + 1) * subclip_len).
"""
from __future__ import annotations

import math
from typing import Any

from phar_cli.core.labels import canonical
from phar_cli.defaults import DEFAULT_SUBCLIP_LEN
from phar_cli.errors import InvalidOption, PredictionsFormatError
from phar_cli.spans import Span

Scores = list[tuple[str, float]]


def seed_windows(data: list, source: str, subclip_len: float = DEFAULT_SUBCLIP_LEN
                 ) -> tuple[list[str], list[tuple[Span, Scores]]]:
    """(labels in order of first appearance, (span, scores) per window) from the seed's list of
    per-window dicts; PredictionsFormatError otherwise."""
    if not subclip_len > 0:
        raise InvalidOption("subclip_len", f"must be positive, got {subclip_len}")
    if not isinstance(data, list):
        raise PredictionsFormatError(f"{source}: seed JSON must be a list of windows, "
                                     f"got {type(data).__name__}")
    if not data:
        raise PredictionsFormatError(f"{source}: seed JSON has no windows")
    windows: list[tuple[Span, Scores]] = []
    labels: dict[str, None] = {}  # insertion-ordered set
    for i, item in enumerate(data):
        try:
            scores = _window_scores(item)
        except ValueError as ex:
            raise PredictionsFormatError(f"{source}: window {i}: {ex}") from ex
        labels.update(dict.fromkeys(label for label, _ in scores))
        span = Span(round(i * subclip_len, 6), round((i + 1) * subclip_len, 6))
        windows.append((span, scores))
    return list(labels), windows


def _window_scores(item: Any) -> Scores:
    if not isinstance(item, dict):
        raise ValueError(f"expected an object, got {type(item).__name__}")
    if len(item) == 1:
        (inner,) = item.values()
        if isinstance(inner, dict):  # wrapped under its timestamp
            item = inner
    if not item:
        raise ValueError("no scores")
    pairs = _score_keyed(item) or _label_keyed(item)
    if pairs is None:
        raise ValueError("neither {score: label} nor {label: score}: "
                         + ", ".join(f"{k!r}: {v!r}" for k, v in list(item.items())[:3]))
    best: dict[str, float] = {}
    for label, score in pairs:
        if not label:
            raise ValueError("empty label")
        if not math.isfinite(score):
            raise ValueError(f"non-finite score for {label!r}")
        best[label] = max(score, best.get(label, score))  # '_' and '-' spellings: keep the best
    return sorted(best.items(), key=lambda kv: -kv[1])


def _score_keyed(item: dict) -> list[tuple[str, float]] | None:
    """`{"0.83": "doggy"}`: every key a number, every value a label."""
    if not all(isinstance(v, str) for v in item.values()):
        return None
    scores = [_as_float(k) for k in item]
    if any(s is None for s in scores):
        return None
    return [(canonical(v), s) for v, s in zip(item.values(), scores)]


def _label_keyed(item: dict) -> list[tuple[str, float]] | None:
    """`{"doggy": 0.83}`: every value a number (or a number written as a string)."""
    scores = [_as_float(v) for v in item.values()]
    if any(s is None for s in scores):
        return None
    return [(canonical(str(k)), s) for k, s in zip(item, scores)]


def _as_float(x: Any) -> float | None:
    if isinstance(x, bool):
        return None
    if isinstance(x, (int, float)):
        return float(x)
    if isinstance(x, str):
        try:
            return float(x)
        except ValueError:
            return None
    return None
