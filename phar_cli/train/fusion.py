"""`phar train fusion DATASET`: fit the late-fusion weights on the validation clips.

Each trained stream runs once on every validation clip with the gates open (`gated=False`), so
the gates can be replayed offline: skeleton counts only where a skeleton label is in the RGB top 3
and the pose quality passes, audio only where an audio label is in the RGB top 2 and the clip is
loud enough (the seed's rules, with the thresholds of the engine's options). A grid search over
the weights (rgb > 0; skeleton, audio >= 0; steps of 0.1) keeps the best top-k accuracy (top-2
by default, as the seed reported), ties broken by top-1, then by closeness to the seed's weights.
"""
from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from phar_cli.core.fusion import (DEFAULT_RULE, DEFAULT_WEIGHTS, FIT_RULE, FUSED,  # noqa: F401
                                  FUSION_RULES, FUSION_SCHEMA, FusionError, fuse_arrays,
                                  read_fusion, tempered)
from phar_cli.core.gates import GateOptions, label_in_topk, loudness_threshold
from phar_cli.core.labels import canonical
from phar_cli.spans import Span
from phar_cli.data.layout import DatasetLayout
from phar_cli.defaults import DEFAULT_POSE_BACKEND, STREAMS
from phar_cli.atomic import atomic_write_bytes
from phar_cli.errors import UsageError

GRID = np.round(np.arange(0.0, 1.01, 0.1), 2)
ECE_BINS = 10
MIN_CALIBRATION_CLIPS = 8  # fewer clips than this fit no temperature (it would fit noise)


@dataclass
class StreamScores:
    """Per validation clip: each stream's scores mapped onto the analysis labels, and whether the
    seed's gates would have let the stream run."""

    labels: list[str]
    truth: np.ndarray                 # (N,) label index
    scores: dict[str, np.ndarray]     # stream -> (N, L)
    used: dict[str, np.ndarray]       # stream -> (N,) bool
    known: dict[str, np.ndarray]      # stream -> (L,) bool: the labels of its map

    def fused(self, weights: dict[str, float], rule: str = DEFAULT_RULE,
              temperatures: dict[str, float] | None = None) -> np.ndarray:
        return fuse_arrays(self.scores, self.used, self.known, weights, rule=rule,
                           temperatures=temperatures)

    def tempered(self, temperatures: dict[str, float]) -> StreamScores:
        """The same clips with each stream's scores calibrated (the fused temperature aside)."""
        scores = {s: tempered(v, temperatures[s], self.known[s]) if s in temperatures else v
                  for s, v in self.scores.items()}
        return replace(self, scores=scores)

    def accuracy(self, scores: np.ndarray, k: int) -> float:
        if not len(self.truth):
            return 0.0
        order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        return float(np.mean([t in row for t, row in zip(self.truth, order)]))


def collect_scores(engine: Any, layout: DatasetLayout, progress: Any = None) -> StreamScores:
    """Run the engine on every validation clip, streams ungated, and replay the gates."""
    clips = [c for c in layout.clips() if c["split"] == "val"]
    if not clips:
        raise FusionError(f"{layout.root}: the dataset has no validation clips to fit fusion on")
    labels = engine.analysis_labels
    index = {label: i for i, label in enumerate(labels)}
    by_video: dict[str, list[dict]] = defaultdict(list)
    for clip in clips:
        if canonical(clip["label"]) in index:
            by_video[clip["video"]].append(clip)
    rows: list[tuple[int, dict[str, dict[str, float]], dict[str, Any]]] = []
    for n, (video, video_clips) in enumerate(sorted(by_video.items())):
        spans = [Span(float(c["start"]), float(c["end"])) for c in video_clips]
        analysis = engine.analyse(video, spans=spans, gated=False)
        for clip, window in zip(video_clips, analysis.windows):
            rows.append((index[canonical(clip["label"])],
                         {s: dict(v) for s, v in window.streams.items()}, window.measures))
        if progress:
            progress("fusion", n + 1, len(by_video))
    gates: GateOptions = engine.options.gates
    n = len(rows)
    truth = np.array([r[0] for r in rows])
    scores = {s: np.zeros((n, len(labels))) for s in engine.options.streams}
    used = {s: np.zeros(n, bool) for s in engine.options.streams}
    for i, (_, streams, measures) in enumerate(rows):
        rgb = sorted(streams.get("rgb", {}).items(), key=lambda kv: -kv[1])
        for stream, values in streams.items():
            for label, p in values.items():
                if label in index:
                    scores[stream][i, index[label]] = p
        used["rgb"][i] = "rgb" in streams
        if "skeleton" in streams:
            used["skeleton"][i] = (label_in_topk(rgb, engine.labels["skeleton"], gates.skeleton_topk)
                                   and measures.get("pose_quality", 0.0) >= gates.correct_rate)
        if "audio" in streams:
            loud = measures.get("loudness")
            used["audio"][i] = (label_in_topk(rgb, engine.labels["audio"], gates.audio_topk)
                                and loud is not None and loud >= loudness_threshold(rgb, gates))
    known = {s: np.array([label in engine.labels[s] for label in labels])
             for s in engine.options.streams}
    return StreamScores(labels, truth, scores, used, known)


def fit_weights(data: StreamScores, topk: int = 2,
                rule: str = DEFAULT_RULE) -> tuple[dict[str, float], float]:
    streams = list(data.scores)
    best: tuple[tuple[float, float, float], dict[str, float]] | None = None
    for combo in itertools.product(GRID, repeat=len(streams)):
        weights = dict(zip(streams, (float(w) for w in combo)))
        if weights.get("rgb", 1.0) <= 0:
            continue
        fused = data.fused(weights, rule)
        distance = sum((weights[s] - DEFAULT_WEIGHTS[s]) ** 2 for s in streams)
        key = (data.accuracy(fused, topk), data.accuracy(fused, 1), -distance)
        if best is None or key > best[0]:
            best = (key, weights)
    assert best is not None
    return best[1], best[0][0]


def evaluate(data: StreamScores, fitted: dict[str, float], rule: str = DEFAULT_RULE,
             temperatures: dict[str, float] | None = None) -> dict[str, dict[str, float]]:
    """Top-1..5 of each stream alone (where it did not run it predicts nothing), fused with the
    seed's weights and fused with the fitted ones under `rule`, and both under the other rule,
    all on the same validation clips (calibrated where `temperatures` are given)."""
    rows: dict[str, np.ndarray] = {}
    for stream, s in data.scores.items():
        rows[f"{stream} alone"] = np.where(data.used[stream][:, None], s, -1.0)
    rows["fused, seed weights"] = data.fused(DEFAULT_WEIGHTS, rule, temperatures)
    rows["fused, fitted weights"] = data.fused(fitted, rule, temperatures)
    for other in (r for r in FUSION_RULES if r != rule):
        rows[f"fused, seed weights, {other} rule"] = data.fused(DEFAULT_WEIGHTS, other, temperatures)
        rows[f"fused, fitted weights, {other} rule"] = data.fused(fitted, other, temperatures)
    return {name: {f"top{k}": round(data.accuracy(s, k), 4) for k in (1, 2, 3, 4, 5)}
            for name, s in rows.items()}


def own_label_accuracy(data: StreamScores) -> dict[str, dict[str, float]]:
    """Each stream's top-1 over its own labels, on the clips whose truth is one of them: what it
    can tell apart alone, beside the "alone" rows (over all labels, where its gate let it run)."""
    own = {}
    for stream, s in data.scores.items():
        known = data.known[stream]
        rows = known[data.truth]
        if rows.any():
            guess = np.argmax(np.where(known, s[rows], -np.inf), axis=1)
            own[stream] = {"top1": round(float(np.mean(guess == data.truth[rows])), 4),
                           "clips": int(rows.sum())}
    return own


def expected_calibration_error(probs: np.ndarray, truth: np.ndarray, bins: int = ECE_BINS) -> float:
    """ECE of the top-1 confidence: the gap between confidence and accuracy, averaged over
    `bins` equal-width confidence bins weighted by how many clips fall in each."""
    if not len(truth):
        return 0.0
    confidence = probs.max(axis=1)
    right = probs.argmax(axis=1) == truth
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        inside = which == b
        if inside.any():
            total += inside.sum() * abs(right[inside].mean() - confidence[inside].mean())
    return float(total / len(truth))


def fit_temperature(probs: np.ndarray, truth: np.ndarray, known: np.ndarray) -> float:
    """The T > 0 that minimises the negative log-likelihood of softmax(log p / T) (Guo et al.,
    "On calibration of modern neural networks", 2017): a log-spaced search, then a finer one."""
    def nll(t: float) -> float:
        q = tempered(probs, t, known)
        return float(-np.mean(np.log(np.maximum(q[np.arange(len(truth)), truth], 1e-12))))

    grid = np.exp(np.linspace(np.log(0.05), np.log(20.0), 61))
    best = min(grid, key=nll)
    fine = best * np.exp(np.linspace(-0.06, 0.06, 25))
    return round(float(min(fine, key=nll)), 4)


def stream_temperatures(data: StreamScores) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """(temperature, ECE before/after) of each stream, fitted on the clips where it ran and knows
    the truth (fewer than `MIN_CALIBRATION_CLIPS`: none)."""
    temperatures: dict[str, float] = {}
    ece: dict[str, dict[str, float]] = {}
    for stream, s in data.scores.items():
        rows = data.used[stream] & data.known[stream][data.truth]
        if rows.sum() < MIN_CALIBRATION_CLIPS:
            continue
        t = fit_temperature(s[rows], data.truth[rows], data.known[stream])
        temperatures[stream] = t
        ece[stream] = {"before": round(expected_calibration_error(s[rows], data.truth[rows]), 4),
                       "after": round(expected_calibration_error(
                           tempered(s[rows], t, data.known[stream]), data.truth[rows]), 4)}
    return temperatures, ece


def fused_temperature(data: StreamScores, weights: dict[str, float], rule: str,
                      streams: dict[str, float]) -> tuple[float | None, dict[str, float]]:
    """(temperature, ECE before/after) of the fused scores of the calibrated streams; "before" is
    the uncalibrated fusion the engine wrote without a calibration."""
    if len(data.truth) < MIN_CALIBRATION_CLIPS:
        return None, {}
    t = fit_temperature(data.fused(weights, rule, streams), data.truth,
                        np.ones(len(data.labels), bool))
    after = data.fused(weights, rule, {**streams, FUSED: t})
    return t, {"before": round(expected_calibration_error(data.fused(weights, rule), data.truth), 4),
               "after": round(expected_calibration_error(after, data.truth), 4)}


def write_fusion(path: Path, weights: dict[str, float], topk: int, table: dict, data: StreamScores,
                 gates: GateOptions, rule: str = DEFAULT_RULE,
                 calibration: dict[str, Any] | None = None,
                 own_labels: dict[str, dict[str, float]] | None = None) -> None:
    payload = {"schema": FUSION_SCHEMA, "weights": weights, "rule": rule, "topk": topk,
               "val_clips": len(data.truth), "labels": data.labels, "gates": vars(gates),
               "metrics": table}
    if own_labels:  # stream -> top1 over its own labels, and on how many clips
        payload["own_labels"] = own_labels
    if calibration:
        payload["calibration"] = calibration
    atomic_write_bytes(path, orjson.dumps(payload, option=orjson.OPT_INDENT_2))


@dataclass
class FusionResult:
    name: str                           # the bundle's
    weights: dict[str, float]           # fitted
    table: dict[str, dict[str, float]]  # `evaluate`'s rows
    val_clips: int
    fusion_path: Path
    bundle_path: Path
    rule: str = DEFAULT_RULE
    ece: dict[str, dict[str, float]] = field(default_factory=dict)  # per stream and fused
    own_labels: dict[str, dict[str, float]] = field(default_factory=dict)  # `own_label_accuracy`


def train_fusion(dataset: str | Path, models_dir: str | Path, *, topk: int = 2,
                 bundle_name: str | None = None, device: str = "auto", rule: str = FIT_RULE,
                 calibrate: bool = True, progress: Any = None) -> FusionResult:
    """`phar train fusion`: run the streams trained under `models_dir` (`<stream>/metrics.json`,
    as `phar train` writes them) on the validation clips, calibrate each stream, fit the weights
    for the best top-k under `rule`, calibrate the fused scores, and write `fusion.json` and
    `bundle.json` there."""
    from phar_cli.core.engine import Engine, EngineOptions
    from phar_cli.models.bundle import ModelFiles, ModelOverrides, resolve_files, write_bundle
    from phar_cli.models.pose_backends import pose_model_names

    layout = DatasetLayout.open(dataset)
    models_dir = Path(models_dir)
    trained = {}
    for stream in STREAMS:
        metrics = models_dir / stream / "metrics.json"
        if metrics.is_file():
            m = orjson.loads(metrics.read_bytes())
            trained[stream] = ModelFiles(Path(m["config"]), Path(m["checkpoint"]),
                                         layout.label_path(stream))
    if "rgb" not in trained:
        raise UsageError(f"{models_dir}: no trained rgb model (run phar train rgb first; fusion "
                         "fits weights around the RGB stream)")
    streams = tuple(trained)
    pose_backend = layout.manifest.get("pose_backend", DEFAULT_POSE_BACKEND)
    models = dict(trained)
    if "skeleton" in streams:
        models.update(resolve_files(list(pose_model_names(pose_backend)), ModelOverrides()))
    engine = Engine(EngineOptions(models=models, streams=streams, device=device,
                                  pose_backend=pose_backend))
    data = collect_scores(engine, layout, progress=progress)
    # Streams first: the weights are fitted on the scores the engine will fuse, then the fusion.
    temperatures, ece = stream_temperatures(data) if calibrate else ({}, {})
    weights, _ = fit_weights(data.tempered(temperatures), topk, rule)
    fused_t, fused_ece = fused_temperature(data, weights, rule, temperatures) if calibrate else (None, {})
    if fused_t is not None:
        temperatures, ece = {**temperatures, FUSED: fused_t}, {**ece, FUSED: fused_ece}
    table = evaluate(data, weights, rule, temperatures)
    fusion_path = models_dir / "fusion.json"
    calibration = {"temperature": temperatures, "ece": ece} if temperatures else None
    own = own_label_accuracy(data)
    write_fusion(fusion_path, weights, topk, table, data, engine.options.gates, rule, calibration,
                 own)
    name = bundle_name or f"phar bundle trained on {layout.root.name}"
    background = (layout.manifest.get("background") or {}).get("label")
    bundle_path = write_bundle(models_dir, name, trained, pose_backend, fusion_path,
                               background if background in data.labels else None)
    return FusionResult(name, weights, table, len(data.truth), fusion_path, bundle_path, rule, ece,
                        own)
