"""Weighted late fusion of the streams' scores into the analysis label space.

Each stream's full score vector is mapped onto the analysis labels (labels a stream does not know
get 0), multiplied by the stream's weight and summed; the sum is divided by the summed weights of
the streams actually used, so a fused score stays a probability-like number in [0, 1]. Weights
are keyed by stream name (the seed applied its weight list in module order, swapping audio and
skeleton; it also fused only each model's top 5 and keyed dicts by score: none of that here).
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import orjson

from phar_cli.core.labels import canonical
from phar_cli.core.predictions import Scores, ranked
from phar_cli.defaults import STREAMS
from phar_cli.errors import PharError

DEFAULT_WEIGHTS = {"rgb": 0.4, "skeleton": 0.8, "audio": 1.0}
FUSION_SCHEMA = "phar.fusion/1"  # fusion.json, written by `phar train fusion`


class FusionError(PharError):
    """Nothing to fit on, or a fusion file that cannot be read."""


def fuse(labels: list[str], stream_scores: Mapping[str, Scores],
         weights: Mapping[str, float] = DEFAULT_WEIGHTS) -> Scores:
    """Fused scores over `labels`, best first (ties keep label order)."""
    index = {label: i for i, label in enumerate(labels)}
    total = [0.0] * len(labels)
    weight_sum = 0.0
    for stream, scores in stream_scores.items():
        w = float(weights.get(stream, 0.0))
        if w <= 0:
            continue
        weight_sum += w
        for label, p in scores:
            i = index.get(canonical(label))
            if i is not None:
                total[i] += w * float(p)
    if weight_sum > 0:
        total = [t / weight_sum for t in total]
    return ranked(list(zip(labels, total)))


def parse_weights(text: str) -> dict[str, float]:
    """'rgb=0.4,skeleton=0.8,audio=1' or the seed's positional '0.4 0.8 1.0' (rgb, skeleton, audio)."""
    text = text.strip()
    if not text:
        return dict(DEFAULT_WEIGHTS)
    parts = [p for p in text.replace(",", " ").split() if p]
    weights = dict(DEFAULT_WEIGHTS)
    if all("=" in p for p in parts):
        for p in parts:
            name, value = p.split("=", 1)
            name = name.strip().lower()
            if name not in DEFAULT_WEIGHTS:
                raise ValueError(f"unknown stream {name!r} in weights (streams: rgb, skeleton, audio)")
            weights[name] = _weight(value)
        return weights
    if any("=" in p for p in parts) or len(parts) != len(STREAMS):
        raise ValueError("weights are 'rgb=W,skeleton=W,audio=W' or three numbers (rgb skeleton audio)")
    return dict(zip(STREAMS, (_weight(p) for p in parts)))


def _weight(value: str) -> float:
    try:
        w = float(value)
    except ValueError as ex:
        raise ValueError(f"weight {value!r} is not a number") from ex
    if w < 0 or w != w:
        raise ValueError(f"weight {value!r} must be a number >= 0")
    return w


def read_fusion(path: str | Path) -> dict[str, float]:
    """The weights of a fusion file written by `phar train fusion`."""
    path = Path(path)
    try:
        data = orjson.loads(path.read_bytes())
        if data.get("schema") != FUSION_SCHEMA:
            raise FusionError(f"{path}: not a phar fusion file (schema {data.get('schema')!r})")
        return {str(k): float(v) for k, v in data["weights"].items()}
    except OSError as ex:
        raise FusionError(f"{path}: cannot read fusion file ({ex.strerror or ex})") from ex
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as ex:
        raise FusionError(f"{path}: not a phar fusion file ({ex})") from ex
