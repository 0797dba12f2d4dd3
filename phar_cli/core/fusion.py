"""Weighted late fusion of the streams' scores into the analysis label space.

Each stream's full score vector is mapped onto the analysis labels and weighted. Two rules:
- "known" (the default): each label's fused score is the weighted mean over the used streams
  whose label map has that label, so a stream never lowers a label it does not know (the seed's
  skeleton map lacks 11 of its 17 labels, its audio map 13);
- "nested": "known", with a stream that knows only some of the labels speaking within them:
  its scores are scaled by the share the streams that know every label (RGB) give its labels
  among the labels any such stream knows, so a skeleton model sure of "gamma rather than delta"
  cannot outvote the RGB and audio streams on a window they both call beta (the skeleton map
  has no beta), while background, which only RGB knows, competes as under "known";
- "seed": the weighted sum divided by the weights of every used stream, as the seed fused; a
  label one used stream does not know is pulled down by that stream's weight. It reproduces the
  seed's numbers; its order of labels is mostly right, its values are not probabilities.
A calibration (`temperatures`, fitted by `phar train fusion`) tempers each stream's scores before
fusing (softmax(log p / T)) and the fused scores after (normalised over the labels), so that a
fused 0.8 is right about 80 % of the time on the validation clips it was fitted on.
Weights are keyed by stream name (the seed applied its weight list in module order, swapping
audio and skeleton; it also fused only each model's top 5 and keyed dicts by score: none of that
here).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import orjson

from phar_cli.core.labels import canonical
from phar_cli.core.predictions import Scores, ranked
from phar_cli.defaults import STREAMS
from phar_cli.errors import InvalidOption, PharError

DEFAULT_WEIGHTS = {"rgb": 0.4, "skeleton": 0.8, "audio": 1.0}
FUSION_RULES = ("known", "nested", "seed")
DEFAULT_RULE = "known"
FIT_RULE = "nested"  # the rule `phar train fusion` fits under and writes into the bundle
FUSED = "fused"  # the temperature of the fused scores, beside the streams'
FUSION_SCHEMA = "phar.fusion/1"  # fusion.json, written by `phar train fusion`
_TINY = 1e-12


class FusionError(PharError):
    """Nothing to fit on, or a fusion file that cannot be read."""


@dataclass(frozen=True)
class FusionSettings:
    """What a fusion file holds for the engine."""

    weights: dict[str, float]
    rule: str | None = None                       # None: files from before rules existed
    temperatures: dict[str, float] = field(default_factory=dict)


def check_rule(rule: str) -> str:
    if rule not in FUSION_RULES:
        raise InvalidOption("fusion_rule", f"{rule!r}: use {' or '.join(FUSION_RULES)}")
    return rule


def fuse(labels: list[str], stream_scores: Mapping[str, Scores],
         weights: Mapping[str, float] = DEFAULT_WEIGHTS, *, rule: str = DEFAULT_RULE,
         temperatures: Mapping[str, float] | None = None) -> Scores:
    """Fused scores over `labels`, best first (ties keep label order)."""
    index = {label: i for i, label in enumerate(labels)}
    scores, known = {}, {}
    for stream, pairs in stream_scores.items():
        row, mask = np.zeros(len(labels)), np.zeros(len(labels), bool)
        for label, p in pairs:
            i = index.get(canonical(label))
            if i is not None:
                row[i], mask[i] = float(p), True
        scores[stream], known[stream] = row[None], mask
    fused = fuse_arrays(scores, {s: np.ones(1, bool) for s in scores}, known, weights,
                        rule=rule, temperatures=temperatures)[0]
    return ranked(list(zip(labels, (float(x) for x in fused))))


def fuse_arrays(scores: Mapping[str, np.ndarray], used: Mapping[str, np.ndarray],
                known: Mapping[str, np.ndarray], weights: Mapping[str, float], *,
                rule: str = DEFAULT_RULE,
                temperatures: Mapping[str, float] | None = None) -> np.ndarray:
    """The fusion of N windows at once: `scores[s]` (N, L) on the analysis labels, `used[s]`
    (N,) whether stream s ran, `known[s]` (L,) the labels of its map. One implementation for the
    engine (N = 1) and for fitting (`phar train fusion`)."""
    check_rule(rule)
    temperatures = temperatures or {}
    first = next(iter(scores.values()))
    total = np.zeros_like(first, dtype=np.float64)
    per_label = rule != "seed"
    norm = np.zeros_like(total) if per_label else np.zeros(first.shape[0])
    weighted = {s: float(weights.get(s, 0.0)) for s in scores}
    scores = {s: tempered(x, temperatures[s], known[s]) if s in temperatures else x
              for s, x in scores.items() if weighted[s] > 0}
    if rule == "nested":
        scores = _nested(scores, used, known, weighted)
    for stream, s in scores.items():
        ran = weighted[stream] * used[stream].astype(np.float64)
        total += ran[:, None] * s
        norm += ran[:, None] * known[stream][None] if per_label else ran
    norm = norm if per_label else norm[:, None]
    fused = np.divide(total, norm, out=np.zeros_like(total), where=norm > 0)
    if FUSED in temperatures:
        fused = tempered(fused, temperatures[FUSED], fused.sum(axis=1, keepdims=True) > 0)
    return fused


def _nested(scores: Mapping[str, np.ndarray], used: Mapping[str, np.ndarray],
            known: Mapping[str, np.ndarray], weights: Mapping[str, float]) -> dict[str, np.ndarray]:
    """Each partial stream's scores times its labels' share of what the full streams (those that
    know every label) that ran give the labels any partial stream knows; as they are where none
    did. Labels only full streams know (background) are left to compete as under "known"."""
    full = [s for s in scores if known[s].all()]
    partial = [s for s in scores if s not in full]
    if not full or not partial:
        return dict(scores)
    ran = {s: weights[s] * used[s].astype(np.float64) for s in full}
    total = sum(ran.values())
    mean = sum(ran[s][:, None] * scores[s] for s in full)
    shared = (mean * np.any([known[s] for s in partial], axis=0)[None]).sum(axis=1)
    out = dict(scores)
    for s in partial:
        share = np.divide((mean * known[s][None]).sum(axis=1), shared, out=np.ones_like(shared),
                          where=(shared > 0) & (total > 0))
        out[s] = scores[s] * share[:, None]
    return out


def tempered(scores: np.ndarray, temperature: float, known: np.ndarray) -> np.ndarray:
    """softmax(log p / T) over the labels in `known` (rows of zeros stay zeros)."""
    powered = np.where(known, np.power(np.maximum(scores, _TINY), 1.0 / temperature), 0.0)
    powered = np.where(scores.sum(axis=-1, keepdims=True) > 0, powered, 0.0)
    total = powered.sum(axis=-1, keepdims=True)
    return np.divide(powered, total, out=np.zeros_like(powered), where=total > 0)


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


def read_fusion(path: str | Path) -> FusionSettings:
    """The weights, rule and calibration of a fusion file written by `phar train fusion`."""
    path = Path(path)
    try:
        data = orjson.loads(path.read_bytes())
        if data.get("schema") != FUSION_SCHEMA:
            raise FusionError(f"{path}: not a phar fusion file (schema {data.get('schema')!r})")
        calibration = data.get("calibration") or {}
        return FusionSettings(
            weights={str(k): float(v) for k, v in data["weights"].items()},
            rule=check_rule(str(data["rule"])) if data.get("rule") else None,
            temperatures={str(k): float(v) for k, v in calibration.get("temperature", {}).items()})
    except OSError as ex:
        raise FusionError(f"{path}: cannot read fusion file ({ex.strerror or ex})") from ex
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError,
            InvalidOption) as ex:
        raise FusionError(f"{path}: not a phar fusion file ({ex})") from ex
